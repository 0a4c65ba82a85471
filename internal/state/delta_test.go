package state

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// defaultTranslator translates as the exporter's default configuration
// groups: service.instance.id is the instance.
func defaultTranslator() *translate.Translator {
	return translate.New(translate.Options{
		Grouping: translate.Grouping{InstanceAttributes: []string{"service.instance.id"}},
	})
}

// foldBatches translates and folds batches of one resource in order and
// returns the group's values, as snapshotValues has them.
func foldBatches(t *testing.T, batches ...func(*testbatch.Resource)) (map[string]float64, []string) {
	t.Helper()
	states := New(Options{})
	tr := defaultTranslator()
	var stale []string
	var g *Group
	for _, fill := range batches {
		b := testbatch.New()
		fill(b.Resource(map[string]any{"service.name": "etl"}))
		rm := b.MD.ResourceMetrics().At(0)
		fams, drops := tr.Resource(rm, new(translate.Scratch))
		require.Empty(t, drops)
		res := states.Apply(testKey, testWriter, fams)
		stale = append(stale, res.Stale...)
		if res.Group != nil {
			g = res.Group
		}
	}
	require.NotNil(t, g)
	return snapshotValues(t, g), stale
}

// TestDeltaSumsAccumulate checks the OTel data model's rule for delta
// streams: a point is added when its interval does not overlap what was
// already added for its stream (it starts at or after the end of the last
// point added), whether or not it is contiguous; a gap is not a reset. The
// cases are shaped as SDKs send them: the Go SDK sends nothing for a
// series not updated in an interval, and its next point starts at the
// collection before (so after a gap).
func TestDeltaSumsAccumulate(t *testing.T) {
	tests := []struct {
		name      string
		monotonic bool
		batches   [][]testbatch.DeltaPoint
		want      float64
		stale     int
	}{
		{name: "contiguous: +3 then +4 reads 7", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 3}}, {{Start: 10, End: 20, Value: 4}}}, want: 7},
		{name: "a gap of one interval is not a reset: +3, nothing, +4 reads 7", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 3}}, {{Start: 20, End: 30, Value: 4}}}, want: 7},
		{name: "a gap of several intervals is not a reset either", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 3}}, {{Start: 50, End: 60, Value: 4}}, {{Start: 60, End: 70, Value: 1}}}, want: 8},
		{name: "a sender restarted with the same resource keeps adding", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 10}}, {{Start: 10, End: 20, Value: 5}}, {{Start: 100, End: 110, Value: 2}}}, want: 17},
		{name: "several intervals in one batch, out of order", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 20, End: 30, Value: 3}, {Start: 0, End: 10, Value: 1}, {Start: 10, End: 20, Value: 2}}}, want: 6},
		{name: "a replayed batch is not counted twice", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 10}}, {{Start: 10, End: 20, Value: 5}}, {{Start: 10, End: 20, Value: 5}}, {{Start: 0, End: 10, Value: 10}}}, want: 15, stale: 2},
		{name: "an interval overlapping what was added is ignored", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 10}}, {{Start: 5, End: 20, Value: 7}}}, want: 10, stale: 1},
		{name: "an older interval after a newer one is ignored (out of order across batches)", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 10, End: 20, Value: 4}}, {{Start: 0, End: 10, Value: 3}}}, want: 4, stale: 1},
		{name: "no start time: added", monotonic: true,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 10}}, {{Start: 0, End: 20, Value: 5}}}, want: 15},
		{name: "non-monotonic deltas sum up, down too, across a gap", monotonic: false,
			batches: [][]testbatch.DeltaPoint{{{Start: 0, End: 10, Value: 4}}, {{Start: 10, End: 20, Value: -6}}, {{Start: 40, End: 50, Value: 1}}}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fills []func(*testbatch.Resource)
			for _, points := range tt.batches {
				fills = append(fills, func(r *testbatch.Resource) { r.DeltaSum("jobs", tt.monotonic, points...) })
			}
			values, stale := foldBatches(t, fills...)
			name := "jobs_total"
			if !tt.monotonic {
				name = "jobs"
			}
			assert.Equal(t, map[string]float64{name: tt.want}, values)
			assert.Len(t, stale, tt.stale)
		})
	}
}

func TestDeltaHistogramsAccumulate(t *testing.T) {
	states := New(Options{})
	tr := defaultTranslator()
	apply := func(start, end pcommon.Timestamp, bounds []float64, counts []uint64, sum float64) *Group {
		b := testbatch.New()
		b.Resource(map[string]any{"service.name": "etl"}).HistogramOver("d", "", pmetric.AggregationTemporalityDelta, start, end, bounds, counts, sum)
		rm := b.MD.ResourceMetrics().At(0)
		fams, drops := tr.Resource(rm, new(translate.Scratch))
		require.Empty(t, drops)
		return states.Apply(testKey, testWriter, fams).Group
	}
	buckets := func(g *Group) (counts []uint64, count uint64, sum float64) {
		h := snapshot(t, g)[0].GetMetric()[0].GetHistogram()
		for _, b := range h.GetBucket() {
			counts = append(counts, b.GetCumulativeCount())
		}
		return counts, h.GetSampleCount(), h.GetSampleSum()
	}

	apply(0, 10, []float64{1, 5}, []uint64{1, 2, 0}, 7)
	g := apply(10, 20, []float64{1, 5}, []uint64{0, 1, 1}, 12)
	counts, count, sum := buckets(g)
	assert.Equal(t, []uint64{1, 4, 5}, counts, "cumulative buckets le=1, le=5, le=+Inf")
	assert.Equal(t, uint64(5), count)
	assert.Equal(t, 19.0, sum)

	// New bounds cannot be added to the old ones: a new run starts.
	g = apply(20, 30, []float64{2}, []uint64{1, 1}, 3)
	counts, count, sum = buckets(g)
	assert.Equal(t, []uint64{1, 2}, counts)
	assert.Equal(t, uint64(2), count)
	assert.Equal(t, 3.0, sum)
}

func TestDeltaExponentialHistogramsAccumulate(t *testing.T) {
	states := New(Options{})
	tr := defaultTranslator()
	apply := func(start, end pcommon.Timestamp, e testbatch.ExpPoint) ApplyResult {
		b := testbatch.New()
		b.Resource(map[string]any{"service.name": "etl"}).ExpHistogram("d", pmetric.AggregationTemporalityDelta, start, end, e)
		fams, drops := tr.Resource(b.MD.ResourceMetrics().At(0), new(translate.Scratch))
		require.Empty(t, drops)
		return states.Apply(testKey, testWriter, fams)
	}
	apply(0, 10, testbatch.ExpPoint{Scale: 2, PosOffset: 4, Pos: []uint64{1, 1}, Sum: 5})
	// The SDK rescaled for a wider range: added at the coarser scale.
	second := testbatch.ExpPoint{Scale: 1, PosOffset: 2, Pos: []uint64{3}, ZeroCount: 1, Sum: 7}
	res := apply(10, 20, second)
	require.Empty(t, res.Stale)
	assert.Len(t, apply(10, 20, second).Stale, 1, "a replay is ignored")

	h := snapshot(t, res.Group)[0].GetMetric()[0].GetHistogram()
	assert.Equal(t, int32(1), h.GetSchema())
	assert.Equal(t, uint64(6), h.GetSampleCount())
	assert.Equal(t, 12.0, h.GetSampleSum())
	assert.Equal(t, uint64(1), h.GetZeroCount())
	// Scale 2 buckets 4, 5 are scale 1 bucket 2; the second point adds 3 there.
	assertNativeBuckets(t, prom.NativeBuckets{Offset: 2, Counts: []uint64{5}}, h.PositiveSpan, h.PositiveDelta)
}

// assertNativeBuckets checks that spans and deltas, one side of a native
// histogram, hold the buckets want (in OTLP indexing), as prom encodes
// them.
func assertNativeBuckets(t *testing.T, want prom.NativeBuckets, spans []*dto.BucketSpan, deltas []int64) {
	t.Helper()
	type span struct {
		offset int32
		length uint32
	}
	spansOf := func(spans []*dto.BucketSpan) []span {
		var out []span
		for _, s := range spans {
			out = append(out, span{s.GetOffset(), s.GetLength()})
		}
		return out
	}
	wantSpans, wantDeltas := want.Spans()
	assert.Equal(t, spansOf(wantSpans), spansOf(spans), "spans")
	assert.Equal(t, wantDeltas, deltas, "deltas")
}
