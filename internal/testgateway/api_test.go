package testgateway

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// renderingFamilies is one family of every type, pushed to a gateway to
// see how its API renders each. testdata/api-v1-metrics-<version>.json are
// what gateways 1.5.1 and 1.11.3 answered to GET /api/v1/metrics after a
// PUT of these to /metrics/job/capture.
func renderingFamilies() []*dto.MetricFamily {
	family := func(name string, typ dto.MetricType, m *dto.Metric) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(name + " help"), Type: typ.Enum(), Metric: []*dto.Metric{m}}
	}
	bucket := func(le float64, count uint64) *dto.Bucket {
		return &dto.Bucket{UpperBound: proto.Float64(le), CumulativeCount: proto.Uint64(count)}
	}
	span := func(offset int32, length uint32) *dto.BucketSpan {
		return &dto.BucketSpan{Offset: proto.Int32(offset), Length: proto.Uint32(length)}
	}
	return []*dto.MetricFamily{
		family("capture_gauge", dto.MetricType_GAUGE, &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(2.5)}}),
		family("capture_total", dto.MetricType_COUNTER, &dto.Metric{Counter: &dto.Counter{Value: proto.Float64(3)}}),
		family("capture_summary", dto.MetricType_SUMMARY, &dto.Metric{Summary: &dto.Summary{
			SampleCount: proto.Uint64(4), SampleSum: proto.Float64(6),
			Quantile: []*dto.Quantile{{Quantile: proto.Float64(0.5), Value: proto.Float64(1)}, {Quantile: proto.Float64(0.9), Value: proto.Float64(2)}},
		}}),
		family("capture_classic_seconds", dto.MetricType_HISTOGRAM, &dto.Metric{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(5), SampleSum: proto.Float64(3),
			Bucket: []*dto.Bucket{bucket(0.5, 1), bucket(1, 3), bucket(math.Inf(1), 5)},
		}}),
		// Base 2: a zero bucket of 1, 3 in [-4, -2), 1 in (1, 2], 2 in (2, 4].
		family("capture_native_seconds", dto.MetricType_HISTOGRAM, &dto.Metric{Histogram: &dto.Histogram{
			SampleCount: proto.Uint64(7), SampleSum: proto.Float64(4.5), Schema: proto.Int32(0),
			ZeroThreshold: proto.Float64(0), ZeroCount: proto.Uint64(1),
			PositiveSpan: []*dto.BucketSpan{span(1, 2)}, PositiveDelta: []int64{1, 1},
			NegativeSpan: []*dto.BucketSpan{span(2, 1)}, NegativeDelta: []int64{3},
		}}),
	}
}

// wantRendering is what the API must decode to for renderingFamilies on a
// gateway of this version: the same for every family but the native
// histogram, whose buckets only gateways from 1.8 show.
func wantRendering(t *testing.T, version string) map[string]Family {
	t.Helper()
	showsNative, err := versionAtLeast(version, "1.8")
	require.NoError(t, err)
	labels := map[string]string{"job": "capture", "instance": ""}
	series := func(m Metric) []Metric {
		m.Labels = labels
		return []Metric{m}
	}
	native := Metric{Count: "7", Sum: "4.5"}
	if showsNative {
		native.NativeBuckets = []NativeBucket{
			{Boundaries: 1, Lower: "-4", Upper: "-2", Count: "3"},
			{Boundaries: 3, Lower: "-0", Upper: "0", Count: "1"},
			{Boundaries: 0, Lower: "1", Upper: "2", Count: "1"},
			{Boundaries: 0, Lower: "2", Upper: "4", Count: "2"},
		}
	} else {
		native.Buckets = map[string]string{}
	}
	return map[string]Family{
		"capture_gauge":   {Type: "GAUGE", Help: "capture_gauge help", Metrics: series(Metric{Value: "2.5"})},
		"capture_total":   {Type: "COUNTER", Help: "capture_total help", Metrics: series(Metric{Value: "3"})},
		"capture_summary": {Type: "SUMMARY", Help: "capture_summary help", Metrics: series(Metric{Count: "4", Sum: "6", Quantiles: map[string]string{"0.5": "1", "0.9": "2"}})},
		"capture_classic_seconds": {Type: "HISTOGRAM", Help: "capture_classic_seconds help", Metrics: series(Metric{
			Count: "5", Sum: "3", Buckets: map[string]string{"0.5": "1", "1": "3", "+Inf": "5"},
		})},
		"capture_native_seconds": {Type: "HISTOGRAM", Help: "capture_native_seconds help", Metrics: series(native)},
	}
}

// assertRendering checks the decoded groups hold the capture group with
// renderingFamilies as wantRendering says.
func assertRendering(t *testing.T, groups []Group, version string) {
	t.Helper()
	require.Len(t, groups, 1)
	assert.Equal(t, map[string]string{"job": "capture"}, groups[0].Labels)
	for name, want := range wantRendering(t, version) {
		assert.Equal(t, want, groups[0].Families[name], "family %s on %s", name, version)
	}
}

// TestDecodeGroupsOfEveryVersion decodes what gateways 1.5.1 and 1.11.3
// answered (testdata), whichever gateway this run has.
func TestDecodeGroupsOfEveryVersion(t *testing.T) {
	for _, version := range []string{"1.5.1", "1.11.3"} {
		t.Run(version, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "api-v1-metrics-"+version+".json"))
			require.NoError(t, err)
			groups, err := decodeGroups(body)
			require.NoError(t, err)
			assertRendering(t, groups, version)
		})
	}
}

// TestGroupsOfThisGateway pushes renderingFamilies to the gateway this run
// has (PUSHGATEWAY_BIN) and decodes what its API answers.
func TestGroupsOfThisGateway(t *testing.T) {
	g := Start(t)
	g.Push(t, http.MethodPut, "/metrics/job/capture", string(expfmt.NewFormat(expfmt.TypeProtoDelim)), encodeFamilies(t, renderingFamilies()))
	version := g.Version(t)
	t.Logf("Pushgateway %s", version)
	assertRendering(t, g.Groups(t), version)
	later, err := versionAtLeast(version, "1.8")
	require.NoError(t, err)
	assert.Equal(t, later, g.ShowsNativeBuckets(t))
}

func TestVersionAtLeast(t *testing.T) {
	for version, want := range map[string]bool{"1.5.1": false, "1.7.0": false, "1.8.0": true, "1.11.3": true, "2.0.0": true, "0.9.9": false} {
		got, err := versionAtLeast(version, "1.8")
		require.NoError(t, err)
		assert.Equal(t, want, got, version)
	}
	for _, bad := range []string{"", "1", "v1.8.0", "1.x.0"} {
		_, err := versionAtLeast(bad, "1.8")
		assert.Error(t, err, bad)
		_, err = versionAtLeast("1.8.0", bad)
		assert.Error(t, err, bad)
	}
}

func TestDecodeBuckets(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       Metric
		err        string
	}{
		{name: "le buckets", body: `{"buckets":{"1":"2","+Inf":"3"}}`, want: Metric{Buckets: map[string]string{"1": "2", "+Inf": "3"}}},
		{name: "no buckets", body: `{"value":"1"}`, want: Metric{Value: "1"}},
		{name: "null", body: `{"buckets":null}`, want: Metric{}},
		{name: "native, float counts", body: `{"buckets":[[2,"0.5","1","1.5"]]}`, want: Metric{NativeBuckets: []NativeBucket{{2, "0.5", "1", "1.5"}}}},
		{name: "native, no populated bucket", body: `{"buckets":[]}`, want: Metric{NativeBuckets: []NativeBucket{}}},
		{name: "a string", body: `{"buckets":"1"}`, err: "neither an object"},
		{name: "short bucket", body: `{"buckets":[[0,"1","2"]]}`, err: "want [boundaries, lower, upper, count]"},
		{name: "unknown boundaries", body: `{"buckets":[[4,"1","2","3"]]}`, err: "boundaries 4"},
		{name: "bound not a string", body: `{"buckets":[[0,1,"2","3"]]}`, err: "element 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Metric
			err := json.Unmarshal([]byte(tc.body), &m)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m)
		})
	}
}

// encodeFamilies is families in delimited protobuf, as a push body.
func encodeFamilies(t *testing.T, families []*dto.MetricFamily) string {
	t.Helper()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, f := range families {
		require.NoError(t, enc.Encode(f))
	}
	return buf.String()
}
