package exposition

import (
	"bytes"
	"math"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// textTestGroup holds one family of every type the state holds, with what
// the text format escapes or spells its own way: backslashes, newlines and
// double quotes in help and label values, the special floats, series
// without labels, a histogram whose buckets lack +Inf, a NaN bound, a
// native histogram.
func textTestGroup() []prom.FamilyView {
	value := func(v float64, l *prom.LabelSet) prom.Series { return prom.Series{Value: v, Labels: l} }
	agg := func(a prom.Aggregate, l *prom.LabelSet) prom.Series { return prom.Series{Agg: &a, Labels: l} }
	native := &dto.Histogram{
		SampleCount: proto.Uint64(9), SampleSum: proto.Float64(-2.5),
		Schema: proto.Int32(1), ZeroThreshold: proto.Float64(1e-9), ZeroCount: proto.Uint64(2),
		PositiveSpan:  []*dto.BucketSpan{{Offset: proto.Int32(-1), Length: proto.Uint32(2)}, {Offset: proto.Int32(3), Length: proto.Uint32(1)}},
		PositiveDelta: []int64{1, 1, -1},
		NegativeSpan:  []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(1)}},
		NegativeDelta: []int64{3},
	}
	nativeLabels := labelSet("k", "native")
	inf, nan := math.Inf(1), math.NaN()

	return groupViews(
		familyView("g", "Back\\slash, new\nline, \"quotes\" kept.", dto.MetricType_GAUGE,
			value(1, labelSet("a", `quote " backslash \ newline`+"\n"+`end`)),
			value(-1, labelSet("a", "José 🚀", "b", `\n is not a newline`)),
			value(0, labelSet("a", "zero")),
			value(math.Copysign(0, -1), labelSet("a", "negative zero")),
			value(nan, labelSet("a", "nan")),
			value(inf, labelSet("a", "inf")),
			value(-inf, labelSet("a", "-inf")),
			value(1e21, labelSet("a", "big")),
			value(1e-7, labelSet("a", "small")),
			value(math.MaxFloat64, labelSet("a", "max")),
			value(-math.SmallestNonzeroFloat64, labelSet("a", "denormal")),
			value(123456.5, labelSet("a", "plain")),
		),
		familyView("c", "", dto.MetricType_COUNTER, value(42, labelSet())),
		familyView("h", "A histogram.", dto.MetricType_HISTOGRAM,
			agg(prom.Aggregate{Count: 3, Sum: 1.5, Bounds: []float64{0.5, 1, inf}, Counts: []uint64{1, 2, 3}}, labelSet("k", "v")),
			agg(prom.Aggregate{Count: 1<<53 + 1, Sum: nan, Bounds: []float64{math.Copysign(0, -1), nan}, Counts: []uint64{0, 1}}, labelSet("k", "no +Inf")),
			agg(prom.Aggregate{Count: 0, Sum: 0, Bounds: []float64{inf}, Counts: []uint64{0}}, labelSet()),
		),
		familyView("n", "", dto.MetricType_HISTOGRAM,
			prom.Series{Labels: nativeLabels, Native: &dto.Metric{Label: nativeLabels.Labels, Histogram: native}},
		),
		familyView("s", "\\", dto.MetricType_SUMMARY,
			agg(prom.Aggregate{Count: math.MaxUint64, Sum: inf, Bounds: []float64{nan, 0.5, 0.99}, Values: []float64{1, nan, -inf}}, labelSet("k", "v")),
			agg(prom.Aggregate{Count: 2, Sum: 3}, labelSet()),
		),
	)
}

// expfmtText is what expfmt writes for the group's snapshot, native
// histograms as classic buckets.
func expfmtText(t *testing.T, fams []prom.FamilyView) string {
	t.Helper()
	return string(expfmtEncode(t, withClassicHistograms(Snapshot(fams)), Text))
}

func TestTextWriterMatchesExpfmt(t *testing.T) {
	g := textTestGroup()
	want := expfmtText(t, g)
	for range 2 { // the second time with the labels' text made
		var got bytes.Buffer
		ok := writeText(&got, g)
		require.True(t, ok)
		assert.Equal(t, want, got.String())
	}
	var viaEncode bytes.Buffer
	require.NoError(t, Encoder{Format: Text, Native: true}.Encode(&viaEncode, g))
	assert.Equal(t, want, viaEncode.String(), "Encode writes text from the state")
}

// TestTextWriterSpelling pins what the format looks like, so that a
// change of expfmt's shows here as well as in the fuzz targets.
func TestTextWriterSpelling(t *testing.T) {
	g := groupViews(
		familyView("g", "Say \"hi\"\\\n", dto.MetricType_GAUGE,
			prom.Series{Value: math.Copysign(0, -1), Labels: labelSet("a", "x\"y\\z\nw")},
			prom.Series{Value: 2.5e-10, Labels: labelSet()},
		),
		familyView("s", "", dto.MetricType_SUMMARY,
			prom.Series{Agg: &prom.Aggregate{Count: 4, Sum: 1, Bounds: []float64{0.5}, Values: []float64{math.NaN()}}, Labels: labelSet()},
		),
	)
	var got bytes.Buffer
	require.True(t, writeText(&got, g))
	assert.Equal(t, `# HELP g Say "hi"\\\n
# TYPE g gauge
g 2.5e-10
g{a="x\"y\\z\nw"} 0
# TYPE s summary
s{quantile="0.5"} NaN
s_sum 1
s_count 4
`, got.String())
	assert.Equal(t, expfmtText(t, g), got.String())
}

// TestTextWriterLeavesToExpfmt checks that a held metric the writer does
// not know (a classic histogram message) makes it write nothing, and that
// the push is then expfmt's.
func TestTextWriterLeavesToExpfmt(t *testing.T) {
	l := labelSet("k", "v")
	classic := &dto.Metric{Label: l.Labels, Histogram: &dto.Histogram{
		SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1),
		Bucket: []*dto.Bucket{{UpperBound: proto.Float64(1), CumulativeCount: proto.Uint64(1)}},
	}, TimestampMs: proto.Int64(5)}
	g := groupViews(
		familyView("a", "", dto.MetricType_GAUGE, prom.Series{Value: 1, Labels: labelSet()}),
		familyView("h", "", dto.MetricType_HISTOGRAM, prom.Series{Labels: l, Native: classic}),
	)
	var got bytes.Buffer
	ok := writeText(&got, g)
	require.False(t, ok)
	require.Zero(t, got.Len(), "nothing written")

	require.NoError(t, Encoder{Format: Text, Native: false}.Encode(&got, g))
	assert.Equal(t, expfmtText(t, g), got.String())
	assert.Contains(t, got.String(), `h_bucket{k="v",le="1"} 1 5`, "the timestamp only expfmt writes")
}

// TestTextLabelsShared pushes two groups whose series share label sets
// at once: the labels' text is made once per label set, by whichever
// push comes first (go test -race checks it).
func TestTextLabelsShared(t *testing.T) {
	shared := []*prom.LabelSet{labelSet("a", "1"), labelSet("a", "2")}
	var groups [][]prom.FamilyView
	for range 2 {
		groups = append(groups, groupViews(familyView("g", "", dto.MetricType_GAUGE,
			prom.Series{Value: 1, Labels: shared[0]}, prom.Series{Value: 2, Labels: shared[1]})))
	}
	var wg sync.WaitGroup
	bodies := make([]bytes.Buffer, len(groups))
	for i, g := range groups {
		wg.Go(func() { assert.NoError(t, Encoder{Format: Text, Native: false}.Encode(&bodies[i], g)) })
	}
	wg.Wait()
	for i := range groups {
		assert.Equal(t, "# TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 2\n", bodies[i].String())
	}
}
