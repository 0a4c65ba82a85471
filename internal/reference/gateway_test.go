package reference

import (
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gaugeFamily(name string, series map[string]float64) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: ptr(name), Type: dto.MetricType_GAUGE.Enum()}
	for k, v := range series {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: ptr(v)}}
		if k != "" {
			m.Label = []*dto.LabelPair{{Name: ptr("k"), Value: ptr(k)}}
		}
		mf.Metric = append(mf.Metric, m)
	}
	return mf
}

func typedFamily(name string, t dto.MetricType) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: ptr(name), Type: t.Enum()}
	mf.Metric = []*dto.Metric{encodeMetric(t, nil, Value{Number: 1, Count: 1, Buckets: []Bucket{{math.Inf(1), 1}}})}
	return mf
}

func gaugeSeries(series map[string]float64) map[string]Value {
	m := map[string]Value{}
	for k, v := range series {
		key := "{}"
		if k != "" {
			key = `{k="` + k + `"}`
		}
		m[key] = Value{Number: v}
	}
	return m
}

func TestKeys(t *testing.T) {
	assert.Equal(t, `{job="j",a="1",instance="i",z="\n"}`, GroupKey(map[string]string{"z": "\n", "instance": "i", "job": "j", "a": "1"}))
	assert.Equal(t, `{a="1",job="j"}`, SeriesKey(map[string]string{"job": "j", "a": "1"}))
	assert.Equal(t, "{}", SeriesKey(nil))
}

func TestSimulatedGatewayMethods(t *testing.T) {
	const g = `{job="a"}`
	var gw SimulatedGateway
	require.NoError(t, gw.Put(g, []*dto.MetricFamily{gaugeFamily("x", map[string]float64{"1": 1}), gaugeFamily("y", map[string]float64{"": 2})}))

	t.Run("POST replaces only the families it names", func(t *testing.T) {
		require.NoError(t, gw.Post(g, []*dto.MetricFamily{gaugeFamily("x", map[string]float64{"2": 3})}))
		assert.Empty(t, Diff(Gateway{g: {
			"x": {Type: dto.MetricType_GAUGE, Series: gaugeSeries(map[string]float64{"2": 3})},
			"y": {Type: dto.MetricType_GAUGE, Series: gaugeSeries(map[string]float64{"": 2})},
		}}, gw.Content()))
	})
	t.Run("PUT replaces the group", func(t *testing.T) {
		require.NoError(t, gw.Put(g, []*dto.MetricFamily{gaugeFamily("z", map[string]float64{"": 4})}))
		assert.Empty(t, Diff(Gateway{g: {
			"z": {Type: dto.MetricType_GAUGE, Series: gaugeSeries(map[string]float64{"": 4})},
		}}, gw.Content()))
	})
	t.Run("a POSTed family without series removes the group's family", func(t *testing.T) {
		require.NoError(t, gw.Post(g, []*dto.MetricFamily{{Name: ptr("z"), Type: dto.MetricType_GAUGE.Enum()}}))
		assert.Empty(t, Diff(Gateway{g: {}}, gw.Content()))
	})
	t.Run("DELETE removes the group", func(t *testing.T) {
		gw.Delete(g)
		assert.Empty(t, Diff(Gateway{}, gw.Content()))
	})
}

func TestSimulatedGatewayConsistency(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		held                 *dto.MetricFamily // in group a
		group                string
		pushed               []*dto.MetricFamily
		post, refused        bool
		refusalMentionsNames []string
	}{
		{name: "one name, two types, two groups", held: typedFamily("x", dto.MetricType_GAUGE), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_COUNTER)}, refused: true, refusalMentionsNames: []string{"x"}},
		{name: "one name, one type, two groups", held: typedFamily("x", dto.MetricType_GAUGE), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_GAUGE)}},
		{name: "a histogram's _count in another group", held: typedFamily("x", dto.MetricType_HISTOGRAM), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x_count", dto.MetricType_GAUGE)}, refused: true, refusalMentionsNames: []string{"x_count"}},
		{name: "a histogram owning a name another group holds", held: typedFamily("x_bucket", dto.MetricType_COUNTER), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_HISTOGRAM)}, refused: true, refusalMentionsNames: []string{"x_bucket"}},
		{name: "a summary's _sum in another group", held: typedFamily("x", dto.MetricType_SUMMARY), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x_sum", dto.MetricType_GAUGE)}, refused: true},
		{name: "a summary does not own _bucket", held: typedFamily("x", dto.MetricType_SUMMARY), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x_bucket", dto.MetricType_GAUGE)}},
		{name: "owned names within one push", held: typedFamily("y", dto.MetricType_GAUGE), group: "b",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_HISTOGRAM), typedFamily("x_sum", dto.MetricType_GAUGE)}, refused: true},
		{name: "PUT of the group itself may change a type", held: typedFamily("x", dto.MetricType_GAUGE), group: "a",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_HISTOGRAM)}},
		{name: "POST with the group's own other family", held: typedFamily("x_count", dto.MetricType_GAUGE), group: "a",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_HISTOGRAM)}, post: true, refused: true},
		{name: "PUT drops the group's own other family", held: typedFamily("x_count", dto.MetricType_GAUGE), group: "a",
			pushed: []*dto.MetricFamily{typedFamily("x", dto.MetricType_HISTOGRAM)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gw SimulatedGateway
			require.NoError(t, gw.Put("a", []*dto.MetricFamily{tc.held}))
			before := gw.Content()
			var err error
			if tc.post {
				err = gw.Post(tc.group, tc.pushed)
			} else {
				err = gw.Put(tc.group, tc.pushed)
			}
			if !tc.refused {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, n := range tc.refusalMentionsNames {
				assert.Contains(t, err.Error(), n)
			}
			assert.Empty(t, Diff(before, gw.Content()), "a refused push changes nothing")
		})
	}
}

func TestSimulatedGatewayRefusesWhatItCannotRead(t *testing.T) {
	twice := gaugeFamily("x", map[string]float64{"1": 1})
	twice.Metric = append(twice.Metric, twice.Metric[0])
	labelTwice := gaugeFamily("x", map[string]float64{"1": 1})
	labelTwice.Metric[0].Label = append(labelTwice.Metric[0].Label, labelTwice.Metric[0].Label[0])
	for name, mf := range map[string]*dto.MetricFamily{
		"no name":            {Type: dto.MetricType_GAUGE.Enum(), Metric: twice.Metric[:1]},
		"untyped":            {Name: ptr("x"), Type: dto.MetricType_UNTYPED.Enum(), Metric: twice.Metric[:1]},
		"value of a type":    {Name: ptr("x"), Type: dto.MetricType_COUNTER.Enum(), Metric: twice.Metric[:1]},
		"series twice":       twice,
		"label twice":        labelTwice,
		"deltas too short":   {Name: ptr("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{Schema: ptr(int32(0)), PositiveSpan: []*dto.BucketSpan{{Offset: ptr(int32(0)), Length: ptr(uint32(2))}}, PositiveDelta: []int64{1}}}}},
		"a negative count":   {Name: ptr("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{Schema: ptr(int32(0)), PositiveSpan: []*dto.BucketSpan{{Offset: ptr(int32(0)), Length: ptr(uint32(2))}}, PositiveDelta: []int64{1, -2}}}}},
		"native float count": {Name: ptr("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{Schema: ptr(int32(0)), ZeroCountFloat: ptr(1.0)}}}},
	} {
		t.Run(name, func(t *testing.T) {
			var gw SimulatedGateway
			assert.Error(t, gw.Put("g", []*dto.MetricFamily{mf}))
			assert.Empty(t, gw.Content())
		})
	}
}

func TestDecodeNative(t *testing.T) {
	// Spans {-2, 2} and {+3, 1}: indexes -2, -1, then 0+3 = 3. Deltas 1, +1,
	// -2: counts 1, 2, 0 (dropped).
	mf := &dto.MetricFamily{Name: ptr("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{
		SampleCount: ptr(uint64(4)), SampleSum: ptr(2.5),
		Schema: ptr(int32(3)), ZeroThreshold: ptr(1e-3), ZeroCount: ptr(uint64(1)),
		PositiveSpan:  []*dto.BucketSpan{{Offset: ptr(int32(-2)), Length: ptr(uint32(2))}, {Offset: ptr(int32(3)), Length: ptr(uint32(1))}},
		PositiveDelta: []int64{1, 1, -2},
		NegativeSpan:  []*dto.BucketSpan{{Offset: ptr(int32(5)), Length: ptr(uint32(1))}},
		NegativeDelta: []int64{0},
	}}}}
	f, err := DecodeFamily(mf)
	require.NoError(t, err)
	want := Value{Count: 4, Sum: 2.5, Native: &Native{Schema: 3, ZeroThreshold: 1e-3, ZeroCount: 1, Positive: map[int32]uint64{-2: 1, -1: 2}, Negative: map[int32]uint64{}}}
	assert.Equal(t, want, f.Series["{}"])

	t.Run("encoding and decoding give the same buckets", func(t *testing.T) {
		v := Value{Count: 9, Sum: -1, Native: &Native{Schema: -1, Positive: map[int32]uint64{-7: 1, -6: 2, 0: 1, 5: 3}, Negative: map[int32]uint64{3: 2}}}
		f, err := DecodeFamily(&dto.MetricFamily{Name: ptr("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{encodeMetric(dto.MetricType_HISTOGRAM, nil, v)}})
		require.NoError(t, err)
		assert.True(t, valuesEqual(v, f.Series["{}"]), "got %v", f.Series["{}"])
	})
	t.Run("without a schema a histogram is classic", func(t *testing.T) {
		v := Value{Count: 2, Sum: 1, Buckets: []Bucket{{1, 1}, {math.Inf(1), 2}}}
		f, err := DecodeFamily(&dto.MetricFamily{Name: ptr("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{encodeMetric(dto.MetricType_HISTOGRAM, nil, v)}})
		require.NoError(t, err)
		assert.Equal(t, v, f.Series["{}"])
	})
}

func TestDiff(t *testing.T) {
	fam := func(v float64, help string) Gateway {
		return Gateway{`{job="j"}`: {"x": {Type: dto.MetricType_GAUGE, Help: help, Series: map[string]Value{"{}": {Number: v}}}}}
	}
	assert.Empty(t, Diff(fam(math.NaN(), "h"), fam(math.NaN(), "h")), "NaN equals NaN")
	assert.Empty(t, Diff(fam(1e12, "h"), fam(1e12+1e2, "h")), "within 1e-9 relative")
	assert.Contains(t, Diff(fam(1, "h"), fam(1.00001, "h")), `group {job="j"} family x series {}: got`)
	assert.Contains(t, Diff(fam(1, "h"), fam(1, "g")), `help "g", want "h"`)
	assert.Contains(t, Diff(fam(1, "h"), Gateway{}), `group {job="j"}: missing`)
	assert.Contains(t, Diff(Gateway{}, fam(1, "h")), `group {job="j"}: not expected`)
	assert.Contains(t, Diff(fam(math.Inf(1), "h"), fam(math.MaxFloat64, "h")), "got")
	assert.Empty(t, Diff(
		Gateway{"g": {"h": {Type: dto.MetricType_HISTOGRAM, Series: map[string]Value{"{}": {Native: &Native{Positive: map[int32]uint64{1: 0}}}}}}},
		Gateway{"g": {"h": {Type: dto.MetricType_HISTOGRAM, Series: map[string]Value{"{}": {Native: &Native{}}}}}}), "a zero count is no bucket")
}
