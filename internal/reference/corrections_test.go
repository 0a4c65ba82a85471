package reference

import (
	"math"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The corrections' cases: what the data model says, worked out by hand.

// 1 (C1): a marker from a writer that has no part in a series changes
// nothing, in both modes.
func TestCorrection1MarkerOfAnotherWriter(t *testing.T) {
	want := Gateway{`{job="job1"}`: {
		"g":       one(dto.MetricType_GAUGE, num(7)),
		"d_total": one(dto.MetricType_COUNTER, num(7)),
	}}
	w1 := func(b *batchBuilder) {
		b.resource("service.name", "job1", "w", "1").gauge("g", 10, 7).delta("d", 0, 10, 7)
	}
	w2 := func(b *batchBuilder) {
		b.resource("service.name", "job1", "w", "2").gaugeMarker("g", 11).deltaMarker("d", 10, 11)
	}
	for _, mode := range []string{"none", "sum"} {
		t.Run(mode+", two batches", func(t *testing.T) {
			b1, b2 := newBatch(), newBatch()
			w1(b1)
			w2(b2)
			m := run(t, Config{Mode: mode}, step{0, b1, want}, step{1, b2, want})
			assert.Empty(t, m.Counts())
		})
		t.Run(mode+", one batch", func(t *testing.T) {
			b := newBatch()
			w1(b)
			w2(b)
			m := run(t, Config{Mode: mode}, step{0, b, want})
			assert.Empty(t, m.Counts())
		})
	}
}

// 2: a group forgotten after state_ttl stays at the gateway; when x comes
// back as a histogram, the group's push replaces the gateway's gauge x.
func TestCorrection2ForgottenGroupChangesType(t *testing.T) {
	for _, method := range []string{"put", "post"} {
		t.Run(method, func(t *testing.T) {
			gauge := Gateway{gj: {"x": one(dto.MetricType_GAUGE, num(1))}}
			histogram := Gateway{gj: {"x": one(dto.MetricType_HISTOGRAM, Value{Count: 2, Sum: 3, Buckets: []Bucket{{inf, 2}}})}}
			m := run(t, Config{Method: method, StateTTL: time.Minute},
				step{0, res(func(r *resourceBuilder) { r.gauge("x", 10, 1) }), gauge},
				step{61, nil, gauge},
				step{62, res(func(r *resourceBuilder) { r.histogram("x", hist{temp: cum, t: 20, count: 2, sum: 3}) }), histogram},
			)
			assert.Empty(t, m.Counts())
		})
	}
}

// 3 (C3): one stream has one part: deltas +5, +5, then a cumulative run
// with a new start counts whole from there.
func TestCorrection3DeltasThenCumulative(t *testing.T) {
	c := func(v float64) Gateway {
		return onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(v))})
	}
	for name, deltaStarts := range map[string][2]uint64{"with start times": {1, 10}, "without start times": {0, 0}} {
		t.Run(name, func(t *testing.T) {
			run(t, Config{Mode: "sum"},
				step{0, res(func(r *resourceBuilder) { r.delta("c", deltaStarts[0], 10, 5) }), c(5)},
				step{1, res(func(r *resourceBuilder) { r.delta("c", deltaStarts[1], 20, 5) }), c(10)},
				step{2, res(func(r *resourceBuilder) { r.cumulative("c", 25, 30, 12) }), c(22)},
				step{3, res(func(r *resourceBuilder) { r.cumulative("c", 25, 40, 13) }), c(23)},
				step{4, res(func(r *resourceBuilder) { r.cumulative("c", 25, 50, 14) }), c(24)},
			)
		})
	}
}

// 4 (C4): streams that land on one series add up, whatever makes them one.
func TestCorrection4StreamsOfOneSeries(t *testing.T) {
	for _, tc := range []struct {
		name   string
		build  func(r *resourceBuilder)
		series string
	}{
		{"an empty value is no label", func(r *resourceBuilder) {
			r.delta("d", 0, 10, 1).delta("d", 0, 10, 2, "k", "")
		}, "{}"},
		{"names that merge", func(r *resourceBuilder) {
			r.delta("d", 0, 10, 1, "a.b", "x").delta("d", 0, 10, 2, "a_b", "x")
		}, `{a_b="x"}`},
		{"two scopes without scope labels", func(r *resourceBuilder) {
			r.scope("s1", "").delta("d", 0, 10, 1).scope("s2", "").delta("d", 0, 10, 2)
		}, "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := run(t, Config{}, step{0, res(tc.build), onlyJ(map[string]Family{"d_total": counterFam(map[string]Value{tc.series: num(3)})})})
			assert.Empty(t, m.Counts())
		})
	}
}

// 5 (C5): native histograms whose sum would span more than 16384 buckets
// are reduced to a coarser schema, never replaced.
func TestCorrection5WideNativeSum(t *testing.T) {
	// OTLP -8503 → native -8502, OTLP 8503 → native 8504 at schema 8: 17007
	// buckets. At schema 7 (OTLP index >> 1, + 1): -4252+1 = -4251 and
	// 4251+1 = 4252: 8504 buckets.
	run(t, Config{},
		step{0, res(func(r *resourceBuilder) {
			r.expHistogram("e", expHist{temp: del, t: 10, scale: 8, posOffset: -8503, pos: []uint64{1}, count: 1, sum: 1})
		}), nil},
		step{1, res(func(r *resourceBuilder) {
			r.expHistogram("e", expHist{temp: del, start: 10, t: 20, scale: 8, posOffset: 8503, pos: []uint64{1}, count: 1, sum: 1})
		}), onlyJ(map[string]Family{"e": one(dto.MetricType_HISTOGRAM, Value{Count: 2, Sum: 2,
			Native: &Native{Schema: 7, Positive: map[int32]uint64{-4251: 1, 4252: 1}}})})},
	)
}

// 6 (C6): target_info stays while its writer feeds another series.
func TestCorrection6TargetInfoStays(t *testing.T) {
	r := func(build func(*resourceBuilder)) *batchBuilder { return res(build, "host.name", "h1") }
	want := onlyJ(map[string]Family{
		"gb":          one(dto.MetricType_GAUGE, num(2)),
		"target_info": {Type: dto.MetricType_GAUGE, Help: "Target metadata", Series: map[string]Value{`{host_name="h1"}`: num(1)}},
	})
	m := run(t, Config{TargetInfo: true},
		step{0, r(func(r *resourceBuilder) { r.gauge("ga", 10, 1).gauge("gb", 10, 2) }), nil},
		step{1, r(func(r *resourceBuilder) { r.gaugeMarker("ga", 11) }), want},
	)
	assert.Equal(t, map[string]int{"no_recorded_value": 1}, m.Counts())
}

// 7 (C7): a value that is not finite never enters a running total, and the
// stream's end does not move.
func TestCorrection7NaNDelta(t *testing.T) {
	d := func(v float64) Gateway {
		return onlyJ(map[string]Family{"d_total": one(dto.MetricType_COUNTER, num(v))})
	}
	for name, last := range map[string][2]uint64{"the next interval": {20, 30}, "the NaN's interval again": {10, 20}} {
		t.Run(name, func(t *testing.T) {
			m := run(t, Config{},
				step{0, res(func(r *resourceBuilder) { r.delta("d", 0, 10, 5) }), d(5)},
				step{1, res(func(r *resourceBuilder) { r.delta("d", 10, 20, math.NaN()) }), d(5)},
				step{2, res(func(r *resourceBuilder) { r.delta("d", last[0], last[1], 2) }), d(7)},
			)
			assert.Equal(t, map[string]int{"invalid_point": 1}, m.Counts())
		})
	}
	t.Run("mode sum, cumulative", func(t *testing.T) {
		c := func(v float64) Gateway {
			return onlyJ(map[string]Family{"c_total": one(dto.MetricType_COUNTER, num(v))})
		}
		m := run(t, Config{Mode: "sum"},
			step{0, res(func(r *resourceBuilder) { r.cumulative("c", 1, 10, 5) }), c(5)},
			step{1, res(func(r *resourceBuilder) { r.cumulative("c", 1, 20, math.Inf(1)) }), c(5)},
			step{2, res(func(r *resourceBuilder) { r.cumulative("c", 1, 30, 7) }), c(7)},
		)
		assert.Equal(t, map[string]int{"invalid_point": 1}, m.Counts())
	})
	t.Run("a latest value may be NaN", func(t *testing.T) {
		m := run(t, Config{}, step{0, res(func(r *resourceBuilder) { r.gauge("g", 1, math.NaN()) }),
			onlyJ(map[string]Family{"g": one(dto.MetricType_GAUGE, num(math.NaN()))})})
		assert.Empty(t, m.Counts())
	})
}

// 8 (C8): the label limit counts final labels.
func TestCorrection8LabelLimit(t *testing.T) {
	b := newBatch()
	b.resource("service.name", "j").scope("lib", "").
		gauge("g", 1, 1, "a", "1", "b", "2", "c", "", "d", "").
		gauge("h", 1, 1, "a.b", "1", "a_b", "2", "a-b", "3")
	m := run(t, Config{MaxLabelsPerSeries: 3, ScopeLabels: true}, step{0, b, onlyJ(map[string]Family{
		"g": gaugeFam(map[string]Value{`{a="1",b="2",otel_scope_name="lib"}`: num(1)}),
		// key byte order: a-b < a.b < a_b.
		"h": gaugeFam(map[string]Value{`{a_b="3;1;2",otel_scope_name="lib"}`: num(1)}),
	})})
	assert.Empty(t, m.Counts())
}

// 9 (C9): a key with no label name drops its point; it is never merged.
func TestCorrection9KeysWithoutLabelNames(t *testing.T) {
	m := run(t, Config{}, step{0, res(func(r *resourceBuilder) {
		r.delta("d", 0, 10, 1, ".", "a").delta("d", 0, 10, 2, ".", "b").delta("d", 0, 10, 3, "__", "c")
	}), Gateway{}})
	require.Equal(t, map[string]int{"invalid_label_name": 3}, m.Counts())
}
