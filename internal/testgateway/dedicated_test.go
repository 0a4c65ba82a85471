package testgateway

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
)

const (
	textType     = "text/plain; version=0.0.4"
	protobufType = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
)

// recordingTB records what a checking proxy reports instead of failing
// the test, so a test can show that a check fails.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

func protobufBody(t *testing.T, fams ...*dto.MetricFamily) string {
	var buf bytes.Buffer
	for _, mf := range fams {
		_, err := protodelim.MarshalTo(&buf, mf)
		require.NoError(t, err)
	}
	return buf.String()
}

func gaugeFamily(name string, labels ...string) *dto.MetricFamily {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(1)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String("Help."), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{m}}
}

func histogramFamily(name string, bounds []float64, labels ...string) *dto.MetricFamily {
	mf := gaugeFamily(name, labels...)
	mf.Type = dto.MetricType_HISTOGRAM.Enum()
	h := &dto.Histogram{SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1)}
	for _, b := range bounds {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(1)})
	}
	mf.Metric[0].Gauge, mf.Metric[0].Histogram = nil, h
	return mf
}

func TestDedicatedChecksEveryWrite(t *testing.T) {
	g := StartWith(t, Options{Dedicated: true})
	require.True(t, g.Dedicated)
	require.NotEqual(t, g.direct, g.URL, "pushes go through the checking proxy")

	g.Push(t, http.MethodPut, "/metrics/job/a", textType, "# HELP x Help.\n# TYPE x gauge\nx 1\n")
	g.Push(t, http.MethodPost, "/metrics/job@base64/Yi9j/instance/i", textType, "# TYPE x gauge\nx{k=\"v\"} 2\n")
	g.Push(t, http.MethodPut, "/metrics/job/h", protobufType, protobufBody(t, histogramFamily("lat", []float64{0.5, 1})))
	g.Push(t, http.MethodDelete, "/metrics/job/a", "", "")
	// The proxy answers once the gateway has applied the write: no waiting.
	assert.Nil(t, g.Group(t, map[string]string{"job": "a"}), "the delete was applied before the proxy answered")
	assert.NotNil(t, g.Group(t, map[string]string{"job": "b/c", "instance": "i"}))

	writes, failures := g.Checked()
	assert.Equal(t, 4, writes)
	assert.Empty(t, failures)
}

// TestDedicatedReportsWhatBreaksTheGateway pushes, by hand, what a
// dedicated gateway accepts and then cannot serve (or serves in a form
// Prometheus cannot ingest): each must be reported, naming the write.
func TestDedicatedReportsWhatBreaksTheGateway(t *testing.T) {
	type push struct{ method, path, contentType, body string }
	text := func(path, body string) push { return push{http.MethodPut, path, textType, body} }
	pb := func(t *testing.T, path string, fams ...*dto.MetricFamily) push {
		return push{http.MethodPut, path, protobufType, protobufBody(t, fams...)}
	}
	tests := []struct {
		name   string
		pushes func(t *testing.T) []push
		// culprit is the write that must be named; want is in the report.
		culprit, want string
		// fineFrom, when set, is the gateway version (major.minor) from
		// which the pushes break nothing: nothing must be reported there.
		fineFrom string
	}{
		{
			name: "one name, two types in two groups",
			pushes: func(*testing.T) []push {
				return []push{text("/metrics/job/a", "# TYPE x gauge\nx 1\n"), text("/metrics/job/b", "# TYPE x counter\nx 1\n")}
			},
			culprit: "PUT /metrics/job/b", want: `is not a `, // GAUGE or COUNTER: the first group the gateway gathers wins
		},
		{
			name: "a summary's _count as a gauge in another group",
			pushes: func(*testing.T) []push {
				return []push{
					text("/metrics/job/a", "# TYPE s summary\ns_sum 1\ns_count 1\n"),
					text("/metrics/job/b", "# TYPE s_count gauge\ns_count 1\n"),
				}
			},
			culprit: "PUT /metrics/job/b", want: `collides with previously collected`, // either way round
		},
		{
			name: "the _count of the gateway's own summary",
			pushes: func(*testing.T) []push {
				return []push{text("/metrics/job/a", "# TYPE go_gc_duration_seconds_count gauge\ngo_gc_duration_seconds_count 1\n")}
			},
			culprit: "PUT /metrics/job/a", want: `collides with previously collected summary named "go_gc_duration_seconds"`,
		},
		{
			name: "a family of the gateway's own with another help",
			pushes: func(*testing.T) []push {
				return []push{text("/metrics/job/a", "# HELP pushgateway_http_requests_total Mine.\n# TYPE pushgateway_http_requests_total counter\npushgateway_http_requests_total 1\n")}
			},
			culprit: "PUT /metrics/job/a", want: `has help "Mine."`,
		},
		{
			name: "one series twice in one group",
			pushes: func(t *testing.T) []push {
				mf := gaugeFamily("x", "k", "v")
				mf.Metric = append(mf.Metric, gaugeFamily("x", "k", "v").Metric...)
				return []push{pb(t, "/metrics/job/a", mf)}
			},
			culprit: "PUT /metrics/job/a", want: "was collected before with the same name and label values",
		},
		{
			name: "a label value that is not UTF-8",
			pushes: func(t *testing.T) []push {
				return []push{pb(t, "/metrics/job/a", gaugeFamily("x", "k", "\xff"))}
			},
			culprit: "PUT /metrics/job/a", want: "is not utf8",
		},
		{
			name: "a metric name Prometheus cannot read, pushed in protobuf",
			pushes: func(t *testing.T) []push {
				return []push{pb(t, "/metrics/job/a", gaugeFamily("a.b"))}
			},
			culprit: "PUT /metrics/job/a", want: "the text exposition does not parse",
			// 1.11 takes UTF-8 names, and serves a.b as a_b to a scraper
			// that does not ask for them (Prometheus 2, promtool), as a.b
			// to one that does (Prometheus 3).
			fineFrom: "1.11",
		},
		{
			name: "an empty metric name: the exposition stops there, with 200",
			pushes: func(t *testing.T) []push {
				return []push{pb(t, "/metrics/job/a", gaugeFamily(""))}
			},
			culprit: "PUT /metrics/job/a", want: "was cut short",
		},
		{
			name: "a histogram series with its own le label",
			pushes: func(t *testing.T) []push {
				return []push{pb(t, "/metrics/job/a", histogramFamily("h", []float64{1}, "le", "7"))}
			},
			culprit: "PUT /metrics/job/a", want: `a series with its own "le" label`,
		},
		{
			name: "two series that differ only by an empty label",
			pushes: func(t *testing.T) []push {
				mf := gaugeFamily("x", "k", "")
				mf.Metric = append(mf.Metric, gaugeFamily("x").Metric...)
				return []push{pb(t, "/metrics/job/a", mf)}
			},
			culprit: "PUT /metrics/job/a", want: "appears twice",
		},
		{
			name: "a bucket bound twice",
			pushes: func(t *testing.T) []push {
				return []push{pb(t, "/metrics/job/a", histogramFamily("h", []float64{1, 1}))}
			},
			culprit: "PUT /metrics/job/a", want: `sample h_bucket{job="a",le="1"} appears twice`,
		},
		{
			name: "timestamps: answered 202, then refused",
			pushes: func(*testing.T) []push {
				return []push{text("/metrics/job/a", "# TYPE x gauge\nx 1 1000\n")}
			},
			culprit: "PUT /metrics/job/a", want: "answered 202, then refused the push",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			g := StartWith(rec, Options{Dedicated: true})
			pushes := tt.pushes(t)
			for _, p := range pushes {
				g.Push(t, p.method, p.path, p.contentType, p.body)
			}
			reported := rec.reported()
			if tt.fineFrom != "" && g.AtLeast(t, tt.fineFrom) {
				assert.Empty(t, reported, "a gateway from %s serves this without fault", tt.fineFrom)
				return
			}
			require.NotEmpty(t, reported, "the checking proxy found nothing wrong")
			t.Log(reported[len(reported)-1])
			assert.Contains(t, reported[len(reported)-1], tt.culprit+" answered 202")
			assert.Contains(t, reported[len(reported)-1], tt.want)
			if len(pushes) > 1 {
				assert.Len(t, reported, 1, "only the write that broke the gateway is named")
			}
			_, failures := g.Checked()
			assert.Equal(t, reported, prefixed(failures))
		})
	}
}

// TestDedicatedNamesOnlyTheWritesThatBrokeIt: once broken, a gateway
// stays broken; later writes are named only for what they break anew.
func TestDedicatedNamesOnlyTheWritesThatBrokeIt(t *testing.T) {
	rec := &recordingTB{TB: t}
	g := StartWith(rec, Options{Dedicated: true})
	g.Push(t, http.MethodPut, "/metrics/job/a", textType, "# TYPE go_gc_duration_seconds_count gauge\ngo_gc_duration_seconds_count 1\n")
	g.Push(t, http.MethodPut, "/metrics/job/b", textType, "# TYPE fine gauge\nfine 1\n")
	dup := gaugeFamily("x", "k", "v")
	dup.Metric = append(dup.Metric, gaugeFamily("x", "k", "v").Metric...)
	g.Push(t, http.MethodPut, "/metrics/job/c", protobufType, protobufBody(t, dup))
	g.Push(t, http.MethodDelete, "/metrics/job/a", "", "")

	reported := rec.reported()
	require.Len(t, reported, 2, "%q", reported)
	assert.Contains(t, reported[0], "PUT /metrics/job/a answered 202")
	assert.Contains(t, reported[0], "go_gc_duration_seconds")
	assert.Contains(t, reported[1], "PUT /metrics/job/c answered 202")
	assert.Contains(t, reported[1], "was collected before with the same name and label values")
	assert.NotContains(t, reported[1], "go_gc_duration_seconds", "what was broken before is not named again")
	assert.Contains(t, reported[1], "(and it was broken before)")
	writes, _ := g.Checked()
	assert.Equal(t, 4, writes)
}

func prefixed(failures []string) []string {
	out := make([]string, len(failures))
	for i, f := range failures {
		out[i] = "dedicated gateway: " + f
	}
	return out
}

// TestDedicatedAllowsWhatPrometheusIngests pushes what is legal if not
// pretty: help that differs between groups (the gateway shows one), names
// promtool only lints, an attribute called le on a gauge, a native
// histogram next to a classic one, summaries.
func TestDedicatedAllowsWhatPrometheusIngests(t *testing.T) {
	g := StartWith(t, Options{Dedicated: true})
	g.Push(t, http.MethodPut, "/metrics/job/a", textType, "# HELP x One.\n# TYPE x gauge\nx 1\n# TYPE fooBar_count counter\nfooBar_count{le=\"1\",quantile=\"q\"} 1\n# TYPE req_milliseconds summary\nreq_milliseconds{quantile=\"0.5\"} 1\nreq_milliseconds_sum 1\nreq_milliseconds_count 1\n")
	g.Push(t, http.MethodPut, "/metrics/job/b", textType, "# HELP x Two.\n# TYPE x gauge\nx 2\n# TYPE a:b_gauge_total gauge\na:b_gauge_total 1\n# TYPE c_sum gauge\nc_sum 1\n")
	native := histogramFamily("native_seconds", nil)
	native.Metric[0].Histogram.Schema = proto.Int32(3)
	native.Metric[0].Histogram.ZeroThreshold = proto.Float64(1e-128)
	native.Metric[0].Histogram.ZeroCount = proto.Uint64(1)
	g.Push(t, http.MethodPut, "/metrics/job/c", protobufType, protobufBody(t, native, histogramFamily("classic_seconds", []float64{0.1, 1})))
	writes, failures := g.Checked()
	assert.Equal(t, 3, writes)
	assert.Empty(t, failures)
}

func TestDedicatedSurvivesKillAndRestart(t *testing.T) {
	g := StartWith(t, Options{Dedicated: true})
	g.Push(t, http.MethodPut, "/metrics/job/a", textType, "x 1\n")

	g.Kill()
	resp, err := http.Post(g.URL+"/metrics/job/a", textType, strings.NewReader("x 2\n"))
	if err == nil {
		resp.Body.Close()
		assert.GreaterOrEqual(t, resp.StatusCode, 500, "a push to a killed gateway fails")
	}
	g.Restart(t, false)
	g.Push(t, http.MethodPut, "/metrics/job/b", textType, "y 1\n")
	assert.NotNil(t, g.Group(t, map[string]string{"job": "b"}), "the proxy reaches the restarted gateway")
	_, failures := g.Checked()
	assert.Empty(t, failures)
}

func TestDedicatedReadsPassThroughUnchecked(t *testing.T) {
	g := StartWith(t, Options{Dedicated: true})
	for _, path := range []string{"/metrics", "/api/v1/metrics", "/-/ready"} {
		resp, err := http.Get(g.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	writes, _ := g.Checked()
	assert.Zero(t, writes)
}

func TestDedicatedFromEnvironment(t *testing.T) {
	t.Setenv(DedicatedEnv, "1")
	g := Start(t)
	assert.True(t, g.Dedicated)
	assert.NotEqual(t, g.direct, g.URL)

	web := StartWith(t, Options{WebConfig: "{}\n"})
	assert.False(t, web.Dedicated, "a gateway with a web config is reached directly")
	assert.Equal(t, web.direct, web.URL)

	direct := StartWith(t, Options{Direct: true})
	assert.False(t, direct.Dedicated, "a direct gateway stays direct")
	assert.Equal(t, direct.direct, direct.URL)

	t.Setenv(DedicatedEnv, "0")
	assert.False(t, Start(t).Dedicated)

	t.Setenv(DedicatedEnv, "yes please")
	bad := &outcomeTB{TB: t}
	dedicatedFromEnv(bad)
	assert.Contains(t, bad.fatal, DedicatedEnv)

	both := &outcomeTB{TB: t}
	assert.Nil(t, StartWith(both, Options{Dedicated: true, WebConfig: "{}\n"}))
	assert.Contains(t, both.fatal, "cannot have a web config")
	both = &outcomeTB{TB: t}
	assert.Nil(t, StartWith(both, Options{Dedicated: true, Direct: true}))
	assert.Contains(t, both.fatal, "or be direct")
}

// TestPromtoolTolerated runs the real promtool on an exposition with every
// tolerated lint, and on texts it must not pass.
func TestPromtoolTolerated(t *testing.T) {
	c := &checker{promtool: Promtool(t)}
	linted := "# TYPE fooBar_count counter\nfooBar_count{aB=\"1\",le=\"2\",quantile=\"3\"} 1\n" +
		"# TYPE x_milliseconds_total gauge\nx_milliseconds_total 1\n" +
		"# TYPE a:b_counter_ms gauge\na:b_counter_ms 1\n" +
		"# TYPE y_bucket gauge\ny_bucket 1\n# TYPE y_sum gauge\ny_sum 1\n"
	require.NoError(t, c.runPromtool(t.Context(), []byte(linted)))

	err := c.runPromtool(t.Context(), []byte("# TYPE x gauge\n# TYPE x gauge\nx 1\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "error while linting")

	assert.False(t, promtoolToleratedLine("x some lint promtool may add one day"))
}
