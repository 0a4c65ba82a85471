package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// The load: loadGroups senders (one resource each, so one Pushgateway group
// each) send loadRounds requests of loadMetrics gauges × loadPointsPerMetric
// points. LOAD_ROUNDS overrides loadRounds.
const (
	loadGroups          = 10
	loadMetrics         = 100
	loadPointsPerMetric = 100
	loadPointsPerReq    = loadMetrics * loadPointsPerMetric // 10,000: max_series_per_group's default, exactly
	loadRounds          = 15

	// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
	// 100 on every Linux architecture Go supports (getconf CLK_TCK).
	clockTicks = 100
	// quietFor is how long the measured processes must use no CPU at all
	// before the work counts as finished.
	quietFor = time.Second
)

// loadConfig is the default-like collector: OTLP gRPC, the batch processor
// with its defaults, the exporter with its defaults (sending_queue of 10
// consumers and 1000 requests, retry from 5s) and no self-telemetry.
const loadConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "@GRPC@"}
processors:
  batch: {}
exporters:
  pushgateway:
    endpoint: %q
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry:
    metrics: {level: none}
`

// BenchmarkE2ELoad measures the built collector end to end against a real
// Pushgateway: data points per second delivered, and the CPU seconds the
// collector and the gateway each spent on the same work, with their ratio
// (the project's goal: collector ≤ 0.2× the gateway).
//
// "Delivered" counts every point the collector accepted, once the gateway
// holds the final state of every group: the exporter keeps the latest point
// per series and pushes whole groups, so a round superseded before its push
// went out reaches the gateway only as part of a later push. That is the
// exporter's contract (the gateway holds the latest value of each series),
// not a loss.
//
// The end of the work is found without asking the gateway: each read of
// /api/v1/metrics serialises all 100,000 series and would bill the gateway
// for the harness's polling. Instead both processes are sampled until they
// have used no CPU for quietFor; the CPU readings are taken then, and only
// afterwards is the gateway read once to check that every group holds the
// last round. The end time is the newest push_time_seconds among the
// groups: when the gateway took the last push (after parsing its body,
// before checking and storing it, a fraction of a second here). The time
// both processes went idle, which includes the gateway persisting the last
// state, is logged too.
//
// The gateway runs as testgateway starts it, persisting to a file every
// 100ms (a deployment's default is 5m, or no file at all); writing that file
// is part of its CPU, about a quarter of it with this load. The load
// generator shares the machine with both processes; its own CPU is logged.
func BenchmarkE2ELoad(b *testing.B) {
	rounds := loadRounds
	if s := os.Getenv("LOAD_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("LOAD_ROUNDS=%q: want a positive integer", s)
		}
		rounds = n
	}
	collectorBinary(b) // built once, before any timing
	var total loadResult
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		res := runLoad(b, rounds)
		total.points += res.points
		total.wall += res.wall
		total.collectorCPU += res.collectorCPU
		total.gatewayCPU += res.gatewayCPU
		total.pushes += res.pushes
	}
	b.ReportMetric(float64(total.points)/total.wall.Seconds(), "points/s")
	b.ReportMetric(total.collectorCPU/float64(b.N), "collector-cpu-s")
	b.ReportMetric(total.gatewayCPU/float64(b.N), "gateway-cpu-s")
	b.ReportMetric(total.collectorCPU/total.gatewayCPU, "cpu-ratio")
	b.ReportMetric(float64(total.pushes)/float64(b.N), "pushes")
}

type loadResult struct {
	points                   int64
	wall                     time.Duration
	collectorCPU, gatewayCPU float64 // seconds
	pushes                   int     // the pushes the gateway accepted, warm-up included
}

// runLoad starts a gateway and a collector, sends the load, waits for the
// work to finish, checks delivery and stops both.
func runLoad(b *testing.B, rounds int) loadResult {
	gw := testgateway.Start(b)
	defer gw.Stop()
	col := startCollectorWithConfig(b, fmt.Sprintf(loadConfig, gw.URL))
	defer col.stop(b)
	colPID, gwPID := col.cmd.Process.Pid, gw.PID()

	conn, err := grpc.NewClient(col.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	client := pmetricotlp.NewGRPCClient(conn)

	base := time.Now()
	senders := make([]roundSender, loadGroups)
	for k := range senders {
		senders[k] = newLoadSender(k, pcommon.NewTimestampFromTime(base))
	}
	warmUp(b, client, "load-warmup")
	waitQuiet(b, quietFor, colPID, gwPID) // the start-up settled

	colBefore, gwBefore := cpuTicks(b, colPID), cpuTicks(b, gwPID)
	selfBefore := selfCPU(b)
	b.StartTimer()
	start := time.Now()

	err = sendRounds(client, senders, rounds, base)
	accepted := time.Since(start)
	if err != nil {
		b.Fatalf("the collector refused the load: %v", err)
	}

	ticks, idle := waitQuiet(b, quietFor, colPID, gwPID)
	colTicks, gwTicks := ticks[0], ticks[1]
	b.StopTimer()
	colCPU := float64(colTicks-colBefore) / clockTicks
	gwCPU := float64(gwTicks-gwBefore) / clockTicks
	selfCPUUsed := selfCPU(b) - selfBefore

	// Only now read the gateway: every group must hold the last round.
	last := checkDelivered(b, gw, rounds)
	wall := last.Sub(start)
	if wall <= 0 {
		b.Fatalf("the last push (%s) is not after the first send (%s)", last, start)
	}

	// What one read of everything costs the gateway: why the harness does
	// not poll it while measuring.
	pollBefore := cpuTicks(b, gwPID)
	_ = gw.Groups(b)
	pollCPU := float64(cpuTicks(b, gwPID)-pollBefore) / clockTicks

	pushes, failed, _ := gatewayPushes(b, gw)
	if failed > 0 {
		b.Fatalf("the gateway refused %d pushes", failed)
	}

	points := int64(rounds) * loadGroups * loadPointsPerReq
	res := loadResult{points: points, wall: wall, collectorCPU: colCPU, gatewayCPU: gwCPU, pushes: pushes}
	b.Logf("load: %d points (%d groups × %d rounds × %d) delivered in %d pushes in %.2fs (accepted in %.2fs): %.0f points/s; "+
		"CPU: collector %.2fs, gateway %.2fs, ratio %.3f (goal ≤ 0.2); this harness %.2fs; both idle from %.2fs; "+
		"peak RSS: collector %d MiB, gateway %d MiB; one /api/v1/metrics read costs the gateway %.2fs CPU",
		points, loadGroups, rounds, loadPointsPerReq, pushes, wall.Seconds(), accepted.Seconds(),
		float64(points)/wall.Seconds(), colCPU, gwCPU, colCPU/gwCPU, selfCPUUsed, idle.Sub(start).Seconds(),
		peakRSSMiB(colPID), peakRSSMiB(gwPID), pollCPU)

	col.stop(b)
	for _, line := range strings.Split(col.logs.String(), "\n") {
		if strings.Contains(line, "\terror\t") || strings.Contains(line, "\twarn\t") {
			b.Errorf("the collector logged: %s", line)
		}
	}
	return res
}

// loadSender is one group's request, built once and updated in place for
// each round.
type loadSender struct {
	group  int
	req    pmetricotlp.ExportRequest
	points []pmetric.NumberDataPoint // every point of req, in order
}

var loadRegions = []string{"eu-west", "eu-central", "us-east", "ap-south"}

// newLoadSender builds group k's request: one resource (service.name=load,
// service.instance.id=i<k>), one scope, loadMetrics gauges of
// loadPointsPerMetric points each, told apart by host, region and shard.
func newLoadSender(k int, start pcommon.Timestamp) *loadSender {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "load")
	rm.Resource().Attributes().PutStr("service.instance.id", "i"+strconv.Itoa(k))
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("load")
	sm.Scope().SetVersion("1.0.0")
	s := &loadSender{group: k, points: make([]pmetric.NumberDataPoint, 0, loadPointsPerReq)}
	for m := 0; m < loadMetrics; m++ {
		metric := sm.Metrics().AppendEmpty()
		metric.SetName(fmt.Sprintf("load.metric.%03d", m))
		metric.SetDescription("A load-test gauge.")
		dps := metric.SetEmptyGauge().DataPoints()
		dps.EnsureCapacity(loadPointsPerMetric)
		for p := 0; p < loadPointsPerMetric; p++ {
			dp := dps.AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.Attributes().PutStr("host", fmt.Sprintf("host-%02d", p/4))
			dp.Attributes().PutStr("region", loadRegions[p%len(loadRegions)])
			dp.Attributes().PutStr("shard", strconv.Itoa(p))
			s.points = append(s.points, dp)
		}
	}
	s.req = pmetricotlp.NewExportRequestFromMetrics(md)
	return s
}

// setRound stamps every point with the round's time and a value encoding
// the round: round + index/1e5, so the marker (the first point of the first
// metric) is the round number exactly.
func (s *loadSender) setRound(round int, ts pcommon.Timestamp) {
	for i, dp := range s.points {
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(float64(round) + float64(i)/1e5)
	}
}

func (s *loadSender) request() pmetricotlp.ExportRequest { return s.req }

func (s *loadSender) String() string { return fmt.Sprintf("group %d", s.group) }

// roundSender is one sender of a load: its request, made newer each round.
type roundSender interface {
	setRound(round int, ts pcommon.Timestamp)
	request() pmetricotlp.ExportRequest
	fmt.Stringer
}

// sendRounds sends every sender's request rounds times, the senders in
// parallel, round r stamped base + r ms, and returns each sender's first
// refusal.
func sendRounds(client pmetricotlp.GRPCClient, senders []roundSender, rounds int, base time.Time) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, s := range senders {
		wg.Go(func() {
			for r := 1; r <= rounds; r++ {
				s.setRound(r, pcommon.NewTimestampFromTime(base.Add(time.Duration(r)*time.Millisecond)))
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err := client.Export(ctx, s.request())
				cancel()
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("%s round %d: %w", s, r, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// warmUp sends a first, small, untimed export, which opens the connection,
// so that a measurement starts with a ready channel.
func warmUp(b *testing.B, client pmetricotlp.GRPCClient, name string) {
	b.Helper()
	warm := pmetric.NewMetrics()
	warm.ResourceMetrics().AppendEmpty().Resource().Attributes().PutStr("service.name", name)
	if _, err := client.Export(context.Background(), pmetricotlp.NewExportRequestFromMetrics(warm)); err != nil {
		b.Fatalf("warm-up export: %v", err)
	}
}

// checkDelivered reads the gateway once and fails unless every group holds
// all its series with the marker at the last round; it returns the newest
// push_time_seconds among the groups.
func checkDelivered(b *testing.B, gw *testgateway.Gateway, rounds int) time.Time {
	b.Helper()
	var last time.Time
	groups := gw.Groups(b) // each read serialises every series: read once
	for k := 0; k < loadGroups; k++ {
		labels := map[string]string{"job": "load", "instance": "i" + strconv.Itoa(k)}
		var grp *testgateway.Group
		for i := range groups {
			if len(groups[i].Labels) == len(labels) && groups[i].Labels["job"] == labels["job"] && groups[i].Labels["instance"] == labels["instance"] {
				grp = &groups[i]
			}
		}
		if grp == nil {
			b.Fatalf("the collector went idle but the gateway holds no group %v: a push failed and waits for its retry?", labels)
		}
		series := 0
		for name, f := range grp.Families {
			if strings.HasPrefix(name, "load_metric_") {
				series += len(f.Metrics)
			}
		}
		marker := ""
		for _, m := range grp.Families["load_metric_000"].Metrics {
			if m.Labels["shard"] == "0" {
				marker = m.Value
			}
		}
		if v, err := strconv.ParseFloat(marker, 64); err != nil || v != float64(rounds) || series != loadPointsPerReq {
			b.Fatalf("the collector went idle but group %v holds %d series, marker %q (want %d series, marker %d): a push failed and waits for its retry?",
				labels, series, marker, loadPointsPerReq, rounds)
		}
		pushed := grp.Families["push_time_seconds"].Metrics
		if len(pushed) != 1 {
			b.Fatalf("group %v: no push_time_seconds", labels)
		}
		secs, err := strconv.ParseFloat(pushed[0].Value, 64)
		if err != nil {
			b.Fatalf("group %v: push_time_seconds %q: %v", labels, pushed[0].Value, err)
		}
		if t := time.Unix(0, int64(secs*1e9)); t.After(last) {
			last = t
		}
	}
	return last
}

// waitQuiet samples the processes until none has used any CPU for quiet,
// and returns their CPU ticks then, in the order given, and when any of
// them last used some.
func waitQuiet(b testing.TB, quiet time.Duration, pids ...int) (ticks []int64, lastBusy time.Time) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	ticks = make([]int64, len(pids))
	changed := time.Now()
	for {
		moved := false
		for i, pid := range pids {
			if t := cpuTicks(b, pid); t != ticks[i] {
				ticks[i], moved = t, true
			}
		}
		now := time.Now()
		if moved {
			changed = now
		} else if now.Sub(changed) >= quiet {
			return ticks, changed
		}
		if now.After(deadline) {
			b.Fatalf("processes %v still busy after 5 minutes", pids)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cpuTicks is utime + stime of a process, in clock ticks, from
// /proc/<pid>/stat (fields 14 and 15).
func cpuTicks(b testing.TB, pid int) int64 {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("reading the CPU time of process %d: %v", pid, err)
	}
	// Field 2, the command, is in parentheses and may hold spaces.
	rest := data[bytes.LastIndexByte(data, ')')+1:]
	fields := strings.Fields(string(rest)) // fields[0] is field 3
	utime, err1 := strconv.ParseInt(fields[14-3], 10, 64)
	stime, err2 := strconv.ParseInt(fields[15-3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatalf("parsing /proc/%d/stat: %v", pid, err)
	}
	return utime + stime
}

// selfCPU is the CPU seconds this process (the load generator) used so far.
func selfCPU(b testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMiB is a process's peak resident set (VmHWM), or -1.
func peakRSSMiB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}
