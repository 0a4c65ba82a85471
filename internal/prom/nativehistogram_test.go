package prom

import (
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// expPoint is an exponential histogram point of scale -4 to 8, as
// translation gets it from OTLP.
type expPoint struct {
	scale                int32
	zeroCount            uint64
	zeroThreshold        float64
	posOffset, negOffset int32
	pos, neg             []uint64
	sum                  float64
}

// native is the native histogram translation makes of e: its buckets as
// spans, its count the sum of all its buckets.
func native(t *testing.T, e expPoint) *dto.Histogram {
	t.Helper()
	require.True(t, e.scale >= MinNativeSchema && e.scale <= MaxNativeSchema, "scale %d", e.scale)
	pos := NativeBuckets{Offset: e.posOffset, Counts: e.pos}
	neg := NativeBuckets{Offset: e.negOffset, Counts: e.neg}
	posN, okPos := pos.Total()
	negN, okNeg := neg.Total()
	require.True(t, okPos && okNeg && pos.Valid() && neg.Valid())
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(e.zeroCount + posN + negN),
		SampleSum:     proto.Float64(e.sum),
		Schema:        proto.Int32(e.scale),
		ZeroThreshold: proto.Float64(e.zeroThreshold),
		ZeroCount:     proto.Uint64(e.zeroCount),
	}
	h.PositiveSpan, h.PositiveDelta = pos.Spans()
	h.NegativeSpan, h.NegativeDelta = neg.Spans()
	return h
}

func classicBuckets(h *dto.Histogram) map[float64]uint64 {
	out := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		out[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	return out
}

func TestClassicFromNative(t *testing.T) {
	h := ClassicHistogram(native(t, expPoint{scale: 0, zeroCount: 1, posOffset: 0, pos: []uint64{1, 2}, negOffset: 1, neg: []uint64{3}, sum: 4.5}))
	var bounds []float64
	for _, b := range h.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	assert.Equal(t, []float64{-2, 0, 2, 4, math.Inf(1)}, bounds, "ascending: negative, zero, positive, +Inf")
	assert.Equal(t, map[float64]uint64{-2: 3, 0: 4, 2: 5, 4: 7, math.Inf(1): 7}, classicBuckets(h))
	assert.Equal(t, uint64(7), h.GetSampleCount())
	assert.Equal(t, 4.5, h.GetSampleSum())
	assert.Nil(t, h.Schema)

	// Scale 1: bounds are powers of √2; a negative scale widens them.
	h = ClassicHistogram(native(t, expPoint{scale: 1, posOffset: 2, pos: []uint64{1}}))
	assert.Equal(t, map[float64]uint64{0: 0, math.Exp2(1.5): 1, math.Inf(1): 1}, classicBuckets(h))
	h = ClassicHistogram(native(t, expPoint{scale: -2, posOffset: 1, pos: []uint64{1}}))
	assert.Equal(t, map[float64]uint64{0: 0, math.Exp2(8): 1, math.Inf(1): 1}, classicBuckets(h))

	// Bounds beyond float64 fold into +Inf.
	h = ClassicHistogram(native(t, expPoint{scale: -4, posOffset: 70, pos: []uint64{2}}))
	assert.Equal(t, map[float64]uint64{0: 0, math.Inf(1): 2}, classicBuckets(h))
}

func TestNativeHistogramsAdd(t *testing.T) {
	a := native(t, expPoint{scale: 1, zeroCount: 1, posOffset: 0, pos: []uint64{1, 1, 1, 1}, sum: 3})
	b := native(t, expPoint{scale: 0, posOffset: 5, pos: []uint64{2}, negOffset: 0, neg: []uint64{1}, sum: -1})
	sum := AddNative(a, b)
	require.NotNil(t, sum)
	assert.Equal(t, int32(0), sum.GetSchema(), "the coarser schema")
	assert.Equal(t, uint64(8), sum.GetSampleCount())
	assert.Equal(t, 2.0, sum.GetSampleSum())
	assert.Equal(t, uint64(1), sum.GetZeroCount())
	// a at scale 0: OTLP buckets 0,0,1,1 → 0:2, 1:2; b adds 5:2.
	assert.Equal(t, NativeBuckets{Offset: 0, Counts: []uint64{2, 2, 0, 0, 0, 2}}, nativeBucketsFromSpans(sum.PositiveSpan, sum.PositiveDelta))
	assert.Equal(t, NativeBuckets{Offset: 0, Counts: []uint64{1}}, nativeBucketsFromSpans(sum.NegativeSpan, sum.NegativeDelta))

	other := native(t, expPoint{scale: 0, zeroThreshold: 0.5, zeroCount: 1})
	assert.Nil(t, AddNative(a, other), "another zero bucket cannot be added")
	far := native(t, expPoint{scale: 0, posOffset: 1 << 20, pos: []uint64{1}})
	assert.Nil(t, AddNative(a, far), "ranges too far apart are not merged into a huge slice")
}
