package translate

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

func labelMap(pairs []*dto.LabelPair) map[string]string {
	out := map[string]string{}
	for _, p := range pairs {
		out[p.GetName()] = p.GetValue()
	}
	return out
}

func TestTranslateLabels(t *testing.T) {
	grouping := defaultGrouping()
	grouping.Labels = []GroupingLabel{{Name: "env", Attribute: "deployment.environment"}}
	tr := New(Options{Grouping: grouping})

	attrs := pcommon.NewMap()
	attrs.PutStr("http.method", "GET")
	attrs.PutStr("a.b", "dot")
	attrs.PutStr("a_b", "underscore")
	attrs.PutStr("empty", "")
	attrs.PutInt("shard", 7)
	attrs.PutBool("ok", true)
	attrs.PutStr("job", "from-metric")
	attrs.PutStr("instance", "from-metric-too")
	attrs.PutStr("env", "also-clashes")
	attrs.PutStr("le", "not-a-bucket")
	attrs.PutStr("bad", "\xff\xfeutf8")
	attrs.PutStr("__name__", "reserved")
	attrs.PutStr("__meta", "reserved-too")

	got := map[string]string{}
	var names []string
	labels, reason := tr.labels(attrs, "le", nil)
	require.Empty(t, reason)
	for _, l := range labels {
		got[l.GetName()] = l.GetValue()
		names = append(names, l.GetName())
	}
	assert.Equal(t, map[string]string{
		"http_method":       "GET",
		"a_b":               "dot;underscore", // merged in the order of the original keys
		"shard":             "7",
		"ok":                "true",
		"exported_job":      "from-metric",
		"exported_instance": "from-metric-too",
		"exported_env":      "also-clashes",
		"exported_le":       "not-a-bucket",
		"bad":               "\uFFFDutf8",   // a run of invalid bytes becomes one U+FFFD
		"exported___name__": "reserved",     // "__" names are Prometheus' own
		"_meta":             "reserved-too", // the namer collapses a leading "__x"
	}, got)
	assert.IsIncreasing(t, names, "labels must be sorted")
}

func TestTranslateLabelLimits(t *testing.T) {
	tr := New(Options{Grouping: defaultGrouping(), MaxLabelLength: 8, MaxLabels: 2})
	tests := []struct {
		name   string
		attrs  map[string]any
		reason prom.DropReason
	}{
		{"within limits", map[string]any{"a": "12345678", "b": "x"}, ""},
		{"value too long", map[string]any{"a": "123456789"}, prom.DropLabelTooLong},
		{"name too long", map[string]any{"abcdefghi": "x"}, prom.DropLabelTooLong},
		{"renamed name too long", map[string]any{"instance": "x"}, prom.DropLabelTooLong}, // exported_instance
		{"merged value too long", map[string]any{"a.b": "1234", "a_b": "5678"}, prom.DropLabelTooLong},
		{"too many labels", map[string]any{"a": "1", "b": "2", "c": "3"}, prom.DropTooManyLabels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := pcommon.NewMap()
			require.NoError(t, attrs.FromRaw(tt.attrs))
			_, reason := tr.labels(attrs, "", nil)
			assert.Equal(t, tt.reason, reason)
		})
	}
}
