package e2e

// The scale-out layout of docs/SCALING.md, run from the committed
// configurations: tier 1 (deploy/tier1, contrib's load-balancing exporter,
// built with ocb) routes each job to one tier-2 collector (the project's
// collector, deploy/tier2), each pushing to its own Pushgateway.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testproc"
)

// tier1Binary is the ocb-built tier-1 collector: $TIER1_BIN (make e2e sets
// it), else the repository's _build/tier1/otelcol-tier1, built if missing.
func tier1Binary(t testing.TB) string {
	t.Helper()
	return testproc.Built(t, "TIER1_BIN", repoRoot(t), "build-tier1", "_build/tier1/otelcol-tier1")
}

// repoFile is a file of the repository, read from its root.
func repoFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(path)))
	require.NoError(t, err)
	return string(data)
}

// freePort is a port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) string {
	_, port, err := net.SplitHostPort(testgateway.FreeAddr(t))
	require.NoError(t, err)
	return port
}

// scaleOut is the layout on 127.0.0.1. tier2[i] pushes to gateways[i].
type scaleOut struct {
	tier1    *collector
	tier2    []*tier2Collector
	gateways []*testgateway.Gateway
	// groupTTL is tier 2's group_ttl; 0 leaves the committed default.
	groupTTL time.Duration
	// direct starts ordinary gateways even under PUSHGATEWAY_DEDICATED.
	direct bool
}

// tier2Collector is a tier-2 collector and the address of its own
// telemetry (/metrics).
type tier2Collector struct {
	*collector
	telemetryAddr string
}

// startScaleOut starts backends gateways, a tier-2 collector for each and
// a tier-1 collector routing to all of them. Everything stops when the
// test ends.
func startScaleOut(t testing.TB, backends int, groupTTL time.Duration) *scaleOut {
	t.Helper()
	return startScaleOutWith(t, &scaleOut{groupTTL: groupTTL}, backends)
}

// startScaleOutWith is startScaleOut with s's settings.
func startScaleOutWith(t testing.TB, s *scaleOut, backends int) *scaleOut {
	t.Helper()
	for range backends {
		s.addBackend(t)
	}
	s.tier1 = s.startTier1(t)
	return s
}

// addBackend starts a gateway and a tier-2 collector pushing to it. Tier 1
// routes to it only once a tier 1 is started with it in its list
// (startTier1).
func (s *scaleOut) addBackend(t testing.TB) {
	t.Helper()
	gw := testgateway.StartWith(t, testgateway.Options{Direct: s.direct})
	telemetryPort := freePort(t)
	env := []string{
		"TIER2_OTLP_GRPC_ENDPOINT=@GRPC@",
		"PUSHGATEWAY_ENDPOINT=" + gw.URL,
		"TIER2_TELEMETRY_HOST=127.0.0.1",
		"TIER2_TELEMETRY_PORT=" + telemetryPort,
	}
	if s.groupTTL > 0 {
		env = append(env, "TIER2_GROUP_TTL="+s.groupTTL.String())
	}
	col := startCollectorBinary(t, collectorBinary(t), repoFile(t, "deploy/tier2/otelcol.yaml"), env...)
	s.gateways = append(s.gateways, gw)
	s.tier2 = append(s.tier2, &tier2Collector{collector: col, telemetryAddr: "127.0.0.1:" + telemetryPort})
}

// startTier1 starts a tier-1 collector whose static resolver lists every
// tier-2 collector started so far. That list is fixed when the collector
// starts: a membership change is a new tier 1.
func (s *scaleOut) startTier1(t testing.TB) *collector {
	t.Helper()
	backends := make([]string, len(s.tier2))
	for i, c := range s.tier2 {
		backends[i] = c.grpcAddr
	}
	return startCollectorBinary(t, tier1Binary(t), repoFile(t, "deploy/tier1/otelcol.yaml"),
		"TIER1_OTLP_GRPC_ENDPOINT=@GRPC@",
		"TIER1_OTLP_HTTP_ENDPOINT=@HTTP@",
		"TIER1_HEALTH_ENDPOINT="+testgateway.FreeAddr(t),
		"TIER1_TELEMETRY_HOST=127.0.0.1",
		"TIER1_TELEMETRY_PORT="+freePort(t),
		"TIER2_ENDPOINTS=["+strings.Join(backends, ", ")+"]",
	)
}

// pids are the layout's processes: tier 1, then tier 2, then the gateways.
func (s *scaleOut) pids() []int {
	pids := []int{s.tier1.cmd.Process.Pid}
	for _, c := range s.tier2 {
		pids = append(pids, c.cmd.Process.Pid)
	}
	for _, gw := range s.gateways {
		pids = append(pids, gw.PID())
	}
	return pids
}

// otlpClient is an OTLP/gRPC metrics client of the collector.
func otlpClient(t testing.TB, col *collector) pmetricotlp.GRPCClient {
	t.Helper()
	conn, err := grpc.NewClient(col.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return pmetricotlp.NewGRPCClient(conn)
}

// fleet is a set of jobs, each its own resource (so its own group at the
// gateway) with one request: a gauge of series points and a counter of
// rounds. Each round gives every value a new one, and the resource a new
// process.pid, as a job restarted between exports would have: an attribute
// that is not part of the group, so it must not move the group.
type fleet struct {
	jobs   []*fleetJob
	series int
}

type fleetJob struct {
	// group is the grouping key the job's group must have at the gateway.
	group    map[string]string
	req      pmetricotlp.ExportRequest
	resource pcommon.Map
	gauge    []pmetric.NumberDataPoint
	rounds   pmetric.NumberDataPoint
}

var fleetServices = []string{"etl", "report", "billing"}

// newFleet builds jobs jobs of series gauge points each. Job k is service
// etl, report or billing, in namespace "batch" for even k, with instance
// host-<k>: the grouping the exporter's defaults derive from
// service.namespace, service.name and service.instance.id.
func newFleet(jobs, series int, start pcommon.Timestamp) *fleet {
	f := &fleet{series: series}
	for k := range jobs {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		attrs := rm.Resource().Attributes()
		name := fleetServices[k%len(fleetServices)]
		job := name
		if k%2 == 0 {
			attrs.PutStr("service.namespace", "batch")
			job = "batch/" + name
		}
		attrs.PutStr("service.name", name)
		instance := "host-" + strconv.Itoa(k)
		attrs.PutStr("service.instance.id", instance)
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("scaleout")

		j := &fleetJob{group: map[string]string{"job": job, "instance": instance}, resource: attrs}
		gauge := sm.Metrics().AppendEmpty()
		gauge.SetName("scale.value")
		dps := gauge.SetEmptyGauge().DataPoints()
		dps.EnsureCapacity(series)
		for i := range series {
			dp := dps.AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.Attributes().PutStr("series", strconv.Itoa(i))
			j.gauge = append(j.gauge, dp)
		}
		counter := sm.Metrics().AppendEmpty()
		counter.SetName("scale.rounds")
		sum := counter.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		j.rounds = sum.DataPoints().AppendEmpty()
		j.rounds.SetStartTimestamp(start)
		j.req = pmetricotlp.NewExportRequestFromMetrics(md)
		f.jobs = append(f.jobs, j)
	}
	return f
}

// gaugeValue is series i's value in a round: distinct per series and per
// round, exact in a float64.
func gaugeValue(round, i int) float64 {
	return float64(round)*1e6 + float64(i)
}

// setRound stamps every point of every job with round's values and time.
func (f *fleet) setRound(round int, ts pcommon.Timestamp) {
	for _, j := range f.jobs {
		j.setRound(round, ts)
	}
}

// setRound stamps every point of the job with round's values and time.
func (j *fleetJob) request() pmetricotlp.ExportRequest { return j.req }

func (j *fleetJob) String() string { return fmt.Sprintf("job %v", j.group) }

func (j *fleetJob) setRound(round int, ts pcommon.Timestamp) {
	for i, dp := range j.gauge {
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(gaugeValue(round, i))
	}
	j.rounds.SetTimestamp(ts)
	j.rounds.SetIntValue(int64(round))
	j.resource.PutInt("process.pid", int64(1000+round))
}

// send exports every job's request, each job from its own goroutine, as a
// fleet of processes would.
func (f *fleet) send(client pmetricotlp.GRPCClient) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, j := range f.jobs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if _, err := client.Export(ctx, j.req); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("exporting job %v: %w", j.group, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// groupCopy is one gateway's copy of a job's group.
type groupCopy struct {
	gateway int
	// round is the counter's value: the round the copy is from.
	round int
	// whole says every gauge series is there with that round's value.
	whole bool
	// pushed is the gateway's push_time_seconds of the group.
	pushed time.Time
}

// locate reads every gateway once and returns, for each job of the fleet,
// the copies of its group. It fails the test on a group no job has.
func (s *scaleOut) locate(t testing.TB, f *fleet) [][]groupCopy {
	t.Helper()
	byGroup := map[string]int{}
	for k, j := range f.jobs {
		byGroup[labelString(j.group)] = k
	}
	copies := make([][]groupCopy, len(f.jobs))
	for g, gw := range s.gateways {
		for _, grp := range gw.Groups(t) {
			k, ok := byGroup[labelString(grp.Labels)]
			if !ok {
				t.Fatalf("gateway %d holds group %v, which is no job's", g, grp.Labels)
			}
			copies[k] = append(copies[k], readCopy(g, grp, f.series))
		}
	}
	return copies
}

func (c groupCopy) String() string {
	return fmt.Sprintf("{gateway %d, round %d, whole %t, pushed %s}", c.gateway, c.round, c.whole, c.pushed.Format("15:04:05.000"))
}

func readCopy(gateway int, grp testgateway.Group, series int) groupCopy {
	c := groupCopy{gateway: gateway, round: -1}
	if m := grp.Families["scale_rounds_total"].Metrics; len(m) == 1 {
		if v, err := strconv.Atoi(m[0].Value); err == nil {
			c.round = v
		}
	}
	if m := grp.Families["push_time_seconds"].Metrics; len(m) == 1 {
		if secs, err := strconv.ParseFloat(m[0].Value, 64); err == nil {
			c.pushed = time.Unix(0, int64(secs*1e9))
		}
	}
	gauge := grp.Families["scale_value"].Metrics
	c.whole = len(gauge) == series
	for _, m := range gauge {
		i, err1 := strconv.Atoi(m.Labels["series"])
		v, err2 := strconv.ParseFloat(m.Value, 64)
		if err1 != nil || err2 != nil || v != gaugeValue(c.round, i) {
			c.whole = false
		}
	}
	return c
}

// onOneGateway reports whether each job's group is on exactly one gateway,
// whole and from round minRound or later; if so it also returns each job's
// gateway, else what is wrong.
func onOneGateway(copies [][]groupCopy, f *fleet, minRound int) (owners []int, problem string) {
	owners = make([]int, len(copies))
	for k, cs := range copies {
		switch {
		case len(cs) != 1:
			return nil, fmt.Sprintf("job %v has %d copies: %+v", f.jobs[k].group, len(cs), cs)
		case cs[0].round < minRound || !cs[0].whole:
			return nil, fmt.Sprintf("job %v is at round %d (whole: %t), want %d or later", f.jobs[k].group, cs[0].round, cs[0].whole, minRound)
		}
		owners[k] = cs[0].gateway
	}
	return owners, ""
}

// waitOnOneGateway polls the gateways until every job's group is on
// exactly one of them, whole, from round minRound or later, and returns
// each job's gateway; it fails the test at deadline.
func (s *scaleOut) waitOnOneGateway(t testing.TB, f *fleet, minRound int, deadline time.Time) []int {
	t.Helper()
	for {
		owners, problem := onOneGateway(s.locate(t, f), f, minRound)
		if problem == "" {
			return owners
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every group on exactly one gateway at round %d or later by the deadline: %s", minRound, problem)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// groupsPer counts the jobs each of n gateways holds.
func groupsPer(owners []int, n int) []int {
	counts := make([]int, n)
	for _, g := range owners {
		counts[g]++
	}
	return counts
}

const (
	// scaleJobs is the fleet of the tests: with it, the chance that the
	// consistent hash leaves a gateway without a group, or moves none to a
	// third backend, is below 1e-4.
	scaleJobs   = 60
	scaleSeries = 5

	// scaleGroupTTL is tier 2's group_ttl in the membership test: short,
	// so the test is, and four rounds' interval, so no live group expires.
	scaleGroupTTL = 2 * time.Second
	roundInterval = 500 * time.Millisecond

	// tier2BatchTimeout is the batch processor's timeout in
	// deploy/tier2/otelcol.yaml: data reaches the exporter up to this late.
	tier2BatchTimeout = 200 * time.Millisecond
	// onePush is the allowance for the delete of a stale group, and for
	// the test to see it, on an idle 127.0.0.1 gateway.
	onePush = time.Second
)

// staleCopyBound is how long after its last data reached the old owner a
// moved group's copy there can last: group_ttl, plus the expiry check's
// interval (group_ttl/4), plus one push. docs/SCALING.md states it.
func staleCopyBound(groupTTL time.Duration) time.Duration {
	return groupTTL + groupTTL/4 + onePush
}

// liveSender exports the fleet's current round every roundInterval until
// closed, as live jobs export on an interval. Sending a round again keeps
// its groups alive under group_ttl without changing their values.
type liveSender struct {
	f    *fleet
	base time.Time
	// round is the round to send from now on.
	round atomic.Int64
	// mu is held while a round is sent: switchTo waits for the send
	// under way.
	mu     sync.Mutex
	client pmetricotlp.GRPCClient
	stop   chan struct{}
	done   chan struct{}
	err    error // set before done is closed
}

func startLiveSender(t testing.TB, f *fleet, base time.Time, client pmetricotlp.GRPCClient, round int) *liveSender {
	l := &liveSender{f: f, base: base, client: client, stop: make(chan struct{}), done: make(chan struct{})}
	l.round.Store(int64(round))
	go l.run()
	t.Cleanup(func() { l.close(t) })
	return l
}

func (l *liveSender) run() {
	defer close(l.done)
	var stamped int64
	for {
		l.mu.Lock()
		if r := l.round.Load(); r != stamped {
			l.f.setRound(int(r), pcommon.NewTimestampFromTime(l.base.Add(time.Duration(r)*time.Millisecond)))
			stamped = r
		}
		err := l.f.send(l.client)
		l.mu.Unlock()
		if err != nil {
			l.err = fmt.Errorf("round %d: %w", stamped, err)
			return
		}
		select {
		case <-l.stop:
			return
		case <-time.After(roundInterval):
		}
	}
}

// switchTo sends every later round through client; no send through the
// previous one is under way once it returns.
func (l *liveSender) switchTo(client pmetricotlp.GRPCClient) {
	l.mu.Lock()
	l.client = client
	l.mu.Unlock()
}

// close stops sending and fails the test if a send failed.
func (l *liveSender) close(t testing.TB) {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	<-l.done
	if l.err != nil {
		t.Errorf("sending through tier 1: %v", l.err)
	}
}

// expiredDeleted is a tier-2 collector's count of groups it deleted from
// its gateway after group_ttl, from its own telemetry.
func expiredDeleted(t testing.TB, telemetryAddr string) int {
	t.Helper()
	body := testgateway.GetOK(t, "http://"+telemetryAddr+"/metrics")
	total := 0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "otelcol_exporter_pushgateway_groups_expired{") && strings.Contains(line, `action="deleted"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err, "%s", line)
			total += int(v)
		}
	}
	return total
}

// TestScaleOutMembershipChange runs the layout with two tier-2 collectors,
// then adds a third and restarts tier 1 with three backends, as the static
// resolver needs. Every group must be on exactly one gateway, with its
// latest values, before the change and again within staleCopyBound after
// it: the jobs that moved to the new backend leave a copy on their old
// gateway, which the old tier-2 collector deletes after group_ttl.
func TestScaleOutMembershipChange(t *testing.T) {
	// Its gateways stay direct under PUSHGATEWAY_DEDICATED: the test bounds
	// how soon group_ttl deletes the stale copies a membership change
	// leaves, and a checking proxy, which serialises every write and checks
	// a scrape before answering it (50-130 ms a write here, with three
	// gateways and four collectors on two cores), moves that past the
	// bound. TestScaleOutDeadTier2 runs the same layout behind the proxy.
	s := startScaleOutWith(t, &scaleOut{groupTTL: scaleGroupTTL, direct: true}, 2)
	base := time.Now()
	f := newFleet(scaleJobs, scaleSeries, pcommon.NewTimestampFromTime(base))
	sender := startLiveSender(t, f, base, otlpClient(t, s.tier1), 1)

	// Two backends: every group on one gateway, with each round's values.
	s.waitOnOneGateway(t, f, 1, time.Now().Add(20*time.Second))
	sender.round.Store(2)
	owners := s.waitOnOneGateway(t, f, 2, time.Now().Add(20*time.Second))
	before := groupsPer(owners, 2)
	t.Logf("two backends: groups per gateway %v", before)
	require.NotContains(t, before, 0, "the routing left a gateway without groups")

	// The change: a third backend, then a tier 1 that lists it; the jobs
	// switch over and the old tier 1 stops, draining what it holds, so no
	// data reaches an old owner after it has exited.
	s.addBackend(t)
	newTier1 := s.startTier1(t)
	sender.switchTo(otlpClient(t, newTier1))
	s.tier1.stop(t)
	s.tier1 = newTier1
	switched := time.Now()
	sender.round.Store(3) // sent through the new tier 1 only

	// The last data of a moved group reached its old owner before
	// switched, and its exporter took it at most tier2BatchTimeout later.
	deadline := switched.Add(tier2BatchTimeout + staleCopyBound(scaleGroupTTL))
	var (
		sawStale bool
		after    []int
	)
	for {
		copies := s.locate(t, f)
		for _, cs := range copies {
			sawStale = sawStale || len(cs) > 1
		}
		var problem string
		if after, problem = onOneGateway(copies, f, 3); problem == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every group on exactly one gateway %s after the old tier 1 stopped (group_ttl %s): %s",
				deadline.Sub(switched), scaleGroupTTL, problem)
		}
		time.Sleep(50 * time.Millisecond)
	}
	converged := time.Since(switched)

	// Consistent hashing moves groups only to the new backend; the rest
	// stay where they were.
	movedFrom := make([]int, 3)
	moved := 0
	for k, g := range after {
		if g != owners[k] {
			assert.Equal(t, 2, g, "job %v moved from gateway %d to %d, not to the new one", f.jobs[k].group, owners[k], g)
			movedFrom[owners[k]]++
			moved++
		}
	}
	require.NotZero(t, moved, "no group moved to the third backend: the test saw no membership change")

	// Each old owner deleted exactly the groups that moved away from it
	// (and no live group expired anywhere).
	require.Eventually(t, func() bool {
		for i, c := range s.tier2 {
			if expiredDeleted(t, c.telemetryAddr) != movedFrom[i] {
				return false
			}
		}
		return true
	}, 5*time.Second, 50*time.Millisecond, "groups deleted after group_ttl per tier-2 collector, want %v", movedFrom)

	// The latest round: each group on its owner alone, whole.
	sender.round.Store(4)
	final := s.waitOnOneGateway(t, f, 4, time.Now().Add(10*time.Second))
	assert.Equal(t, after, final, "a group moved again without a membership change")
	t.Logf("three backends: %d of %d groups moved to the new gateway (from each old one: %v); every group on one gateway %.2fs after the old tier 1 stopped (bound %s); stale copies seen: %t; groups per gateway %v",
		moved, len(f.jobs), movedFrom[:2], converged.Seconds(), deadline.Sub(switched), sawStale, groupsPer(final, 3))

	sender.close(t)
	assertNoErrorLogged(t, s.tier1)
	for _, c := range s.tier2 {
		assertNoErrorLogged(t, c.collector)
	}
}

// TestScaleOutDeadTier2 kills one tier-2 collector: with the static
// resolver, tier 1 does not route its jobs elsewhere but queues and retries
// them, and delivers them to the same gateway once the collector is back.
func TestScaleOutDeadTier2(t *testing.T) {
	s := startScaleOut(t, 2, 0)
	base := time.Now()
	f := newFleet(scaleJobs, scaleSeries, pcommon.NewTimestampFromTime(base))
	client := otlpClient(t, s.tier1)

	f.setRound(1, pcommon.NewTimestampFromTime(base.Add(time.Millisecond)))
	require.NoError(t, f.send(client))
	owners := s.waitOnOneGateway(t, f, 1, time.Now().Add(20*time.Second))
	require.NotContains(t, groupsPer(owners, 2), 0, "the routing left a gateway without groups")

	const dead = 1
	killCollector(t, s.tier2[dead].collector)
	f.setRound(2, pcommon.NewTimestampFromTime(base.Add(2*time.Millisecond)))
	require.NoError(t, f.send(client), "tier 1 takes data for a dead backend into its queue")

	// The live backend's jobs arrive; the dead one's stay at round 1 on
	// their own gateway, not rerouted to the live one.
	deadline := time.Now().Add(20 * time.Second)
	for {
		copies := s.locate(t, f)
		done := true
		for k, cs := range copies {
			require.Len(t, cs, 1, "job %v", f.jobs[k].group)
			require.Equal(t, owners[k], cs[0].gateway, "job %v moved while its backend was down", f.jobs[k].group)
			if owners[k] == dead {
				require.Equal(t, 1, cs[0].round, "job %v", f.jobs[k].group)
			} else if cs[0].round != 2 || !cs[0].whole {
				done = false
			}
		}
		if done {
			break
		}
		require.True(t, time.Now().Before(deadline), "the live backend's jobs not at round 2 after 20s")
		time.Sleep(50 * time.Millisecond)
	}

	// Back on the same address: tier 1's retry delivers round 2.
	back := time.Now()
	s.tier2[dead].start(t)
	after := s.waitOnOneGateway(t, f, 2, time.Now().Add(30*time.Second))
	assert.Equal(t, owners, after)
	t.Logf("the dead backend's jobs delivered %.2fs after it came back", time.Since(back).Seconds())
}
