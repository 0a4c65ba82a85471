package state

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// sharedGroup is the grouping of writers that share one group: a job per
// service.name, no instance label.
var sharedGroup = translate.Grouping{}

// writerFold folds the resources of several writers into one state, as
// the exporter's fold does, one resource per call.
type writerFold struct {
	t      *testing.T
	states *Groups
	tr     *translate.Translator
}

func newWriterFold(t *testing.T, states *Groups) *writerFold {
	return &writerFold{t: t, states: states, tr: translate.New(translate.Options{Grouping: sharedGroup})}
}

// from folds what fill adds for the writer with these resource attributes
// (service.name "etl" added) and returns what applying it did.
func (w *writerFold) from(attrs map[string]any, fill func(*testbatch.Resource)) ApplyResult {
	w.t.Helper()
	all := map[string]any{"service.name": "etl"}
	for k, v := range attrs {
		all[k] = v
	}
	b := testbatch.New()
	fill(b.Resource(all))
	rm := b.MD.ResourceMetrics().At(0)
	fams, drops := w.tr.Resource(rm, new(translate.Scratch))
	require.Empty(w.t, drops)
	key, err := w.tr.GroupKey(rm.Resource())
	require.NoError(w.t, err)
	res := w.states.Apply(key, WriterOf(rm.Resource()), fams)
	if res.Emptied != nil {
		w.states.RemoveEmpty(res.Emptied)
	}
	return res
}

// group is the state of the writers' group, nil when none is held.
func (w *writerFold) group() *Group {
	return w.states.groups[prom.GroupKey{{Name: prom.JobLabel, Value: "etl"}}.ID()]
}

// values is the group's name{labels} → value.
func (w *writerFold) values() map[string]float64 {
	w.t.Helper()
	g := w.group()
	if g == nil {
		return nil
	}
	return snapshotValues(w.t, g)
}

func host(name string) map[string]any { return map[string]any{"host.name": name} }

func TestSecondWriterOfACumulativeSeriesIsReported(t *testing.T) {
	w := newWriterFold(t, New(Options{}))
	// Three pods of one job, alive together (their runs started at 1, 2
	// and 3), each with its own counter.
	assert.Empty(t, w.from(host("a"), func(r *testbatch.Resource) { r.Cumulative("rows", 1, 10, 10) }).WriterConflicts)
	res := w.from(host("b"), func(r *testbatch.Resource) { r.Cumulative("rows", 2, 11, 20) })
	assert.Equal(t, []WriterConflict{{Metric: "rows_total", Series: "{}", Attribute: "host.name"}}, res.WriterConflicts)
	w.from(host("c"), func(r *testbatch.Resource) { r.Cumulative("rows", 3, 12, 30) })
	assert.Equal(t, map[string]float64{"rows_total": 30}, w.values(), "mode none: the newest point wins")

	// The first writer exports again, unchanged: the series flips back,
	// and that is reported too.
	res = w.from(host("a"), func(r *testbatch.Resource) { r.Cumulative("rows", 1, 13, 10) })
	assert.Len(t, res.WriterConflicts, 1)
	assert.Equal(t, map[string]float64{"rows_total": 10}, w.values())
}

func TestRunsOneAfterAnotherAreNoConflict(t *testing.T) {
	w := newWriterFold(t, New(Options{}))
	// A CronJob without an instance: the second run starts after the
	// first one's last point, and replaces its values.
	w.from(map[string]any{"process.pid": 100}, func(r *testbatch.Resource) { r.Cumulative("rows", 1, 10, 10) })
	res := w.from(map[string]any{"process.pid": 200}, func(r *testbatch.Resource) { r.Cumulative("rows", 20, 30, 4) })
	assert.Empty(t, res.WriterConflicts)
	assert.Equal(t, map[string]float64{"rows_total": 4}, w.values())
	assert.Len(t, w.group().writers.ids, 1, "the first run holds no series any more: forgotten")
}

// jobsDelta fills in one point of the delta counter jobs, over
// [start, end].
func jobsDelta(start, end pcommon.Timestamp, v int64) func(*testbatch.Resource) {
	return func(r *testbatch.Resource) {
		r.DeltaSum("jobs", true, testbatch.DeltaPoint{Start: start, End: end, Value: v})
	}
}

func TestDeltasOfSeveralWritersAddUp(t *testing.T) {
	states := New(Options{})
	w := newWriterFold(t, states)
	// Two writers count over the same interval: both are increments.
	w.from(host("a"), jobsDelta(0, 10, 4))
	w.from(host("b"), jobsDelta(0, 10, 6))
	assert.Equal(t, map[string]float64{"jobs_total": 10}, w.values())

	// Replays are checked per writer.
	res := w.from(host("a"), jobsDelta(0, 10, 4))
	assert.Len(t, res.Stale, 1)
	res = w.from(host("b"), jobsDelta(5, 15, 1))
	assert.Len(t, res.Stale, 1, "overlaps what b added")
	w.from(host("b"), jobsDelta(10, 20, 1))
	w.from(host("a"), jobsDelta(30, 40, 2))
	assert.Equal(t, map[string]float64{"jobs_total": 13}, w.values())

	// One series, two writers: two slots of the series limits.
	assert.Equal(t, int64(2), states.SeriesCount())
}

func TestFurtherWritersCountAgainstSeriesLimits(t *testing.T) {
	states := New(Options{MaxSeriesPerGroup: 1})
	w := newWriterFold(t, states)
	w.from(host("a"), jobsDelta(0, 10, 4))
	res := w.from(host("b"), jobsDelta(0, 10, 6))
	assert.Equal(t, 1, res.RefusedInGroup, "a second writer needs a second slot")
	assert.Equal(t, map[string]float64{"jobs_total": 4}, w.values())
	assert.Equal(t, int64(1), states.SeriesCount())
	assert.Len(t, w.group().writers.ids, 1, "the refused writer is not remembered")
}

// sumStates is a state in aggregation mode sum.
func sumStates(gauges GaugeCombination) *Groups {
	return New(Options{Aggregation: Aggregation{Sum: true, Gauges: gauges}})
}

func TestSumModeAddsEachWritersIncrements(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	counter := func(start, ts pcommon.Timestamp, v int64) func(*testbatch.Resource) {
		return func(r *testbatch.Resource) { r.Cumulative("rows", start, ts, v) }
	}
	w.from(host("a"), counter(1, 10, 10))
	w.from(host("b"), counter(2, 10, 20))
	w.from(host("c"), counter(3, 10, 30))
	assert.Equal(t, map[string]float64{"rows_total": 60}, w.values(), "three writers: their sum")

	w.from(host("a"), counter(1, 20, 10))
	assert.Equal(t, map[string]float64{"rows_total": 60}, w.values(), "the same cumulative value again adds nothing")
	res := w.from(host("a"), counter(1, 20, 10))
	assert.Len(t, res.Stale, 1, "a replay is stale")

	w.from(host("b"), counter(25, 30, 3))
	assert.Equal(t, map[string]float64{"rows_total": 63}, w.values(), "b restarted (new start): its new run counts whole")
	w.from(host("a"), counter(1, 30, 15))
	assert.Equal(t, map[string]float64{"rows_total": 68}, w.values(), "a went on: its increment")
	w.from(host("c"), counter(3, 30, 2))
	assert.Equal(t, map[string]float64{"rows_total": 70}, w.values(), "c's counter went down with the same start: a reset too")

	w.from(host("d"), func(r *testbatch.Resource) {
		r.DeltaSum("rows", true, testbatch.DeltaPoint{Start: 30, End: 40, Value: 4})
	})
	assert.Equal(t, map[string]float64{"rows_total": 74}, w.values(), "a delta writer's increments add")
}

func TestSumModeHistograms(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	hist := func(start, ts pcommon.Timestamp, counts []uint64, sum float64) func(*testbatch.Resource) {
		return func(r *testbatch.Resource) {
			r.HistogramOver("latency", "", pmetric.AggregationTemporalityCumulative, start, ts, []float64{1, 5}, counts, sum)
		}
	}
	buckets := func() (counts []uint64, count uint64, sum float64) {
		h := snapshot(t, w.group())[0].GetMetric()[0].GetHistogram()
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

	res := w.from(host("b"), func(r *testbatch.Resource) {
		r.HistogramOver("latency", "", pmetric.AggregationTemporalityCumulative, 2, 30, []float64{2}, []uint64{1, 1}, 3)
	})
	assert.Equal(t, []prom.Drop{{Metric: "latency", Reason: prom.DropBucketMismatch, Points: 1}}, res.Drops, "other buckets cannot join the total")
	counts, _, _ = buckets()
	assert.Equal(t, []uint64{2, 5, 7}, counts)
}

func TestSumModeSummariesKeepCountAndSum(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	summary := func(ts pcommon.Timestamp, count uint64, sum float64) func(*testbatch.Resource) {
		return func(r *testbatch.Resource) {
			r.Summary("work", "s", ts, count, sum, map[float64]float64{0.5: 1, 0.9: 2})
		}
	}
	res := w.from(host("a"), summary(10, 4, 8))
	assert.Equal(t, 1, res.QuantilesDropped)
	w.from(host("b"), summary(10, 6, 3))
	w.from(host("a"), summary(20, 5, 9))
	s := snapshot(t, w.group())[0].GetMetric()[0].GetSummary()
	assert.Equal(t, uint64(11), s.GetSampleCount())
	assert.Equal(t, 12.0, s.GetSampleSum())
	assert.Empty(t, s.GetQuantile(), "quantiles of several writers cannot be merged")
}

func TestSumModeGauges(t *testing.T) {
	gauge := func(ts pcommon.Timestamp, v float64) func(*testbatch.Resource) {
		return func(r *testbatch.Resource) { r.Gauge("queue", "", ts, v, nil) }
	}
	tests := []struct {
		name   string
		gauges GaugeCombination
		want   float64 // after a=3 at 10, b=7 at 11, c=5 at 9
	}{
		{"last", GaugesLast, 7},
		{"sum", GaugesSum, 15},
		{"max", GaugesMax, 7},
		{"min", GaugesMin, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
	states := New(Options{
		Aggregation: Aggregation{Sum: true, Gauges: GaugesSum},
		Now:         func() time.Time { return now },
	})
	w := newWriterFold(t, states)
	w.from(host("a"), func(r *testbatch.Resource) { r.Gauge("queue", "", 10, 3, nil).Cumulative("rows", 1, 10, 10) })
	now = now.Add(time.Hour)
	w.from(host("b"), func(r *testbatch.Resource) { r.Gauge("queue", "", 20, 7, nil).Cumulative("rows", 2, 20, 5) })
	assert.Equal(t, map[string]float64{"queue": 10, "rows_total": 15}, w.values())

	changed, removed := states.ForgetWriters(now.Add(-time.Minute))
	assert.Len(t, changed, 1)
	assert.Zero(t, removed)
	assert.Equal(t, map[string]float64{"queue": 7, "rows_total": 15}, w.values(),
		"a's gauge leaves the sum; what a counted stays in the total")
	assert.Equal(t, int64(2), states.SeriesCount(), "a's extra slots are free")

	now = now.Add(time.Hour)
	_, removed = states.ForgetWriters(now.Add(-time.Minute))
	assert.Equal(t, 1, removed, "a gauge without writers is gone")
	assert.Equal(t, map[string]float64{"rows_total": 15}, w.values())
}

func TestTargetInfoStaysOneInSumMode(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesSum))
	w.tr = translate.New(translate.Options{Grouping: sharedGroup, TargetInfo: true})
	// The pods of one job differ in an attribute not copied to
	// target_info here (service.instance.id is identifying).
	for _, id := range []string{"a", "b"} {
		w.from(map[string]any{"service.instance.id": id, "region": "eu"}, func(r *testbatch.Resource) { r.Cumulative("rows", 1, 10, 1) })
	}
	assert.Equal(t, map[string]float64{"rows_total": 2, "target_info" + gaugePoint(0, 0, "region", "eu").Labels.Sig: 1}, w.values())
}

func TestSumModeExponentialHistograms(t *testing.T) {
	w := newWriterFold(t, sumStates(GaugesLast))
	exp := func(start, ts pcommon.Timestamp, e testbatch.ExpPoint) func(*testbatch.Resource) {
		return func(r *testbatch.Resource) {
			r.ExpHistogram("d", pmetric.AggregationTemporalityCumulative, start, ts, e)
		}
	}
	w.from(host("a"), exp(1, 10, testbatch.ExpPoint{Scale: 2, PosOffset: 4, Pos: []uint64{1, 1}, Sum: 5}))
	// b's SDK works at a coarser scale: the total goes to the coarser one.
	w.from(host("b"), exp(2, 10, testbatch.ExpPoint{Scale: 1, PosOffset: 2, Pos: []uint64{3}, ZeroCount: 1, Sum: 7}))
	// a counts one more in scale-2 bucket 5 (scale-1 bucket 2).
	w.from(host("a"), exp(1, 20, testbatch.ExpPoint{Scale: 2, PosOffset: 4, Pos: []uint64{1, 2}, Sum: 8}))

	h := snapshot(t, w.group())[0].GetMetric()[0].GetHistogram()
	assert.Equal(t, int32(1), h.GetSchema())
	assert.Equal(t, uint64(7), h.GetSampleCount())
	assert.Equal(t, 15.0, h.GetSampleSum())
	assert.Equal(t, uint64(1), h.GetZeroCount())
	assertNativeBuckets(t, prom.NativeBuckets{Offset: 2, Counts: []uint64{6}}, h.PositiveSpan, h.PositiveDelta)
}
