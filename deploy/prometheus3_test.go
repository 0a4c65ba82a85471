package deploy

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testproc"
)

// prometheus3Binary is Prometheus 3: $PROMETHEUS3_BIN (make deploy-test
// sets it), else what make prometheus3 installs. Debian's is 2.42.
func prometheus3Binary(t *testing.T) string {
	t.Helper()
	return testproc.Program(t, "PROMETHEUS3_BIN", []string{filepath.Join(repoRoot(t), "_build", "prometheus-3.16.0", "prometheus")},
		"no Prometheus 3: set PROMETHEUS3_BIN or run make prometheus3")
}

// TestPrometheus3EndToEnd sends one point of every shape to the built
// collector, which pushes it to a real gateway, which a real Prometheus 3
// scrapes with deploy/prometheus/prometheus.yaml (honor_labels: true) and
// scrape_native_histograms: true; then asks Prometheus what a user would.
// Every expected value follows from the points sent, by the OTel →
// Prometheus rules of docs/MAPPING.md and PromQL's own definitions.
func TestPrometheus3EndToEnd(t *testing.T) {
	bin := prometheus3Binary(t)
	gateway := testgateway.Start(t)
	c := startCollector(t, `
receivers:
  otlp:
    protocols:
      http: {endpoint: "@HTTP@"}
exporters:
  pushgateway:
    endpoint: `+gateway.URL+`
service:
  pipelines:
    metrics: {receivers: [otlp], exporters: [pushgateway]}
  telemetry:
    metrics:
      readers:
        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: @TELEMETRY_PORT@}}}
`)
	prom := startPrometheus(t, bin, strings.TrimPrefix(gateway.URL, "http://"), func(job map[string]any) {
		require.Equal(t, true, job["honor_labels"], "the shipped scrape configuration honours the groups' labels")
		job["scrape_native_histograms"] = true
	})
	version := prom.version(t)
	require.True(t, strings.HasPrefix(version, "3."), "Prometheus %q, not 3", version)

	require.Equal(t, http.StatusOK, c.post(t, everyShape(time.Now())))

	group := `job="nightly-etl",instance="pod-1"`
	// One scrape carries the whole group, pushed at once.
	series := prom.waitSeries(t, `etl_rows_total{`+group+`}`)
	require.Len(t, series, 1)
	assert.Equal(t, map[string]string{
		"__name__": "etl_rows_total", "job": "nightly-etl", "instance": "pod-1",
		"table": "orders", "otel_scope_name": "etl", "otel_scope_version": "1.2.0",
	}, series[0], "the group's own job and instance, the point's attribute, the scope")

	for _, tc := range []struct {
		name, promql string
		want         float64
	}{
		// A monotonic cumulative sum is a counter with _total.
		{"counter", `etl_rows_total{` + group + `}`, 42},
		{"gauge", `etl_queue_depth{` + group + `}`, 7.5},
		// A non-monotonic sum (an up-down counter) is a gauge.
		{"up-down counter", `etl_batches_in_flight{` + group + `}`, -3},

		// Explicit buckets ≤0.5: 1, ≤1: 2, ≤5: 1, above: 1 (0.25; 0.75,
		// 0.875; 3; 12) are cumulative le buckets 1, 3, 4, 5.
		{"classic histogram count", `etl_step_duration_seconds_count{` + group + `}`, 5},
		{"classic histogram sum", `etl_step_duration_seconds_sum{` + group + `}`, 16.875},
		{"classic histogram +Inf bucket", `etl_step_duration_seconds_bucket{` + group + `,le="+Inf"}`, 5},
		// Rank 2.5 falls in (0.5, 1], holding ranks 1 to 3: linear
		// interpolation, 0.5 + 0.5 × 1.5/2.
		{"classic histogram median", `histogram_quantile(0.5, etl_step_duration_seconds_bucket{` + group + `})`, 0.875},
		// Rank 3.5 falls in (1, 5], holding rank 4 only: 1 + 4 × 0.5/1.
		{"classic histogram 70th percentile", `histogram_quantile(0.7, etl_step_duration_seconds_bucket{` + group + `})`, 3},
		// Rank 4.5 falls in (5, +Inf]: the highest finite bound.
		{"classic histogram 90th percentile", `histogram_quantile(0.9, etl_step_duration_seconds_bucket{` + group + `})`, 5},

		// Scale 0 (base 2): a zero bucket of 1 (the observation 0), 1 in
		// (1, 2] (1.5), 2 in (2, 4] (3 and 3.5).
		{"native histogram count", `histogram_count(etl_item_latency_seconds{` + group + `})`, 4},
		{"native histogram sum", `histogram_sum(etl_item_latency_seconds{` + group + `})`, 8},
		// Counting down from the top for q ≥ 0.5, rank 2 ends exactly at
		// the bottom of (2, 4].
		{"native histogram median", `histogram_quantile(0.5, etl_item_latency_seconds{` + group + `})`, 2},
		// Rank 1 from the top is halfway into (2, 4]'s two observations;
		// within an exponential bucket PromQL interpolates on a log scale:
		// 2^(1 + 0.5).
		{"native histogram 75th percentile", `histogram_quantile(0.75, etl_item_latency_seconds{` + group + `})`, math.Exp2(1.5)},
		// The observations in [-1, 2]: the zero bucket's and (1, 2]'s.
		{"native histogram fraction", `histogram_fraction(-1, 2, etl_item_latency_seconds{` + group + `})`, 0.5},

		{"summary median", `etl_payload_size_bytes{` + group + `,quantile="0.5"}`, 20},
		{"summary 90th percentile", `etl_payload_size_bytes{` + group + `,quantile="0.9"}`, 40},
		{"summary count", `etl_payload_size_bytes_count{` + group + `}`, 4},
		{"summary sum", `etl_payload_size_bytes_sum{` + group + `}`, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			samples := prom.samples(t, tc.promql)
			require.Len(t, samples, 1, "%s: one sample", tc.promql)
			assert.InDelta(t, tc.want, samples[0].value, 1e-9, tc.promql)
		})
	}

	// Each family has the type the mapping gives it, and the native
	// histogram is native only: no classic series beside it.
	assert.Equal(t, map[string]string{
		"etl_rows_total":            "counter",
		"etl_queue_depth":           "gauge",
		"etl_batches_in_flight":     "gauge",
		"etl_step_duration_seconds": "histogram",
		"etl_item_latency_seconds":  "histogram",
		"etl_payload_size_bytes":    "summary",
	}, prom.types(t, "etl_"))
	assert.Empty(t, prom.query(t, `{__name__=~"etl_item_latency_seconds_(bucket|count|sum)"}`), "classic series of the native histogram")
	assert.Empty(t, prom.query(t, `histogram_count(etl_step_duration_seconds{`+group+`})`), "a native histogram made of the classic one")

	// The alerting rules hold in Prometheus 3's PromQL too.
	prom.assertAlertsEvaluated(t)
}

// everyShape is an OTLP/JSON request with one resource (group
// nightly-etl/pod-1, scope etl 1.2.0) holding one cumulative point of
// every shape, at now and started a minute before.
func everyShape(now time.Time) string {
	start, at := now.Add(-time.Minute).UnixNano(), now.UnixNano()
	times := fmt.Sprintf(`"startTimeUnixNano":"%d","timeUnixNano":"%d"`, start, at)
	metrics := []string{
		`{"name":"etl.rows","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{` + times +
			`,"asInt":"42","attributes":[{"key":"table","value":{"stringValue":"orders"}}]}]}}`,
		`{"name":"etl.queue.depth","gauge":{"dataPoints":[{` + times + `,"asDouble":7.5}]}}`,
		`{"name":"etl.batches.in_flight","sum":{"aggregationTemporality":2,"isMonotonic":false,"dataPoints":[{` + times + `,"asInt":"-3"}]}}`,
		`{"name":"etl.step.duration","unit":"s","histogram":{"aggregationTemporality":2,"dataPoints":[{` + times +
			`,"count":"5","sum":16.875,"explicitBounds":[0.5,1,5],"bucketCounts":["1","2","1","1"]}]}}`,
		`{"name":"etl.item.latency","unit":"s","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{` + times +
			`,"count":"4","sum":8,"scale":0,"zeroCount":"1","positive":{"offset":0,"bucketCounts":["1","2"]}}]}}`,
		`{"name":"etl.payload.size","unit":"By","summary":{"dataPoints":[{` + times +
			`,"count":"4","sum":100,"quantileValues":[{"quantile":0.5,"value":20},{"quantile":0.9,"value":40}]}]}}`,
	}
	return `{"resourceMetrics":[{"resource":{"attributes":[` +
		`{"key":"service.name","value":{"stringValue":"nightly-etl"}},` +
		`{"key":"service.instance.id","value":{"stringValue":"pod-1"}}]},` +
		`"scopeMetrics":[{"scope":{"name":"etl","version":"1.2.0"},"metrics":[` + strings.Join(metrics, ",") + `]}]}]}`
}

// version is Prometheus' version, as its build information reports it.
func (p *prometheus) version(t *testing.T) string {
	t.Helper()
	var resp struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(testgateway.GetOK(t, p.url+"/api/v1/status/buildinfo")), &resp))
	return resp.Data.Version
}

// types maps each metric family Prometheus holds metadata for whose name
// starts with prefix to its type.
func (p *prometheus) types(t *testing.T, prefix string) map[string]string {
	t.Helper()
	var resp struct {
		Data map[string][]struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(testgateway.GetOK(t, p.url+"/api/v1/metadata")), &resp))
	out := map[string]string{}
	for name, entries := range resp.Data {
		if strings.HasPrefix(name, prefix) && len(entries) > 0 {
			out[name] = entries[0].Type
		}
	}
	return out
}
