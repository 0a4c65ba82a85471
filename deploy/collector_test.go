package deploy

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// collector is the built collector running on free 127.0.0.1 ports.
type collector struct {
	httpAddr, telemetryAddr string
	pid                     int
	logs                    *testgateway.LockedBuffer
}

// startCollector runs the built collector with config, in which @HTTP@
// and @TELEMETRY_PORT@ are replaced by free ports, and waits until it
// serves its own metrics. It is stopped when the test ends.
func startCollector(tb testing.TB, config string) *collector {
	tb.Helper()
	return runCollector(tb, config, nil)
}

// startImageConfigCollector runs the built collector on the image's
// default configuration (deploy/otelcol.yaml), its addresses moved to
// free 127.0.0.1 ports with the environment variables it reads.
func startImageConfigCollector(tb testing.TB, gatewayURL string) *collector {
	tb.Helper()
	return runCollector(tb, string(readFile(tb, "deploy/otelcol.yaml")), []string{
		"PUSHGATEWAY_ENDPOINT=" + gatewayURL,
		"OTLP_GRPC_LISTEN=" + testgateway.FreeAddr(tb),
		"OTLP_HTTP_LISTEN=@HTTP@",
		"HEALTH_CHECK_LISTEN=" + testgateway.FreeAddr(tb),
		"TELEMETRY_LISTEN_HOST=127.0.0.1",
		"TELEMETRY_LISTEN_PORT=@TELEMETRY_PORT@",
	})
}

func runCollector(tb testing.TB, config string, env []string) *collector {
	tb.Helper()
	c := &collector{httpAddr: testgateway.FreeAddr(tb), telemetryAddr: testgateway.FreeAddr(tb), logs: &testgateway.LockedBuffer{}}
	placeholders := strings.NewReplacer("@HTTP@", c.httpAddr,
		"@TELEMETRY_PORT@", c.telemetryAddr[strings.LastIndex(c.telemetryAddr, ":")+1:])
	file := filepath.Join(tb.TempDir(), "config.yaml")
	require.NoError(tb, os.WriteFile(file, []byte(placeholders.Replace(config)), 0o600))
	cmd := exec.Command(collectorBinary(tb), "--config", file)
	cmd.Env = os.Environ()
	for _, e := range env {
		cmd.Env = append(cmd.Env, placeholders.Replace(e))
	}
	exited := startProcess(tb, cmd, "collector", c.logs)
	c.pid = cmd.Process.Pid
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			tb.Fatalf("the collector exited:\n%s", c.logs.String())
		default:
		}
		resp, err := http.Get("http://" + c.telemetryAddr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		require.True(tb, time.Now().Before(deadline), "the collector did not serve its metrics within 20s")
		time.Sleep(50 * time.Millisecond)
	}
}

// post sends an OTLP/JSON metrics request and returns the status.
func (c *collector) post(tb testing.TB, body string) int {
	tb.Helper()
	resp, err := http.Post("http://"+c.httpAddr+"/v1/metrics", "application/json", strings.NewReader(body))
	require.NoError(tb, err)
	resp.Body.Close()
	return resp.StatusCode
}

// selfMetrics is the collector's own /metrics, parsed.
func (c *collector) selfMetrics(tb testing.TB) map[string]*dto.MetricFamily {
	tb.Helper()
	body := testgateway.GetOK(tb, "http://"+c.telemetryAddr+"/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader([]byte(body)))
	require.NoError(tb, err)
	return fams
}

// successfulPushes is the collector's count of pushes the gateway took.
func (c *collector) successfulPushes(tb testing.TB) int {
	tb.Helper()
	total := 0.0
	for _, m := range c.selfMetrics(tb)["otelcol_exporter_pushgateway_pushes"].GetMetric() {
		for _, label := range m.GetLabel() {
			if label.GetName() == "outcome" && label.GetValue() == "success" {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return int(total)
}

// otlpGauges is an OTLP/JSON request with one resource (service.name
// <service>, service.instance.id "i", and the extra attributes given as
// key, value pairs) holding one gauge point per value, each with the
// attribute series=<index>, at time unixNano.
func otlpGauges(service, name string, unixNano int64, values []float64, extra ...string) string {
	points := make([]string, len(values))
	for i, v := range values {
		points[i] = fmt.Sprintf(`{"asDouble":%g,"timeUnixNano":"%d","attributes":[{"key":"series","value":{"stringValue":"%d"}}]}`, v, unixNano, i)
	}
	attrs := []string{
		fmt.Sprintf(`{"key":"service.name","value":{"stringValue":%q}}`, service),
		`{"key":"service.instance.id","value":{"stringValue":"i"}}`,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs = append(attrs, fmt.Sprintf(`{"key":%q,"value":{"stringValue":%q}}`, extra[i], extra[i+1]))
	}
	return fmt.Sprintf(`{"resourceMetrics":[{"resource":{"attributes":[%s]},`+
		`"scopeMetrics":[{"metrics":[{"name":%q,"gauge":{"dataPoints":[%s]}}]}]}]}`,
		strings.Join(attrs, ","), name, strings.Join(points, ","))
}
