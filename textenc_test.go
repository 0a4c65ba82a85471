package pushgatewayexporter

import (
	"bytes"
	"math"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// textTestGroup holds one family of every type the state holds, with what
// the text format escapes or spells its own way: backslashes, newlines and
// double quotes in help and label values, the special floats, series
// without labels, a histogram whose buckets lack +Inf, a NaN bound, a
// native histogram.
func textTestGroup(t *testing.T) *groupState {
	t.Helper()
	labels := func(pairs ...string) *labelSet { return gaugePoint(0, 0, pairs...).labels }
	value := func(v float64, l *labelSet) point { return point{time: 1, value: v, labels: l} }
	agg := func(a aggregate, l *labelSet) point { return point{time: 1, agg: &a, labels: l} }
	native := &dto.Histogram{
		SampleCount: proto.Uint64(9), SampleSum: proto.Float64(-2.5),
		Schema: proto.Int32(1), ZeroThreshold: proto.Float64(1e-9), ZeroCount: proto.Uint64(2),
		PositiveSpan:  []*dto.BucketSpan{{Offset: proto.Int32(-1), Length: proto.Uint32(2)}, {Offset: proto.Int32(3), Length: proto.Uint32(1)}},
		PositiveDelta: []int64{1, 1, -1},
		NegativeSpan:  []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(1)}},
		NegativeDelta: []int64{3},
	}
	nativeLabels := labels("k", "native")
	inf, nan := math.Inf(1), math.NaN()

	s := newGroupStates(0, 0)
	res := s.apply(testKey, testWriter, []family{
		{name: "g", typ: dto.MetricType_GAUGE, help: "Back\\slash, new\nline, \"quotes\" kept.", points: []point{
			value(1, labels("a", `quote " backslash \ newline`+"\n"+`end`)),
			value(-1, labels("a", "José 🚀", "b", `\n is not a newline`)),
			value(0, labels("a", "zero")),
			value(math.Copysign(0, -1), labels("a", "negative zero")),
			value(nan, labels("a", "nan")),
			value(inf, labels("a", "inf")),
			value(-inf, labels("a", "-inf")),
			value(1e21, labels("a", "big")),
			value(1e-7, labels("a", "small")),
			value(math.MaxFloat64, labels("a", "max")),
			value(-math.SmallestNonzeroFloat64, labels("a", "denormal")),
			value(123456.5, labels("a", "plain")),
		}},
		{name: "c", typ: dto.MetricType_COUNTER, points: []point{value(42, labels())}},
		{name: "h", typ: dto.MetricType_HISTOGRAM, help: "A histogram.", points: []point{
			agg(aggregate{count: 3, sum: 1.5, bounds: []float64{0.5, 1, inf}, counts: []uint64{1, 2, 3}}, labels("k", "v")),
			agg(aggregate{count: 1<<53 + 1, sum: nan, bounds: []float64{math.Copysign(0, -1), nan}, counts: []uint64{0, 1}}, labels("k", "no +Inf")),
			agg(aggregate{count: 0, sum: 0, bounds: []float64{inf}, counts: []uint64{0}}, labels()),
		}},
		{name: "n", typ: dto.MetricType_HISTOGRAM, points: []point{
			{time: 1, metric: &dto.Metric{Label: nativeLabels.labels, Histogram: native}, labels: nativeLabels},
		}},
		{name: "s", typ: dto.MetricType_SUMMARY, help: "\\", points: []point{
			agg(aggregate{count: math.MaxUint64, sum: inf, bounds: []float64{nan, 0.5, 0.99}, values: []float64{1, nan, -inf}}, labels("k", "v")),
			agg(aggregate{count: 2, sum: 3}, labels()),
		}},
	})
	require.NotNil(t, res.group)
	require.Empty(t, res.drops)
	return res.group
}

// expfmtText is what expfmt writes for the group's snapshot, native
// histograms as classic buckets.
func expfmtText(t *testing.T, g *groupState) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, encodeFamiliesExpfmt(&buf, withClassicHistograms(g.snapshot()), FormatText))
	return buf.String()
}

func TestTextWriterMatchesExpfmt(t *testing.T) {
	g := textTestGroup(t)
	want := expfmtText(t, g)
	for range 2 { // the second time with the labels' text made
		var got bytes.Buffer
		g.mu.Lock()
		ok := writeGroupText(&got, g)
		g.mu.Unlock()
		require.True(t, ok)
		assert.Equal(t, want, got.String())
	}
	var viaEncode bytes.Buffer
	require.NoError(t, encodeGroup(&viaEncode, g, FormatText, true))
	assert.Equal(t, want, viaEncode.String(), "encodeGroup writes text from the state")
}

// TestTextWriterSpelling pins what the format looks like, so that a
// change of expfmt's shows here as well as in the fuzz targets.
func TestTextWriterSpelling(t *testing.T) {
	s := newGroupStates(0, 0)
	res := s.apply(testKey, testWriter, []family{
		{name: "g", typ: dto.MetricType_GAUGE, help: "Say \"hi\"\\\n", points: []point{
			gaugePoint(1, math.Copysign(0, -1), "a", "x\"y\\z\nw"),
			gaugePoint(1, 2.5e-10),
		}},
		{name: "s", typ: dto.MetricType_SUMMARY, points: []point{
			{time: 1, agg: &aggregate{count: 4, sum: 1, bounds: []float64{0.5}, values: []float64{math.NaN()}}, labels: gaugePoint(0, 0).labels},
		}},
	})
	var got bytes.Buffer
	res.group.mu.Lock()
	require.True(t, writeGroupText(&got, res.group))
	res.group.mu.Unlock()
	assert.Equal(t, `# HELP g Say "hi"\\\n
# TYPE g gauge
g 2.5e-10
g{a="x\"y\\z\nw"} 0
# TYPE s summary
s{quantile="0.5"} NaN
s_sum 1
s_count 4
`, got.String())
	assert.Equal(t, expfmtText(t, res.group), got.String())
}

// TestTextWriterLeavesToExpfmt checks that a held metric the writer does
// not know (a classic histogram message) makes it write nothing, and that
// the push is then expfmt's.
func TestTextWriterLeavesToExpfmt(t *testing.T) {
	s := newGroupStates(0, 0)
	l := gaugePoint(0, 0, "k", "v").labels
	classic := &dto.Metric{Label: l.labels, Histogram: &dto.Histogram{
		SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1),
		Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(1)}},
	}, TimestampMs: proto.Int64(5)}
	res := s.apply(testKey, testWriter, []family{
		gaugeFamily("a", gaugePoint(1, 1)),
		{name: "h", typ: dto.MetricType_HISTOGRAM, points: []point{{time: 1, metric: classic, labels: l}}},
	})
	var got bytes.Buffer
	res.group.mu.Lock()
	ok := writeGroupText(&got, res.group)
	res.group.mu.Unlock()
	require.False(t, ok)
	require.Zero(t, got.Len(), "nothing written")

	require.NoError(t, encodeGroup(&got, res.group, FormatText, false))
	assert.Equal(t, expfmtText(t, res.group), got.String())
	assert.Contains(t, got.String(), `h_bucket{k="v",le="1"} 1 5`, "the timestamp only expfmt writes")
}

// TestTextLabelsShared pushes two groups whose series share label sets
// at once: the labels' text is made once per label set, by whichever
// push comes first (go test -race checks it).
func TestTextLabelsShared(t *testing.T) {
	s := newGroupStates(0, 0)
	shared := []*labelSet{gaugePoint(0, 0, "a", "1").labels, gaugePoint(0, 0, "a", "2").labels}
	var groups []*groupState
	for _, job := range []string{"one", "two"} {
		res := s.apply(groupKey{{jobLabel, job}}, testWriter, []family{gaugeFamily("g",
			point{time: 1, value: 1, labels: shared[0]}, point{time: 1, value: 2, labels: shared[1]})})
		groups = append(groups, res.group)
	}
	var wg sync.WaitGroup
	bodies := make([]bytes.Buffer, len(groups))
	for i, g := range groups {
		wg.Go(func() { assert.NoError(t, encodeGroup(&bodies[i], g, FormatText, false)) })
	}
	wg.Wait()
	for i := range groups {
		assert.Equal(t, "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 2\n", bodies[i].String())
	}
}
