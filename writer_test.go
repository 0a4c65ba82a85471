package pushgatewayexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// sharedGroup is the grouping of writers that share one group: a job per
// service.name, no instance label.
var sharedGroup = GroupingConfig{}

// writerFold folds the resources of several writers into one state, as
// the exporter's fold does, one resource per call.
type writerFold struct {
	t      *testing.T
	states *groupStates
	tr     *translator
}

func newWriterFold(t *testing.T, states *groupStates) *writerFold {
	return &writerFold{t: t, states: states, tr: newTranslator(sharedGroup)}
}

// from folds what fill adds for the writer with these resource attributes
// (service.name "etl" added) and returns what applying it did.
func (w *writerFold) from(attrs map[string]any, fill func(*testResource)) applyResult {
	w.t.Helper()
	all := map[string]any{"service.name": "etl"}
	for k, v := range attrs {
		all[k] = v
	}
	b := newTestBatch()
	fill(b.resource(all))
	rm := b.md.ResourceMetrics().At(0)
	fams, drops := w.tr.translateResource(rm, new(scratch))
	require.Empty(w.t, drops)
	res := w.states.apply(groupKeyFor(rm.Resource(), sharedGroup), writerOf(rm.Resource()), fams)
	if res.emptied != nil {
		w.states.removeEmpty(res.emptied)
	}
	return res
}

// values is the group's name{labels} → value.
func (w *writerFold) values() map[string]float64 {
	w.t.Helper()
	g := w.states.groups[groupKey{{jobLabel, "etl"}}.id()]
	if g == nil {
		return nil
	}
	return snapshotValues(g)
}

// cumulative adds a monotonic cumulative sum point over [start, ts].
func (r *testResource) cumulative(name string, start, ts pcommon.Timestamp, v int64) *testResource {
	s := r.metric(name, "", "").SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(ts)
	dp.SetIntValue(v)
	return r
}

func host(name string) map[string]any { return map[string]any{"host.name": name} }

func TestSecondWriterOfACumulativeSeriesIsReported(t *testing.T) {
	w := newWriterFold(t, newGroupStates(0, 0))
	// Three pods of one job, alive together (their runs started at 1, 2
	// and 3), each with its own counter.
	assert.Empty(t, w.from(host("a"), func(r *testResource) { r.cumulative("rows", 1, 10, 10) }).writerConflicts)
	res := w.from(host("b"), func(r *testResource) { r.cumulative("rows", 2, 11, 20) })
	assert.Equal(t, []writerConflict{{metric: "rows_total", series: "{}", attribute: "host.name"}}, res.writerConflicts)
	w.from(host("c"), func(r *testResource) { r.cumulative("rows", 3, 12, 30) })
	assert.Equal(t, map[string]float64{"rows_total": 30}, w.values(), "mode none: the newest point wins")

	// The first writer exports again, unchanged: the series flips back,
	// and that is reported too.
	res = w.from(host("a"), func(r *testResource) { r.cumulative("rows", 1, 13, 10) })
	assert.Len(t, res.writerConflicts, 1)
	assert.Equal(t, map[string]float64{"rows_total": 10}, w.values())
}

func TestRunsOneAfterAnotherAreNoConflict(t *testing.T) {
	w := newWriterFold(t, newGroupStates(0, 0))
	// A CronJob without an instance: the second run starts after the
	// first one's last point, and replaces its values.
	w.from(map[string]any{"process.pid": 100}, func(r *testResource) { r.cumulative("rows", 1, 10, 10) })
	res := w.from(map[string]any{"process.pid": 200}, func(r *testResource) { r.cumulative("rows", 20, 30, 4) })
	assert.Empty(t, res.writerConflicts)
	assert.Equal(t, map[string]float64{"rows_total": 4}, w.values())
	g := w.states.groups[groupKey{{jobLabel, "etl"}}.id()]
	assert.Len(t, g.writers.ids, 1, "the first run holds no series any more: forgotten")
}

func TestDeltasOfSeveralWritersAddUp(t *testing.T) {
	states := newGroupStates(0, 0)
	w := newWriterFold(t, states)
	// Two writers count over the same interval: both are increments.
	w.from(host("a"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{0, 10, 4}) })
	w.from(host("b"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{0, 10, 6}) })
	assert.Equal(t, map[string]float64{"jobs_total": 10}, w.values())

	// Replays are checked per writer.
	res := w.from(host("a"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{0, 10, 4}) })
	assert.Len(t, res.stale, 1)
	res = w.from(host("b"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{5, 15, 1}) })
	assert.Len(t, res.stale, 1, "overlaps what b added")
	w.from(host("b"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{10, 20, 1}) })
	w.from(host("a"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{30, 40, 2}) })
	assert.Equal(t, map[string]float64{"jobs_total": 13}, w.values())

	// One series, two writers: two slots of the series limits.
	assert.Equal(t, int64(2), states.series.Load())
}

func TestFurtherWritersCountAgainstSeriesLimits(t *testing.T) {
	states := newGroupStates(0, 1)
	w := newWriterFold(t, states)
	w.from(host("a"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{0, 10, 4}) })
	res := w.from(host("b"), func(r *testResource) { r.deltaSum("jobs", true, deltaPoint{0, 10, 6}) })
	assert.Equal(t, 1, res.refusedInGroup, "a second writer needs a second slot")
	assert.Equal(t, map[string]float64{"jobs_total": 4}, w.values())
	assert.Equal(t, int64(1), states.series.Load())
	g := states.groups[groupKey{{jobLabel, "etl"}}.id()]
	assert.Len(t, g.writers.ids, 1, "the refused writer is not remembered")
}

// sumStates is a state in aggregation mode sum.
func sumStates(gauges GaugeAggregation) *groupStates {
	return newGroupStates(0, 0).withAggregation(AggregationConfig{Mode: AggregationSum, Gauges: gauges})
}

func TestSumModeAddsEachWritersIncrements(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	counter := func(start, ts pcommon.Timestamp, v int64) func(*testResource) {
		return func(r *testResource) { r.cumulative("rows", start, ts, v) }
	}
	w.from(host("a"), counter(1, 10, 10))
	w.from(host("b"), counter(2, 10, 20))
	w.from(host("c"), counter(3, 10, 30))
	assert.Equal(t, map[string]float64{"rows_total": 60}, w.values(), "three writers: their sum")

	w.from(host("a"), counter(1, 20, 10))
	assert.Equal(t, map[string]float64{"rows_total": 60}, w.values(), "the same cumulative value again adds nothing")
	res := w.from(host("a"), counter(1, 20, 10))
	assert.Len(t, res.stale, 1, "a replay is stale")

	w.from(host("b"), counter(25, 30, 3))
	assert.Equal(t, map[string]float64{"rows_total": 63}, w.values(), "b restarted (new start): its new run counts whole")
	w.from(host("a"), counter(1, 30, 15))
	assert.Equal(t, map[string]float64{"rows_total": 68}, w.values(), "a went on: its increment")
	w.from(host("c"), counter(3, 30, 2))
	assert.Equal(t, map[string]float64{"rows_total": 70}, w.values(), "c's counter went down with the same start: a reset too")

	w.from(host("d"), func(r *testResource) { r.deltaSum("rows", true, deltaPoint{30, 40, 4}) })
	assert.Equal(t, map[string]float64{"rows_total": 74}, w.values(), "a delta writer's increments add")
}

func TestSumModeHistograms(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	hist := func(start, ts pcommon.Timestamp, counts []uint64, sum float64) func(*testResource) {
		return func(r *testResource) {
			r.histogramOver("latency", "", pmetric.AggregationTemporalityCumulative, start, ts, []float64{1, 5}, counts, sum)
		}
	}
	buckets := func() (counts []uint64, count uint64, sum float64) {
		g := w.states.groups[groupKey{{jobLabel, "etl"}}.id()]
		h := g.snapshot()[0].GetMetric()[0].GetHistogram()
		for _, b := range h.GetBucket() {
			counts = append(counts, b.GetCumulativeCount())
		}
		return counts, h.GetSampleCount(), h.GetSampleSum()
	}
	w.from(host("a"), hist(1, 10, []uint64{1, 2, 0}, 7))
	w.from(host("b"), hist(2, 10, []uint64{0, 1, 1}, 12))
	counts, count, sum := buckets()
	assert.Equal(t, []uint64{1, 4, 5}, counts, "cumulative le=1, le=5, +Inf of both writers")
	assert.Equal(t, uint64(5), count)
	assert.Equal(t, 19.0, sum)

	w.from(host("a"), hist(1, 20, []uint64{2, 2, 1}, 20)) // a: +1 in le=1, +1 above 5, +13
	counts, count, sum = buckets()
	assert.Equal(t, []uint64{2, 5, 7}, counts)
	assert.Equal(t, uint64(7), count)
	assert.Equal(t, 32.0, sum)

	res := w.from(host("b"), func(r *testResource) {
		r.histogramOver("latency", "", pmetric.AggregationTemporalityCumulative, 2, 30, []float64{2}, []uint64{1, 1}, 3)
	})
	assert.Equal(t, []drop{{metric: "latency", reason: dropBucketMismatch, points: 1}}, res.drops, "other buckets cannot join the total")
	counts, _, _ = buckets()
	assert.Equal(t, []uint64{2, 5, 7}, counts)
}

func TestSumModeSummariesKeepCountAndSum(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	summary := func(ts pcommon.Timestamp, count uint64, sum float64) func(*testResource) {
		return func(r *testResource) { r.summary("work", "s", ts, count, sum, map[float64]float64{0.5: 1, 0.9: 2}) }
	}
	res := w.from(host("a"), summary(10, 4, 8))
	assert.Equal(t, 1, res.quantilesDropped)
	w.from(host("b"), summary(10, 6, 3))
	w.from(host("a"), summary(20, 5, 9))
	g := w.states.groups[groupKey{{jobLabel, "etl"}}.id()]
	s := g.snapshot()[0].GetMetric()[0].GetSummary()
	assert.Equal(t, uint64(11), s.GetSampleCount())
	assert.Equal(t, 12.0, s.GetSampleSum())
	assert.Empty(t, s.GetQuantile(), "quantiles of several writers cannot be merged")
}

func TestSumModeGauges(t *testing.T) {
	gauge := func(ts pcommon.Timestamp, v float64) func(*testResource) {
		return func(r *testResource) { r.gauge("queue", "", ts, v, nil) }
	}
	tests := []struct {
		gauges GaugeAggregation
		want   float64 // after a=3 at 10, b=7 at 11, c=5 at 9
	}{
		{GaugesLast, 7},
		{GaugesSum, 15},
		{GaugesMax, 7},
		{GaugesMin, 3},
	}
	for _, tt := range tests {
		t.Run(string(tt.gauges), func(t *testing.T) {
			w := newWriterFold(t, sumStates(tt.gauges))
			w.from(host("a"), gauge(10, 3))
			w.from(host("b"), gauge(11, 7))
			w.from(host("c"), gauge(9, 5))
			assert.Equal(t, map[string]float64{"queue": tt.want}, w.values())
		})
	}
}

func TestForgottenWritersLeaveCombinedGaugesNotTotals(t *testing.T) {
	now := time.Unix(1000, 0)
	states := sumStates(GaugesSum).withClock(func() time.Time { return now })
	w := newWriterFold(t, states)
	w.from(host("a"), func(r *testResource) { r.gauge("queue", "", 10, 3, nil).cumulative("rows", 1, 10, 10) })
	now = now.Add(time.Hour)
	w.from(host("b"), func(r *testResource) { r.gauge("queue", "", 20, 7, nil).cumulative("rows", 2, 20, 5) })
	assert.Equal(t, map[string]float64{"queue": 10, "rows_total": 15}, w.values())

	changed, removed := states.forgetWriters(now.Add(-time.Minute))
	assert.Len(t, changed, 1)
	assert.Zero(t, removed)
	assert.Equal(t, map[string]float64{"queue": 7, "rows_total": 15}, w.values(),
		"a's gauge leaves the sum; what a counted stays in the total")
	assert.Equal(t, int64(2), states.series.Load(), "a's extra slots are free")

	now = now.Add(time.Hour)
	_, removed = states.forgetWriters(now.Add(-time.Minute))
	assert.Equal(t, 1, removed, "a gauge without writers is gone")
	assert.Equal(t, map[string]float64{"rows_total": 15}, w.values())
}

func TestTargetInfoStaysOneInSumMode(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesSum))
	w.tr = newTranslator(sharedGroup).withResourceLabels(false, true, false)
	// The pods of one job differ in an attribute not copied to
	// target_info here (service.instance.id is identifying).
	for _, id := range []string{"a", "b"} {
		w.from(map[string]any{"service.instance.id": id, "region": "eu"}, func(r *testResource) { r.cumulative("rows", 1, 10, 1) })
	}
	assert.Equal(t, map[string]float64{"rows_total": 2, "target_info" + gaugePoint(0, 0, "region", "eu").labels.sig: 1}, w.values())
}

func TestSumModeExponentialHistograms(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	exp := func(start, ts pcommon.Timestamp, e expPoint) func(*testResource) {
		return func(r *testResource) { r.expHistogram("d", pmetric.AggregationTemporalityCumulative, start, ts, e) }
	}
	w.from(host("a"), exp(1, 10, expPoint{scale: 2, posOffset: 4, pos: []uint64{1, 1}, sum: 5}))
	// b's SDK works at a coarser scale: the total goes to the coarser one.
	w.from(host("b"), exp(2, 10, expPoint{scale: 1, posOffset: 2, pos: []uint64{3}, zeroCount: 1, sum: 7}))
	// a counts one more in scale-2 bucket 5 (scale-1 bucket 2).
	w.from(host("a"), exp(1, 20, expPoint{scale: 2, posOffset: 4, pos: []uint64{1, 2}, sum: 8}))

	g := w.states.groups[groupKey{{jobLabel, "etl"}}.id()]
	h := g.snapshot()[0].GetMetric()[0].GetHistogram()
	assert.Equal(t, int32(1), h.GetSchema())
	assert.Equal(t, uint64(7), h.GetSampleCount())
	assert.Equal(t, 15.0, h.GetSampleSum())
	assert.Equal(t, uint64(1), h.GetZeroCount())
	assert.Equal(t, expBuckets{offset: 2, counts: []uint64{6}}, expBucketsFromSpans(h.PositiveSpan, h.PositiveDelta))
}
