package deploy

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// TestPrometheusScrapesGroups runs a real Prometheus on
// deploy/prometheus/prometheus.yaml (its pushgateway target moved to a
// real gateway on 127.0.0.1) and reads back a pushed group with its own
// job and instance, and the alerting rules loaded. A second Prometheus,
// the same but with honor_labels off, shows what OPERATIONS.md says
// happens then: the group's labels move to exported_job and
// exported_instance, and a query by the batch job's job finds nothing.
func TestPrometheusScrapesGroups(t *testing.T) {
	bin := tool(t, "prometheus", "scripts/install-prometheus.sh")
	gateway := testgateway.Start(t)
	gateway.Push(t, http.MethodPut, "/metrics/job/nightly-etl/instance/pod-1", "text/plain",
		"# TYPE etl_rows_total counter\netl_rows_total 42\n")
	gatewayAddr := gateway.URL[len("http://"):]

	honoured := startPrometheus(t, bin, gatewayAddr, nil)
	ignored := startPrometheus(t, bin, gatewayAddr, func(job map[string]any) { job["honor_labels"] = false })

	series := honoured.waitSeries(t, `etl_rows_total{job="nightly-etl"}`)
	require.Len(t, series, 1)
	assert.Equal(t, "pod-1", series[0]["instance"])
	assert.NotContains(t, series[0], "exported_job")
	pushTime := honoured.waitSeries(t, `push_time_seconds{job="nightly-etl",instance="pod-1"}`)
	assert.Len(t, pushTime, 1, "the alerts' push_time_seconds, by the group's job and instance")

	series = ignored.waitSeries(t, `etl_rows_total{exported_job="nightly-etl"}`)
	require.Len(t, series, 1)
	assert.Equal(t, "pushgateway", series[0]["job"])
	assert.Equal(t, "pod-1", series[0]["exported_instance"])
	assert.Equal(t, gatewayAddr, series[0]["instance"])
	assert.Empty(t, ignored.query(t, `etl_rows_total{job="nightly-etl"}`))

	honoured.assertAlertsEvaluated(t)
}

// assertAlertsEvaluated waits until Prometheus has loaded every alerting
// rule of alerts.yaml and evaluated each without error.
func (p *prometheus) assertAlertsEvaluated(t *testing.T) {
	t.Helper()
	alerts := map[string]bool{}
	for _, group := range loadRules(t).Groups {
		for _, rule := range group.Rules {
			alerts[rule.Alert] = true
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		loaded := p.evaluatedAlerts(t)
		if len(loaded) == len(alerts) || time.Now().After(deadline) {
			for name := range alerts {
				health, ok := loaded[name]
				if assert.True(t, ok, "Prometheus did not load or evaluate %s", name) {
					assert.Equal(t, "ok", health, "health of %s", name)
				}
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type prometheus struct{ url string }

// startPrometheus runs Prometheus on the repository's configuration with
// the gateway's target pointing at addr, its job as the file has it and
// then changed by editJob (when not nil), scraping and evaluating every
// second, and waits until it is ready.
func startPrometheus(t *testing.T, bin, addr string, editJob func(job map[string]any)) *prometheus {
	t.Helper()
	var config map[string]any
	require.NoError(t, yaml.Unmarshal(readFile(t, "deploy/prometheus/prometheus.yaml"), &config))
	var scrapes []any
	for _, sc := range config["scrape_configs"].([]any) {
		job := sc.(map[string]any)
		if job["job_name"] != "pushgateway" {
			continue // no collector here
		}
		if editJob != nil {
			editJob(job)
		}
		job["static_configs"] = []any{map[string]any{"targets": []any{addr}}}
		scrapes = append(scrapes, job)
	}
	require.Len(t, scrapes, 1)
	config["scrape_configs"] = scrapes
	config["global"] = map[string]any{"scrape_interval": "1s", "evaluation_interval": "1s"}
	rendered, err := yaml.Marshal(config)
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yaml"), rendered, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alerts.yaml"), readFile(t, "deploy/prometheus/alerts.yaml"), 0o600))
	listen := testgateway.FreeAddr(t)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yaml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen)
	logs := &testgateway.LockedBuffer{}
	exited := startProcess(t, cmd, "prometheus", logs)
	p := &prometheus{url: "http://" + listen}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("prometheus exited:\n%s", logs.String())
		default:
		}
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		require.True(t, time.Now().Before(deadline), "prometheus not ready within 30s:\n%s", logs.String())
		time.Sleep(100 * time.Millisecond)
	}
}

// sample is one float sample of an instant query's result.
type sample struct {
	labels map[string]string
	value  float64
}

// samples returns an instant query's result: a vector of floats.
func (p *prometheus) samples(t *testing.T, promql string) []sample {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  []json.RawMessage `json:"value"` // [time, "value"]
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(testgateway.GetOK(t, p.url+"/api/v1/query?query="+url.QueryEscape(promql))), &resp))
	require.Equal(t, "success", resp.Status)
	require.Equal(t, "vector", resp.Data.ResultType, promql)
	out := make([]sample, len(resp.Data.Result))
	for i, r := range resp.Data.Result {
		out[i].labels = r.Metric
		require.Len(t, r.Value, 2, "%s: a float sample (a histogram sample has none)", promql)
		var value string
		require.NoError(t, json.Unmarshal(r.Value[1], &value))
		v, err := strconv.ParseFloat(value, 64)
		require.NoError(t, err, promql)
		out[i].value = v
	}
	return out
}

// query returns the label sets of an instant query's result.
func (p *prometheus) query(t *testing.T, promql string) []map[string]string {
	t.Helper()
	samples := p.samples(t, promql)
	out := make([]map[string]string, len(samples))
	for i, s := range samples {
		out[i] = s.labels
	}
	return out
}

// waitSeries polls the query until it returns something (Prometheus
// scrapes every second).
func (p *prometheus) waitSeries(t *testing.T, promql string) []map[string]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if series := p.query(t, promql); len(series) > 0 {
			return series
		}
		require.True(t, time.Now().Before(deadline), "%s: no series after 30s", promql)
		time.Sleep(200 * time.Millisecond)
	}
}

// evaluatedAlerts maps each alerting rule Prometheus has evaluated to its
// health.
func (p *prometheus) evaluatedAlerts(t *testing.T) map[string]string {
	t.Helper()
	var resp struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name           string `json:"name"`
					Type           string `json:"type"`
					Health         string `json:"health"`
					LastEvaluation string `json:"lastEvaluation"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(testgateway.GetOK(t, p.url+"/api/v1/rules")), &resp))
	out := map[string]string{}
	for _, g := range resp.Data.Groups {
		for _, r := range g.Rules {
			if r.Type == "alerting" && r.Health != "unknown" {
				out[r.Name] = r.Health
			}
		}
	}
	return out
}
