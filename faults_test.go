package pushgatewayexporter

// The fault suite: each test injects one fault between the exporter (with
// the collector's real queue and retry) and a real Pushgateway, checks what
// the gateway ends up holding, and logs one "fault-result:" line that
// docs/RELIABILITY.MD quotes. Scenarios 1 and 5 run the built collector, in
// e2e/faults_test.go.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/goleak"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// faultResult logs the scenario's line for docs/RELIABILITY.MD.
func faultResult(t *testing.T, scenario int, injected, checked string, recovery time.Duration) {
	t.Logf("fault-result: scenario=%d injected=%q checked=%q recovery=%s",
		scenario, injected, checked, recovery.Round(time.Millisecond))
}

// queuedConfig is the default configuration (in-memory sending_queue,
// retry_on_failure) with a quick backoff, as a test wants it.
func queuedConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = endpoint
	cfg.Timeout = 2 * time.Second
	cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 300 * time.Millisecond
	cfg.RetryConfig.MaxElapsedTime = time.Minute
	return cfg
}

// startQueued starts the exporter with cfg; the caller shuts it down.
func startQueued(t *testing.T, cfg *Config) exporter.Metrics {
	t.Helper()
	return startConfigured(t, cfg, exportertest.NewNopSettings(metadata.Type))
}

// startQueuedUntilCleanup is startQueued, shut down when the test ends.
func startQueuedUntilCleanup(t *testing.T, cfg *Config) exporter.Metrics {
	t.Helper()
	exp := startQueued(t, cfg)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return exp
}

// faultProxy forwards to a real gateway, recording every push, and lets a
// test answer a request itself instead (fault returns true when it did).
type faultProxy struct {
	t      *testing.T
	srv    *httptest.Server
	target *url.URL

	mu     sync.Mutex
	pushes []time.Time
	fault  func(w http.ResponseWriter, r *http.Request) bool
}

func newFaultProxy(t *testing.T, gatewayURL string) *faultProxy {
	target, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	p := &faultProxy{t: t, target: target}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isFamiliesRead(r) {
			forward(t, w, r, p.target) // the faults are the pushes'
			return
		}
		p.mu.Lock()
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			p.pushes = append(p.pushes, time.Now())
		}
		fault := p.fault
		p.mu.Unlock()
		if fault != nil && fault(w, r) {
			return
		}
		forward(t, w, r, p.target)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *faultProxy) setFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

func (p *faultProxy) pushTimes() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.pushes...)
}

// streamBatch is batch number i of one job's stream: a counter at 10·i and
// a gauge at i, both stamped i seconds.
func streamBatch(job string, i int) *testbatch.Batch {
	b := testbatch.New()
	b.Resource(map[string]any{"service.name": job}).
		Sum("rows", "", true, seconds(i), int64(10*i), nil).
		Gauge("batch", "", seconds(i), float64(i), nil)
	return b
}

func seconds(i int) pcommon.Timestamp { return pcommon.Timestamp(uint64(i) * uint64(time.Second)) }

// streamAt reports whether the gateway holds the stream's batch i exactly.
func streamAt(i int) func(testgateway.Group) bool {
	return func(g testgateway.Group) bool {
		rows, batch := g.Families["rows_total"], g.Families["batch"]
		return len(rows.Metrics) == 1 && len(batch.Metrics) == 1 &&
			rows.Metrics[0].Value == strconv.Itoa(10*i) && batch.Metrics[0].Value == strconv.Itoa(i)
	}
}

// Scenario 2: the gateway is killed in the middle of a stream and comes
// back after a second, with its persistence file or without it.
func TestFault2GatewayKilledMidStream(t *testing.T) {
	for _, persistence := range []bool{true, false} {
		t.Run(fmt.Sprintf("persistence=%v", persistence), func(t *testing.T) {
			gw := testgateway.Start(t)
			cfg := queuedConfig(gw.URL)
			if !persistence {
				cfg.ResyncInterval = 200 * time.Millisecond
			}
			exp := startQueuedUntilCleanup(t, cfg)
			job := map[string]string{"job": "stream"}

			const last = 20
			var restarted time.Time
			for i := 1; i <= last; i++ {
				require.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("stream", i).MD))
				if i == 10 {
					gw.WaitGroup(t, job, 5*time.Second, streamAt(10))
					// Let the gateway persist what it holds, then crash it.
					time.Sleep(300 * time.Millisecond)
					gw.Kill()
				}
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(time.Second - 10*50*time.Millisecond)
			gw.Restart(t, persistence)
			restarted = time.Now()
			if persistence {
				grp := gw.Group(t, job)
				require.NotNil(t, grp, "the persisted group is back at once")
				n, err := strconv.Atoi(grp.Families["batch"].Metrics[0].Value)
				require.NoError(t, err)
				assert.LessOrEqual(t, n, last)
			}
			gw.WaitGroup(t, job, 10*time.Second, streamAt(last))
			recovery := time.Since(restarted)

			injected := "SIGKILL after batch 10 of 20, down 1s, restarted with its persistence file"
			checked := "batches 11-20 retried from the queue; gateway ends at batch 20 exactly"
			if !persistence {
				// Nothing pending now: only the resync can bring the group back.
				gw.Restart(t, false)
				restarted = time.Now()
				gw.WaitGroup(t, job, 5*time.Second, streamAt(last))
				injected = "SIGKILL after batch 10 of 20, down 1s, restarted empty; then restarted empty again with nothing pending"
				checked = "retries restore batch 20; resync_interval=200ms restores it after the second restart"
				faultResult(t, 2, injected, checked+fmt.Sprintf(" (first recovery %s)", recovery.Round(time.Millisecond)), time.Since(restarted))
				return
			}
			faultResult(t, 2, injected, checked, recovery)
		})
	}
}

// Scenario 3: 503 with Retry-After, then 429 with Retry-After, then the
// real gateway's answer.
func TestFault3RetryAfterThenRecovery(t *testing.T) {
	gw := testgateway.Start(t)
	proxy := newFaultProxy(t, gw.URL)
	var answered atomic.Int32
	proxy.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		switch answered.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "2")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			return false
		}
		return true
	})
	cfg := queuedConfig(proxy.srv.URL)
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.RandomizationFactor = 0
	exp := startQueuedUntilCleanup(t, cfg)

	start := time.Now()
	require.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("etl", 3).MD))
	gw.WaitGroup(t, map[string]string{"job": "etl"}, 10*time.Second, streamAt(3))
	recovery := time.Since(start)

	pushes := proxy.pushTimes()
	require.Len(t, pushes, 3, "one push refused twice, then stored")
	assert.GreaterOrEqual(t, pushes[1].Sub(pushes[0]), 2*time.Second, "Retry-After: 2 after the 503")
	assert.GreaterOrEqual(t, pushes[2].Sub(pushes[1]), time.Second, "Retry-After: 1 after the 429")
	faultResult(t, 3, "503 Retry-After: 2, then 429 Retry-After: 1, then the real gateway",
		fmt.Sprintf("3 attempts, gaps %s and %s (backoff alone: 10ms); value stored exactly",
			pushes[1].Sub(pushes[0]).Round(time.Millisecond), pushes[2].Sub(pushes[1]).Round(time.Millisecond)),
		recovery)
}

// Scenario 4: the gateway accepts connections and never answers; the push
// times out, is retried, and is delivered once the gateway answers again.
// Nothing the exporter started outlives it.
func TestFault4HungGateway(t *testing.T) {
	gw := testgateway.Start(t)
	before := goleak.IgnoreCurrent()
	proxy := newFaultProxy(t, gw.URL)
	release := make(chan struct{})
	var hung atomic.Int32
	proxy.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		hung.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	})
	cfg := queuedConfig(proxy.srv.URL)
	cfg.Timeout = 300 * time.Millisecond
	exp := startQueued(t, cfg)

	require.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("etl", 4).MD))
	time.Sleep(1500 * time.Millisecond)
	proxy.setFault(nil)
	recovered := time.Now()
	gw.WaitGroup(t, map[string]string{"job": "etl"}, 10*time.Second, streamAt(4))
	recovery := time.Since(recovered)

	require.NoError(t, exp.Shutdown(context.Background()))
	close(release)
	proxy.srv.Close() // waits for the handlers

	http.DefaultClient.CloseIdleConnections()
	goleak.VerifyNone(t, before)

	attempts := int(hung.Load())
	assert.GreaterOrEqual(t, attempts, 3, "each hung attempt timed out after 300ms and was retried")
	faultResult(t, 4, "gateway accepts and never answers for 1.5s (timeout: 300ms)",
		fmt.Sprintf("%d timed-out attempts, then delivered exactly; no goroutine left after shutdown", attempts),
		recovery)
}

// Scenario 6: batches arrive out of order and old ones are replayed, from
// several senders at once; the gateway must never show an older value.
func TestFault6OutOfOrderAndReplay(t *testing.T) {
	gw := testgateway.Start(t)
	cfg := queuedConfig(gw.URL)
	cfg.QueueConfig.Get().NumConsumers = 4
	exp := startQueuedUntilCleanup(t, cfg)
	job := map[string]string{"job": "replay"}

	// Watch the gateway while the batches go in.
	stop := make(chan struct{})
	watched := make(chan []int, 1)
	go func() {
		var seen []int
		for {
			select {
			case <-stop:
				watched <- seen
				return
			default:
			}
			if grp := gw.Group(t, job); grp != nil {
				if n, err := strconv.Atoi(grp.Families["batch"].Metrics[0].Value); err == nil {
					seen = append(seen, n)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()

	const last = 30
	order := []int{}
	for i := 1; i <= last; i += 3 {
		// Each triple out of order, then a replay of something old.
		order = append(order, i+2, i, i+1, (i+1)/2)
	}
	var senders sync.WaitGroup
	for s := range 3 {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for k, i := range order {
				if k%3 == s && i <= last {
					assert.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("replay", i).MD))
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	senders.Wait()
	sent := time.Now()
	gw.WaitGroup(t, job, 5*time.Second, streamAt(last))
	settle := time.Since(sent)
	// Replays after the end change nothing.
	for i := 1; i <= last; i += 7 {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("replay", i).MD))
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	seen := <-watched
	require.True(t, streamAt(last)(*gw.Group(t, job)), "the replays did not bring back an old value")
	require.NotEmpty(t, seen)
	assert.True(t, sort.IntsAreSorted(seen), "the gateway went back in time: %v", seen)
	faultResult(t, 6, fmt.Sprintf("%d batches from 3 senders through 4 queue consumers, out of order, with replays, then 5 more replays", len(order)+5),
		fmt.Sprintf("%d reads of the gateway, never decreasing; ends at the newest batch", len(seen)), settle)
}

// Scenario 7: group_ttl deletes the idle group and delete_on_shutdown the
// rest of the exporter's groups; groups other pushers own stay as they are.
func TestFault7TTLAndDeleteOnShutdown(t *testing.T) {
	gw := testgateway.Start(t)
	foreign := map[string]map[string]string{
		"/metrics/job/other":                   {"job": "other"},
		"/metrics/job/busy/instance/someone":   {"job": "busy", "instance": "someone"},
		"/metrics/job/idle/instance/elsewhere": {"job": "idle", "instance": "elsewhere"},
	}
	for path := range foreign {
		gw.Push(t, "PUT", path, "text/plain; version=0.0.4", "theirs 42\n")
	}
	cfg := queuedConfig(gw.URL)
	cfg.GroupTTL = 500 * time.Millisecond
	cfg.DeleteOnShutdown = true
	exp := startQueued(t, cfg)

	lastIdle := time.Now() // the group's last data is no older than this
	require.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("idle", 1).MD))
	gw.WaitGroup(t, map[string]string{"job": "idle"}, 5*time.Second, streamAt(1))
	var deletedAfter time.Duration
	for i := 1; i <= 40 && deletedAfter == 0; i++ {
		require.NoError(t, exp.ConsumeMetrics(context.Background(), streamBatch("busy", i).MD))
		time.Sleep(50 * time.Millisecond)
		if gw.Group(t, map[string]string{"job": "idle"}) == nil {
			deletedAfter = time.Since(lastIdle)
		}
	}
	require.NotZero(t, deletedAfter, "the idle group was not deleted within 2s")
	assert.GreaterOrEqual(t, deletedAfter, cfg.GroupTTL, "not before its TTL")
	require.NotNil(t, gw.Group(t, map[string]string{"job": "busy"}), "a group that gets data stays")

	require.NoError(t, exp.Shutdown(context.Background()))
	// The gateway answers a DELETE before it applies it.
	gw.WaitNoGroup(t, map[string]string{"job": "busy"}, 5*time.Second) // delete_on_shutdown removed the exporter's group
	groups := gw.Groups(t)
	assert.Len(t, groups, len(foreign), "only the other pushers' groups remain: %+v", groups)
	for _, labels := range foreign {
		grp := gw.Group(t, labels)
		if assert.NotNil(t, grp, "%v is untouched", labels) {
			assert.Equal(t, "42", grp.Families["theirs"].Metrics[0].Value)
		}
	}
	faultResult(t, 7, "group_ttl=500ms with one idle and one fed group; then shutdown with delete_on_shutdown; 3 groups of other pushers, two sharing a job name",
		"idle group deleted, fed group kept until shutdown then deleted, other pushers' groups keep their values", deletedAfter)
}

// Scenario 8: far more pushes wanted than rate_limit allows; every group
// still ends correct, and no one-second window holds more pushes than the
// token bucket lets through.
func TestFault8SustainedLoadAboveRateLimit(t *testing.T) {
	gw := testgateway.Start(t)
	proxy := newFaultProxy(t, gw.URL)
	cfg := queuedConfig(proxy.srv.URL)
	cfg.QueueConfig.Get().NumConsumers = 8
	cfg.RateLimit = RateLimitConfig{PushesPerSecond: 20, Burst: 5}
	exp := startQueuedUntilCleanup(t, cfg)

	const groups, rounds = 20, 4
	start := time.Now()
	for round := 1; round <= rounds; round++ {
		b := testbatch.New()
		for g := range groups {
			b.Resource(map[string]any{"service.name": "load", "service.instance.id": strconv.Itoa(g)}).
				Sum("rows", "", true, seconds(round), int64(10*round), nil).
				Gauge("batch", "", seconds(round), float64(round), nil)
		}
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
	}
	for g := range groups {
		gw.WaitGroup(t, map[string]string{"job": "load", "instance": strconv.Itoa(g)}, 20*time.Second, streamAt(rounds))
	}
	took := time.Since(start)

	pushes := proxy.pushTimes()
	assert.LessOrEqual(t, len(pushes), groups*rounds, "no push is repeated")
	maxInWindow := 0
	for i := range pushes {
		n := 0
		for j := i; j < len(pushes) && pushes[j].Sub(pushes[i]) < time.Second; j++ {
			n++
		}
		maxInWindow = max(maxInWindow, n)
	}
	// The token bucket lets rate·1s + burst pushes start in any second. The
	// proxy stamps arrivals, so one push of network jitter is allowed for.
	limit := int(cfg.RateLimit.PushesPerSecond) + cfg.RateLimit.Burst
	assert.LessOrEqual(t, maxInWindow, limit+1, "pushes in one second")
	rate := float64(len(pushes)-cfg.RateLimit.Burst) / pushes[len(pushes)-1].Sub(pushes[0]).Seconds()
	assert.LessOrEqual(t, rate, cfg.RateLimit.PushesPerSecond*1.05, "sustained pushes per second")
	faultResult(t, 8, fmt.Sprintf("%d group pushes wanted at once; rate_limit 20/s, burst 5", groups*rounds),
		fmt.Sprintf("%d pushes, at most %d in any 1s window, %.1f/s after the burst; all %d groups at their last values",
			len(pushes), maxInWindow, rate, groups), took)
}
