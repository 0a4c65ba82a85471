package pushgatewayexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
)

// testBatch builds OTLP batches for tests, one resource at a time.
type testBatch struct {
	md pmetric.Metrics
}

func newTestBatch() *testBatch {
	return &testBatch{md: pmetric.NewMetrics()}
}

// resource starts a resource with these attributes; metrics added to the
// returned builder belong to it.
func (b *testBatch) resource(attrs map[string]any) *testResource {
	rm := b.md.ResourceMetrics().AppendEmpty()
	if err := rm.Resource().Attributes().FromRaw(attrs); err != nil {
		panic(err)
	}
	return &testResource{ms: rm.ScopeMetrics().AppendEmpty().Metrics()}
}

type testResource struct {
	ms pmetric.MetricSlice
}

func (r *testResource) metric(name, unit, desc string) pmetric.Metric {
	m := r.ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	return m
}

func putAttrs(m pcommon.Map, attrs map[string]any) {
	if err := m.FromRaw(attrs); err != nil {
		panic(err)
	}
}

func (r *testResource) gauge(name, unit string, ts pcommon.Timestamp, v float64, attrs map[string]any) *testResource {
	dp := r.metric(name, unit, "").SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetDoubleValue(v)
	putAttrs(dp.Attributes(), attrs)
	return r
}

func (r *testResource) sum(name, unit string, monotonic bool, ts pcommon.Timestamp, v int64, attrs map[string]any) *testResource {
	s := r.metric(name, unit, "").SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetIntValue(v)
	putAttrs(dp.Attributes(), attrs)
	return r
}

func (r *testResource) histogram(name, unit string, ts pcommon.Timestamp, bounds []float64, counts []uint64, sum float64) *testResource {
	return r.histogramOver(name, unit, pmetric.AggregationTemporalityCumulative, 0, ts, bounds, counts, sum)
}

// histogramOver adds a histogram point over [start, end] of the given
// temporality; its count is the sum of counts.
func (r *testResource) histogramOver(name, unit string, temporality pmetric.AggregationTemporality, start, end pcommon.Timestamp, bounds []float64, counts []uint64, sum float64) *testResource {
	h := r.metric(name, unit, "").SetEmptyHistogram()
	h.SetAggregationTemporality(temporality)
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(end)
	dp.ExplicitBounds().FromRaw(bounds)
	dp.BucketCounts().FromRaw(counts)
	var n uint64
	for _, c := range counts {
		n += c
	}
	dp.SetCount(n)
	dp.SetSum(sum)
	return r
}

func (r *testResource) summary(name, unit string, ts pcommon.Timestamp, count uint64, sum float64, quantiles map[float64]float64) *testResource {
	dp := r.metric(name, unit, "").SetEmptySummary().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetCount(count)
	dp.SetSum(sum)
	for q, v := range quantiles {
		qv := dp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q)
		qv.SetValue(v)
	}
	return r
}

// startExporter starts the exporter against endpoint without a queue and
// without retries, so ConsumeMetrics returns what a push returned.
func startExporter(t *testing.T, endpoint string, mutate func(*Config)) exporter.Metrics {
	t.Helper()
	exp, _ := startExporterWithSettings(t, endpoint, mutate, exportertest.NewNopSettings(metadata.Type))
	return exp
}

// telemetrySettings gives exporter settings whose own telemetry the test
// can read back, for an exporter configured as "pushgateway".
func telemetrySettings(t *testing.T) (*componenttest.Telemetry, exporter.Settings) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	return tel, set
}

func startExporterWithSettings(t *testing.T, endpoint string, mutate func(*Config), set exporter.Settings) (exporter.Metrics, *Config) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = endpoint
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	if mutate != nil {
		mutate(cfg)
	}
	exp := startConfigured(t, cfg, set)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return exp, cfg
}

// startConfigured validates cfg and starts an exporter with it; the caller
// shuts it down.
func startConfigured(t *testing.T, cfg *Config, set exporter.Settings) exporter.Metrics {
	t.Helper()
	require.NoError(t, cfg.Validate())
	exp, err := NewFactory().CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

// exporterAttrs is the attribute set of a measurement of the exporter's
// own telemetry, for an exporter of telemetrySettings: its ID and kvs.
func exporterAttrs(kvs ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append([]attribute.KeyValue{attribute.String("exporter", metadata.Type.String())}, kvs...)...)
}
