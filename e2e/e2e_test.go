// Package e2e drives the collector binary built by ocb with the OTel Go SDK
// and checks what a real Pushgateway stored.
package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testproc"
)

// collectorBinary is the ocb-built collector: $COLLECTOR_BIN (make e2e sets
// it), else the repository's _build/otelcol-pushgateway, built if missing.
func collectorBinary(t testing.TB) string {
	t.Helper()
	return testproc.Built(t, "COLLECTOR_BIN", repoRoot(t), "build", "_build/otelcol-pushgateway")
}

// repoRoot is the repository's root, the folder above this module.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	return root
}

type collector struct {
	grpcAddr, httpAddr string
	cmd                *exec.Cmd
	logs               *testgateway.LockedBuffer
	exited             chan error

	// What start runs: the binary, its configuration file and the
	// environment it adds.
	bin, configPath string
	env             []string
	usesHTTP        bool
}

// startCollector runs the collector with OTLP on free ports, exporting to
// the gateway, and waits until it accepts OTLP.
func startCollector(t *testing.T, gatewayURL string) *collector {
	t.Helper()
	return startCollectorWithConfig(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "@GRPC@"}
      http: {endpoint: "@HTTP@"}
processors:
  batch: {timeout: 200ms}
exporters:
  pushgateway:
    endpoint: %q
    retry_on_failure: {initial_interval: 100ms, max_interval: 1s}
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry:
    metrics: {level: none}
`, gatewayURL))
}

// startCollectorWithConfig runs the collector with a configuration of the
// test's own and waits until it accepts OTLP. "@GRPC@" and "@HTTP@" in the
// configuration become the free addresses it listens on.
func startCollectorWithConfig(t testing.TB, config string) *collector {
	t.Helper()
	return startCollectorBinary(t, collectorBinary(t), config)
}

// startCollectorBinary runs the collector binary bin (the ocb-built
// collector or another ocb build, such as tier 1 of the scale-out layout)
// with config and the extra environment env ("NAME=value"), and waits
// until it accepts OTLP. "@GRPC@" and "@HTTP@", in the configuration and in
// env's values, become the free addresses it listens on.
func startCollectorBinary(t testing.TB, bin, config string, env ...string) *collector {
	t.Helper()
	c := &collector{
		grpcAddr: testgateway.FreeAddr(t),
		httpAddr: testgateway.FreeAddr(t),
		logs:     &testgateway.LockedBuffer{},
		bin:      bin,
		usesHTTP: strings.Contains(config+strings.Join(env, "\n"), "@HTTP@"),
	}
	placeholders := strings.NewReplacer("@GRPC@", c.grpcAddr, "@HTTP@", c.httpAddr)
	config = placeholders.Replace(config)
	for _, kv := range env {
		c.env = append(c.env, placeholders.Replace(kv))
	}
	c.configPath = filepath.Join(t.TempDir(), "otelcol.yaml")
	require.NoError(t, os.WriteFile(c.configPath, []byte(config), 0o600))
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			t.Logf("collector config:\n%s\nenvironment: %q\ncollector output:\n%s", config, c.env, c.logs.String())
		}
	})
	c.start(t)
	return c
}

// start runs the collector, on the addresses it had if it ran before, and
// waits until it accepts OTLP.
func (c *collector) start(t testing.TB) {
	t.Helper()
	c.exited = make(chan error, 1)
	c.cmd = exec.Command(c.bin, "--config", c.configPath)
	c.cmd.Env = append(os.Environ(), c.env...)
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	testproc.DieWithParent(c.cmd)
	require.NoError(t, c.cmd.Start())
	cmd, exited := c.cmd, c.exited
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(30 * time.Second)
	for !listening(c.grpcAddr) || (c.usesHTTP && !listening(c.httpAddr)) {
		select {
		case err := <-c.exited:
			t.Fatalf("collector exited before accepting OTLP: %v\n%s", err, c.logs.String())
		default:
		}
		require.True(t, time.Now().Before(deadline), "collector not listening after 30s:\n%s", c.logs.String())
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (c *collector) stop(t testing.TB) {
	if c.cmd == nil || c.cmd.Process == nil || c.cmd.ProcessState != nil {
		return // never started, or already exited
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		assert.NoError(t, err, "collector exit")
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		t.Error("collector did not stop within 20s of SIGTERM")
	}
}

func listening(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err == nil {
		conn.Close()
	}
	return err == nil
}

// runBatchJob is what a user's batch job does: record, flush, exit.
func runBatchJob(t *testing.T, exporter sdkmetric.Exporter, attrs ...attribute.KeyValue) {
	t.Helper()
	ctx := context.Background()
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(attrs...)),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithInterval(time.Hour))),
	)
	meter := provider.Meter("e2e")

	rows, err := meter.Int64Counter("job.rows.processed", metric.WithUnit("{row}"), metric.WithDescription("Rows processed."))
	require.NoError(t, err)
	rows.Add(ctx, 700, metric.WithAttributes(attribute.String("table", "orders")))
	rows.Add(ctx, 300, metric.WithAttributes(attribute.String("table", "orders")))
	rows.Add(ctx, 5, metric.WithAttributes(attribute.String("table", "customers")))

	inFlight, err := meter.Int64UpDownCounter("job.batches.in_flight", metric.WithUnit("{batch}"))
	require.NoError(t, err)
	inFlight.Add(ctx, 3)
	inFlight.Add(ctx, -5)

	memory, err := meter.Float64Gauge("job.memory.usage", metric.WithUnit("By"))
	require.NoError(t, err)
	memory.Record(ctx, 1024)
	memory.Record(ctx, 2048)

	duration, err := meter.Float64Histogram("job.step.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.5, 1, 5))
	require.NoError(t, err)
	for _, v := range []float64{0.2, 0.7, 0.9, 3, 12} {
		duration.Record(ctx, v)
	}

	shutdownCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	require.NoError(t, provider.Shutdown(shutdownCtx), "flushing to the collector")
}

func TestBatchJobsReachThePushgateway(t *testing.T) {
	gw := testgateway.Start(t)
	col := startCollector(t, gw.URL)
	ctx := context.Background()

	grpcExp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(col.grpcAddr), otlpmetricgrpc.WithInsecure())
	require.NoError(t, err)
	runBatchJob(t, grpcExp,
		attribute.String("service.name", "nightly-etl"),
		attribute.String("service.namespace", "ci"),
		attribute.String("service.instance.id", "runner 1"),
	)
	httpExp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(col.httpAddr), otlpmetrichttp.WithInsecure())
	require.NoError(t, err)
	runBatchJob(t, httpExp, attribute.String("service.name", "report"))

	for _, labels := range []map[string]string{
		{"job": "ci/nightly-etl", "instance": "runner 1"},
		{"job": "report"},
	} {
		grp := gw.WaitGroup(t, labels, 20*time.Second, func(g testgateway.Group) bool {
			return len(g.Families["job_step_duration_seconds"].Metrics) == 1
		})
		assert.Equal(t, "COUNTER", grp.Families["job_rows_processed_total"].Type)
		assert.Equal(t, map[string]string{"orders": "1000", "customers": "5"},
			valuesBy(grp.Families["job_rows_processed_total"], "table"))
		assert.Equal(t, "Rows processed.", grp.Families["job_rows_processed_total"].Help)

		assert.Equal(t, "GAUGE", grp.Families["job_batches_in_flight"].Type)
		assert.Equal(t, map[string]string{"": "-2"}, valuesBy(grp.Families["job_batches_in_flight"], "none"))

		assert.Equal(t, "GAUGE", grp.Families["job_memory_usage_bytes"].Type)
		assert.Equal(t, map[string]string{"": "2048"}, valuesBy(grp.Families["job_memory_usage_bytes"], "none"))

		hist := grp.Families["job_step_duration_seconds"]
		assert.Equal(t, "HISTOGRAM", hist.Type)
		assert.Equal(t, "5", hist.Metrics[0].Count)
		assert.Equal(t, "16.8", hist.Metrics[0].Sum)
		assert.Equal(t, map[string]string{"0.5": "1", "1": "3", "5": "4", "+Inf": "5"}, hist.Metrics[0].Buckets)
	}
	assert.Len(t, gw.Groups(t), 2, "exactly the two jobs' groups")

	col.stop(t)
	for _, line := range strings.Split(col.logs.String(), "\n") {
		assert.NotContains(t, line, "\terror\t", "the collector logged an error")
	}
}

// valuesBy maps the value of one label to each series' value.
func valuesBy(f testgateway.Family, label string) map[string]string {
	out := map[string]string{}
	for _, m := range f.Metrics {
		out[m.Labels[label]] = m.Value
	}
	return out
}
