// Package testbatch builds OTLP batches for tests, one resource at a time:
//
//	b := testbatch.New()
//	b.Resource(map[string]any{"service.name": "etl"}).
//		Gauge("temperature", "Cel", ts, 21.5, map[string]any{"room": "a"}).
//		Cumulative("rows", start, ts, 7)
//	exp.ConsumeMetrics(ctx, b.MD)
package testbatch // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Batch is an OTLP batch being built.
type Batch struct {
	MD pmetric.Metrics
}

// New starts an empty batch.
func New() *Batch {
	return &Batch{MD: pmetric.NewMetrics()}
}

// Resource starts a resource with these attributes; metrics added to the
// returned builder belong to it.
func (b *Batch) Resource(attrs map[string]any) *Resource {
	rm := b.MD.ResourceMetrics().AppendEmpty()
	PutAttrs(rm.Resource().Attributes(), attrs)
	return &Resource{ms: rm.ScopeMetrics().AppendEmpty().Metrics()}
}

// Resource adds metrics to one resource of a batch.
type Resource struct {
	ms pmetric.MetricSlice
}

// Metric adds an empty metric.
func (r *Resource) Metric(name, unit, desc string) pmetric.Metric {
	m := r.ms.AppendEmpty()
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	return m
}

// PutAttrs sets m from attrs, panicking on a value pdata cannot hold.
func PutAttrs(m pcommon.Map, attrs map[string]any) {
	if err := m.FromRaw(attrs); err != nil {
		panic(err)
	}
}

// Gauge adds a gauge point at ts.
func (r *Resource) Gauge(name, unit string, ts pcommon.Timestamp, v float64, attrs map[string]any) *Resource {
	dp := r.Metric(name, unit, "").SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetDoubleValue(v)
	PutAttrs(dp.Attributes(), attrs)
	return r
}

// Sum adds a cumulative sum point at ts, without a start time.
func (r *Resource) Sum(name, unit string, monotonic bool, ts pcommon.Timestamp, v int64, attrs map[string]any) *Resource {
	s := r.Metric(name, unit, "").SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetIntValue(v)
	PutAttrs(dp.Attributes(), attrs)
	return r
}

// Cumulative adds a monotonic cumulative sum point over [start, ts].
func (r *Resource) Cumulative(name string, start, ts pcommon.Timestamp, v int64) *Resource {
	s := r.Metric(name, "", "").SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.SetIntValue(v)
	return r
}

// DeltaPoint is one OTLP delta point of a series: its interval and value.
type DeltaPoint struct {
	Start, End pcommon.Timestamp
	Value      int64
}

// DeltaSum adds a delta sum with these points (one series, no attributes).
func (r *Resource) DeltaSum(name string, monotonic bool, points ...DeltaPoint) *Resource {
	s := r.Metric(name, "", "").SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for _, p := range points {
		dp := s.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(p.Start)
		dp.SetTimestamp(p.End)
		dp.SetIntValue(p.Value)
	}
	return r
}

// Histogram adds a cumulative histogram point at ts; its count is the sum
// of counts.
func (r *Resource) Histogram(name, unit string, ts pcommon.Timestamp, bounds []float64, counts []uint64, sum float64) *Resource {
	return r.HistogramOver(name, unit, pmetric.AggregationTemporalityCumulative, 0, ts, bounds, counts, sum)
}

// HistogramOver adds a histogram point over [start, end] of the given
// temporality; its count is the sum of counts.
func (r *Resource) HistogramOver(name, unit string, temporality pmetric.AggregationTemporality, start, end pcommon.Timestamp, bounds []float64, counts []uint64, sum float64) *Resource {
	h := r.Metric(name, unit, "").SetEmptyHistogram()
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

// ExpPoint is an exponential histogram point.
type ExpPoint struct {
	Scale                int32
	ZeroCount            uint64
	ZeroThreshold        float64
	PosOffset, NegOffset int32
	Pos, Neg             []uint64
	Sum                  float64
}

// Fill sets dp to e; its count is the sum of all its buckets.
func (e ExpPoint) Fill(dp pmetric.ExponentialHistogramDataPoint) {
	dp.SetScale(e.Scale)
	dp.SetZeroCount(e.ZeroCount)
	dp.SetZeroThreshold(e.ZeroThreshold)
	dp.Positive().SetOffset(e.PosOffset)
	dp.Positive().BucketCounts().FromRaw(e.Pos)
	dp.Negative().SetOffset(e.NegOffset)
	dp.Negative().BucketCounts().FromRaw(e.Neg)
	n := e.ZeroCount
	for _, c := range append(append([]uint64(nil), e.Pos...), e.Neg...) {
		n += c
	}
	dp.SetCount(n)
	dp.SetSum(e.Sum)
}

// ExpHistogram adds an exponential histogram point over [start, end].
func (r *Resource) ExpHistogram(name string, temporality pmetric.AggregationTemporality, start, end pcommon.Timestamp, e ExpPoint) *Resource {
	h := r.Metric(name, "s", "").SetEmptyExponentialHistogram()
	h.SetAggregationTemporality(temporality)
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(end)
	e.Fill(dp)
	return r
}

// Summary adds a summary point at ts.
func (r *Resource) Summary(name, unit string, ts pcommon.Timestamp, count uint64, sum float64, quantiles map[float64]float64) *Resource {
	dp := r.Metric(name, unit, "").SetEmptySummary().DataPoints().AppendEmpty()
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

// Ended marks the last point added to r as having no recorded value.
func (r *Resource) Ended() *Resource {
	m := r.ms.At(r.ms.Len() - 1)
	flags := pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().At(0).SetFlags(flags)
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().At(0).SetFlags(flags)
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().At(0).SetFlags(flags)
	}
	return r
}

// ResourceOf adds metrics to ms, the metrics of a scope made by the
// caller.
func ResourceOf(ms pmetric.MetricSlice) *Resource {
	return &Resource{ms: ms}
}

// Metrics are the metrics added so far.
func (r *Resource) Metrics() pmetric.MetricSlice { return r.ms }
