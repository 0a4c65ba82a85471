package e2e

// Fault scenarios that need the built collector: the gateway down while a
// batch job reports (1), and the collector itself killed with data in its
// persistent queue (5). Each logs one "fault-result:" line.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// faultResult logs the scenario's one-line result.
func faultResult(t *testing.T, scenario int, injected, checked string, recovery time.Duration) {
	t.Logf("fault-result: scenario=%d injected=%q checked=%q recovery=%s",
		scenario, injected, checked, recovery.Round(time.Millisecond))
}

// faultRetry retries for long enough to outlast every outage below.
const faultRetry = `{initial_interval: 100ms, max_interval: 500ms, max_elapsed_time: 60s}`

// isRetry matches the retry sender's "will retry" entry.
func isRetry(e logEntry) bool {
	return strings.Contains(e.Msg, "Will retry")
}

// pushedOK matches the exporter's debug entry of a successful push of group.
func pushedOK(group string) func(logEntry) bool {
	return func(e logEntry) bool {
		_, failed := e.Fields["error"]
		return e.Msg == "Pushed group" && e.Fields["group"] == group && !failed
	}
}

// killCollector ends the collector with SIGKILL, as a crash would, and
// waits for it to exit; its cleanup then has nothing left to stop.
func killCollector(t *testing.T, col *collector) {
	t.Helper()
	require.NoError(t, col.cmd.Process.Kill())
	select {
	case <-col.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the collector did not exit within 10s of SIGKILL")
	}
	require.NotNil(t, col.cmd.ProcessState)
	require.False(t, col.cmd.ProcessState.Success(), "killed, not exited cleanly")
}

// Scenario 1: the gateway is down while a batch job reports and exits; the
// collector holds the data in its in-memory queue and delivers it once the
// gateway is back.
func TestFault1GatewayDownThenBack(t *testing.T) {
	gw := testgateway.Start(t)
	gw.Kill()

	col := startCollectorWithConfig(t, fmt.Sprintf(`
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
    sending_queue: {enabled: true, num_consumers: 2, queue_size: 100}
    retry_on_failure: %s
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry:
    logs: {encoding: json}
    metrics: {level: none}
`, gw.URL, faultRetry))

	exp, err := otlpmetricgrpc.New(context.Background(),
		otlpmetricgrpc.WithEndpoint(col.grpcAddr), otlpmetricgrpc.WithInsecure())
	require.NoError(t, err)
	// Returns only once the collector accepted the data.
	runBatchJob(t, exp,
		attribute.String("service.name", "fault1-etl"),
		attribute.String("service.instance.id", "runner-1"),
	)

	time.Sleep(3 * time.Second)
	retries := countLogEntries(col, isRetry)
	require.GreaterOrEqual(t, retries, 2, "pushes to the dead gateway were retried")

	gw.Restart(t, true)
	restarted := time.Now()
	labels := map[string]string{"job": "fault1-etl", "instance": "runner-1"}
	grp := gw.WaitGroup(t, labels, 15*time.Second, func(g testgateway.Group) bool {
		return valuesBy(g.Families["job_rows_processed_total"], "table")["orders"] == "1000" &&
			len(g.Families["job_step_duration_seconds"].Metrics) == 1
	})
	recovery := time.Since(restarted)

	assert.Equal(t, "COUNTER", grp.Families["job_rows_processed_total"].Type)
	assert.Equal(t, map[string]string{"orders": "1000", "customers": "5"},
		valuesBy(grp.Families["job_rows_processed_total"], "table"))
	assert.Equal(t, map[string]string{"": "-2"}, valuesBy(grp.Families["job_batches_in_flight"], "none"))
	assert.Equal(t, map[string]string{"": "2048"}, valuesBy(grp.Families["job_memory_usage_bytes"], "none"))
	hist := grp.Families["job_step_duration_seconds"]
	require.Len(t, hist.Metrics, 1)
	assert.Equal(t, "5", hist.Metrics[0].Count)
	assert.Equal(t, "16.8", hist.Metrics[0].Sum)
	assert.Equal(t, map[string]string{"0.5": "1", "1": "3", "5": "4", "+Inf": "5"}, hist.Metrics[0].Buckets)
	assert.Len(t, gw.Groups(t), 1, "only the job's group")

	col.stop(t)
	assert.Zero(t, countLogEntries(col, func(e logEntry) bool { return e.Level == "error" }),
		"no data dropped or rejected")
	faultResult(t, 1,
		"gateway SIGKILLed before the job; job exits OK into the in-memory queue; gateway restarted 3s later",
		fmt.Sprintf("%d retries while down; then counter, gauge, up-down counter and histogram stored exactly", retries),
		recovery)
}

// fault5Job is one run of a batch job: rows for table=orders on a counter
// and a gauge, flushed to the collector before it returns.
func fault5Job(t *testing.T, col *collector, rows int64, memory float64) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(col.grpcAddr), otlpmetricgrpc.WithInsecure())
	require.NoError(t, err)
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "fault5-etl"))),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
	)
	meter := provider.Meter("e2e")
	counter, err := meter.Int64Counter("job.rows.processed", metric.WithUnit("{row}"))
	require.NoError(t, err)
	counter.Add(ctx, rows, metric.WithAttributes(attribute.String("table", "orders")))
	gauge, err := meter.Float64Gauge("job.memory.usage", metric.WithUnit("By"))
	require.NoError(t, err)
	gauge.Record(ctx, memory)

	shutdownCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	require.NoError(t, provider.Shutdown(shutdownCtx), "flushing to the collector")
}

// fault5Values reports whether the group holds exactly these values.
func fault5Values(rows, memory string) func(testgateway.Group) bool {
	return func(g testgateway.Group) bool {
		return assert.ObjectsAreEqual(map[string]string{"orders": rows}, valuesBy(g.Families["job_rows_processed_total"], "table")) &&
			assert.ObjectsAreEqual(map[string]string{"": memory}, valuesBy(g.Families["job_memory_usage_bytes"], "none"))
	}
}

// Scenario 5: the collector is SIGKILLed while its file-backed queue holds
// a request it could not deliver; a new collector on the same storage
// delivers it once, and later data replaces it for good.
func TestFault5CollectorKilledWithPersistentQueue(t *testing.T) {
	gw := testgateway.Start(t)
	gw.Kill()
	storageDir := t.TempDir()

	// No batch processor: the receiver's call returns once the exporter's
	// queue has stored the request, so the job's success means "on disk".
	config := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "@GRPC@"}
      http: {endpoint: "@HTTP@"}
extensions:
  file_storage: {directory: %q}
exporters:
  pushgateway:
    endpoint: %q
    sending_queue: {enabled: true, storage: file_storage}
    retry_on_failure: %s
service:
  extensions: [file_storage]
  pipelines:
    metrics: {receivers: [otlp], exporters: [pushgateway]}
  telemetry:
    logs: {level: debug, encoding: json}
    metrics: {level: none}
`, storageDir, gw.URL, faultRetry)
	const group = `{job="fault5-etl"}`
	labels := map[string]string{"job": "fault5-etl"}

	first := startCollectorWithConfig(t, config)
	fault5Job(t, first, 1000, 2048)
	// The queue handed the request to the exporter (which records it as
	// dispatched in the storage first) and the push failed.
	waitLogEntry(t, first, 10*time.Second, isRetry)
	files, err := os.ReadDir(storageDir)
	require.NoError(t, err)
	require.Len(t, files, 1, "one queue file in the storage directory")
	info, err := os.Stat(filepath.Join(storageDir, files[0].Name()))
	require.NoError(t, err)
	require.NotZero(t, info.Size())
	killCollector(t, first)

	gw.Restart(t, true)
	require.Nil(t, gw.Group(t, labels), "nothing reached the gateway before the crash")

	started := time.Now()
	second := startCollectorWithConfig(t, config)
	gw.WaitGroup(t, labels, 15*time.Second, fault5Values("1000", "2048"))
	recovery := time.Since(started)

	moved := waitLogEntry(t, second, 5*time.Second, func(e logEntry) bool {
		return e.Msg == "Moved items for dispatching back to queue"
	})
	assert.EqualValues(t, 1, moved.Fields["numberOfItems"], "the one request in flight at the crash was restored")
	// Wait for any duplicate to show: the restored request is pushed once.
	time.Sleep(time.Second)
	assert.Equal(t, 1, countLogEntries(second, pushedOK(group)), "the restored request was delivered once")
	require.True(t, fault5Values("1000", "2048")(*gw.Group(t, labels)), "the counter is exactly 1000")

	// A later run of the job: its values replace the restored ones for good.
	fault5Job(t, second, 1500, 4096)
	gw.WaitGroup(t, labels, 10*time.Second, fault5Values("1500", "4096"))
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		grp := gw.Group(t, labels)
		require.NotNil(t, grp)
		require.True(t, fault5Values("1500", "4096")(*grp), "the old values came back: %+v", grp.Families)
	}
	assert.Equal(t, 2, countLogEntries(second, pushedOK(group)), "one push per request, no replay")
	assert.Len(t, gw.Groups(t), 1, "only the job's group")

	second.stop(t)
	assert.Zero(t, countLogEntries(second, func(e logEntry) bool { return e.Level == "error" }),
		"no data dropped or rejected")
	faultResult(t, 5,
		"gateway down; collector SIGKILLed with counter=1000 in its file_storage queue, mid-retry; gateway and a new collector on the same storage started",
		"restored request delivered once (counter 1000, not doubled); a later run's 1500 replaces it and stays",
		recovery)
}
