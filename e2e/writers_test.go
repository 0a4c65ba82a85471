package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// sdkRunEnv, when set, makes the test binary one run of a batch job
// instead of a test run (see TestMain): each run a process of its own, as
// a per-process random service.instance.id needs.
const sdkRunEnv = "E2E_SDK_BATCH_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(sdkRunEnv) != "" {
		if err := sdkBatchRun(); err != nil {
			fmt.Fprintln(os.Stderr, "batch run:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sdkBatchRun is a batch job configured only by the standard OTEL_*
// variables, with the SDK's default resource: it counts 5 rows and exits.
func sdkBatchRun() error {
	ctx := context.Background()
	exp, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return err
	}
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	rows, err := provider.Meter("nightly").Int64Counter("rows")
	if err != nil {
		return err
	}
	rows.Add(ctx, 5)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return provider.Shutdown(ctx)
}

// runSDKBatchRuns runs the batch job n times, one process after another,
// against the collector's OTLP HTTP receiver.
func runSDKBatchRuns(t *testing.T, col *collector, n int) {
	t.Helper()
	for range n {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(),
			sdkRunEnv+"=1",
			"OTEL_GO_X_RESOURCE=true", // the SDK makes a random service.instance.id per process
			"OTEL_SERVICE_NAME=nightly",
			"OTEL_EXPORTER_OTLP_ENDPOINT=http://"+col.httpAddr,
			"OTEL_RESOURCE_ATTRIBUTES=",
		)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "batch run:\n%s", out)
	}
}

func TestRandomInstancePerRunWithTheDefaults(t *testing.T) {
	gw := testgateway.Start(t)
	col := startCollectorWithConfig(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http: {endpoint: "@HTTP@"}
      grpc: {endpoint: "@GRPC@"}
processors:
  batch: {timeout: 200ms}
exporters:
  pushgateway:
    endpoint: %q
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry:
    metrics: {level: none}
    logs: {encoding: json}
`, gw.URL))
	runSDKBatchRuns(t, col, 10)

	deadline := time.Now().Add(20 * time.Second)
	for len(gw.Groups(t)) < 10 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	groups := gw.Groups(t)
	require.Len(t, groups, 10, "the default grouping: each run is a group of its own, kept")
	instances := map[string]bool{}
	for _, g := range groups {
		assert.Equal(t, "nightly", g.Labels["job"])
		instances[g.Labels["instance"]] = true
	}
	assert.Len(t, instances, 10, "ten random instance ids")

	entry := waitLogEntry(t, col, 10*time.Second, func(e logEntry) bool {
		return e.Level == "warn" && strings.Contains(e.Msg, "Every run of this job comes with a new instance")
	})
	assert.Equal(t, "nightly", entry.Fields["job"])
	col.stop(t)
	assert.Equal(t, 1, countLogEntries(col, func(e logEntry) bool {
		return strings.Contains(e.Msg, "Every run of this job comes with a new instance")
	}), "once per job per interval")
}

func TestRandomInstancePerRunSummedIntoOneGroup(t *testing.T) {
	gw := testgateway.Start(t)
	col := startCollectorWithConfig(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http: {endpoint: "@HTTP@"}
      grpc: {endpoint: "@GRPC@"}
processors:
  batch: {timeout: 200ms}
exporters:
  pushgateway:
    endpoint: %q
    grouping: {instance_attribute: ""}
    aggregation: {mode: sum}
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry:
    metrics: {level: none}
`, gw.URL))
	runSDKBatchRuns(t, col, 10)
	grp := gw.WaitGroup(t, map[string]string{"job": "nightly"}, 20*time.Second, func(g testgateway.Group) bool {
		f := g.Families["rows_total"]
		return len(f.Metrics) == 1 && f.Metrics[0].Value == "50"
	})
	assert.Len(t, gw.Groups(t), 1, "one group for the job, its ten runs summed (10 × 5)")
	assert.Len(t, grp.Families["target_info"].Metrics, 1, "the runs share their non-identifying attributes")
}

// TestSDKSparseDeltaCounts: with delta temporality the Go SDK sends nothing
// for a series not updated in an interval; +3, an empty interval, +4 is 7.
func TestSDKSparseDeltaCounts(t *testing.T) {
	gw := testgateway.Start(t)
	col := startCollector(t, gw.URL)
	ctx := context.Background()
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(col.httpAddr), otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return metricdata.DeltaTemporality }))
	require.NoError(t, err)
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "sparse"))),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
	)
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	retries, err := provider.Meter("sparse").Int64Counter("retries")
	require.NoError(t, err)
	flush := func(want string) {
		t.Helper()
		require.NoError(t, provider.ForceFlush(ctx))
		if want != "" {
			gw.WaitGroup(t, map[string]string{"job": "sparse"}, 20*time.Second, func(g testgateway.Group) bool {
				f := g.Families["retries_total"]
				return len(f.Metrics) == 1 && f.Metrics[0].Value == want
			})
		}
	}
	retries.Add(ctx, 3)
	flush("3")
	flush("") // nothing recorded: the SDK sends no point for the series
	retries.Add(ctx, 4)
	flush("7")
}

// TestSumModeAcrossSDKWriters: three shards of one job, each its own SDK
// resource, summed into one group by aggregation mode sum; gauges in each
// of the four ways, one exporter per way.
func TestSumModeAcrossSDKWriters(t *testing.T) {
	gw := testgateway.Start(t)
	var exporters, names []string
	for _, mode := range []string{"last", "sum", "max", "min"} {
		exporters = append(exporters, fmt.Sprintf(`
  pushgateway/%s:
    endpoint: %q
    grouping: {job: shards-%s, instance_attribute: ""}
    aggregation: {mode: sum, gauges: %s}`, mode, gw.URL, mode, mode))
		names = append(names, "pushgateway/"+mode)
	}
	col := startCollectorWithConfig(t, fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      http: {endpoint: "@HTTP@"}
      grpc: {endpoint: "@GRPC@"}
processors:
  batch: {timeout: 200ms}
exporters:%s
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [%s]}
  telemetry:
    metrics: {level: none}
`, strings.Join(exporters, ""), strings.Join(names, ", ")))

	ctx := context.Background()
	type shard struct {
		provider *sdkmetric.MeterProvider
		rows     metric.Int64Counter
		queue    metric.Int64Gauge
		step     metric.Float64Histogram
	}
	start := func(id string, temporality metricdata.Temporality) *shard {
		exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(col.httpAddr), otlpmetrichttp.WithInsecure(),
			otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality { return temporality }))
		require.NoError(t, err)
		s := &shard{provider: sdkmetric.NewMeterProvider(
			sdkmetric.WithResource(resource.NewSchemaless(
				attribute.String("service.name", "shards"), attribute.String("service.instance.id", id))),
			sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
		)}
		t.Cleanup(func() { _ = s.provider.Shutdown(context.Background()) })
		meter := s.provider.Meter("shards")
		s.rows, err = meter.Int64Counter("rows")
		require.NoError(t, err)
		s.queue, err = meter.Int64Gauge("queue")
		require.NoError(t, err)
		s.step, err = meter.Float64Histogram("step", metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(1))
		require.NoError(t, err)
		return s
	}
	flush := func(s *shard) {
		t.Helper()
		require.NoError(t, s.provider.ForceFlush(ctx))
	}
	// wait waits until every group holds rows, count of step and queue.
	wait := func(rows, count string, queue map[string]string) {
		t.Helper()
		for mode, want := range queue {
			gw.WaitGroup(t, map[string]string{"job": "shards-" + mode}, 20*time.Second, func(g testgateway.Group) bool {
				r, q, h := g.Families["rows_total"], g.Families["queue"], g.Families["step_seconds"]
				return len(r.Metrics) == 1 && r.Metrics[0].Value == rows && len(q.Metrics) == 1 && q.Metrics[0].Value == want &&
					len(h.Metrics) == 1 && h.Metrics[0].Count == count
			})
		}
	}

	a, b, c := start("a", metricdata.CumulativeTemporality), start("b", metricdata.CumulativeTemporality), start("c", metricdata.CumulativeTemporality)
	for i, s := range []*shard{a, b, c} {
		s.rows.Add(ctx, int64(10*(i+1)))
		s.queue.Record(ctx, []int64{1, 5, 3}[i])
		s.step.Record(ctx, float64(i)) // 0 and 1 land in le=1, 2 above
		flush(s)
	}
	wait("60", "3", map[string]string{"last": "3", "sum": "9", "max": "5", "min": "1"})
	grp := gw.Group(t, map[string]string{"job": "shards-sum"})
	require.NotNil(t, grp)
	assert.Equal(t, map[string]string{"1": "2", "+Inf": "3"}, grp.Families["step_seconds"].Metrics[0].Buckets)
	assert.Equal(t, "3", grp.Families["step_seconds"].Metrics[0].Sum)

	flush(a) // exported again, unchanged
	b.rows.Add(ctx, 1)
	flush(b)
	wait("61", "3", map[string]string{"sum": "9"})

	// b restarts: a new SDK with the same resource, its counter from zero.
	require.NoError(t, b.provider.Shutdown(ctx))
	b = start("b", metricdata.CumulativeTemporality)
	b.rows.Add(ctx, 2)
	b.step.Record(ctx, 0.5)
	b.queue.Record(ctx, 4)
	flush(b)
	wait("63", "4", map[string]string{"sum": "8", "max": "4", "min": "1"})

	// A delta writer joins: its increments add.
	d := start("d", metricdata.DeltaTemporality)
	d.rows.Add(ctx, 4)
	d.step.Record(ctx, 7)
	flush(d)
	d.rows.Add(ctx, 1)
	flush(d)
	wait("68", "5", map[string]string{"sum": "8"})
	grp = gw.Group(t, map[string]string{"job": "shards-sum"})
	require.NotNil(t, grp)
	assert.Equal(t, map[string]string{"1": "3", "+Inf": "5"}, grp.Families["step_seconds"].Metrics[0].Buckets)
	assert.Equal(t, "10.5", grp.Families["step_seconds"].Metrics[0].Sum, "0+1+2, then 0.5 from b's new run, then 7 from d")
	assert.Len(t, gw.Groups(t), 4, "one group per exporter: the shards share it")
}
