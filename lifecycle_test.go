package pushgatewayexporter

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadatatest"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testclock"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// startClocked starts the exporter with a fake clock, its telemetry
// readable, behind a proxy that records every request reaching gw.
func startClocked(t *testing.T, gw *testgateway.Gateway, mutate func(*Config)) (*exporterUnderTest, *testclock.Fake, *recorder) {
	t.Helper()
	rec := newRecorder(t, gw.URL)
	clk := testclock.NewFake()
	exp := startInternalWith(t, rec.url, mutate, clk)
	return exp, clk, rec
}

func TestGroupTTLDeletesOnlyIdleGroups(t *testing.T) {
	gw := testgateway.Start(t)
	exp, clk, _ := startClocked(t, gw, func(c *Config) {
		c.GroupTTL = 400 * time.Millisecond
		c.StateTTL = 0
	})
	gw.Push(t, "PUT", "/metrics/job/not-ours", "text/plain; version=0.0.4", "theirs 1\n")
	gauge := func(job string, v float64, attrs map[string]any) func(*testbatch.Resource) {
		return func(r *testbatch.Resource) { r.Gauge("a", "", 1, v, attrs) }
	}
	exp.send(t, map[string]any{"service.name": "idle"}, gauge("idle", 1, nil))
	exp.send(t, map[string]any{"service.name": "busy"}, gauge("busy", 1, nil))
	// The expiry loop checks every quarter TTL; busy gets data each time,
	// idle none.
	for i := range 4 {
		clk.WaitForWaiters(t, 1)
		clk.Advance(100 * time.Millisecond)
		exp.send(t, map[string]any{"service.name": "busy"}, gauge("busy", 1, map[string]any{"n": i}))
		clk.WaitForWaiters(t, 1) // the loop ran and waits again
		if i < 3 {
			assert.NotNil(t, gw.Group(t, map[string]string{"job": "idle"}), "not before its TTL (%dms)", 100*(i+1))
		}
	}
	gw.WaitNoGroup(t, map[string]string{"job": "idle"}, 5*time.Second) // deleted at the gateway after its TTL
	assert.NotNil(t, gw.Group(t, map[string]string{"job": "busy"}), "a group that gets data stays")
	assert.NotNil(t, gw.Group(t, map[string]string{"job": "not-ours"}), "other pushers' groups are untouched")
	metadatatest.AssertEqualExporterPushgatewayGroupsExpired(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs(attribute.String("action", "deleted"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	// Forgotten means new data starts the group afresh.
	exp.send(t, map[string]any{"service.name": "idle"}, gauge("idle", 2, nil))
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

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "a"}).Gauge("x", "", 1, 1, nil)
	b.Resource(map[string]any{"service.name": "b"}).Gauge("x", "", 1, 1, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
	require.Eventually(t, func() bool { return len(gw.Groups(t)) == 3 }, 5*time.Second, 20*time.Millisecond)

	require.NoError(t, exp.Shutdown(context.Background()))
	gw.WaitNoGroup(t, map[string]string{"job": "a"}, 5*time.Second)
	gw.WaitNoGroup(t, map[string]string{"job": "b"}, 5*time.Second)
	groups := gw.Groups(t)
	require.Len(t, groups, 1, "the exporter's groups are gone: %+v", groups)
	assert.Equal(t, "not-ours", groups[0].Labels["job"])
}

// TestResyncRestoresARestartedGateway restarts the gateway without its
// persistence file; the resync pushes the groups back with no new data,
// though nothing changed since the last push.
func TestResyncRestoresARestartedGateway(t *testing.T) {
	gw := testgateway.Start(t)
	exp, clk, rec := startClocked(t, gw, func(c *Config) {
		c.ResyncInterval = time.Minute
		c.Heartbeat = time.Hour // the body is unchanged, and young
		c.StateTTL = 0
	})
	exp.send(t, map[string]any{"service.name": "etl"}, func(r *testbatch.Resource) { r.Gauge("a", "", 1, 7, nil) })
	gw.Restart(t, false) // empty: no persistence carried over
	require.Nil(t, gw.Group(t, map[string]string{"job": "etl"}))

	clk.WaitForWaiters(t, 1)
	clk.Advance(time.Minute)
	clk.WaitForWaiters(t, 1) // resync done, waiting for the next
	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Equal(t, "7", grp.Families["a"].Metrics[0].Value)
	assert.Equal(t, []string{"PUT", "PUT"}, rec.methods(), "the resync pushes an unchanged group all the same")
}

// TestRateLimitDelaysPushesAndDeletes pushes many groups through a limit:
// each request past the burst waits for its turn, none is dropped; deletes
// take their turn too.
func TestRateLimitDelaysPushesAndDeletes(t *testing.T) {
	gw := testgateway.Start(t)
	exp, clk, rec := startClocked(t, gw, func(c *Config) {
		c.RateLimit = RateLimitConfig{PushesPerSecond: 20, Burst: 2}
		c.StateTTL = 0
		c.DeleteOnShutdown = true
	})
	const groups = 6
	b := testbatch.New()
	for i := range groups {
		b.Resource(map[string]any{"service.name": "job", "service.instance.id": string(rune('a' + i))}).Gauge("a", "", 1, float64(i), nil)
	}
	done := make(chan error, 1)
	go func() { done <- exp.pushMetrics(context.Background(), b.MD) }()
	require.GreaterOrEqual(t, pushesAtOnce(exp.cfg), groups, "every push of the batch under way at once")
	rec.waitFor(t, 2) // the burst
	for sent := 2; sent < groups; sent++ {
		clk.WaitForWaiters(t, groups-sent) // the pushes not yet sent wait for their tokens
		assert.Len(t, rec.methods(), sent, "2 at once, then one per 50ms")
		clk.Advance(50 * time.Millisecond)
		rec.waitFor(t, sent+1)
	}
	require.NoError(t, <-done)
	assert.Len(t, gw.Groups(t), groups, "nothing is dropped")

	go func() { done <- exp.stop() }()
	for deleted := 0; deleted < groups; deleted++ {
		clk.WaitForWaiters(t, 1)
		clk.Advance(50 * time.Millisecond)
	}
	require.NoError(t, <-done)
	for i := range groups {
		gw.WaitNoGroup(t, map[string]string{"job": "job", "instance": string(rune('a' + i))}, 5*time.Second)
	}
	methods := rec.methods()
	assert.Len(t, methods, 2*groups)
	for _, m := range methods[groups:] {
		assert.Equal(t, "DELETE", m, "each delete waited for its token")
	}
}

// TestUnchangedPushesWaitForTheHeartbeat sends what the gateway holds
// already: the push is skipped until the last one is older than the
// heartbeat; a change is pushed at once.
func TestUnchangedPushesWaitForTheHeartbeat(t *testing.T) {
	gw := testgateway.Start(t)
	exp, clk, rec := startClocked(t, gw, func(c *Config) {
		c.Heartbeat = time.Minute
		c.StateTTL = 0
	})
	send := func(ts pcommon.Timestamp, v float64) {
		exp.send(t, map[string]any{"service.name": "etl"}, func(r *testbatch.Resource) { r.Gauge("a", "", ts, v, nil) })
	}
	send(1, 7)
	send(2, 7) // the SDK exported again at shutdown: same values, newer time
	clk.Advance(59 * time.Second)
	send(3, 7)
	assert.Len(t, rec.methods(), 1, "the gateway holds these bytes already")
	metadatatest.AssertEqualExporterPushgatewayPushesSkipped(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: exporterAttrs(attribute.String("reason", "unchanged"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())

	clk.Advance(time.Second)
	send(4, 7)
	assert.Len(t, rec.methods(), 2, "a heartbeat after the last push, unchanged is pushed: push_time_seconds stays fresh")
	send(5, 8)
	assert.Len(t, rec.methods(), 3, "a change is pushed at once")

	off, _, offRec := startClocked(t, gw, func(c *Config) { c.Heartbeat = 0 })
	for ts := range pcommon.Timestamp(3) {
		off.send(t, map[string]any{"service.name": "other"}, func(r *testbatch.Resource) { r.Gauge("a", "", ts+1, 7, nil) })
	}
	assert.Len(t, offRec.methods(), 3, "heartbeat 0: every push is sent")
}

func TestStalePointsAreCounted(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, nil, set)

	newer := testbatch.New()
	newer.Resource(map[string]any{"service.name": "etl"}).Gauge("a", "", 20, 2, nil).Gauge("b", "", 20, 2, nil)
	older := testbatch.New()
	older.Resource(map[string]any{"service.name": "etl"}).Gauge("a", "", 10, 1, nil).Gauge("b", "", 10, 1, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), newer.MD))
	require.NoError(t, exp.ConsumeMetrics(context.Background(), older.MD), "a replay is not an error")

	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Equal(t, "2", grp.Families["a"].Metrics[0].Value, "the gateway never shows the older value")
	metadatatest.AssertEqualExporterPushgatewayStalePoints(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: exporterAttrs()}}, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

// TestStateTTLForgetsButKeepsTheGatewayCopy lets a group go idle past
// state_ttl: the exporter frees its memory, the gateway keeps the job's
// last values, and new data starts the group afresh.
func TestStateTTLForgetsButKeepsTheGatewayCopy(t *testing.T) {
	gw := testgateway.Start(t)
	exp, clk, _ := startClocked(t, gw, func(c *Config) { c.StateTTL = 200 * time.Millisecond })
	exp.send(t, map[string]any{"service.name": "finished"}, func(r *testbatch.Resource) { r.Gauge("a", "", 1, 1, nil).Gauge("b", "", 1, 2, nil) })

	for range 4 { // the loop checks every quarter TTL
		clk.WaitForWaiters(t, 1)
		clk.Advance(50 * time.Millisecond)
	}
	clk.WaitForWaiters(t, 1)
	metadatatest.AssertEqualExporterPushgatewayGroupsExpired(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs(attribute.String("action", "forgotten"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPushgatewaySeries(t, exp.tel,
		[]metricdata.DataPoint[int64]{{Value: 0, Attributes: exporterAttrs()}}, metricdatatest.IgnoreTimestamp())
	grp := gw.Group(t, map[string]string{"job": "finished"})
	require.NotNil(t, grp, "the gateway keeps a finished job's last values")
	assert.Len(t, grp.Families, 4, "a, b and the gateway's push times")

	// The next run of the job replaces the gateway's copy with its own.
	exp.send(t, map[string]any{"service.name": "finished"}, func(r *testbatch.Resource) { r.Gauge("a", "", 1, 9, nil) })
	grp = gw.Group(t, map[string]string{"job": "finished"})
	require.NotNil(t, grp)
	assert.Equal(t, "9", grp.Families["a"].Metrics[0].Value)
	assert.NotContains(t, grp.Families, "b")
}

// recorder is a proxy in front of a gateway that records the method of
// every request.
type recorder struct {
	url     string
	mu      sync.Mutex
	seen    []string
	changed testclock.Signal // on every request recorded
}

func newRecorder(t *testing.T, gatewayURL string) *recorder {
	t.Helper()
	target, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	rec := &recorder{changed: testclock.NewSignal()}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isFamiliesRead(r) {
			forward(t, w, r, target)
			return
		}
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Method)
		rec.changed.NotifyLocked()
		rec.mu.Unlock()
		forward(t, w, r, target)
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

func (r *recorder) methods() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// waitFor blocks until n requests were recorded. It fails the test after a
// minute of real time, which only a broken exporter takes.
func (r *recorder) waitFor(t *testing.T, n int) {
	t.Helper()
	r.changed.WaitUntil(t, &r.mu, func() (bool, string) {
		return len(r.seen) >= n, fmt.Sprintf("%d requests reached the gateway, want %d", len(r.seen), n)
	})
}
