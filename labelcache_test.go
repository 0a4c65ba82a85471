package pushgatewayexporter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/proto"
)

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
	a := tr.labelSetFor(ordered(), "", nil)
	again := tr.labelSetFor(ordered(), "", nil)
	assert.Same(t, a, again, "the same attributes are translated once")
	assert.Equal(t, map[string]string{"host": "h", "shard": "7"}, labelMap(a.labels))
	assert.Equal(t, labelSignature(a.labels), a.sig)

	// Other value types or another type label are other keys, translated
	// on their own (the string "7" and the int 7 give the same label).
	str := tr.labelSetFor(attrs(map[string]any{"host": "h", "shard": "7"}), "", nil)
	assert.NotSame(t, a, str)
	assert.Equal(t, labelMap(a.labels), labelMap(str.labels))
	le := tr.labelSetFor(attrs(map[string]any{"le": "x"}), "le", nil)
	assert.Equal(t, map[string]string{"exported_le": "x"}, labelMap(le.labels))

	// Refusals are remembered too.
	tooLong := tr.withLabelLimits(2, 0).labelSetFor(attrs(map[string]any{"host": "long"}), "", nil)
	assert.Equal(t, dropLabelTooLong, tooLong.reason)

	// Long attributes are translated, not remembered.
	long := tr.withLabelLimits(0, 0).labelSetFor(attrs(map[string]any{"v": strings.Repeat("x", maxCacheKeyBytes)}), "", nil)
	assert.Equal(t, maxCacheKeyBytes, len(labelMap(long.labels)["v"]))
	assert.Empty(t, tr.cache.sets, "a point with long attributes is not cached")

	// The bound holds: beyond it the cache starts afresh.
	for i := range 10 {
		tr.labelSetFor(attrs(map[string]any{"n": i}), "", nil)
		assert.LessOrEqual(t, len(tr.cache.sets), 3)
	}
}

func TestProtobufEncoderFallsBackForFieldsItDoesNotWrite(t *testing.T) {
	mf := &dto.MetricFamily{
		Name: proto.String("x"), Type: dto.MetricType_UNTYPED.Enum(),
		Metric: []*dto.Metric{{Untyped: &dto.Untyped{Value: proto.Float64(1)}}},
	}
	var buf bytes.Buffer
	assert.False(t, writeDelimitedFamilies(&buf, []*dto.MetricFamily{mf}, nil))
	assert.Zero(t, buf.Len(), "nothing written")

	require.NoError(t, encodeFamilies(&buf, []*dto.MetricFamily{mf}, nil, FormatProtobuf, true, true))
	var want bytes.Buffer
	require.NoError(t, encodeFamiliesExpfmt(&want, []*dto.MetricFamily{mf}, FormatProtobuf))
	assert.Equal(t, want.Bytes(), buf.Bytes(), "the generic encoder took over")
	assert.NotZero(t, buf.Len(), fmt.Sprint(buf.Bytes()))
}
