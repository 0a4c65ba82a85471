package reference

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one Export (batch set) or Tick (batch nil) of a scenario, and what
// the gateway must hold after it (nil: not checked).
type step struct {
	at    int
	batch *batchBuilder
	want  Gateway
}

// run plays steps through a fresh model, checking the gateway after each.
func run(t *testing.T, cfg Config, steps ...step) *Model {
	t.Helper()
	m := New(cfg)
	for i, s := range steps {
		if s.batch != nil {
			m.Export(at(s.at), s.batch.md)
		} else {
			m.Tick(at(s.at))
		}
		if s.want != nil {
			require.Empty(t, Diff(s.want, m.Gateway()), "after step %d (at %d)", i, s.at)
		}
	}
	return m
}

// res is a batch with one resource of service.name j and the given extra
// attributes.
func res(build func(*resourceBuilder), attrs ...string) *batchBuilder {
	b := newBatch()
	build(b.resource(append([]string{"service.name", "j"}, attrs...)...))
	return b
}

// w1, w2, w3 are writers of one group j.
func w(id string, build func(*resourceBuilder)) *batchBuilder { return res(build, "w", id) }

const gj = `{job="j"}`

func onlyJ(fams map[string]Family) Gateway { return Gateway{gj: fams} }

func TestLatestRule(t *testing.T) {
	m := run(t, baseConfig(),
		step{0, w("1", func(r *resourceBuilder) { r.gauge("g", 10, 1) }), onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(1))})},
		step{1, w("1", func(r *resourceBuilder) { r.gauge("g", 5, 2) }), onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(1))})},
		step{2, w("2", func(r *resourceBuilder) { r.gauge("g", 10, 3) }), onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(3))})},
		step{3, w("1", func(r *resourceBuilder) { r.gauge("g", 20, 4).gauge("g", 20, 5).gauge("g", 15, 6) }),
			onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(5))})},
	)
	// In time order, the point at 15 is taken before those at 20, the later of which wins.
	assert.Equal(t, map[string]int{"stale": 1}, m.Counts(), "the point at 5")
}

func TestDeltaRule(t *testing.T) {
	d := func(v float64) Gateway {
		return onlyJ(map[string]Family{"d_total": one(dto.MetricType_COUNTER, num(v))})
	}
	m := run(t, baseConfig(),
		step{0, w("1", func(r *resourceBuilder) { r.delta("d", 0, 10, 3) }), d(3)},
		step{1, w("1", func(r *resourceBuilder) { r.delta("d", 20, 30, 4) }), d(7)},                        // a gap is not a reset
		step{2, w("1", func(r *resourceBuilder) { r.delta("d", 20, 30, 4) }), d(7)},                        // a replay: stale
		step{3, w("1", func(r *resourceBuilder) { r.delta("d", 25, 35, 1) }), d(7)},                        // an overlap: stale
		step{4, w("1", func(r *resourceBuilder) { r.delta("d", 0, 40, 1) }), d(8)},                         // no start time
		step{5, w("2", func(r *resourceBuilder) { r.delta("d", 0, 10, 6) }), d(14)},                        // another writer adds, its own end
		step{6, w("1", func(r *resourceBuilder) { r.delta("d", 60, 70, 2).delta("d", 40, 50, 1) }), d(17)}, // taken in time order
	)
	assert.Equal(t, map[string]int{"stale": 2}, m.Counts())

	t.Run("a delta on a latest value starts a total; a cumulative point replaces a total", func(t *testing.T) {
		m := run(t, baseConfig(),
			step{0, w("1", func(r *resourceBuilder) { r.cumulative("c", 1, 10, 10) }), onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(10))})},
			step{1, w("1", func(r *resourceBuilder) { r.delta("c", 10, 20, 5) }), onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(5))})},
			step{2, w("1", func(r *resourceBuilder) { r.cumulative("c", 1, 15, 7) }), onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(5))})},
			step{3, w("1", func(r *resourceBuilder) { r.cumulative("c", 1, 25, 8) }), onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(8))})},
		)
		assert.Equal(t, map[string]int{"stale": 1}, m.Counts())
	})
	t.Run("histograms add bucket by bucket; other bounds restart", func(t *testing.T) {
		h := func(v Value) Gateway { return onlyJ(map[string]Family{"h": one(dto.MetricType_HISTOGRAM, v)}) }
		run(t, baseConfig(),
			step{0, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: del, start: 0, t: 10, bounds: []float64{1}, counts: []uint64{1, 0}, count: 1, sum: 0.5})
			}), h(Value{Count: 1, Sum: 0.5, Buckets: []Bucket{{1, 1}, {inf, 1}}})},
			step{1, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: del, start: 10, t: 20, bounds: []float64{1}, counts: []uint64{1, 2}, count: 3, sum: 4})
			}), h(Value{Count: 4, Sum: 4.5, Buckets: []Bucket{{1, 2}, {inf, 4}}})},
			step{2, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: del, start: 20, t: 30, bounds: []float64{2}, counts: []uint64{0, 2}, count: 2, sum: 6})
			}), h(Value{Count: 2, Sum: 6, Buckets: []Bucket{{2, 0}, {inf, 2}}})},
		)
	})
	t.Run("exponential histograms add at the coarser scale; another zero threshold restarts", func(t *testing.T) {
		h := func(v Value) Gateway { return onlyJ(map[string]Family{"e": one(dto.MetricType_HISTOGRAM, v)}) }
		run(t, baseConfig(),
			// scale 1, OTLP 0 → native 1 at schema 1.
			step{0, w("1", func(r *resourceBuilder) {
				r.expHistogram("e", expHist{temp: del, t: 10, scale: 1, pos: []uint64{1}, count: 1, sum: 1.2})
			}), h(Value{Count: 1, Sum: 1.2, Native: &Native{Schema: 1, Positive: map[int32]uint64{1: 1}}})},
			// scale 0, OTLP 0 → native 1 at schema 0, which holds native 1 of schema 1.
			step{1, w("1", func(r *resourceBuilder) {
				r.expHistogram("e", expHist{temp: del, start: 10, t: 20, scale: 0, pos: []uint64{2}, zeroCount: 1, count: 3, sum: 3})
			}), h(Value{Count: 4, Sum: 4.2, Native: &Native{Schema: 0, ZeroCount: 1, Positive: map[int32]uint64{1: 3}}})},
			step{2, w("1", func(r *resourceBuilder) {
				r.expHistogram("e", expHist{temp: del, start: 20, t: 30, scale: 0, zeroThreshold: 0.5, zeroCount: 2, count: 2, sum: 0})
			}), h(Value{Count: 2, Native: &Native{Schema: 0, ZeroThreshold: 0.5, ZeroCount: 2}})},
		)
	})
}

func TestModeSum(t *testing.T) {
	sum := Config{Mode: "sum"}
	c := func(v float64) Gateway {
		return onlyJ(map[string]Family{"tests_total": one(dto.MetricType_COUNTER, num(v))})
	}
	t.Run("the README's shards", func(t *testing.T) {
		run(t, sum,
			step{0, w("1", func(r *resourceBuilder) { r.cumulative("tests", 1, 10, 10) }), c(10)},
			step{1, w("2", func(r *resourceBuilder) { r.cumulative("tests", 1, 10, 20) }), c(30)},
			step{2, w("3", func(r *resourceBuilder) { r.cumulative("tests", 1, 10, 30) }), c(60)},
			step{3, w("1", func(r *resourceBuilder) { r.cumulative("tests", 1, 20, 10) }), c(60)}, // re-sent total adds nothing
			step{4, w("2", func(r *resourceBuilder) { r.cumulative("tests", 15, 20, 3) }), c(63)}, // restarted: counts whole
			step{5, w("4", func(r *resourceBuilder) { r.delta("tests", 10, 20, 4) }), c(67)},      // a delta adds
			step{6, w("3", func(r *resourceBuilder) { r.cumulative("tests", 1, 20, 25) }), c(92)}, // went down: a reset
			step{7, w("3", func(r *resourceBuilder) { r.cumulative("tests", 1, 20, 99) }), c(92)}, // not after its last time: stale
		)
	})
	t.Run("histograms per bucket, bucket_mismatch, a lone stream restarts", func(t *testing.T) {
		h := func(v Value) Gateway { return onlyJ(map[string]Family{"h": one(dto.MetricType_HISTOGRAM, v)}) }
		m := run(t, sum,
			step{0, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: cum, start: 1, t: 10, bounds: []float64{1}, counts: []uint64{1, 1}, count: 2, sum: 3})
			}), h(Value{Count: 2, Sum: 3, Buckets: []Bucket{{1, 1}, {inf, 2}}})},
			step{1, w("2", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: cum, start: 1, t: 10, bounds: []float64{1}, counts: []uint64{2, 0}, count: 2, sum: 1})
			}), h(Value{Count: 4, Sum: 4, Buckets: []Bucket{{1, 3}, {inf, 4}}})},
			step{2, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: cum, start: 1, t: 20, bounds: []float64{1}, counts: []uint64{2, 1}, count: 3, sum: 4})
			}), h(Value{Count: 5, Sum: 5, Buckets: []Bucket{{1, 4}, {inf, 5}}})},
			step{3, w("2", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: cum, start: 1, t: 20, bounds: []float64{2}, counts: []uint64{3, 0}, count: 3, sum: 1})
			}), h(Value{Count: 5, Sum: 5, Buckets: []Bucket{{1, 4}, {inf, 5}}})},
		)
		assert.Equal(t, map[string]int{"bucket_mismatch": 1}, m.Counts())

		run(t, sum,
			step{0, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: cum, start: 1, t: 10, bounds: []float64{1}, counts: []uint64{1, 1}, count: 2, sum: 3})
			}), nil},
			step{1, w("1", func(r *resourceBuilder) {
				r.histogram("h", hist{temp: cum, start: 1, t: 20, bounds: []float64{5}, counts: []uint64{3, 0}, count: 3, sum: 3})
			}), h(Value{Count: 3, Sum: 3, Buckets: []Bucket{{5, 3}, {inf, 3}}})},
		)
	})
	t.Run("summaries: count and sum, quantiles left out", func(t *testing.T) {
		m := run(t, sum,
			step{0, w("1", func(r *resourceBuilder) { r.summary("s", 1, 10, 5, 10, []Quantile{{0.5, 1}}) }), nil},
			step{1, w("2", func(r *resourceBuilder) { r.summary("s", 1, 10, 3, 3, []Quantile{{0.5, 2}}) }),
				onlyJ(map[string]Family{"s": one(dto.MetricType_SUMMARY, Value{Count: 8, Sum: 13})})},
		)
		assert.Equal(t, map[string]int{"summary_quantiles": 2}, m.Counts())
	})
	t.Run("gauges", func(t *testing.T) {
		for how, want := range map[string][2]float64{"sum": {8, 3}, "max": {5, 3}, "min": {3, 3}} {
			t.Run(how, func(t *testing.T) {
				g := func(v float64) Gateway { return onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(v))}) }
				run(t, Config{Mode: "sum", Gauges: how},
					step{0, w("1", func(r *resourceBuilder) { r.gauge("g", 10, 3) }), g(3)},
					step{1, w("2", func(r *resourceBuilder) { r.gauge("g", 10, 5) }), g(want[0])},
					step{2, w("2", func(r *resourceBuilder) { r.gaugeMarker("g", 11) }), g(want[1])},
				)
			})
		}
		t.Run("last", func(t *testing.T) {
			m := run(t, Config{Mode: "sum", Gauges: "last"},
				step{0, w("1", func(r *resourceBuilder) { r.gauge("g", 10, 3).gauge("h", 10, 1) }), nil},
				step{1, w("2", func(r *resourceBuilder) { r.gauge("g", 10, 5) }), onlyJ(map[string]Family{
					"g": one(dto.MetricType_GAUGE, num(5)), "h": one(dto.MetricType_GAUGE, num(1))})},
				step{2, w("2", func(r *resourceBuilder) { r.gaugeMarker("g", 11) }), onlyJ(map[string]Family{
					"h": one(dto.MetricType_GAUGE, num(1))})},
			)
			assert.Equal(t, map[string]int{"no_recorded_value": 1}, m.Counts())
		})
	})
}

func TestMarkers(t *testing.T) {
	g := func(v float64) map[string]Family { return map[string]Family{"g": one(dto.MetricType_GAUGE, num(v))} }
	t.Run("a series' last stream ends: put deletes the group", func(t *testing.T) {
		m := run(t, baseConfig(),
			step{0, w("1", func(r *resourceBuilder) { r.gauge("g", 10, 1) }), onlyJ(g(1))},
			step{1, w("1", func(r *resourceBuilder) { r.gaugeMarker("g", 5) }), onlyJ(g(1))},            // older: stale
			step{2, w("1", func(r *resourceBuilder) { r.gaugeMarker("g", 10, "a", "1") }), onlyJ(g(1))}, // a series not held
			step{3, w("1", func(r *resourceBuilder) { r.gaugeMarker("g", 10) }), Gateway{}},
		)
		assert.Equal(t, map[string]int{"stale": 1, "no_recorded_value": 1}, m.Counts())
	})
	t.Run("post: the group is forgotten, the gateway keeps it", func(t *testing.T) {
		run(t, Config{Method: "post"},
			step{0, w("1", func(r *resourceBuilder) { r.gauge("g", 10, 1) }), onlyJ(g(1))},
			step{1, w("1", func(r *resourceBuilder) { r.gaugeMarker("g", 10) }), onlyJ(g(1))},
			// Forgotten: a new point starts the group afresh, its family replaced.
			step{2, w("1", func(r *resourceBuilder) { r.gauge("g", 5, 2) }), onlyJ(g(2))},
		)
	})
	t.Run("post keeps a family the group let go of; put does not", func(t *testing.T) {
		two := func(r *resourceBuilder) { r.gauge("a", 10, 1).gauge("b", 10, 2) }
		end := func(r *resourceBuilder) { r.gaugeMarker("a", 11) }
		both := onlyJ(map[string]Family{"a": one(dto.MetricType_GAUGE, num(1)), "b": one(dto.MetricType_GAUGE, num(2))})
		run(t, Config{Method: "post"}, step{0, w("1", two), both}, step{1, w("1", end), both})
		run(t, Config{Method: "put"}, step{0, w("1", two), both}, step{1, w("1", end), onlyJ(map[string]Family{"b": one(dto.MetricType_GAUGE, num(2))})})
	})
	t.Run("a total keeps what an ended stream added while others remain", func(t *testing.T) {
		d := func(v float64) Gateway {
			return onlyJ(map[string]Family{"d_total": one(dto.MetricType_COUNTER, num(v))})
		}
		m := run(t, baseConfig(),
			step{0, w("1", func(r *resourceBuilder) { r.delta("d", 0, 10, 3) }), d(3)},
			step{1, w("2", func(r *resourceBuilder) { r.delta("d", 0, 10, 4) }), d(7)},
			step{2, w("1", func(r *resourceBuilder) { r.deltaMarker("d", 10, 9) }), d(7)}, // older than its end: stale
			step{3, w("1", func(r *resourceBuilder) { r.deltaMarker("d", 10, 11) }), d(7)},
			step{4, w("2", func(r *resourceBuilder) { r.deltaMarker("d", 10, 11) }), Gateway{}},
		)
		assert.Equal(t, map[string]int{"stale": 1, "no_recorded_value": 1}, m.Counts())
	})
	t.Run("C6: target_info passes to a writer with the same labels, then ends with the last", func(t *testing.T) {
		// The attribute "." has no label name: both writers' target_info is {host_name="h"}.
		wr := func(id string, build func(*resourceBuilder)) *batchBuilder {
			return res(build, "host.name", "h", ".", id)
		}
		ti := Family{Type: dto.MetricType_GAUGE, Help: "Target metadata", Series: map[string]Value{`{host_name="h"}`: num(1)}}
		b := newBatch()
		b.resource("service.name", "j", "host.name", "h", ".", "1").gauge("ga", 10, 1)
		b.resource("service.name", "j", "host.name", "h", ".", "2").gauge("gb", 10, 2)
		m := run(t, Config{TargetInfo: true},
			step{0, b, onlyJ(map[string]Family{"ga": one(dto.MetricType_GAUGE, num(1)), "gb": one(dto.MetricType_GAUGE, num(2)), "target_info": ti})},
			step{1, wr("2", func(r *resourceBuilder) { r.gaugeMarker("gb", 11) }), onlyJ(map[string]Family{"ga": one(dto.MetricType_GAUGE, num(1)), "target_info": ti})},
			step{2, wr("1", func(r *resourceBuilder) { r.gaugeMarker("ga", 11) }), Gateway{}},
		)
		assert.Equal(t, map[string]int{"no_recorded_value": 3}, m.Counts())
	})
}

func TestSeriesTTL(t *testing.T) {
	cfg := Config{SeriesTTL: 100 * time.Second}
	a := func(r *resourceBuilder) { r.gauge("a", 1, 1) }
	ab := onlyJ(map[string]Family{"a": one(dto.MetricType_GAUGE, num(1)), "b": one(dto.MetricType_GAUGE, num(2))})
	m := run(t, cfg,
		step{0, res(func(r *resourceBuilder) { r.gauge("a", 1, 1).gauge("b", 1, 2) }), ab}, // sets the check time
		step{30, res(a), ab},  // checked: cutoff -70
		step{90, res(a), ab},  // checked: cutoff -10, b taken at 0
		step{200, nil, ab},    // a group that receives nothing keeps everything
		step{110, res(a), ab}, // 20s since the check at 90: not checked
		step{120, res(a), onlyJ(map[string]Family{"a": one(dto.MetricType_GAUGE, num(1))})}, // checked: cutoff 20
	)
	assert.Equal(t, map[string]int{"series_ttl": 1}, m.Counts())
}

func TestStateTTL(t *testing.T) {
	cfg := Config{Mode: "sum", Gauges: "sum", StateTTL: 10 * time.Second}
	fams := func(c, g float64) Gateway {
		return onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(c)), "g": one(dto.MetricType_GAUGE, num(g))})
	}
	m := run(t, cfg,
		step{0, w("1", func(r *resourceBuilder) { r.cumulative("c", 1, 10, 10).gauge("g", 10, 3) }), fams(10, 3)},
		step{5, w("2", func(r *resourceBuilder) { r.cumulative("c", 1, 10, 4).gauge("g", 10, 6) }), fams(14, 9)},
		// cutoff 2: writer 1 (last batch at 0) is forgotten: the gauge drops
		// its value, the total keeps what it added.
		step{12, nil, fams(14, 6)},
		// writer 1 comes back: it counts whole again.
		step{16, w("1", func(r *resourceBuilder) { r.cumulative("c", 1, 20, 12) }), fams(26, 6)},
		// cutoff 14: writer 2 (at 5) is forgotten, the gauge left without streams is removed.
		step{24, nil, onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(26))})},
		// cutoff 30: the group (last change at 16) is forgotten; the gateway keeps it.
		step{40, nil, onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(26))})},
		// New data starts the group afresh and its push replaces the gateway's copy.
		step{41, w("2", func(r *resourceBuilder) { r.gauge("g", 30, 1) }), onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(1))})},
	)
	assert.Equal(t, map[string]int{"writer_forgotten": 1}, m.Counts())

	t.Run("mode none: latest values stay", func(t *testing.T) {
		g := onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(3)), "h": one(dto.MetricType_GAUGE, num(1))})
		run(t, Config{StateTTL: 10 * time.Second},
			step{0, w("1", func(r *resourceBuilder) { r.gauge("g", 10, 3) }), nil},
			step{5, w("2", func(r *resourceBuilder) { r.gauge("h", 10, 1) }), g},
			step{12, nil, g},
		)
	})
}

func TestGroupTTL(t *testing.T) {
	a := Gateway{`{job="a"}`: {"g": one(dto.MetricType_GAUGE, num(1))}}
	both := Gateway{`{job="a"}`: {"g": one(dto.MetricType_GAUGE, num(1))}, `{job="b"}`: {"g": one(dto.MetricType_GAUGE, num(1))}}
	ga := newBatch()
	ga.resource("service.name", "a").gauge("g", 1, 1)
	gb := newBatch()
	gb.resource("service.name", "b").gauge("g", 1, 1)
	stale := newBatch()
	stale.resource("service.name", "b").gauge("g", 0, 5)
	run(t, Config{GroupTTL: 60 * time.Second},
		step{0, gb, Gateway{`{job="b"}`: {"g": one(dto.MetricType_GAUGE, num(1))}}},
		step{50, ga, both},
		step{55, stale, both}, // a stale point is no change
		step{60, nil, a},
	)
}

func TestGroupsNeverMade(t *testing.T) {
	g := onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(1))})
	t.Run("a marker for a group the exporter forgot changes nothing at the gateway", func(t *testing.T) {
		run(t, Config{StateTTL: 10 * time.Second},
			step{0, res(func(r *resourceBuilder) { r.gauge("g", 10, 1) }), g},
			step{20, nil, g},
			step{21, res(func(r *resourceBuilder) { r.gaugeMarker("g", 11) }), g},
			step{22, res(func(r *resourceBuilder) { r.gauge("g", 12, 2, ".", "no label name") }), g},
		)
	})
	t.Run("a group whose only series ends in its first batch is deleted", func(t *testing.T) {
		run(t, Config{StateTTL: 10 * time.Second},
			step{0, res(func(r *resourceBuilder) { r.gauge("g", 10, 1) }), g},
			step{20, nil, g},
			step{21, res(func(r *resourceBuilder) { r.gauge("g", 12, 2).gaugeMarker("g", 13) }), Gateway{}},
		)
	})
}

func TestNewRefusesWhatTheExporterRefuses(t *testing.T) {
	for _, cfg := range []Config{{Method: "patch"}, {Mode: "avg"}, {Mode: "sum", Gauges: "mean"}} {
		assert.Panics(t, func() { New(cfg) }, "%+v", cfg)
	}
	assert.NotPanics(t, func() { New(Config{Method: "POST", Mode: "Sum", Gauges: "MAX"}) })
}
