package pushgatewayexporter

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadatatest"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

func TestGroupTTLDeletesOnlyIdleGroups(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, func(c *Config) { c.GroupTTL = 400 * time.Millisecond }, set)
	gw.Push(t, "PUT", "/metrics/job/not-ours", "text/plain; version=0.0.4", "theirs 1\n")

	push := func(job string, ts int) {
		b := newTestBatch()
		b.resource(map[string]any{"service.name": job}).gauge("a", "", 1, float64(ts), nil)
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))
	}
	push("idle", 1)
	push("busy", 1)
	// Keep busy fed for longer than the TTL; idle gets nothing new.
	for i := range 8 {
		time.Sleep(100 * time.Millisecond)
		b := newTestBatch()
		b.resource(map[string]any{"service.name": "busy"}).gauge("a", "", 2, 1, map[string]any{"n": i})
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))
	}
	assert.Eventually(t, func() bool { return gw.Group(t, map[string]string{"job": "idle"}) == nil },
		2*time.Second, 50*time.Millisecond, "the idle group is deleted at the gateway")
	assert.NotNil(t, gw.Group(t, map[string]string{"job": "busy"}), "a group that gets data stays")
	assert.NotNil(t, gw.Group(t, map[string]string{"job": "not-ours"}), "other pushers' groups are untouched")
	metadatatest.AssertEqualExporterPushgatewayGroupsExpired(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: attribute.NewSet(attribute.String("action", "deleted"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Forgotten means new data starts the group afresh.
	push("idle", 2)
	grp := gw.Group(t, map[string]string{"job": "idle"})
	require.NotNil(t, grp)
	assert.Equal(t, "2", grp.Families["a"].Metrics[0].Value)
}

func TestDeleteOnShutdown(t *testing.T) {
	gw := testgateway.Start(t)
	gw.Push(t, "PUT", "/metrics/job/not-ours", "text/plain; version=0.0.4", "theirs 1\n")
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = gw.URL
	cfg.DeleteOnShutdown = true
	exp := startQueued(t, cfg)

	b := newTestBatch()
	b.resource(map[string]any{"service.name": "a"}).gauge("x", "", 1, 1, nil)
	b.resource(map[string]any{"service.name": "b"}).gauge("x", "", 1, 1, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))
	require.Eventually(t, func() bool { return len(gw.Groups(t)) == 3 }, 5*time.Second, 20*time.Millisecond)

	require.NoError(t, exp.Shutdown(context.Background()))
	groups := gw.Groups(t)
	require.Len(t, groups, 1, "the exporter's groups are gone: %+v", groups)
	assert.Equal(t, "not-ours", groups[0].Labels["job"])
}

// TestResyncRestoresARestartedGateway restarts the gateway without its
// persistence file; the resync pushes the groups back with no new data.
func TestResyncRestoresARestartedGateway(t *testing.T) {
	first := testgateway.Start(t)
	target, err := url.Parse(first.URL)
	require.NoError(t, err)
	var mu sync.Mutex
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tgt := target
		mu.Unlock()
		forward(t, w, r, tgt)
	}))
	defer proxy.Close()
	exp := startExporter(t, proxy.URL, func(c *Config) { c.ResyncInterval = 100 * time.Millisecond })

	b := newTestBatch()
	b.resource(map[string]any{"service.name": "etl"}).gauge("a", "", 1, 7, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))
	first.Stop()

	second := testgateway.Start(t) // empty: no persistence carried over
	mu.Lock()
	target, err = url.Parse(second.URL)
	mu.Unlock()
	require.NoError(t, err)
	grp := second.WaitGroup(t, map[string]string{"job": "etl"}, 5*time.Second, nil)
	assert.Equal(t, "7", grp.Families["a"].Metrics[0].Value)
}

// TestRateLimitDelaysPushes pushes many groups through a limit and checks
// that all arrive, no faster than the limit allows.
func TestRateLimitDelaysPushes(t *testing.T) {
	gw := testgateway.Start(t)
	target, err := url.Parse(gw.URL)
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		times []time.Time
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		forward(t, w, r, target)
	}))
	defer proxy.Close()
	exp := startExporter(t, proxy.URL, func(c *Config) {
		c.RateLimit = RateLimitConfig{PushesPerSecond: 20, Burst: 2}
	})

	const groups = 12
	b := newTestBatch()
	for i := range groups {
		b.resource(map[string]any{"service.name": "job", "service.instance.id": string(rune('a' + i))}).gauge("a", "", 1, float64(i), nil)
	}
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))

	require.Len(t, times, groups)
	// 2 at once, then one per 50ms: the last no sooner than 10 × 50ms.
	assert.GreaterOrEqual(t, times[groups-1].Sub(times[0]), 450*time.Millisecond)
	assert.Len(t, gw.Groups(t), groups, "nothing is dropped")
}

func TestStalePointsAreCounted(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, nil, set)

	newer := newTestBatch()
	newer.resource(map[string]any{"service.name": "etl"}).gauge("a", "", 20, 2, nil).gauge("b", "", 20, 2, nil)
	older := newTestBatch()
	older.resource(map[string]any{"service.name": "etl"}).gauge("a", "", 10, 1, nil).gauge("b", "", 10, 1, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), newer.md))
	require.NoError(t, exp.ConsumeMetrics(context.Background(), older.md), "a replay is not an error")

	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Equal(t, "2", grp.Families["a"].Metrics[0].Value, "the gateway never shows the older value")
	metadatatest.AssertEqualExporterPushgatewayStalePoints(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestStateTTLForgetsButKeepsTheGatewayCopy lets a group go idle past
// state_ttl: the exporter frees its memory, the gateway keeps the job's
// last values, and new data starts the group afresh.
func TestStateTTLForgetsButKeepsTheGatewayCopy(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, func(c *Config) { c.StateTTL = 200 * time.Millisecond }, set)

	b := newTestBatch()
	b.resource(map[string]any{"service.name": "finished"}).gauge("a", "", 1, 1, nil).gauge("b", "", 1, 2, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.md))

	require.Eventually(t, func() bool {
		m, err := tel.GetMetric("otelcol_exporter_pushgateway_groups_expired")
		return err == nil && m.Data.(metricdata.Sum[int64]).DataPoints[0].Value == 1
	}, 3*time.Second, 20*time.Millisecond, "the idle group is forgotten")
	metadatatest.AssertEqualExporterPushgatewayGroupsExpired(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: attribute.NewSet(attribute.String("action", "forgotten"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPushgatewaySeries(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
	grp := gw.Group(t, map[string]string{"job": "finished"})
	require.NotNil(t, grp, "the gateway keeps a finished job's last values")
	assert.Len(t, grp.Families, 4, "a, b and the gateway's push times")

	// The next run of the job replaces the gateway's copy with its own.
	next := newTestBatch()
	next.resource(map[string]any{"service.name": "finished"}).gauge("a", "", 1, 9, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), next.md))
	grp = gw.Group(t, map[string]string{"job": "finished"})
	require.NotNil(t, grp)
	assert.Equal(t, "9", grp.Families["a"].Metrics[0].Value)
	assert.NotContains(t, grp.Families, "b")
}
