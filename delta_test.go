package pushgatewayexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// deltaPoint is one OTLP delta point of a series: its interval and value.
type deltaPoint struct {
	start, end pcommon.Timestamp
	value      int64
}

// deltaSum adds a delta sum with these points (one series, no attributes).
func (r *testResource) deltaSum(name string, monotonic bool, points ...deltaPoint) *testResource {
	s := r.metric(name, "", "").SetEmptySum()
	s.SetIsMonotonic(monotonic)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for _, p := range points {
		dp := s.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(p.start)
		dp.SetTimestamp(p.end)
		dp.SetIntValue(p.value)
	}
	return r
}

// foldBatches translates and folds batches of one resource in order and
// returns the group's values, as snapshotValues has them.
func foldBatches(t *testing.T, batches ...func(*testResource)) (map[string]float64, []string) {
	t.Helper()
	states := newGroupStates(0, 0)
	tr := defaultTranslator()
	var stale []string
	var g *groupState
	for _, fill := range batches {
		b := newTestBatch()
		fill(b.resource(map[string]any{"service.name": "etl"}))
		rm := b.md.ResourceMetrics().At(0)
		fams, drops := tr.translateResource(rm, new(scratch))
		require.Empty(t, drops)
		res := states.apply(testKey, testWriter, fams)
		stale = append(stale, res.stale...)
		if res.group != nil {
			g = res.group
		}
	}
	require.NotNil(t, g)
	return snapshotValues(g), stale
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
		batches   [][]deltaPoint
		want      float64
		stale     int
	}{
		{name: "contiguous: +3 then +4 reads 7", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 3}}, {{10, 20, 4}}}, want: 7},
		{name: "a gap of one interval is not a reset: +3, nothing, +4 reads 7", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 3}}, {{20, 30, 4}}}, want: 7},
		{name: "a gap of several intervals is not a reset either", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 3}}, {{50, 60, 4}}, {{60, 70, 1}}}, want: 8},
		{name: "a sender restarted with the same resource keeps adding", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 10}}, {{10, 20, 5}}, {{100, 110, 2}}}, want: 17},
		{name: "several intervals in one batch, out of order", monotonic: true,
			batches: [][]deltaPoint{{{20, 30, 3}, {0, 10, 1}, {10, 20, 2}}}, want: 6},
		{name: "a replayed batch is not counted twice", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 10}}, {{10, 20, 5}}, {{10, 20, 5}}, {{0, 10, 10}}}, want: 15, stale: 2},
		{name: "an interval overlapping what was added is ignored", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 10}}, {{5, 20, 7}}}, want: 10, stale: 1},
		{name: "an older interval after a newer one is ignored (out of order across batches)", monotonic: true,
			batches: [][]deltaPoint{{{10, 20, 4}}, {{0, 10, 3}}}, want: 4, stale: 1},
		{name: "no start time: added", monotonic: true,
			batches: [][]deltaPoint{{{0, 10, 10}}, {{0, 20, 5}}}, want: 15},
		{name: "non-monotonic deltas sum up, down too, across a gap", monotonic: false,
			batches: [][]deltaPoint{{{0, 10, 4}}, {{10, 20, -6}}, {{40, 50, 1}}}, want: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fills []func(*testResource)
			for _, points := range tt.batches {
				fills = append(fills, func(r *testResource) { r.deltaSum("jobs", tt.monotonic, points...) })
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
	states := newGroupStates(0, 0)
	tr := defaultTranslator()
	apply := func(start, end pcommon.Timestamp, bounds []float64, counts []uint64, sum float64) *groupState {
		b := newTestBatch()
		b.resource(map[string]any{"service.name": "etl"}).histogramOver("d", "", pmetric.AggregationTemporalityDelta, start, end, bounds, counts, sum)
		rm := b.md.ResourceMetrics().At(0)
		fams, drops := tr.translateResource(rm, new(scratch))
		require.Empty(t, drops)
		return states.apply(testKey, testWriter, fams).group
	}
	buckets := func(g *groupState) (counts []uint64, count uint64, sum float64) {
		h := g.snapshot()[0].GetMetric()[0].GetHistogram()
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

// TestIntegrationDeltaTemporality pushes deltas through the exporter, with
// a retry replaying one batch, and reads the totals at a real gateway.
func TestIntegrationDeltaTemporality(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, nil)
	send := func(fill func(*testResource)) {
		b := newTestBatch()
		fill(b.resource(map[string]any{"service.name": "delta"}))
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))
	}
	send(func(r *testResource) {
		r.deltaSum("rows", true, deltaPoint{0, 10, 10}).
			deltaSum("queue_depth", false, deltaPoint{0, 10, 4}).
			histogramOver("latency", "", pmetric.AggregationTemporalityDelta, 0, 10, []float64{1}, []uint64{1, 1}, 2.5)
	})
	second := func(r *testResource) {
		r.deltaSum("rows", true, deltaPoint{10, 20, 5}).
			deltaSum("queue_depth", false, deltaPoint{10, 20, -3}).
			histogramOver("latency", "", pmetric.AggregationTemporalityDelta, 10, 20, []float64{1}, []uint64{2, 0}, 0.5)
	}
	send(second)
	send(second) // as a retry would replay it

	grp := gw.Group(t, map[string]string{"job": "delta"})
	require.NotNil(t, grp)
	noInstance := map[string]string{"instance": ""} // the gateway's own addition
	assertFamily(t, grp, "rows_total", "COUNTER", noInstance, "15")
	assertFamily(t, grp, "queue_depth", "GAUGE", noInstance, "1")
	h := grp.Families["latency"].Metrics[0]
	assert.Equal(t, "4", h.Count)
	assert.Equal(t, "3", h.Sum)
	assert.Equal(t, map[string]string{"1": "3", "+Inf": "4"}, h.Buckets)
}
