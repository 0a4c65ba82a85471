package pushgatewayexporter

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// oneMetric returns a ResourceMetrics with one empty metric to fill in.
func oneMetric(name, unit string) (pmetric.ResourceMetrics, pmetric.Metric) {
	rm := pmetric.NewResourceMetrics()
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	return rm, m
}

func defaultTranslator() *translator {
	return newTranslator(createDefaultConfig().(*Config).Grouping)
}

func TestTranslateNamesAndTypes(t *testing.T) {
	tests := []struct {
		name     string
		otlpName string
		unit     string
		fill     func(m pmetric.Metric)
		wantName string
		wantType dto.MetricType
	}{
		{
			name: "monotonic cumulative sum is a counter with _total", otlpName: "etl.rows.processed", unit: "{row}",
			fill: func(m pmetric.Metric) {
				s := m.SetEmptySum()
				s.SetIsMonotonic(true)
				s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				s.DataPoints().AppendEmpty().SetIntValue(3)
			},
			wantName: "etl_rows_processed_total", wantType: dto.MetricType_COUNTER,
		},
		{
			name: "non-monotonic cumulative sum is a gauge", otlpName: "queue.depth", unit: "{item}",
			fill: func(m pmetric.Metric) {
				s := m.SetEmptySum()
				s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				s.DataPoints().AppendEmpty().SetIntValue(-2)
			},
			wantName: "queue_depth", wantType: dto.MetricType_GAUGE,
		},
		{
			name: "gauge with unit 1 gets _ratio", otlpName: "cpu.utilization", unit: "1",
			fill:     func(m pmetric.Metric) { m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(0.5) },
			wantName: "cpu_utilization_ratio", wantType: dto.MetricType_GAUGE,
		},
		{
			name: "histogram with unit s gets _seconds", otlpName: "batch.duration", unit: "s",
			fill: func(m pmetric.Metric) {
				h := m.SetEmptyHistogram()
				h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				h.DataPoints().AppendEmpty().SetCount(0)
			},
			wantName: "batch_duration_seconds", wantType: dto.MetricType_HISTOGRAM,
		},
		{
			name: "summary keeps its name and unit suffix", otlpName: "rpc.latency", unit: "ms",
			fill:     func(m pmetric.Metric) { m.SetEmptySummary().DataPoints().AppendEmpty().SetCount(1) },
			wantName: "rpc_latency_milliseconds", wantType: dto.MetricType_SUMMARY,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rm, m := oneMetric(tt.otlpName, tt.unit)
			tt.fill(m)
			fams, drops := defaultTranslator().translateResource(rm, new(scratch))
			assert.Empty(t, drops)
			require.Len(t, fams, 1)
			assert.Equal(t, tt.wantName, fams[0].name)
			assert.Equal(t, tt.wantType, fams[0].typ)
			require.Len(t, fams[0].points, 1)
			snap := newGroupStates(0, 0).apply(testKey, testWriter, fams).group.snapshot()
			assert.Nil(t, snap[0].GetMetric()[0].TimestampMs, "pushed samples must carry no timestamp")
		})
	}
}

func TestTranslateValues(t *testing.T) {
	t.Run("counter from int and gauge from double", func(t *testing.T) {
		rm, m := oneMetric("rows", "")
		s := m.SetEmptySum()
		s.SetIsMonotonic(true)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		s.DataPoints().AppendEmpty().SetIntValue(42)
		g := rm.ScopeMetrics().At(0).Metrics().AppendEmpty()
		g.SetName("temp")
		g.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(-1.5)

		fams, _ := defaultTranslator().translateResource(rm, new(scratch))
		require.Len(t, fams, 2)
		assert.Equal(t, 42.0, fams[0].points[0].value)
		assert.Equal(t, -1.5, fams[1].points[0].value)
		snap := newGroupStates(0, 0).apply(testKey, testWriter, fams).group.snapshot()
		assert.Equal(t, 42.0, snap[0].GetMetric()[0].GetCounter().GetValue(), "rows_total")
		assert.Equal(t, -1.5, snap[1].GetMetric()[0].GetGauge().GetValue(), "temp")
	})

	t.Run("histogram buckets are cumulative", func(t *testing.T) {
		rm, m := oneMetric("latency", "s")
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		dp := h.DataPoints().AppendEmpty()
		dp.ExplicitBounds().FromRaw([]float64{0.1, 1, 10})
		dp.BucketCounts().FromRaw([]uint64{2, 3, 4, 1})
		dp.SetCount(10)
		dp.SetSum(31.5)

		fams, drops := defaultTranslator().translateResource(rm, new(scratch))
		require.Empty(t, drops)
		hist := newGroupStates(0, 0).apply(testKey, testWriter, fams).group.snapshot()[0].GetMetric()[0].GetHistogram()
		assert.Equal(t, uint64(10), hist.GetSampleCount())
		assert.Equal(t, 31.5, hist.GetSampleSum())
		var got [][2]float64
		for _, b := range hist.GetBucket() {
			got = append(got, [2]float64{b.GetUpperBound(), float64(b.GetCumulativeCount())})
		}
		assert.Equal(t, [][2]float64{{0.1, 2}, {1, 5}, {10, 9}, {math.Inf(1), 10}}, got)
	})

	t.Run("summary quantiles, sum and count", func(t *testing.T) {
		rm, m := oneMetric("rpc", "")
		dp := m.SetEmptySummary().DataPoints().AppendEmpty()
		dp.SetCount(7)
		dp.SetSum(12)
		q := dp.QuantileValues().AppendEmpty()
		q.SetQuantile(0.99)
		q.SetValue(4)

		fams, _ := defaultTranslator().translateResource(rm, new(scratch))
		s := newGroupStates(0, 0).apply(testKey, testWriter, fams).group.snapshot()[0].GetMetric()[0].GetSummary()
		assert.Equal(t, uint64(7), s.GetSampleCount())
		assert.Equal(t, 12.0, s.GetSampleSum())
		require.Len(t, s.GetQuantile(), 1)
		assert.Equal(t, 0.99, s.GetQuantile()[0].GetQuantile())
		assert.Equal(t, 4.0, s.GetQuantile()[0].GetValue())
	})
}

func TestTranslateLabels(t *testing.T) {
	cfg := createDefaultConfig().(*Config).Grouping
	cfg.Labels = []GroupingLabel{{Name: "env", Attribute: "deployment.environment"}}
	tr := newTranslator(cfg)

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

func TestTranslateDrops(t *testing.T) {
	tests := []struct {
		name   string
		fill   func(m pmetric.Metric)
		reason dropReason
		points int
	}{
		{
			name: "sum without temporality", reason: dropUnspecifiedTemporality, points: 1,
			fill: func(m pmetric.Metric) { m.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1) },
		},
		{
			name: "exponential histogram without temporality", reason: dropUnspecifiedTemporality, points: 1,
			fill: func(m pmetric.Metric) { m.SetEmptyExponentialHistogram().DataPoints().AppendEmpty() },
		},
		{
			name: "exponential histogram of scale -5", reason: dropScaleTooLow, points: 1,
			fill: func(m pmetric.Metric) {
				h := m.SetEmptyExponentialHistogram()
				h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				dp := h.DataPoints().AppendEmpty()
				dp.SetScale(-5)
			},
		},
		{
			name: "metric without data", reason: dropUnknownType, points: 1,
			fill: func(pmetric.Metric) {},
		},
		{
			name: "gauge point without value", reason: dropNoValue, points: 1,
			fill: func(m pmetric.Metric) { m.SetEmptyGauge().DataPoints().AppendEmpty() },
		},
		{
			name: "bucket counts that do not match the bounds", reason: dropInvalidHistogram, points: 1,
			fill: func(m pmetric.Metric) {
				h := m.SetEmptyHistogram()
				h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				dp := h.DataPoints().AppendEmpty()
				dp.ExplicitBounds().FromRaw([]float64{1, 2})
				dp.BucketCounts().FromRaw([]uint64{1, 2})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rm, m := oneMetric("some.metric", "")
			tt.fill(m)
			// A healthy metric beside the bad one must survive.
			ok := rm.ScopeMetrics().At(0).Metrics().AppendEmpty()
			ok.SetName("healthy")
			ok.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)

			fams, drops := defaultTranslator().translateResource(rm, new(scratch))
			assert.Equal(t, []drop{{metric: "some.metric", reason: tt.reason, points: tt.points}}, drops)
			require.Len(t, fams, 1)
			assert.Equal(t, "healthy", fams[0].name)
		})
	}

	for _, bounds := range [][]float64{{1, 1}, {2, 1}, {math.NaN()}, {1, math.Inf(1)}} {
		t.Run(fmt.Sprintf("bounds %v", bounds), func(t *testing.T) {
			rm, m := oneMetric("h", "")
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dp := h.DataPoints().AppendEmpty()
			dp.ExplicitBounds().FromRaw(bounds)
			dp.BucketCounts().FromRaw(make([]uint64, len(bounds)+1))
			_, drops := defaultTranslator().translateResource(rm, new(scratch))
			assert.Equal(t, []drop{{metric: "h", reason: dropInvalidHistogram, points: 1}}, drops)
		})
	}

	for _, name := range []string{"push_time", "go.goroutines", "process.cpu", "pushgateway.anything"} {
		t.Run("names the gateway writes or exposes itself: "+name, func(t *testing.T) {
			unit := "s"
			if name == "go.goroutines" {
				unit = ""
			}
			rm, m := oneMetric(name, unit)
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			s.DataPoints().AppendEmpty().SetIntValue(1)
			if name == "push_time" || name == "go.goroutines" {
				m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
			}
			fams, drops := defaultTranslator().translateResource(rm, new(scratch))
			assert.Empty(t, fams)
			assert.Equal(t, []drop{{metric: name, reason: dropReservedName, points: 1}}, drops)
		})
	}
	t.Run("other go_ names are the sender's", func(t *testing.T) {
		rm, m := oneMetric("go.memory.used", "By")
		m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
		fams, drops := defaultTranslator().translateResource(rm, new(scratch))
		assert.Empty(t, drops)
		require.Len(t, fams, 1)
		assert.Equal(t, "go_memory_used_bytes", fams[0].name)
	})

	for _, tt := range []struct{ name, unit string }{{"", ""}, {"", "s"}, {"...", "1"}, {"-_-", ""}} {
		t.Run(fmt.Sprintf("invalid name %q with unit %q", tt.name, tt.unit), func(t *testing.T) {
			rm, m := oneMetric(tt.name, tt.unit)
			s := m.SetEmptySum() // a counter: the translator would add _total
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			s.DataPoints().AppendEmpty().SetIntValue(1)
			fams, drops := defaultTranslator().translateResource(rm, new(scratch))
			assert.Empty(t, fams)
			assert.Equal(t, []drop{{metric: tt.name, reason: dropInvalidName, points: 1}}, drops)
		})
	}
}

func TestTranslateLabelLimits(t *testing.T) {
	tr := defaultTranslator().withLabelLimits(8, 2)
	tests := []struct {
		name   string
		attrs  map[string]any
		reason dropReason
	}{
		{"within limits", map[string]any{"a": "12345678", "b": "x"}, ""},
		{"value too long", map[string]any{"a": "123456789"}, dropLabelTooLong},
		{"name too long", map[string]any{"abcdefghi": "x"}, dropLabelTooLong},
		{"renamed name too long", map[string]any{"instance": "x"}, dropLabelTooLong}, // exported_instance
		{"merged value too long", map[string]any{"a.b": "1234", "a_b": "5678"}, dropLabelTooLong},
		{"too many labels", map[string]any{"a": "1", "b": "2", "c": "3"}, dropTooManyLabels},
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

func TestTranslateNamingStrategies(t *testing.T) {
	tests := []struct {
		strategy  string
		namespace string
		want      string
	}{
		{"UnderscoreEscapingWithSuffixes", "", "etl_rows_processed_total"},
		{"UnderscoreEscapingWithSuffixes", "ci", "ci_etl_rows_processed_total"},
		{"UnderscoreEscapingWithoutSuffixes", "", "etl_rows_processed"},
		{"NoUTF8EscapingWithSuffixes", "", "etl.rows.processed_total"},
		{"NoTranslation", "", "etl.rows.processed"},
	}
	for _, tt := range tests {
		t.Run(tt.strategy+"/"+tt.namespace, func(t *testing.T) {
			rm, m := oneMetric("etl.rows.processed", "{row}")
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			s.DataPoints().AppendEmpty().SetIntValue(1)
			fams, _ := defaultTranslator().withNaming(TranslationStrategy(tt.strategy), tt.namespace).translateResource(rm, new(scratch))
			require.Len(t, fams, 1)
			assert.Equal(t, tt.want, fams[0].name)
		})
	}
}

func TestTranslateScopeAndResource(t *testing.T) {
	newBatch := func() pmetric.ResourceMetrics {
		rm := pmetric.NewResourceMetrics()
		require.NoError(t, rm.Resource().Attributes().FromRaw(map[string]any{
			"service.name": "etl", "service.instance.id": "i1",
			"host.name": "h", "deployment.environment.name": "prod", "empty": "",
		}))
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("io.example/lib")
		sm.Scope().SetVersion("1.2")
		m := sm.Metrics().AppendEmpty()
		m.SetName("g")
		dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(7)
		dp.SetIntValue(3)
		require.NoError(t, dp.Attributes().FromRaw(map[string]any{"a": "1", "otel.scope.version": "mine"}))
		// A second scope without name or version.
		m = rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
		m.SetName("g")
		dp = m.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetTimestamp(9)
		dp.SetIntValue(4)
		return rm
	}
	labelsOf := func(fams []family) map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, f := range fams {
			for _, p := range f.points {
				out[f.name+"@"+strconv.Itoa(int(p.time))] = labelMap(p.labels.labels)
			}
		}
		return out
	}

	t.Run("defaults: scope labels and target_info", func(t *testing.T) {
		cfg := createDefaultConfig().(*Config)
		tr := newTranslator(cfg.Grouping).withResourceLabels(cfg.ScopeLabels, cfg.TargetInfo, cfg.ResourceToTelemetryConversion.Enabled)
		fams, drops := tr.translateResource(newBatch(), new(scratch))
		require.Empty(t, drops)
		assert.Equal(t, map[string]map[string]string{
			// A point attribute wins over the scope label of its name.
			"g@7": {"a": "1", "otel_scope_name": "io.example/lib", "otel_scope_version": "mine"},
			"g@9": {},
			// Stamped with the newest point; identifying and empty attributes left out.
			"target_info@9": {"deployment_environment_name": "prod", "host_name": "h"},
		}, labelsOf(fams))
		require.Equal(t, targetInfoName, fams[len(fams)-1].name)
		assert.Equal(t, 1.0, fams[len(fams)-1].points[0].value)
		assert.Equal(t, dto.MetricType_GAUGE, fams[len(fams)-1].typ)
	})

	t.Run("grouping attributes are not in target_info", func(t *testing.T) {
		grouping := createDefaultConfig().(*Config).Grouping
		grouping.Labels = []GroupingLabel{{Name: "env", Attribute: "deployment.environment.name"}}
		fams, _ := newTranslator(grouping).withResourceLabels(false, true, false).translateResource(newBatch(), new(scratch))
		assert.Equal(t, map[string]string{"host_name": "h"}, labelsOf(fams)["target_info@9"])
	})

	t.Run("resource_to_telemetry_conversion, nothing else", func(t *testing.T) {
		fams, drops := defaultTranslator().withResourceLabels(false, false, true).translateResource(newBatch(), new(scratch))
		require.Empty(t, drops)
		resource := map[string]string{
			"service_name": "etl", "service_instance_id": "i1",
			"host_name": "h", "deployment_environment_name": "prod",
		}
		withA := maps.Clone(resource)
		withA["a"], withA["otel_scope_version"] = "1", "mine"
		assert.Equal(t, map[string]map[string]string{"g@7": withA, "g@9": resource}, labelsOf(fams))
	})

	t.Run("a metric without points brings no target_info", func(t *testing.T) {
		rm := newBatch()
		rm.ScopeMetrics().RemoveIf(func(pmetric.ScopeMetrics) bool { return true })
		fams, drops := defaultTranslator().withResourceLabels(true, true, false).translateResource(rm, new(scratch))
		assert.Empty(t, fams)
		assert.Empty(t, drops)
	})
}
