package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

import (
	"math"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// Prometheus native histograms have schemas -4 to 8, the same numbers as
// OTLP exponential histogram scales.
const (
	MinNativeSchema = -4
	MaxNativeSchema = 8
)

// NativeBuckets are the populated buckets of one side of an exponential
// histogram, in OTLP indexing: Counts[k] is bucket Offset+k, which holds
// the values in (base^i, base^(i+1)] (negated for the negative side).
type NativeBuckets struct {
	Offset int32
	Counts []uint64
}

// Downscale merges buckets so the scale drops by by: bucket i goes to
// i >> by, which holds it whole.
func (b NativeBuckets) Downscale(by int32) NativeBuckets {
	if by <= 0 || len(b.Counts) == 0 {
		return b
	}
	first, last := b.Offset>>by, (b.Offset+int32(len(b.Counts))-1)>>by
	out := NativeBuckets{Offset: first, Counts: make([]uint64, last-first+1)}
	for k, c := range b.Counts {
		out.Counts[((b.Offset+int32(k))>>by)-first] += c
	}
	return out
}

// Valid says the buckets can be a native histogram's: native indexes (one
// more than OTLP's) fit in int32 and counts fit in int64 deltas.
func (b NativeBuckets) Valid() bool {
	if int64(b.Offset)+int64(len(b.Counts))+1 > math.MaxInt32 {
		return false
	}
	for _, c := range b.Counts {
		if c > math.MaxInt64 {
			return false
		}
	}
	return true
}

// Total is the sum of the counts; ok is false when it overflows.
func (b NativeBuckets) Total() (n uint64, ok bool) {
	for _, c := range b.Counts {
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
func (b NativeBuckets) add(o NativeBuckets) (_ NativeBuckets, ok bool) {
	if len(b.Counts) == 0 {
		return o, true
	}
	if len(o.Counts) == 0 {
		return b, true
	}
	out, ok := b.spanning(o)
	if !ok {
		return NativeBuckets{}, false
	}
	for k, c := range o.Counts {
		out.Counts[o.Offset+int32(k)-out.Offset] += c
	}
	return out, true
}

// sub returns b - o, what b counted since o, an earlier point of the same
// run; both must have the same scale. ok is false when a count of o is
// more than b's.
func (b NativeBuckets) sub(o NativeBuckets) (_ NativeBuckets, ok bool) {
	if len(o.Counts) == 0 {
		return b, true
	}
	out, ok := b.spanning(o)
	if !ok {
		return NativeBuckets{}, false
	}
	for k, c := range o.Counts {
		i := o.Offset + int32(k) - out.Offset
		if out.Counts[i] < c {
			return NativeBuckets{}, false
		}
		out.Counts[i] -= c
	}
	return out, true
}

// spanning returns a copy of b's counts over the index range of both b and
// o; ok is false when that is more than maxMergedBuckets.
func (b NativeBuckets) spanning(o NativeBuckets) (_ NativeBuckets, ok bool) {
	if len(b.Counts) == 0 {
		return NativeBuckets{Offset: o.Offset, Counts: make([]uint64, len(o.Counts))}, true
	}
	first := min(int64(b.Offset), int64(o.Offset))
	last := max(int64(b.Offset)+int64(len(b.Counts)), int64(o.Offset)+int64(len(o.Counts))) - 1
	if last-first+1 > maxMergedBuckets {
		return NativeBuckets{}, false
	}
	out := NativeBuckets{Offset: int32(first), Counts: make([]uint64, last-first+1)}
	for k, c := range b.Counts {
		out.Counts[b.Offset+int32(k)-out.Offset] += c
	}
	return out, true
}

// Spans encodes the buckets as one native histogram span with count
// deltas, leading and trailing empty buckets left out. A native bucket
// index is one more than the OTLP index: native bucket i holds
// (base^(i-1), base^i].
func (b NativeBuckets) Spans() ([]*dto.BucketSpan, []int64) {
	lo, hi := 0, len(b.Counts)
	for lo < hi && b.Counts[lo] == 0 {
		lo++
	}
	for hi > lo && b.Counts[hi-1] == 0 {
		hi--
	}
	if lo == hi {
		return nil, nil
	}
	deltas := make([]int64, 0, hi-lo)
	var prev int64
	for _, c := range b.Counts[lo:hi] {
		deltas = append(deltas, int64(c)-prev)
		prev = int64(c)
	}
	span := &dto.BucketSpan{Offset: proto.Int32(b.Offset + int32(lo) + 1), Length: proto.Uint32(uint32(hi - lo))}
	return []*dto.BucketSpan{span}, deltas
}

// nativeBucketsFromSpans decodes native spans and deltas into OTLP indexing.
func nativeBucketsFromSpans(spans []*dto.BucketSpan, deltas []int64) NativeBuckets {
	if len(spans) == 0 {
		return NativeBuckets{}
	}
	var idx int32
	var count int64
	var out NativeBuckets
	d := 0
	for s, span := range spans {
		idx += span.GetOffset()
		if s == 0 {
			out.Offset = idx - 1
		}
		for range span.GetLength() {
			if d < len(deltas) {
				count += deltas[d]
				d++
			}
			for out.Offset+int32(len(out.Counts)) < idx-1 {
				out.Counts = append(out.Counts, 0)
			}
			out.Counts = append(out.Counts, uint64(count))
			idx++
		}
	}
	return out
}

// AddNative returns a + b for two native histograms, at the coarser of
// their schemas, or nil when their zero buckets differ.
func AddNative(a, b *dto.Histogram) *dto.Histogram {
	return combineNative(a, b, NativeBuckets.add, a.GetSampleCount()+b.GetSampleCount(), a.GetSampleSum()+b.GetSampleSum(), a.GetZeroCount()+b.GetZeroCount())
}

// SubNative returns what a counted since prev, an earlier point of the
// same cumulative run, at the coarser of their schemas; nil when a cannot
// follow prev (another zero bucket, or a count that went down).
func SubNative(a, prev *dto.Histogram) *dto.Histogram {
	if a.GetSampleCount() < prev.GetSampleCount() || a.GetZeroCount() < prev.GetZeroCount() {
		return nil
	}
	return combineNative(a, prev, NativeBuckets.sub, a.GetSampleCount()-prev.GetSampleCount(), a.GetSampleSum()-prev.GetSampleSum(), a.GetZeroCount()-prev.GetZeroCount())
}

// combineNative combines the buckets of a and b with op, at the coarser
// of their schemas, into a histogram of the given count, sum and zero
// count; nil when their zero thresholds differ or op fails.
func combineNative(a, b *dto.Histogram, op func(NativeBuckets, NativeBuckets) (NativeBuckets, bool), count uint64, sum float64, zeroCount uint64) *dto.Histogram {
	if a.GetZeroThreshold() != b.GetZeroThreshold() {
		return nil
	}
	schema := min(a.GetSchema(), b.GetSchema())
	side := func(h *dto.Histogram, spans []*dto.BucketSpan, deltas []int64) NativeBuckets {
		return nativeBucketsFromSpans(spans, deltas).Downscale(h.GetSchema() - schema)
	}
	pos, okPos := op(side(a, a.PositiveSpan, a.PositiveDelta), side(b, b.PositiveSpan, b.PositiveDelta))
	neg, okNeg := op(side(a, a.NegativeSpan, a.NegativeDelta), side(b, b.NegativeSpan, b.NegativeDelta))
	if !okPos || !okNeg || !pos.Valid() || !neg.Valid() {
		return nil
	}
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(count),
		SampleSum:     proto.Float64(sum),
		Schema:        proto.Int32(schema),
		ZeroThreshold: proto.Float64(a.GetZeroThreshold()),
		ZeroCount:     proto.Uint64(zeroCount),
	}
	h.PositiveSpan, h.PositiveDelta = pos.Spans()
	h.NegativeSpan, h.NegativeDelta = neg.Spans()
	return h
}

// ClassicHistogram turns a native histogram into classic cumulative le
// buckets: the negative buckets from the lowest up, the zero bucket (le =
// the zero threshold), the positive buckets, and +Inf (= the count).
// Count and sum stay as they are.
func ClassicHistogram(h *dto.Histogram) *dto.Histogram {
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
	neg := nativeBucketsFromSpans(h.NegativeSpan, h.NegativeDelta)
	for k := len(neg.Counts) - 1; k >= 0; k-- {
		// OTLP negative bucket i holds [-base^(i+1), -base^i).
		add(-expBound(neg.Offset+int32(k), schema), neg.Counts[k])
	}
	add(h.GetZeroThreshold(), h.GetZeroCount())
	pos := nativeBucketsFromSpans(h.PositiveSpan, h.PositiveDelta)
	for k, c := range pos.Counts {
		add(expBound(pos.Offset+int32(k)+1, schema), c)
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

// IsNative says a histogram metric is a native one.
func IsNative(m *dto.Metric) bool {
	return m.GetHistogram() != nil && m.GetHistogram().Schema != nil
}
