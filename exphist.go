package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"math"
	"math/bits"
	"slices"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/proto"
)

// Prometheus native histograms have schemas -4 to 8, the same numbers as
// OTLP exponential histogram scales.
const (
	minNativeSchema = -4
	maxNativeSchema = 8
)

// expBuckets are the populated buckets of one side of an exponential
// histogram, in OTLP indexing: counts[k] is bucket offset+k, which holds
// the values in (base^i, base^(i+1)] (negated for the negative side).
type expBuckets struct {
	offset int32
	counts []uint64
}

func expBucketsOf(b pmetric.ExponentialHistogramDataPointBuckets) expBuckets {
	return expBuckets{offset: b.Offset(), counts: b.BucketCounts().AsRaw()}
}

// downscale merges buckets so the scale drops by by: bucket i goes to
// i >> by, which holds it whole.
func (b expBuckets) downscale(by int32) expBuckets {
	if by <= 0 || len(b.counts) == 0 {
		return b
	}
	first, last := b.offset>>by, (b.offset+int32(len(b.counts))-1)>>by
	out := expBuckets{offset: first, counts: make([]uint64, last-first+1)}
	for k, c := range b.counts {
		out.counts[((b.offset+int32(k))>>by)-first] += c
	}
	return out
}

// valid says the buckets can be a native histogram's: native indexes (one
// more than OTLP's) fit in int32 and counts fit in int64 deltas.
func (b expBuckets) valid() bool {
	if int64(b.offset)+int64(len(b.counts))+1 > math.MaxInt32 {
		return false
	}
	for _, c := range b.counts {
		if c > math.MaxInt64 {
			return false
		}
	}
	return true
}

// total is the sum of the counts; ok is false when it overflows.
func (b expBuckets) total() (n uint64, ok bool) {
	for _, c := range b.counts {
		if n+c < n {
			return 0, false
		}
		n += c
	}
	return n, true
}

// maxMergedBuckets bounds the buckets of a sum of two histograms, whose
// ranges may lie far apart: beyond it the sum is refused (a new run).
const maxMergedBuckets = 1 << 14

// add returns a + b; both must have the same scale. ok is false when the
// sum would span more than maxMergedBuckets.
func (b expBuckets) add(o expBuckets) (_ expBuckets, ok bool) {
	if len(b.counts) == 0 {
		return o, true
	}
	if len(o.counts) == 0 {
		return b, true
	}
	out, ok := b.spanning(o)
	if !ok {
		return expBuckets{}, false
	}
	for k, c := range o.counts {
		out.counts[o.offset+int32(k)-out.offset] += c
	}
	return out, true
}

// sub returns b - o, what b counted since o, an earlier point of the same
// run; both must have the same scale. ok is false when a count of o is
// more than b's.
func (b expBuckets) sub(o expBuckets) (_ expBuckets, ok bool) {
	if len(o.counts) == 0 {
		return b, true
	}
	out, ok := b.spanning(o)
	if !ok {
		return expBuckets{}, false
	}
	for k, c := range o.counts {
		i := o.offset + int32(k) - out.offset
		if out.counts[i] < c {
			return expBuckets{}, false
		}
		out.counts[i] -= c
	}
	return out, true
}

// spanning returns a copy of b's counts over the index range of both b and
// o; ok is false when that is more than maxMergedBuckets.
func (b expBuckets) spanning(o expBuckets) (_ expBuckets, ok bool) {
	if len(b.counts) == 0 {
		return expBuckets{offset: o.offset, counts: make([]uint64, len(o.counts))}, true
	}
	first := min(int64(b.offset), int64(o.offset))
	last := max(int64(b.offset)+int64(len(b.counts)), int64(o.offset)+int64(len(o.counts))) - 1
	if last-first+1 > maxMergedBuckets {
		return expBuckets{}, false
	}
	out := expBuckets{offset: int32(first), counts: make([]uint64, last-first+1)}
	for k, c := range b.counts {
		out.counts[b.offset+int32(k)-out.offset] += c
	}
	return out, true
}

// spans encodes the buckets as one native histogram span with count
// deltas, leading and trailing empty buckets left out. A native bucket
// index is one more than the OTLP index: native bucket i holds
// (base^(i-1), base^i].
func (b expBuckets) spans() ([]*dto.BucketSpan, []int64) {
	lo, hi := 0, len(b.counts)
	for lo < hi && b.counts[lo] == 0 {
		lo++
	}
	for hi > lo && b.counts[hi-1] == 0 {
		hi--
	}
	if lo == hi {
		return nil, nil
	}
	deltas := make([]int64, 0, hi-lo)
	var prev int64
	for _, c := range b.counts[lo:hi] {
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
	}
	span := &dto.BucketSpan{Offset: proto.Int32(b.offset + int32(lo) + 1), Length: proto.Uint32(uint32(hi - lo))}
	return []*dto.BucketSpan{span}, deltas
}

// expBucketsFromSpans decodes native spans and deltas into OTLP indexing.
func expBucketsFromSpans(spans []*dto.BucketSpan, deltas []int64) expBuckets {
	if len(spans) == 0 {
		return expBuckets{}
	}
	var idx int32
	var count int64
	var out expBuckets
	d := 0
	for s, span := range spans {
		idx += span.GetOffset()
		if s == 0 {
			out.offset = idx - 1
		}
		for range span.GetLength() {
			if d < len(deltas) {
				count += deltas[d]
				d++
			}
			for out.offset+int32(len(out.counts)) < idx-1 {
				out.counts = append(out.counts, 0)
			}
			out.counts = append(out.counts, uint64(count))
			idx++
		}
	}
	return out
}

// nativeHistogram builds a native histogram from an exponential histogram
// point; an error names why the point cannot be one.
func nativeHistogram(dp pmetric.ExponentialHistogramDataPoint) (*dto.Histogram, dropReason) {
	scale := dp.Scale()
	if scale < minNativeSchema {
		return nil, dropScaleTooLow
	}
	by := max(0, scale-maxNativeSchema)
	pos := expBucketsOf(dp.Positive()).downscale(by)
	neg := expBucketsOf(dp.Negative()).downscale(by)
	posN, okPos := pos.total()
	negN, okNeg := neg.total()
	sum, carry1 := bits.Add64(posN, negN, 0)
	all, carry2 := bits.Add64(sum, dp.ZeroCount(), 0)
	if !okPos || !okNeg || carry1|carry2 != 0 || !pos.valid() || !neg.valid() || all != dp.Count() {
		return nil, dropInvalidHistogram
	}
	if zt := dp.ZeroThreshold(); math.IsNaN(zt) || zt < 0 || math.IsInf(zt, 0) {
		return nil, dropInvalidHistogram
	}
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(dp.Count()),
		SampleSum:     proto.Float64(dp.Sum()),
		Schema:        proto.Int32(scale - by),
		ZeroThreshold: proto.Float64(dp.ZeroThreshold()),
		ZeroCount:     proto.Uint64(dp.ZeroCount()),
	}
	h.PositiveSpan, h.PositiveDelta = pos.spans()
	h.NegativeSpan, h.NegativeDelta = neg.spans()
	return h, ""
}

// addNative returns a + b for two native histograms, at the coarser of
// their schemas, or nil when their zero buckets differ.
func addNative(a, b *dto.Histogram) *dto.Histogram {
	return combineNative(a, b, expBuckets.add, a.GetSampleCount()+b.GetSampleCount(), a.GetSampleSum()+b.GetSampleSum(), a.GetZeroCount()+b.GetZeroCount())
}

// subNative returns what a counted since prev, an earlier point of the
// same cumulative run, at the coarser of their schemas; nil when a cannot
// follow prev (another zero bucket, or a count that went down).
func subNative(a, prev *dto.Histogram) *dto.Histogram {
	if a.GetSampleCount() < prev.GetSampleCount() || a.GetZeroCount() < prev.GetZeroCount() {
		return nil
	}
	return combineNative(a, prev, expBuckets.sub, a.GetSampleCount()-prev.GetSampleCount(), a.GetSampleSum()-prev.GetSampleSum(), a.GetZeroCount()-prev.GetZeroCount())
}

// combineNative combines the buckets of a and b with op, at the coarser
// of their schemas, into a histogram of the given count, sum and zero
// count; nil when their zero thresholds differ or op fails.
func combineNative(a, b *dto.Histogram, op func(expBuckets, expBuckets) (expBuckets, bool), count uint64, sum float64, zeroCount uint64) *dto.Histogram {
	if a.GetZeroThreshold() != b.GetZeroThreshold() {
		return nil
	}
	schema := min(a.GetSchema(), b.GetSchema())
	side := func(h *dto.Histogram, spans []*dto.BucketSpan, deltas []int64) expBuckets {
		return expBucketsFromSpans(spans, deltas).downscale(h.GetSchema() - schema)
	}
	pos, okPos := op(side(a, a.PositiveSpan, a.PositiveDelta), side(b, b.PositiveSpan, b.PositiveDelta))
	neg, okNeg := op(side(a, a.NegativeSpan, a.NegativeDelta), side(b, b.NegativeSpan, b.NegativeDelta))
	if !okPos || !okNeg || !pos.valid() || !neg.valid() {
		return nil
	}
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(count),
		SampleSum:     proto.Float64(sum),
		Schema:        proto.Int32(schema),
		ZeroThreshold: proto.Float64(a.GetZeroThreshold()),
		ZeroCount:     proto.Uint64(zeroCount),
	}
	h.PositiveSpan, h.PositiveDelta = pos.spans()
	h.NegativeSpan, h.NegativeDelta = neg.spans()
	return h
}

// classicHistogram turns a native histogram into classic cumulative le
// buckets: the negative buckets from the lowest up, the zero bucket (le =
// the zero threshold), the positive buckets, and +Inf (= the count).
// Count and sum stay as they are.
func classicHistogram(h *dto.Histogram) *dto.Histogram {
	out := &dto.Histogram{SampleCount: h.SampleCount, SampleSum: h.SampleSum}
	schema := h.GetSchema()
	var cumulative uint64
	add := func(le float64, count uint64) {
		cumulative += count
		if math.IsInf(le, 0) {
			return // beyond float64: counted in the next bucket, or +Inf
		}
		if n := len(out.Bucket); n > 0 && out.Bucket[n-1].GetUpperBound() >= le {
			out.Bucket[n-1].CumulativeCount = proto.Uint64(cumulative) // same bound: merge
			return
		}
		out.Bucket = append(out.Bucket, &dto.Bucket{UpperBound: proto.Float64(le), CumulativeCount: proto.Uint64(cumulative)})
	}
	neg := expBucketsFromSpans(h.NegativeSpan, h.NegativeDelta)
	for k := len(neg.counts) - 1; k >= 0; k-- {
		// OTLP negative bucket i holds [-base^(i+1), -base^i).
		add(-expBound(neg.offset+int32(k), schema), neg.counts[k])
	}
	add(h.GetZeroThreshold(), h.GetZeroCount())
	pos := expBucketsFromSpans(h.PositiveSpan, h.PositiveDelta)
	for k, c := range pos.counts {
		add(expBound(pos.offset+int32(k)+1, schema), c)
	}
	out.Bucket = append(out.Bucket, &dto.Bucket{UpperBound: proto.Float64(math.Inf(1)), CumulativeCount: proto.Uint64(h.GetSampleCount())})
	return out
}

// expBound is base^i for the schema: 2^(i·2^-schema).
func expBound(i, schema int32) float64 {
	if schema >= 0 {
		return math.Exp2(float64(i) / float64(int64(1)<<schema))
	}
	return math.Exp2(float64(i) * float64(int64(1)<<-schema))
}

// isNative says a histogram metric is a native one.
func isNative(m *dto.Metric) bool {
	return m.GetHistogram() != nil && m.GetHistogram().Schema != nil
}

// withClassicHistograms returns fams with every native histogram turned
// into classic buckets, sharing everything else; fams itself is unchanged.
func withClassicHistograms(fams []*dto.MetricFamily) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for i, mf := range fams {
		if !slices.ContainsFunc(mf.Metric, isNative) {
			if out != nil {
				out = append(out, mf)
			}
			continue
		}
		if out == nil {
			out = append(make([]*dto.MetricFamily, 0, len(fams)), fams[:i]...)
		}
		c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Metric: make([]*dto.Metric, len(mf.Metric))}
		for k, m := range mf.Metric {
			c.Metric[k] = m
			if isNative(m) {
				c.Metric[k] = &dto.Metric{Label: m.Label, Histogram: classicHistogram(m.Histogram)}
			}
		}
		out = append(out, c)
	}
	if out == nil {
		return fams
	}
	return out
}
