package translate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// oneMetric returns a ResourceMetrics with one empty metric to fill in.
func oneMetric(name, unit string) (pmetric.ResourceMetrics, pmetric.Metric) {
	rm := pmetric.NewResourceMetrics()
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	return rm, m
}

// defaultGrouping is the exporter's default grouping: job from the
// service, instance from service.instance.id.
func defaultGrouping() Grouping {
	return Grouping{InstanceAttributes: []string{attrServiceInstance}}
}

// defaultTranslator groups as the exporter does by default, and adds no
// scope labels, resource labels or target_info and no label limits.
func defaultTranslator() *Translator {
	return New(Options{Grouping: defaultGrouping()})
}

// snapshot is what a push of a new group holding fams would send: one
// series per point, families sorted by name, series by labels.
func snapshot(fams []prom.Family) []*dto.MetricFamily {
	views := make([]prom.FamilyView, 0, len(fams))
	for _, f := range fams {
		v := prom.FamilyView{Name: f.Name, Help: f.Help, Type: f.Type}
		for i, p := range f.Points {
			v.Series = append(v.Series, prom.Series{Labels: p.Labels, Value: p.Value, Agg: p.Agg, Native: p.Native})
			v.Order = append(v.Order, int32(i))
		}
		slices.SortFunc(v.Order, func(a, b int32) int { return strings.Compare(v.Series[a].Labels.Sig, v.Series[b].Labels.Sig) })
		views = append(views, v)
	}
	slices.SortFunc(views, func(a, b prom.FamilyView) int { return strings.Compare(a.Name, b.Name) })
	return exposition.Snapshot(views)
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
			fams, drops := defaultTranslator().Resource(rm, new(Scratch))
			assert.Empty(t, drops)
			require.Len(t, fams, 1)
			assert.Equal(t, tt.wantName, fams[0].Name)
			assert.Equal(t, tt.wantType, fams[0].Type)
			require.Len(t, fams[0].Points, 1)
			snap := snapshot(fams)
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

		fams, _ := defaultTranslator().Resource(rm, new(Scratch))
		require.Len(t, fams, 2)
		assert.Equal(t, 42.0, fams[0].Points[0].Value)
		assert.Equal(t, -1.5, fams[1].Points[0].Value)
		snap := snapshot(fams)
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

		fams, drops := defaultTranslator().Resource(rm, new(Scratch))
		require.Empty(t, drops)
		hist := snapshot(fams)[0].GetMetric()[0].GetHistogram()
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

		fams, _ := defaultTranslator().Resource(rm, new(Scratch))
		s := snapshot(fams)[0].GetMetric()[0].GetSummary()
		assert.Equal(t, uint64(7), s.GetSampleCount())
		assert.Equal(t, 12.0, s.GetSampleSum())
		require.Len(t, s.GetQuantile(), 1)
		assert.Equal(t, 0.99, s.GetQuantile()[0].GetQuantile())
		assert.Equal(t, 4.0, s.GetQuantile()[0].GetValue())
	})
}

func TestTranslateDrops(t *testing.T) {
	tests := []struct {
		name   string
		fill   func(m pmetric.Metric)
		reason prom.DropReason
		points int
	}{
		{
			name: "sum without temporality", reason: prom.DropUnspecifiedTemporality, points: 1,
			fill: func(m pmetric.Metric) { m.SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1) },
		},
		{
			name: "exponential histogram without temporality", reason: prom.DropUnspecifiedTemporality, points: 1,
			fill: func(m pmetric.Metric) { m.SetEmptyExponentialHistogram().DataPoints().AppendEmpty() },
		},
		{
			name: "exponential histogram of scale -5", reason: prom.DropScaleTooLow, points: 1,
			fill: func(m pmetric.Metric) {
				h := m.SetEmptyExponentialHistogram()
				h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				dp := h.DataPoints().AppendEmpty()
				dp.SetScale(-5)
			},
		},
		{
			name: "metric without data", reason: prom.DropUnknownType, points: 1,
			fill: func(pmetric.Metric) {},
		},
		{
			name: "gauge point without value", reason: prom.DropNoValue, points: 1,
			fill: func(m pmetric.Metric) { m.SetEmptyGauge().DataPoints().AppendEmpty() },
		},
		{
			name: "bucket counts that do not match the bounds", reason: prom.DropInvalidHistogram, points: 1,
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

			fams, drops := defaultTranslator().Resource(rm, new(Scratch))
			assert.Equal(t, []prom.Drop{{Metric: "some.metric", Reason: tt.reason, Points: tt.points}}, drops)
			require.Len(t, fams, 1)
			assert.Equal(t, "healthy", fams[0].Name)
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
			_, drops := defaultTranslator().Resource(rm, new(Scratch))
			assert.Equal(t, []prom.Drop{{Metric: "h", Reason: prom.DropInvalidHistogram, Points: 1}}, drops)
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
			fams, drops := defaultTranslator().Resource(rm, new(Scratch))
			assert.Empty(t, fams)
			assert.Equal(t, []prom.Drop{{Metric: name, Reason: prom.DropReservedName, Points: 1}}, drops)
		})
	}
	t.Run("other go_ names are the sender's", func(t *testing.T) {
		rm, m := oneMetric("go.memory.used", "By")
		m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
		fams, drops := defaultTranslator().Resource(rm, new(Scratch))
		assert.Empty(t, drops)
		require.Len(t, fams, 1)
		assert.Equal(t, "go_memory_used_bytes", fams[0].Name)
	})

	for _, tt := range []struct{ name, unit string }{{"", ""}, {"", "s"}, {"...", "1"}, {"-_-", ""}} {
		t.Run(fmt.Sprintf("invalid name %q with unit %q", tt.name, tt.unit), func(t *testing.T) {
			rm, m := oneMetric(tt.name, tt.unit)
			s := m.SetEmptySum() // a counter: the translator would add _total
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			s.DataPoints().AppendEmpty().SetIntValue(1)
			fams, drops := defaultTranslator().Resource(rm, new(Scratch))
			assert.Empty(t, fams)
			assert.Equal(t, []prom.Drop{{Metric: tt.name, Reason: prom.DropInvalidName, Points: 1}}, drops)
		})
	}
}

func TestTranslateNamingStrategies(t *testing.T) {
	tests := []struct {
		strategy  otlptranslator.TranslationStrategyOption
		namespace string
		want      string
	}{
		{otlptranslator.UnderscoreEscapingWithSuffixes, "", "etl_rows_processed_total"},
		{otlptranslator.UnderscoreEscapingWithSuffixes, "ci", "ci_etl_rows_processed_total"},
		{otlptranslator.UnderscoreEscapingWithoutSuffixes, "", "etl_rows_processed"},
		{otlptranslator.NoUTF8EscapingWithSuffixes, "", "etl.rows.processed_total"},
		{otlptranslator.NoTranslation, "", "etl.rows.processed"},
	}
	for _, tt := range tests {
		t.Run(string(tt.strategy)+"/"+tt.namespace, func(t *testing.T) {
			rm, m := oneMetric("etl.rows.processed", "{row}")
			s := m.SetEmptySum()
			s.SetIsMonotonic(true)
			s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			s.DataPoints().AppendEmpty().SetIntValue(1)
			tr := New(Options{Grouping: defaultGrouping(), Strategy: tt.strategy, Namespace: tt.namespace})
			fams, _ := tr.Resource(rm, new(Scratch))
			require.Len(t, fams, 1)
			assert.Equal(t, tt.want, fams[0].Name)
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
	labelsOf := func(fams []prom.Family) map[string]map[string]string {
		out := map[string]map[string]string{}
		for _, f := range fams {
			for _, p := range f.Points {
				out[f.Name+"@"+strconv.Itoa(int(p.Time))] = labelMap(p.Labels.Labels)
			}
		}
		return out
	}

	t.Run("defaults: scope labels and target_info", func(t *testing.T) {
		// The exporter's defaults: scope_labels and target_info on,
		// resource_to_telemetry_conversion off.
		tr := New(Options{Grouping: defaultGrouping(), ScopeLabels: true, TargetInfo: true})
		fams, drops := tr.Resource(newBatch(), new(Scratch))
		require.Empty(t, drops)
		assert.Equal(t, map[string]map[string]string{
			// A point attribute wins over the scope label of its name.
			"g@7": {"a": "1", "otel_scope_name": "io.example/lib", "otel_scope_version": "mine"},
			"g@9": {},
			// Stamped with the newest point; identifying and empty attributes left out.
			"target_info@9": {"deployment_environment_name": "prod", "host_name": "h"},
		}, labelsOf(fams))
		require.Equal(t, prom.TargetInfoName, fams[len(fams)-1].Name)
		assert.Equal(t, 1.0, fams[len(fams)-1].Points[0].Value)
		assert.Equal(t, dto.MetricType_GAUGE, fams[len(fams)-1].Type)
	})

	t.Run("grouping attributes are not in target_info", func(t *testing.T) {
		grouping := defaultGrouping()
		grouping.Labels = []GroupingLabel{{Name: "env", Attribute: "deployment.environment.name"}}
		fams, _ := New(Options{Grouping: grouping, TargetInfo: true}).Resource(newBatch(), new(Scratch))
		assert.Equal(t, map[string]string{"host_name": "h"}, labelsOf(fams)["target_info@9"])
	})

	t.Run("resource_to_telemetry_conversion, nothing else", func(t *testing.T) {
		fams, drops := New(Options{Grouping: defaultGrouping(), ResourceLabels: true}).Resource(newBatch(), new(Scratch))
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
		fams, drops := New(Options{Grouping: defaultGrouping(), ScopeLabels: true, TargetInfo: true}).Resource(rm, new(Scratch))
		assert.Empty(t, fams)
		assert.Empty(t, drops)
	})
}
