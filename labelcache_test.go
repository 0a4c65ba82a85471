package pushgatewayexporter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/proto"
)

// labelSetOnce looks one label set up, as a metric's points do, and lets
// the cache go.
func labelSetOnce(tr *translator, attrs pcommon.Map, typeLabel string, extra *scopeExtra) *labelSet {
	sc := new(scratch)
	defer tr.cache.doneReading(sc)
	return tr.labelSetFor(attrs, typeLabel, extra, sc)
}

func TestLabelCache(t *testing.T) {
	tr := defaultTranslator().withCacheSize(3)
	attrs := func(raw map[string]any) pcommon.Map {
		m := pcommon.NewMap()
		putAttrs(m, raw)
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
	assert.Same(t, a, again, "the same attributes are translated once")
	assert.Equal(t, map[string]string{"host": "h", "shard": "7"}, labelMap(a.labels))
	assert.Equal(t, labelSignature(a.labels), a.sig)

	// Other value types or another type label are other keys, translated
	// on their own (the string "7" and the int 7 give the same label).
	str := labelSetOnce(tr, attrs(map[string]any{"host": "h", "shard": "7"}), "", nil)
	assert.NotSame(t, a, str)
	assert.Equal(t, labelMap(a.labels), labelMap(str.labels))
	le := labelSetOnce(tr, attrs(map[string]any{"le": "x"}), "le", nil)
	assert.Equal(t, map[string]string{"exported_le": "x"}, labelMap(le.labels))

	// Refusals are remembered too.
	tooLong := labelSetOnce(tr.withLabelLimits(2, 0), attrs(map[string]any{"host": "long"}), "", nil)
	assert.Equal(t, dropLabelTooLong, tooLong.reason)

	// Long attributes are translated, not remembered.
	long := labelSetOnce(tr.withLabelLimits(0, 0), attrs(map[string]any{"v": strings.Repeat("x", maxCacheKeyBytes)}), "", nil)
	assert.Equal(t, maxCacheKeyBytes, len(labelMap(long.labels)["v"]))
	assert.Empty(t, tr.cache.sets, "a point with long attributes is not cached")

	// The bound holds: beyond it the cache starts afresh.
	for i := range 10 {
		labelSetOnce(tr, attrs(map[string]any{"n": i}), "", nil)
		assert.LessOrEqual(t, len(tr.cache.sets), 3)
	}
}

// TestProtobufWriterLeavesToExpfmt checks that a held metric with a field
// the protobuf writer does not write (an exemplar) makes it write nothing,
// and that the push is then expfmt's.
func TestProtobufWriterLeavesToExpfmt(t *testing.T) {
	l := gaugePoint(0, 0, "k", "v").labels
	native := &dto.Metric{Label: l.labels, Histogram: &dto.Histogram{
		SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1), Schema: proto.Int32(0),
		ZeroThreshold: proto.Float64(0), ZeroCount: proto.Uint64(1),
		Exemplars: []*dto.Exemplar{{Value: proto.Float64(1)}},
	}}
	res := newGroupStates(0, 0).apply(testKey, testWriter, []family{
		{name: "h", typ: dto.MetricType_HISTOGRAM, points: []point{{time: 1, metric: native, labels: l}}},
	})
	var buf bytes.Buffer
	res.group.mu.Lock()
	ok := writeGroupDelimited(&buf, res.group, true)
	res.group.mu.Unlock()
	require.False(t, ok)
	require.Zero(t, buf.Len(), "nothing written")

	require.NoError(t, encodeGroup(&buf, res.group, FormatProtobuf, true))
	var want bytes.Buffer
	require.NoError(t, encodeFamiliesExpfmt(&want, res.group.snapshot(), FormatProtobuf))
	assert.Equal(t, want.Bytes(), buf.Bytes(), "the generic encoder took over")
	assert.NotZero(t, buf.Len(), fmt.Sprint(buf.Bytes()))
}

func TestLabelCacheScopes(t *testing.T) {
	tr := defaultTranslator().withResourceLabels(true, false, false).withCacheSize(2)
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
	assert.Equal(t, map[string]string{"host": "h", "otel_scope_name": "lib"}, labelMap(sa.labels))
	assert.Equal(t, map[string]string{"host": "h", "otel_scope_name": "lib", "otel_scope_version": "2"}, labelMap(sb.labels))

	// Scope labels too long to remember leave their points uncached.
	scope.SetVersion(strings.Repeat("v", maxCacheKeyBytes))
	long := tr.extraLabels(scope, res)
	assert.Zero(t, long.id)
	before := len(tr.cache.sets)
	set := labelSetOnce(tr, attrs, "", long)
	assert.Equal(t, strings.Repeat("v", maxCacheKeyBytes), labelMap(set.labels)["otel_scope_version"])
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

func TestFamilyNameCache(t *testing.T) {
	tr := defaultTranslator()
	name, reason := tr.familyName("http.duration", "s", otlptranslator.MetricTypeHistogram)
	assert.Equal(t, "http_duration_seconds", name)
	assert.Empty(t, reason)
	assert.Len(t, tr.names.names, 1)
	again, _ := tr.familyName("http.duration", "s", otlptranslator.MetricTypeHistogram)
	assert.Equal(t, name, again)
	assert.Len(t, tr.names.names, 1, "named once")

	// Refusals are remembered too.
	_, reason = tr.familyName("go.goroutines", "", otlptranslator.MetricTypeGauge)
	assert.Equal(t, dropReservedName, reason)
	_, reason = tr.familyName("...", "", otlptranslator.MetricTypeGauge)
	assert.Equal(t, dropInvalidName, reason)

	// Another naming strategy starts another cache.
	tr.withNaming(TranslationStrategy(otlptranslator.NoTranslation), "")
	name, _ = tr.familyName("http.duration", "s", otlptranslator.MetricTypeHistogram)
	assert.Equal(t, "http.duration", name)

	// The bound holds: beyond it the cache starts afresh.
	for i := range maxCachedNames + 10 {
		tr.familyName(fmt.Sprint("m", i), "", otlptranslator.MetricTypeGauge)
	}
	assert.LessOrEqual(t, len(tr.names.names), maxCachedNames)
}
