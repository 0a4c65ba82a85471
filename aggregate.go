package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"cmp"
	"math"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// aggregate is the value of a classic histogram or a summary point. A
// series holds its own, updated in place by every newer point; a point's
// lives in the batch's scratch.
type aggregate struct {
	count uint64
	sum   float64
	// bounds are a histogram's upper bounds, +Inf last, with counts their
	// cumulative counts; or a summary's quantiles, ascending, with values
	// their values.
	bounds []float64
	counts []uint64
	values []float64
}

// assign makes a hold what from holds, reusing a's storage (a nil a is
// made), and returns a.
func (a *aggregate) assign(from *aggregate) *aggregate {
	if a == nil {
		a = new(aggregate)
	}
	a.count, a.sum = from.count, from.sum
	a.bounds = append(a.bounds[:0], from.bounds...)
	a.counts = append(a.counts[:0], from.counts...)
	a.values = append(a.values[:0], from.values...)
	return a
}

// addHistogram adds the histogram b to the histogram a, in place, and
// reports whether it could: the buckets must be the same.
func (a *aggregate) addHistogram(b *aggregate) bool {
	if !a.sameBounds(b) {
		return false
	}
	a.count += b.count
	a.sum += b.sum
	for i := range a.counts {
		a.counts[i] += b.counts[i]
	}
	return true
}

// sameBounds says two histograms have the same buckets.
func (a *aggregate) sameBounds(b *aggregate) bool {
	if len(a.bounds) != len(b.bounds) || len(a.counts) != len(b.counts) {
		return false
	}
	for i, bound := range a.bounds {
		if bound != b.bounds[i] {
			return false
		}
	}
	return true
}

// follows says a can come after prev in one cumulative run: a summary
// always can (its count is checked by the caller), a histogram when it
// has the same buckets and none of its counts went down.
func (a *aggregate) follows(prev *aggregate) bool {
	if a.counts == nil {
		return true
	}
	if !a.sameBounds(prev) {
		return false
	}
	for i, c := range a.counts {
		if c < prev.counts[i] {
			return false
		}
	}
	return true
}

// addDifference adds to the histogram a what b counted since prev, an
// earlier point of the same run (b follows prev; a has their buckets).
func (a *aggregate) addDifference(b, prev *aggregate) {
	a.count += b.count - prev.count
	a.sum += b.sum - prev.sum
	for i := range a.counts {
		a.counts[i] += b.counts[i] - prev.counts[i]
	}
}

// histogramAggregate is the classic histogram of dp in sc's storage: the
// buckets made cumulative, and a +Inf bucket written out, not left
// implicit (the gateway stores a text push's +Inf bucket but not a
// protobuf push's, and both formats must store the same).
func (sc *scratch) histogramAggregate(dp pmetric.HistogramDataPoint) *aggregate {
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
	return sc.aggregate(aggregate{
		count:  dp.Count(),
		sum:    dp.Sum(),
		bounds: sc.floats[from:len(sc.floats):len(sc.floats)],
		counts: sc.uints[len(sc.uints)-n : len(sc.uints) : len(sc.uints)],
	})
}

// summaryAggregate is the summary of dp in sc's storage, its quantiles in
// ascending order whatever order the sender used: the same data always
// gives the same bytes. ok is false when a quantile repeats.
func (sc *scratch) summaryAggregate(dp pmetric.SummaryDataPoint) (_ *aggregate, ok bool) {
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
	return sc.aggregate(aggregate{count: dp.Count(), sum: dp.Sum(), bounds: quantiles, values: values}), true
}

// aggregate keeps a in sc's storage.
func (sc *scratch) aggregate(a aggregate) *aggregate {
	if len(sc.aggs) == cap(sc.aggs) {
		// A new block rather than a grown one: the points made so far
		// point into the blocks they were made in.
		sc.aggs = make([]aggregate, 0, max(2*cap(sc.aggs), 64))
	}
	sc.aggs = append(sc.aggs, a)
	return &sc.aggs[len(sc.aggs)-1]
}

// metric makes the Prometheus metric of a series of type typ holding a,
// with labels.
func (a *aggregate) metric(typ dto.MetricType, labels []*dto.LabelPair) *dto.Metric {
	m := &dto.Metric{Label: labels}
	if typ == dto.MetricType_SUMMARY {
		s := &dto.Summary{SampleCount: proto.Uint64(a.count), SampleSum: proto.Float64(a.sum), Quantile: make([]*dto.Quantile, len(a.bounds))}
		for i, q := range a.bounds {
			s.Quantile[i] = &dto.Quantile{Quantile: proto.Float64(q), Value: proto.Float64(a.values[i])}
		}
		m.Summary = s
		return m
	}
	h := &dto.Histogram{SampleCount: proto.Uint64(a.count), SampleSum: proto.Float64(a.sum), Bucket: make([]*dto.Bucket, len(a.bounds))}
	for i, bound := range a.bounds {
		h.Bucket[i] = &dto.Bucket{CumulativeCount: proto.Uint64(a.counts[i]), UpperBound: proto.Float64(bound)}
	}
	m.Histogram = h
	return m
}

// Encoding, as writeDelimitedFamilies writes the metric made by metric.

// quantileSize is the size of a Quantile: two doubles.
const quantileSize = 2 * (1 + 8)

// bucketSize is the size of a Bucket with this cumulative count: a varint
// and a double.
func bucketSize(count uint64) int {
	return protowire.SizeTag(1) + protowire.SizeVarint(count) + 1 + 8
}

// size is the size of the Summary or Histogram message of a.
func (a *aggregate) size(typ dto.MetricType) int {
	n := protowire.SizeTag(1) + protowire.SizeVarint(a.count) + 1 + 8
	for i := range a.bounds {
		if typ == dto.MetricType_SUMMARY {
			n += sizeMessage(3, quantileSize)
		} else {
			n += sizeMessage(3, bucketSize(a.counts[i]))
		}
	}
	return n
}

// aggregateField is the Metric field of a's message.
func aggregateField(typ dto.MetricType) protowire.Number {
	if typ == dto.MetricType_SUMMARY {
		return 4
	}
	return 7
}

// metricSize is the size of the Metric holding a, with labels of encLen
// bytes.
func (a *aggregate) metricSize(typ dto.MetricType, encLen int) int {
	return encLen + sizeMessage(aggregateField(typ), a.size(typ))
}

// appendMetric appends the Metric holding a, labels encoded in enc.
func (a *aggregate) appendMetric(b []byte, typ dto.MetricType, enc []byte) []byte {
	b = append(b, enc...)
	b = appendMessageHeader(b, aggregateField(typ), a.size(typ))
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, a.count)
	b = appendFixed64(b, 2, math.Float64bits(a.sum))
	for i, bound := range a.bounds {
		if typ == dto.MetricType_SUMMARY {
			b = appendMessageHeader(b, 3, quantileSize)
			b = appendFixed64(b, 1, math.Float64bits(bound))
			b = appendFixed64(b, 2, math.Float64bits(a.values[i]))
			continue
		}
		b = appendMessageHeader(b, 3, bucketSize(a.counts[i]))
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, a.counts[i])
		b = appendFixed64(b, 2, math.Float64bits(bound))
	}
	return b
}
