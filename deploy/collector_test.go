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
	logs                    *testgateway.LockedBuffer
}

// startCollector runs the built collector with config, in which @HTTP@
// and @TELEMETRY_PORT@ are replaced by free ports, and waits until it
// takes OTLP. It is stopped when the test ends.
func startCollector(t *testing.T, config string) *collector {
	t.Helper()
	c := &collector{httpAddr: testgateway.FreeAddr(t), telemetryAddr: testgateway.FreeAddr(t), logs: &testgateway.LockedBuffer{}}
	config = strings.NewReplacer("@HTTP@", c.httpAddr,
		"@TELEMETRY_PORT@", c.telemetryAddr[strings.LastIndex(c.telemetryAddr, ":")+1:]).Replace(config)
	file := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(file, []byte(config), 0o600))
	cmd := exec.Command(collectorBinary(t), "--config", file)
	cmd.Stdout, cmd.Stderr = c.logs, c.logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("collector log:\n%s", c.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("the collector exited:\n%s", c.logs.String())
		default:
		}
		resp, err := http.Get("http://" + c.telemetryAddr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		require.True(t, time.Now().Before(deadline), "the collector did not serve its metrics within 20s")
		time.Sleep(50 * time.Millisecond)
	}
}

// postOTLP sends an OTLP/JSON metrics request and returns the status.
func (c *collector) postOTLP(t *testing.T, body string) int {
	t.Helper()
	resp, err := http.Post("http://"+c.httpAddr+"/v1/metrics", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// selfMetrics is the collector's own /metrics, parsed.
func (c *collector) selfMetrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	body := httpGet(t, "http://"+c.telemetryAddr+"/metrics")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	return fams
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
