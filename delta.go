package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// foldDelta adds a delta point to the series that holds held, turning OTLP
// delta temporality into the cumulative values Prometheus expects. It
// returns the series' new metric, or stale when the point must be ignored:
//
//   - a point no newer than the one held is a replay, a duplicate or out
//     of order: adding it again would count it twice;
//   - a point whose interval starts before the held point's time overlaps
//     what was already counted: adding it could count twice, so it is
//     ignored rather than guessed at;
//   - a point whose interval starts after the held point's time starts a
//     new cumulative run (the sender restarted, or skipped an interval):
//     it replaces the total, which Prometheus reads as a counter reset;
//   - a point that starts where the held one ended (or has no start time)
//     is added to it;
//   - a histogram whose bucket bounds changed starts a new run too; native
//     histograms of different schemas add up at the coarser one, but a
//     changed zero threshold starts a new run.
func foldDelta(held seriesState, p point) (next *dto.Metric, stale bool) {
	switch {
	case p.time <= held.time:
		return nil, true
	case !held.delta:
		return p.metric, false // the series was cumulative until now
	case p.start != 0 && p.start < held.time:
		return nil, true
	case p.start > held.time:
		return p.metric, false
	}
	if sum := addMetrics(held.metric, p.metric); sum != nil {
		return sum, false
	}
	return p.metric, false
}

// addMetrics returns a new metric holding a + b, with b's labels, or nil
// when they cannot be added (other kinds, other histogram buckets).
func addMetrics(a, b *dto.Metric) *dto.Metric {
	switch {
	case a.Counter != nil && b.Counter != nil:
		return &dto.Metric{Label: b.Label, Counter: &dto.Counter{Value: proto.Float64(a.Counter.GetValue() + b.Counter.GetValue())}}
	case a.Gauge != nil && b.Gauge != nil:
		return &dto.Metric{Label: b.Label, Gauge: &dto.Gauge{Value: proto.Float64(a.Gauge.GetValue() + b.Gauge.GetValue())}}
	case a.Histogram != nil && b.Histogram != nil:
		if h := addHistograms(a.Histogram, b.Histogram); h != nil {
			return &dto.Metric{Label: b.Label, Histogram: h}
		}
	}
	return nil
}

func addHistograms(a, b *dto.Histogram) *dto.Histogram {
	if a.Schema != nil && b.Schema != nil {
		return addNative(a, b)
	}
	if len(a.Bucket) != len(b.Bucket) || a.Schema != nil || b.Schema != nil {
		return nil
	}
	h := &dto.Histogram{
		SampleCount: proto.Uint64(a.GetSampleCount() + b.GetSampleCount()),
		SampleSum:   proto.Float64(a.GetSampleSum() + b.GetSampleSum()),
		Bucket:      make([]*dto.Bucket, len(a.Bucket)),
	}
	for i, ab := range a.Bucket {
		bb := b.Bucket[i]
		if ab.GetUpperBound() != bb.GetUpperBound() {
			return nil
		}
		h.Bucket[i] = &dto.Bucket{
			UpperBound:      proto.Float64(ab.GetUpperBound()),
			CumulativeCount: proto.Uint64(ab.GetCumulativeCount() + bb.GetCumulativeCount()),
		}
	}
	return h
}
