package translate

import (
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
)

func native(t *testing.T, e testbatch.ExpPoint) *dto.Histogram {
	t.Helper()
	dp := pmetric.NewExponentialHistogramDataPoint()
	e.Fill(dp)
	h, reason := nativeHistogram(dp)
	require.Empty(t, reason)
	return h
}

type span struct {
	offset int32
	length uint32
}

func spansOf(spans []*dto.BucketSpan) []span {
	var out []span
	for _, s := range spans {
		out = append(out, span{s.GetOffset(), s.GetLength()})
	}
	return out
}

func TestNativeHistogram(t *testing.T) {
	// Scale 0: positive buckets (1,2], (2,4]; negative [-4,-2); zero bucket.
	h := native(t, testbatch.ExpPoint{Scale: 0, ZeroCount: 1, PosOffset: 0, Pos: []uint64{1, 2}, NegOffset: 1, Neg: []uint64{3}, Sum: 4.5})
	assert.Equal(t, int32(0), h.GetSchema())
	assert.Equal(t, uint64(7), h.GetSampleCount())
	assert.Equal(t, 4.5, h.GetSampleSum())
	assert.Equal(t, uint64(1), h.GetZeroCount())
	assert.Equal(t, []span{{1, 2}}, spansOf(h.PositiveSpan), "native index = OTLP index + 1")
	assert.Equal(t, []int64{1, 1}, h.PositiveDelta)
	assert.Equal(t, []span{{2, 1}}, spansOf(h.NegativeSpan))
	assert.Equal(t, []int64{3}, h.NegativeDelta)

	// Empty buckets at the edges are left out; inside they stay.
	h = native(t, testbatch.ExpPoint{Scale: 1, PosOffset: -3, Pos: []uint64{0, 4, 0, 2, 0}})
	assert.Equal(t, []span{{-1, 3}}, spansOf(h.PositiveSpan))
	assert.Equal(t, []int64{4, -4, 2}, h.PositiveDelta)
	assert.Nil(t, h.NegativeSpan)
}

func TestNativeHistogramScaleAbove8IsReduced(t *testing.T) {
	// Scale 10 → 8: OTLP buckets 5..8 become 5>>2=1, 1, 1, 8>>2=2.
	h := native(t, testbatch.ExpPoint{Scale: 10, PosOffset: 5, Pos: []uint64{1, 1, 1, 1}, NegOffset: -9, Neg: []uint64{2}})
	assert.Equal(t, int32(8), h.GetSchema())
	assert.Equal(t, []span{{2, 2}}, spansOf(h.PositiveSpan))
	assert.Equal(t, []int64{3, -2}, h.PositiveDelta)
	assert.Equal(t, []span{{-2, 1}}, spansOf(h.NegativeSpan), "-9>>2 = -3, native -2")
	assert.Equal(t, uint64(6), h.GetSampleCount())
}

func TestNativeHistogramRefusals(t *testing.T) {
	dp := pmetric.NewExponentialHistogramDataPoint()
	testbatch.ExpPoint{Scale: -5, Pos: []uint64{1}}.Fill(dp)
	_, reason := nativeHistogram(dp)
	assert.Equal(t, prom.DropScaleTooLow, reason, "Prometheus has no schema below -4")

	dp = pmetric.NewExponentialHistogramDataPoint()
	testbatch.ExpPoint{Scale: 0, Pos: []uint64{1, 2}}.Fill(dp)
	dp.SetCount(5)
	_, reason = nativeHistogram(dp)
	assert.Equal(t, prom.DropInvalidHistogram, reason, "bucket counts that do not add up to the count")

	dp = pmetric.NewExponentialHistogramDataPoint()
	testbatch.ExpPoint{Scale: 0, PosOffset: math.MaxInt32 - 1, Pos: []uint64{1}}.Fill(dp)
	_, reason = nativeHistogram(dp)
	assert.Equal(t, prom.DropInvalidHistogram, reason, "a native index beyond int32")

	dp = pmetric.NewExponentialHistogramDataPoint()
	testbatch.ExpPoint{Scale: 0, Pos: []uint64{1}, ZeroThreshold: math.NaN()}.Fill(dp)
	_, reason = nativeHistogram(dp)
	assert.Equal(t, prom.DropInvalidHistogram, reason, "a NaN zero threshold")
}
