package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"math"
	"math/bits"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// nativeBucketsOf is one side of an exponential histogram point.
func nativeBucketsOf(b pmetric.ExponentialHistogramDataPointBuckets) prom.NativeBuckets {
	return prom.NativeBuckets{Offset: b.Offset(), Counts: b.BucketCounts().AsRaw()}
}

// nativeHistogram builds a native histogram from an exponential histogram
// point or why the point cannot be one the point cannot be one.
func nativeHistogram(dp pmetric.ExponentialHistogramDataPoint) (*dto.Histogram, prom.DropReason) {
	scale := dp.Scale()
	if scale < prom.MinNativeSchema {
		return nil, prom.DropScaleTooLow
	}
	by := max(0, scale-prom.MaxNativeSchema)
	pos := nativeBucketsOf(dp.Positive()).Downscale(by)
	neg := nativeBucketsOf(dp.Negative()).Downscale(by)
	posN, okPos := pos.Total()
	negN, okNeg := neg.Total()
	sum, carry1 := bits.Add64(posN, negN, 0)
	all, carry2 := bits.Add64(sum, dp.ZeroCount(), 0)
	if !okPos || !okNeg || carry1|carry2 != 0 || !pos.Valid() || !neg.Valid() || all != dp.Count() {
		return nil, prom.DropInvalidHistogram
	}
	if zt := dp.ZeroThreshold(); math.IsNaN(zt) || zt < 0 || math.IsInf(zt, 0) {
		return nil, prom.DropInvalidHistogram
	}
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(dp.Count()),
		SampleSum:     proto.Float64(dp.Sum()),
		Schema:        proto.Int32(scale - by),
		ZeroThreshold: proto.Float64(dp.ZeroThreshold()),
		ZeroCount:     proto.Uint64(dp.ZeroCount()),
	}
	h.PositiveSpan, h.PositiveDelta = pos.Spans()
	h.NegativeSpan, h.NegativeDelta = neg.Spans()
	return h, ""
}
