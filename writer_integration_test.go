package pushgatewayexporter

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadatatest"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/state"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// exporterUnderTest is the exporter itself, not behind exporterhelper, so
// a test can run its background work (resync, expiry) when it chooses.
type exporterUnderTest struct {
	*pushgatewayExporter
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
	once sync.Once
	err  error
}

// stop shuts the exporter down, once: the test's cleanup calls it too.
func (e *exporterUnderTest) stop() error {
	e.once.Do(func() { e.err = e.shutdown(context.Background()) })
	return e.err
}

// startInternal starts the exporter against endpoint with the defaults
// and mutate's changes, its telemetry and its Warn logs readable.
func startInternal(t *testing.T, endpoint string, mutate func(*Config)) *exporterUnderTest {
	t.Helper()
	return startInternalWith(t, endpoint, mutate, gateway.SystemClock{})
}

// startInternalWith is startInternal on the clock c.
func startInternalWith(t *testing.T, endpoint string, mutate func(*Config), c gateway.Clock) *exporterUnderTest {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = endpoint
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel, set := telemetrySettings(t)
	core, logs := observer.New(zapcore.WarnLevel)
	set.Logger = zap.New(core)
	exp, err := newExporter(cfg, set, c)
	require.NoError(t, err)
	require.NoError(t, exp.start(context.Background(), componenttest.NewNopHost()))
	e := &exporterUnderTest{pushgatewayExporter: exp, tel: tel, logs: logs}
	t.Cleanup(func() { require.NoError(t, e.stop()) })
	return e
}

// send pushes one batch of one resource.
func (e *exporterUnderTest) send(t *testing.T, attrs map[string]any, fill func(*testbatch.Resource)) {
	t.Helper()
	b := testbatch.New()
	fill(b.Resource(attrs))
	require.NoError(t, e.pushMetrics(context.Background(), b.MD))
}

func TestIntegrationAGroupWithoutFamiliesIsNeverPushed(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startInternal(t, gw.URL, func(c *Config) { c.ResyncInterval = time.Hour })
	exp.send(t, map[string]any{"service.name": "a"}, func(r *testbatch.Resource) { r.Histogram("lat", "", 1, []float64{1}, []uint64{1, 0}, 1) })
	// b's only metric is named as a's histogram's count: the gateway would
	// refuse it, so it is dropped, and b holds nothing.
	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "b"}).Gauge("lat_count", "", 1, 1, nil)
	require.NoError(t, exp.pushMetrics(context.Background(), b.MD))
	exp.publisher.Resync(context.Background())

	assert.Nil(t, gw.Group(t, map[string]string{"job": "b"}), "not even a group with only push_time_seconds")
	assert.NotNil(t, gw.Group(t, map[string]string{"job": "a"}))
	assert.Equal(t, 1, exp.states.GroupCount())
}

func TestIntegrationEndedSeriesLeaveTheGateway(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startInternal(t, gw.URL, nil)
	job := map[string]any{"service.name": "scraped"}
	exp.send(t, job, func(r *testbatch.Resource) {
		r.Gauge("up", "", 10, 1, map[string]any{"target": "a"}).Gauge("up", "", 10, 1, map[string]any{"target": "b"})
	})
	exp.send(t, job, func(r *testbatch.Resource) { r.Gauge("up", "", 20, 0, map[string]any{"target": "a"}).Ended() })

	grp := gw.Group(t, map[string]string{"job": "scraped"})
	require.NotNil(t, grp)
	require.Len(t, grp.Families["up"].Metrics, 1, "target a ended: the next push no longer carries it")
	assert.Equal(t, "b", grp.Families["up"].Metrics[0].Labels["target"])
	metadatatest.AssertEqualExporterPushgatewaySeriesRemoved(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs(attribute.String("reason", "no_recorded_value"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Its last series ends: the group is deleted at the gateway, then
	// forgotten, and a resync does not bring it back.
	exp.send(t, job, func(r *testbatch.Resource) { r.Gauge("up", "", 30, 0, map[string]any{"target": "b"}).Ended() })
	gw.WaitNoGroup(t, map[string]string{"job": "scraped"}, 5*time.Second)
	assert.Zero(t, exp.states.GroupCount())
	exp.publisher.Resync(context.Background())
	assert.Empty(t, gw.Groups(t))
}

func TestIntegrationSecondWriterIsWarnedAbout(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startInternal(t, gw.URL, func(c *Config) { c.Grouping.InstanceAttribute = nil })
	pod := func(name string, start, ts pcommon.Timestamp, v int64) {
		exp.send(t, map[string]any{"service.name": "etl", "k8s.pod.name": name}, func(r *testbatch.Resource) { r.Cumulative("rows", start, ts, v) })
	}
	pod("etl-1", 1, 10, 10)
	pod("etl-2", 2, 11, 20)
	pod("etl-1", 1, 12, 11)

	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Equal(t, "11", grp.Families["rows_total"].Metrics[0].Value, "mode none: the newest point wins")
	metadatatest.AssertEqualExporterPushgatewayWriterConflicts(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: exporterAttrs()}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	warnings := exp.logs.FilterMessageSnippet("Several writers feed one series").All()
	require.Len(t, warnings, 1, "rate-limited: once per group and metric")
	fields := warnings[0].ContextMap()
	assert.Equal(t, `{job="etl"}`, fields["group"])
	assert.Equal(t, "rows_total", fields["metric"])
	assert.Equal(t, "k8s.pod.name", fields["differing_attribute"])
}

func TestIntegrationSumModeAtTheGateway(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startInternal(t, gw.URL, func(c *Config) {
		c.Grouping.InstanceAttribute = nil
		c.Aggregation = AggregationConfig{Mode: AggregationSum, Gauges: GaugesSum}
	})
	shard := func(name string, start, ts pcommon.Timestamp, rows int64, inFlight float64, counts []uint64) {
		exp.send(t, map[string]any{"service.name": "ci", "k8s.pod.name": name}, func(r *testbatch.Resource) {
			r.Cumulative("rows", start, ts, rows).Gauge("in_flight", "", ts, inFlight, nil).
				HistogramOver("step", "s", pmetric.AggregationTemporalityCumulative, start, ts, []float64{1}, counts, float64(rows))
		})
	}
	shard("shard-0", 1, 10, 10, 1, []uint64{1, 0})
	shard("shard-1", 2, 10, 20, 2, []uint64{0, 1})
	shard("shard-2", 3, 10, 30, 3, []uint64{1, 1})
	shard("shard-0", 1, 20, 10, 1, []uint64{1, 0}) // exported again, unchanged
	shard("shard-1", 25, 30, 5, 2, []uint64{1, 0}) // restarted

	grp := gw.Group(t, map[string]string{"job": "ci"})
	require.NotNil(t, grp)
	assert.Equal(t, "65", grp.Families["rows_total"].Metrics[0].Value, "10 + 20 + 30, then shard-1's new run adds its 5")
	assert.Equal(t, "6", grp.Families["in_flight"].Metrics[0].Value, "gauges: sum of the writers' latest")
	h := grp.Families["step_seconds"].Metrics[0]
	assert.Equal(t, "5", h.Count)
	assert.Equal(t, "65", h.Sum)
	assert.Equal(t, map[string]string{"1": "3", "+Inf": "5"}, h.Buckets)
	assert.Empty(t, exp.logs.FilterMessageSnippet("Several writers").All(), "mode sum expects several writers")
}

func TestIntegrationRandomInstancesPerRunAreReported(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startInternal(t, gw.URL, nil)
	for run := range 10 {
		start := pcommon.Timestamp(run * 100)
		exp.send(t, map[string]any{"service.name": "nightly", "service.instance.id": fmt.Sprintf("uuid-%d", run)},
			func(r *testbatch.Resource) { r.Cumulative("rows", start, start+10, 5) })
		if run == 1 {
			assert.Empty(t, exp.logs.All(), "one new instance is no pattern yet")
		}
	}
	assert.Len(t, gw.Groups(t), 10, "the default keeps every run's group")
	metadatatest.AssertEqualExporterPushgatewayInstanceChurn(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 9, Attributes: exporterAttrs()}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	warnings := exp.logs.FilterMessageSnippet("Every run of this job comes with a new instance").All()
	require.Len(t, warnings, 1, "once per job per interval")
	assert.Equal(t, "nightly", warnings[0].ContextMap()["job"])
	assert.Equal(t, int64(state.ChurnWarnAfter+1), warnings[0].ContextMap()["runs_in_a_row"])
}
