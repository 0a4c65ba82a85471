package translate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
)

// labelSetOnce looks one label set up, as a metric's points do, and lets
// the cache go.
func labelSetOnce(tr *Translator, attrs pcommon.Map, typeLabel string, extra *scopeExtra) cachedLabels {
	sc := new(Scratch)
	defer tr.cache.doneReading(sc)
	return tr.labelSetFor(attrs, typeLabel, extra, sc)
}

func TestLabelCache(t *testing.T) {
	tr := New(Options{Grouping: defaultGrouping(), CacheSize: 3})
	attrs := func(raw map[string]any) pcommon.Map {
		m := pcommon.NewMap()
		testbatch.PutAttrs(m, raw)
		return m
	}
	ordered := func() pcommon.Map { // FromRaw's order follows a Go map's
		m := pcommon.NewMap()
		m.PutStr("host", "h")
		m.PutInt("shard", 7)
		return m
	}
	a := labelSetOnce(tr, ordered(), "", nil)
	again := labelSetOnce(tr, ordered(), "", nil)
	assert.Same(t, a.set, again.set, "the same attributes are translated once")
	assert.Equal(t, map[string]string{"host": "h", "shard": "7"}, labelMap(a.set.Labels))
	assert.Equal(t, prom.NewLabelSet(a.set.Labels).Sig, a.set.Sig)

	// Other value types or another type label are other keys, translated
	// on their own (the string "7" and the int 7 give the same label).
	str := labelSetOnce(tr, attrs(map[string]any{"host": "h", "shard": "7"}), "", nil)
	assert.NotSame(t, a.set, str.set)
	assert.Equal(t, labelMap(a.set.Labels), labelMap(str.set.Labels))
	le := labelSetOnce(tr, attrs(map[string]any{"le": "x"}), "le", nil)
	assert.Equal(t, map[string]string{"exported_le": "x"}, labelMap(le.set.Labels))

	// Refusals are remembered too.
	tr = New(Options{Grouping: defaultGrouping(), CacheSize: 3, MaxLabelLength: 2})
	tooLong := labelSetOnce(tr, attrs(map[string]any{"host": "long"}), "", nil)
	assert.Equal(t, prom.DropLabelTooLong, tooLong.reason)

	// Long attributes are translated, not remembered.
	tr = New(Options{Grouping: defaultGrouping(), CacheSize: 3})
	long := labelSetOnce(tr, attrs(map[string]any{"v": strings.Repeat("x", maxCacheKeyBytes)}), "", nil)
	assert.Equal(t, maxCacheKeyBytes, len(labelMap(long.set.Labels)["v"]))
	assert.Empty(t, tr.cache.sets, "a point with long attributes is not cached")

	// The bound holds: beyond it the cache starts afresh.
	for i := range 10 {
		labelSetOnce(tr, attrs(map[string]any{"n": i}), "", nil)
		assert.LessOrEqual(t, len(tr.cache.sets), 3)
	}
}

func TestLabelCacheScopes(t *testing.T) {
	tr := New(Options{Grouping: defaultGrouping(), ScopeLabels: true, CacheSize: 2})
	scope := pcommon.NewInstrumentationScope()
	scope.SetName("lib")
	res := pcommon.NewResource()
	a := tr.extraLabels(scope, res)
	scope.SetVersion("2")
	b := tr.extraLabels(scope, res)
	require.NotZero(t, a.id)
	assert.NotEqual(t, a.id, b.id, "other scope labels, another number")
	assert.Equal(t, b.id, tr.extraLabels(scope, res).id, "the same scope labels, the same number")

	attrs := pcommon.NewMap()
	attrs.PutStr("host", "h")
	sa, sb := labelSetOnce(tr, attrs, "", a), labelSetOnce(tr, attrs, "", b)
	assert.Equal(t, map[string]string{"host": "h", "otel_scope_name": "lib"}, labelMap(sa.set.Labels))
	assert.Equal(t, map[string]string{"host": "h", "otel_scope_name": "lib", "otel_scope_version": "2"}, labelMap(sb.set.Labels))

	// Scope labels too long to remember leave their points uncached.
	scope.SetVersion(strings.Repeat("v", maxCacheKeyBytes))
	long := tr.extraLabels(scope, res)
	assert.Zero(t, long.id)
	before := len(tr.cache.sets)
	set := labelSetOnce(tr, attrs, "", long)
	assert.Equal(t, strings.Repeat("v", maxCacheKeyBytes), labelMap(set.set.Labels)["otel_scope_version"])
	assert.Len(t, tr.cache.sets, before, "not cached")

	// The numbering is bounded, and a number is never given twice.
	seen := map[uint64]bool{a.id: true, b.id: true}
	for i := range 5 {
		scope.SetVersion(fmt.Sprint(i))
		id := tr.extraLabels(scope, res).id
		assert.False(t, seen[id], "number %d given twice", id)
		seen[id] = true
		assert.LessOrEqual(t, len(tr.cache.scopes), 2)
	}
}
