package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"math"

	dto "github.com/prometheus/client_model/go"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
) // unsupportedTemporality refuses an unspecified temporality: neither adding
// nor replacing would be right.
func unsupportedTemporality(temp pmetric.AggregationTemporality) (prom.DropReason, bool) {
	switch temp {
	case pmetric.AggregationTemporalityCumulative, pmetric.AggregationTemporalityDelta:
		return "", false
	default:
		return prom.DropUnspecifiedTemporality, true
	}
}

// dataPoint is what every OTLP data point type has.
type dataPoint interface {
	Flags() pmetric.DataPointFlags
	Attributes() pcommon.Map
	Timestamp() pcommon.Timestamp
	StartTimestamp() pcommon.Timestamp
}

// translatePoints translates the points of one metric into sc's points,
// each labelled with typeLabel as the type's own label. value sets a
// point's value, or says why it has none; a point without a recorded
// value, a value or labels is dropped.
func translatePoints[DP dataPoint](t *Translator, m pmetric.Metric, n int, at func(int) DP, typeLabel string,
	extra *scopeExtra, drops *dropCounter, sc *Scratch, value func(DP, *prom.Point) prom.DropReason,
) []prom.Point {
	from := len(sc.points)
	for i := 0; i < n; i++ {
		dp := at(i)
		// Made in place: a point handed to value would escape to the heap.
		sc.points = append(sc.points, prom.Point{Time: dp.Timestamp(), Start: dp.StartTimestamp()})
		p := &sc.points[len(sc.points)-1]
		var reason prom.DropReason
		if p.Ended = dp.Flags().NoRecordedValue(); !p.Ended {
			reason = value(dp, p)
		}
		if reason == "" {
			ls := t.labelSetFor(dp.Attributes(), typeLabel, extra, sc)
			p.Labels, reason = ls.set, ls.reason
		}
		if reason != "" {
			*p = prom.Point{}
			sc.points = sc.points[:len(sc.points)-1]
			drops.add(m, reason)
			continue
		}
		if p.Native != nil {
			p.Native.Label = p.Labels.Labels
		}
	}
	return sc.points[from:len(sc.points):len(sc.points)]
}

func (t *Translator) numberPoints(m pmetric.Metric, dps pmetric.NumberDataPointSlice, extra *scopeExtra, drops *dropCounter, sc *Scratch) []prom.Point {
	return translatePoints(t, m, dps.Len(), dps.At, "", extra, drops, sc, func(dp pmetric.NumberDataPoint, p *prom.Point) prom.DropReason {
		switch dp.ValueType() {
		case pmetric.NumberDataPointValueTypeInt:
			p.Value = float64(dp.IntValue())
		case pmetric.NumberDataPointValueTypeDouble:
			p.Value = dp.DoubleValue()
		default:
			return prom.DropNoValue
		}
		return ""
	})
}

func (t *Translator) histogramPoints(m pmetric.Metric, extra *scopeExtra, drops *dropCounter, sc *Scratch) []prom.Point {
	dps := m.Histogram().DataPoints()
	return translatePoints(t, m, dps.Len(), dps.At, "le", extra, drops, sc, func(dp pmetric.HistogramDataPoint, p *prom.Point) prom.DropReason {
		bounds, counts := dp.ExplicitBounds(), dp.BucketCounts()
		// OTLP allows a histogram without buckets (count and sum only);
		// otherwise there is one more count than bounds, the last for +Inf.
		if (counts.Len() != 0 && counts.Len() != bounds.Len()+1) || !validBounds(bounds) {
			return prom.DropInvalidHistogram
		}
		p.Agg = sc.histogramAggregate(dp)
		return ""
	})
}

// expHistogramPoints translates exponential histogram points into native
// histograms (see nativeHistogram); encoding turns them into classic
// buckets where native ones cannot go.
func (t *Translator) expHistogramPoints(m pmetric.Metric, extra *scopeExtra, drops *dropCounter, sc *Scratch) []prom.Point {
	dps := m.ExponentialHistogram().DataPoints()
	return translatePoints(t, m, dps.Len(), dps.At, "le", extra, drops, sc, func(dp pmetric.ExponentialHistogramDataPoint, p *prom.Point) prom.DropReason {
		h, reason := nativeHistogram(dp)
		if reason == "" {
			p.Native = &dto.Metric{Histogram: h}
		}
		return reason
	})
}

// validBounds accepts finite, strictly increasing bucket bounds: anything
// else gives duplicate or unordered le series, which Prometheus refuses.
func validBounds(bounds pcommon.Float64Slice) bool {
	for i := 0; i < bounds.Len(); i++ {
		b := bounds.At(i)
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= bounds.At(i-1)) {
			return false
		}
	}
	return true
}

func (t *Translator) summaryPoints(m pmetric.Metric, extra *scopeExtra, drops *dropCounter, sc *Scratch) []prom.Point {
	dps := m.Summary().DataPoints()
	return translatePoints(t, m, dps.Len(), dps.At, "quantile", extra, drops, sc, func(dp pmetric.SummaryDataPoint, p *prom.Point) prom.DropReason {
		var ok bool
		if p.Agg, ok = sc.summaryAggregate(dp); !ok {
			// One quantile twice is one sample twice at the gateway, which
			// neither it nor Prometheus can take.
			return prom.DropInvalidSummary
		}
		return ""
	})
}
