package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	dto "github.com/prometheus/client_model/go"
)

// foldDelta adds a delta point to the series that holds held, turning OTLP
// delta temporality into the cumulative values Prometheus expects. It
// returns the series' new state, or stale when the point must be ignored:
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
func foldDelta(held *seriesState, p *point) (next seriesState, stale bool) {
	next = seriesState{time: p.time, value: p.value, agg: p.agg, metric: p.metric, labels: p.labels, delta: true}
	switch {
	case p.time <= held.time:
		return next, true
	case !held.delta: // the series was cumulative until now
	case p.start != 0 && p.start < held.time:
		return next, true
	case p.start > held.time: // a new run
	case p.agg != nil:
		if held.agg != nil && held.agg.addHistogram(p.agg) {
			next.agg = held.agg
		}
	case p.metric == nil:
		next.value += held.value
	case held.metric.GetHistogram() != nil && p.metric.Histogram != nil:
		if h := addHistograms(held.metric.Histogram, p.metric.Histogram); h != nil {
			next.metric = &dto.Metric{Label: p.metric.Label, Histogram: h}
		}
	}
	return next, false
}

func addHistograms(a, b *dto.Histogram) *dto.Histogram {
	if a.Schema != nil && b.Schema != nil {
		return addNative(a, b)
	}
	return nil
}
