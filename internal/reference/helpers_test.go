package reference

import (
	"math"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Builders for the tests' batches and expected gateways. Point times are in
// seconds; the exporter clock is at(seconds).

func at(sec int) time.Time { return time.Unix(1_000_000+int64(sec), 0) }

func ts(sec uint64) pcommon.Timestamp { return pcommon.Timestamp(sec * uint64(time.Second)) }

// batchBuilder builds one pmetric.Metrics.
type batchBuilder struct{ md pmetric.Metrics }

func newBatch() *batchBuilder { return &batchBuilder{md: pmetric.NewMetrics()} }

// resource adds a resource with the given attributes (key, value pairs) and
// one unnamed scope.
func (b *batchBuilder) resource(attrs ...string) *resourceBuilder {
	rm := b.md.ResourceMetrics().AppendEmpty()
	putAttrs(rm.Resource().Attributes(), attrs)
	return &resourceBuilder{rm: rm, sm: rm.ScopeMetrics().AppendEmpty()}
}

func putAttrs(m pcommon.Map, kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		m.PutStr(kv[i], kv[i+1])
	}
}

type resourceBuilder struct {
	rm pmetric.ResourceMetrics
	sm pmetric.ScopeMetrics
}

// scope starts a new scope; the following metrics go into it.
func (r *resourceBuilder) scope(name, version string) *resourceBuilder {
	r.sm = r.rm.ScopeMetrics().AppendEmpty()
	r.sm.Scope().SetName(name)
	r.sm.Scope().SetVersion(version)
	return r
}

func (r *resourceBuilder) metric(name string) pmetric.Metric {
	m := r.sm.Metrics().AppendEmpty()
	m.SetName(name)
	return m
}

func (r *resourceBuilder) gauge(name string, t uint64, v float64, attrs ...string) *resourceBuilder {
	dp := r.metric(name).SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts(t))
	dp.SetDoubleValue(v)
	putAttrs(dp.Attributes(), attrs)
	return r
}

func (r *resourceBuilder) gaugeMarker(name string, t uint64, attrs ...string) *resourceBuilder {
	dp := r.metric(name).SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts(t))
	dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	putAttrs(dp.Attributes(), attrs)
	return r
}

func (r *resourceBuilder) sum(name string, monotonic bool, temp pmetric.AggregationTemporality, start, t uint64, v float64, attrs ...string) pmetric.NumberDataPoint {
	s := r.metric(name).SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(temp)
	dp := s.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(ts(start))
	dp.SetTimestamp(ts(t))
	dp.SetDoubleValue(v)
	putAttrs(dp.Attributes(), attrs)
	return dp
}

// delta adds a monotonic delta sum point over (start, t].
func (r *resourceBuilder) delta(name string, start, t uint64, v float64, attrs ...string) *resourceBuilder {
	r.sum(name, true, pmetric.AggregationTemporalityDelta, start, t, v, attrs...)
	return r
}

func (r *resourceBuilder) deltaMarker(name string, start, t uint64, attrs ...string) *resourceBuilder {
	r.sum(name, true, pmetric.AggregationTemporalityDelta, start, t, 0, attrs...).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	return r
}

// cumulative adds a monotonic cumulative sum point.
func (r *resourceBuilder) cumulative(name string, start, t uint64, v float64, attrs ...string) *resourceBuilder {
	r.sum(name, true, pmetric.AggregationTemporalityCumulative, start, t, v, attrs...)
	return r
}

func (r *resourceBuilder) cumulativeMarker(name string, start, t uint64, attrs ...string) *resourceBuilder {
	r.sum(name, true, pmetric.AggregationTemporalityCumulative, start, t, 0, attrs...).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	return r
}

type hist struct {
	temp   pmetric.AggregationTemporality
	start  uint64
	t      uint64
	bounds []float64
	counts []uint64
	count  uint64
	sum    float64
	marker bool
}

func (r *resourceBuilder) histogram(name string, h hist, attrs ...string) *resourceBuilder {
	m := r.metric(name).SetEmptyHistogram()
	m.SetAggregationTemporality(h.temp)
	dp := m.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(ts(h.start))
	dp.SetTimestamp(ts(h.t))
	dp.ExplicitBounds().FromRaw(h.bounds)
	dp.BucketCounts().FromRaw(h.counts)
	dp.SetCount(h.count)
	dp.SetSum(h.sum)
	if h.marker {
		dp.SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
	}
	putAttrs(dp.Attributes(), attrs)
	return r
}

type expHist struct {
	temp          pmetric.AggregationTemporality
	start, t      uint64
	scale         int32
	zeroThreshold float64
	zeroCount     uint64
	posOffset     int32
	pos           []uint64
	negOffset     int32
	neg           []uint64
	count         uint64
	sum           float64
}

func (r *resourceBuilder) expHistogram(name string, h expHist, attrs ...string) *resourceBuilder {
	m := r.metric(name).SetEmptyExponentialHistogram()
	m.SetAggregationTemporality(h.temp)
	dp := m.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(ts(h.start))
	dp.SetTimestamp(ts(h.t))
	dp.SetScale(h.scale)
	dp.SetZeroThreshold(h.zeroThreshold)
	dp.SetZeroCount(h.zeroCount)
	dp.Positive().SetOffset(h.posOffset)
	dp.Positive().BucketCounts().FromRaw(h.pos)
	dp.Negative().SetOffset(h.negOffset)
	dp.Negative().BucketCounts().FromRaw(h.neg)
	dp.SetCount(h.count)
	dp.SetSum(h.sum)
	putAttrs(dp.Attributes(), attrs)
	return r
}

func (r *resourceBuilder) summary(name string, start, t, count uint64, sum float64, quantiles []Quantile, attrs ...string) *resourceBuilder {
	dp := r.metric(name).SetEmptySummary().DataPoints().AppendEmpty()
	dp.SetStartTimestamp(ts(start))
	dp.SetTimestamp(ts(t))
	dp.SetCount(count)
	dp.SetSum(sum)
	for _, q := range quantiles {
		qv := dp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q.Quantile)
		qv.SetValue(q.Value)
	}
	putAttrs(dp.Attributes(), attrs)
	return r
}

func (r *resourceBuilder) done() {}

// Expected values.

func num(v float64) Value { return Value{Number: v} }

var inf = math.Inf(1)

func fam(t dto.MetricType, series map[string]Value) Family {
	return Family{Type: t, Series: series}
}

func gaugeFam(series map[string]Value) Family   { return fam(dto.MetricType_GAUGE, series) }
func counterFam(series map[string]Value) Family { return fam(dto.MetricType_COUNTER, series) }
func histFam(series map[string]Value) Family    { return fam(dto.MetricType_HISTOGRAM, series) }
func summaryFam(series map[string]Value) Family { return fam(dto.MetricType_SUMMARY, series) }

// one is a family with the single series {} holding v.
func one(t dto.MetricType, v Value) Family { return fam(t, map[string]Value{"{}": v}) }

// baseConfig: groups by service.name alone, no scope labels, no target_info.
func baseConfig() Config {
	return Config{}
}
