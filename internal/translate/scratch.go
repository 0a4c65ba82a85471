package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"cmp"
	"math"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Scratch holds what translating one resource makes and folding it
// consumes: reused from batch to batch, it spares an allocation per
// metric and per point. One batch at a time uses one Scratch.
type Scratch struct {
	points []prom.Point
	fams   []prom.Family
	key    []byte // a label cache key being built
	// aggs, floats and uints hold the points' aggregates.
	aggs   []prom.Aggregate
	floats []float64
	uints  []uint64
	// reading says the label cache's read lock is held.
	reading bool
}

// Reset empties sc, letting go of what the last resource referenced.
func (sc *Scratch) Reset() {
	clear(sc.points)
	clear(sc.fams)
	clear(sc.aggs)
	sc.points, sc.fams, sc.aggs = sc.points[:0], sc.fams[:0], sc.aggs[:0]
	sc.floats, sc.uints = sc.floats[:0], sc.uints[:0]
}

// histogramAggregate is the classic histogram of dp in sc's storage: the
// buckets made cumulative, and a +Inf bucket written out, not left
// implicit (the gateway stores a text push's +Inf bucket but not a
// protobuf push's, and both formats must store the same).
func (sc *Scratch) histogramAggregate(dp pmetric.HistogramDataPoint) *prom.Aggregate {
	bounds, counts := dp.ExplicitBounds(), dp.BucketCounts()
	from := len(sc.floats)
	var cumulative uint64
	for b := 0; b < bounds.Len() && b < counts.Len(); b++ {
		cumulative += counts.At(b)
		sc.floats = append(sc.floats, bounds.At(b))
		sc.uints = append(sc.uints, cumulative)
	}
	sc.floats = append(sc.floats, math.Inf(1))
	sc.uints = append(sc.uints, dp.Count())
	n := len(sc.floats) - from
	return sc.aggregate(prom.Aggregate{
		Count:  dp.Count(),
		Sum:    dp.Sum(),
		Bounds: sc.floats[from:len(sc.floats):len(sc.floats)],
		Counts: sc.uints[len(sc.uints)-n : len(sc.uints) : len(sc.uints)],
	})
}

// summaryAggregate is the summary of dp in sc's storage, its quantiles in
// ascending order whatever order the sender used: the same data always
// gives the same bytes. ok is false when a quantile repeats.
func (sc *Scratch) summaryAggregate(dp pmetric.SummaryDataPoint) (_ *prom.Aggregate, ok bool) {
	qs := dp.QuantileValues()
	from := len(sc.floats)
	for i := 0; i < qs.Len(); i++ {
		sc.floats = append(sc.floats, qs.At(i).Quantile())
	}
	for i := 0; i < qs.Len(); i++ {
		sc.floats = append(sc.floats, qs.At(i).Value())
	}
	quantiles := sc.floats[from : from+qs.Len() : from+qs.Len()]
	values := sc.floats[from+qs.Len() : len(sc.floats) : len(sc.floats)]
	// An insertion sort, stable: a handful of quantiles, two slices.
	for i := 1; i < len(quantiles); i++ {
		for j := i; j > 0 && cmp.Compare(quantiles[j], quantiles[j-1]) < 0; j-- {
			quantiles[j], quantiles[j-1] = quantiles[j-1], quantiles[j]
			values[j], values[j-1] = values[j-1], values[j]
		}
	}
	for i := 1; i < len(quantiles); i++ {
		if cmp.Compare(quantiles[i], quantiles[i-1]) == 0 {
			return nil, false
		}
	}
	return sc.aggregate(prom.Aggregate{Count: dp.Count(), Sum: dp.Sum(), Bounds: quantiles, Values: values}), true
}

// aggregate keeps a in sc's storage.
func (sc *Scratch) aggregate(a prom.Aggregate) *prom.Aggregate {
	if len(sc.aggs) == cap(sc.aggs) {
		// A new block rather than a grown one: the points made so far
		// point into the blocks they were made in.
		sc.aggs = make([]prom.Aggregate, 0, max(2*cap(sc.aggs), 64))
	}
	sc.aggs = append(sc.aggs, a)
	return &sc.aggs[len(sc.aggs)-1]
}
