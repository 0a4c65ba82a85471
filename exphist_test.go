package pushgatewayexporter

import (
	"context"
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// expPoint is an exponential histogram point for tests.
type expPoint struct {
	scale                int32
	zeroCount            uint64
	zeroThreshold        float64
	posOffset, negOffset int32
	pos, neg             []uint64
	sum                  float64
}

func (e expPoint) fill(dp pmetric.ExponentialHistogramDataPoint) {
	dp.SetScale(e.scale)
	dp.SetZeroCount(e.zeroCount)
	dp.SetZeroThreshold(e.zeroThreshold)
	dp.Positive().SetOffset(e.posOffset)
	dp.Positive().BucketCounts().FromRaw(e.pos)
	dp.Negative().SetOffset(e.negOffset)
	dp.Negative().BucketCounts().FromRaw(e.neg)
	n := e.zeroCount
	for _, c := range append(append([]uint64(nil), e.pos...), e.neg...) {
		n += c
	}
	dp.SetCount(n)
	dp.SetSum(e.sum)
}

// expHistogram adds an exponential histogram point over [start, end].
func (r *testResource) expHistogram(name string, temporality pmetric.AggregationTemporality, start, end pcommon.Timestamp, e expPoint) *testResource {
	h := r.metric(name, "s", "").SetEmptyExponentialHistogram()
	h.SetAggregationTemporality(temporality)
	dp := h.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(end)
	e.fill(dp)
	return r
}

func native(t *testing.T, e expPoint) *dto.Histogram {
	t.Helper()
	dp := pmetric.NewExponentialHistogramDataPoint()
	e.fill(dp)
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
	h := native(t, expPoint{scale: 0, zeroCount: 1, posOffset: 0, pos: []uint64{1, 2}, negOffset: 1, neg: []uint64{3}, sum: 4.5})
	assert.Equal(t, int32(0), h.GetSchema())
	assert.Equal(t, uint64(7), h.GetSampleCount())
	assert.Equal(t, 4.5, h.GetSampleSum())
	assert.Equal(t, uint64(1), h.GetZeroCount())
	assert.Equal(t, []span{{1, 2}}, spansOf(h.PositiveSpan), "native index = OTLP index + 1")
	assert.Equal(t, []int64{1, 1}, h.PositiveDelta)
	assert.Equal(t, []span{{2, 1}}, spansOf(h.NegativeSpan))
	assert.Equal(t, []int64{3}, h.NegativeDelta)

	// Empty buckets at the edges are left out; inside they stay.
	h = native(t, expPoint{scale: 1, posOffset: -3, pos: []uint64{0, 4, 0, 2, 0}})
	assert.Equal(t, []span{{-1, 3}}, spansOf(h.PositiveSpan))
	assert.Equal(t, []int64{4, -4, 2}, h.PositiveDelta)
	assert.Nil(t, h.NegativeSpan)
}

func TestNativeHistogramScaleAbove8IsReduced(t *testing.T) {
	// Scale 10 → 8: OTLP buckets 5..8 become 5>>2=1, 1, 1, 8>>2=2.
	h := native(t, expPoint{scale: 10, posOffset: 5, pos: []uint64{1, 1, 1, 1}, negOffset: -9, neg: []uint64{2}})
	assert.Equal(t, int32(8), h.GetSchema())
	assert.Equal(t, []span{{2, 2}}, spansOf(h.PositiveSpan))
	assert.Equal(t, []int64{3, -2}, h.PositiveDelta)
	assert.Equal(t, []span{{-2, 1}}, spansOf(h.NegativeSpan), "-9>>2 = -3, native -2")
	assert.Equal(t, uint64(6), h.GetSampleCount())
}

func TestNativeHistogramRefusals(t *testing.T) {
	dp := pmetric.NewExponentialHistogramDataPoint()
	expPoint{scale: -5, pos: []uint64{1}}.fill(dp)
	_, reason := nativeHistogram(dp)
	assert.Equal(t, dropScaleTooLow, reason, "Prometheus has no schema below -4")

	dp = pmetric.NewExponentialHistogramDataPoint()
	expPoint{scale: 0, pos: []uint64{1, 2}}.fill(dp)
	dp.SetCount(5)
	_, reason = nativeHistogram(dp)
	assert.Equal(t, dropInvalidHistogram, reason, "bucket counts that do not add up to the count")

	dp = pmetric.NewExponentialHistogramDataPoint()
	expPoint{scale: 0, posOffset: math.MaxInt32 - 1, pos: []uint64{1}}.fill(dp)
	_, reason = nativeHistogram(dp)
	assert.Equal(t, dropInvalidHistogram, reason, "a native index beyond int32")

	dp = pmetric.NewExponentialHistogramDataPoint()
	expPoint{scale: 0, pos: []uint64{1}, zeroThreshold: math.NaN()}.fill(dp)
	_, reason = nativeHistogram(dp)
	assert.Equal(t, dropInvalidHistogram, reason, "a NaN zero threshold")
}

func classicBuckets(h *dto.Histogram) map[float64]uint64 {
	out := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		out[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	return out
}

func TestClassicFromNative(t *testing.T) {
	h := classicHistogram(native(t, expPoint{scale: 0, zeroCount: 1, posOffset: 0, pos: []uint64{1, 2}, negOffset: 1, neg: []uint64{3}, sum: 4.5}))
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
	h = classicHistogram(native(t, expPoint{scale: 1, posOffset: 2, pos: []uint64{1}}))
	assert.Equal(t, map[float64]uint64{0: 0, math.Exp2(1.5): 1, math.Inf(1): 1}, classicBuckets(h))
	h = classicHistogram(native(t, expPoint{scale: -2, posOffset: 1, pos: []uint64{1}}))
	assert.Equal(t, map[float64]uint64{0: 0, math.Exp2(8): 1, math.Inf(1): 1}, classicBuckets(h))

	// Bounds beyond float64 fold into +Inf.
	h = classicHistogram(native(t, expPoint{scale: -4, posOffset: 70, pos: []uint64{2}}))
	assert.Equal(t, map[float64]uint64{0: 0, math.Inf(1): 2}, classicBuckets(h))
}

func TestNativeHistogramsAdd(t *testing.T) {
	a := native(t, expPoint{scale: 1, zeroCount: 1, posOffset: 0, pos: []uint64{1, 1, 1, 1}, sum: 3})
	b := native(t, expPoint{scale: 0, posOffset: 5, pos: []uint64{2}, negOffset: 0, neg: []uint64{1}, sum: -1})
	sum := addNative(a, b)
	require.NotNil(t, sum)
	assert.Equal(t, int32(0), sum.GetSchema(), "the coarser schema")
	assert.Equal(t, uint64(8), sum.GetSampleCount())
	assert.Equal(t, 2.0, sum.GetSampleSum())
	assert.Equal(t, uint64(1), sum.GetZeroCount())
	// a at scale 0: OTLP buckets 0,0,1,1 → 0:2, 1:2; b adds 5:2.
	assert.Equal(t, expBuckets{offset: 0, counts: []uint64{2, 2, 0, 0, 0, 2}}, expBucketsFromSpans(sum.PositiveSpan, sum.PositiveDelta))
	assert.Equal(t, expBuckets{offset: 0, counts: []uint64{1}}, expBucketsFromSpans(sum.NegativeSpan, sum.NegativeDelta))

	other := native(t, expPoint{scale: 0, zeroThreshold: 0.5, zeroCount: 1})
	assert.Nil(t, addNative(a, other), "another zero bucket cannot be added")
	far := native(t, expPoint{scale: 0, posOffset: 1 << 20, pos: []uint64{1}})
	assert.Nil(t, addNative(a, far), "ranges too far apart are not merged into a huge slice")
}

func TestDeltaExponentialHistogramsAccumulate(t *testing.T) {
	states := newGroupStates(0, 0)
	tr := defaultTranslator()
	apply := func(start, end pcommon.Timestamp, e expPoint) applyResult {
		b := newTestBatch()
		b.resource(map[string]any{"service.name": "etl"}).expHistogram("d", pmetric.AggregationTemporalityDelta, start, end, e)
		fams, drops := tr.translateResource(b.md.ResourceMetrics().At(0), new(scratch))
		require.Empty(t, drops)
		return states.apply(testKey, testWriter, fams)
	}
	apply(0, 10, expPoint{scale: 2, posOffset: 4, pos: []uint64{1, 1}, sum: 5})
	// The SDK rescaled for a wider range: added at the coarser scale.
	second := expPoint{scale: 1, posOffset: 2, pos: []uint64{3}, zeroCount: 1, sum: 7}
	res := apply(10, 20, second)
	require.Empty(t, res.stale)
	assert.Len(t, apply(10, 20, second).stale, 1, "a replay is ignored")

	h := res.group.snapshot()[0].GetMetric()[0].GetHistogram()
	assert.Equal(t, int32(1), h.GetSchema())
	assert.Equal(t, uint64(6), h.GetSampleCount())
	assert.Equal(t, 12.0, h.GetSampleSum())
	assert.Equal(t, uint64(1), h.GetZeroCount())
	// Scale 2 buckets 4, 5 are scale 1 bucket 2; the second point adds 3 there.
	assert.Equal(t, expBuckets{offset: 2, counts: []uint64{5}}, expBucketsFromSpans(h.PositiveSpan, h.PositiveDelta))
}

// TestIntegrationExponentialHistograms pushes an exponential histogram as a
// native histogram (protobuf) and as classic buckets (classic mode, and
// text) to a real gateway and reads back what it stored.
func TestIntegrationExponentialHistograms(t *testing.T) {
	point := expPoint{scale: 0, zeroCount: 1, posOffset: 0, pos: []uint64{1, 2}, negOffset: 1, neg: []uint64{3}, sum: 4.5}
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"native", nil},
		{"classic", func(c *Config) { c.ExponentialHistograms = ExponentialHistogramsClassic }},
		{"text", func(c *Config) { c.Format = FormatText }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := testgateway.Start(t)
			exp := startExporter(t, gw.URL, tt.mutate)
			b := newTestBatch()
			b.resource(map[string]any{"service.name": "exp"}).expHistogram("latency", pmetric.AggregationTemporalityCumulative, 0, 10, point)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))

			grp := gw.Group(t, map[string]string{"job": "exp"})
			require.NotNil(t, grp)
			fam := grp.Families["latency_seconds"]
			require.Len(t, fam.Metrics, 1, "families: %v", familyNames(grp))
			assert.Equal(t, "HISTOGRAM", fam.Type)
			m := fam.Metrics[0]
			assert.Equal(t, "7", m.Count)
			assert.Equal(t, "4.5", m.Sum)
			if tt.name == "native" {
				// The API shows no native buckets: scrape as Prometheus
				// does, in protobuf, to see them stored.
				fam := gw.ScrapeProtobuf(t)["latency_seconds"]
				require.NotNil(t, fam)
				require.Len(t, fam.GetMetric(), 1)
				h := fam.GetMetric()[0].GetHistogram()
				assert.Equal(t, int32(0), h.GetSchema())
				assert.Equal(t, uint64(1), h.GetZeroCount())
				assert.Equal(t, []span{{1, 2}}, spansOf(h.PositiveSpan))
				assert.Equal(t, []int64{1, 1}, h.PositiveDelta)
				assert.Equal(t, []span{{2, 1}}, spansOf(h.NegativeSpan))
				assert.Equal(t, []int64{3}, h.NegativeDelta)
				return
			}
			assert.Equal(t, map[string]string{"-2": "3", "0": "4", "2": "5", "4": "7", "+Inf": "7"}, m.Buckets)
		})
	}
}
