package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The fleet of BenchmarkTwoTier: scaleBenchJobs jobs (one resource, so
// one group, each) of scaleBenchSeries gauge series and a counter, sending
// scaleBenchRounds rounds each. SCALE_ROUNDS overrides the rounds.
const (
	scaleBenchJobs   = 20
	scaleBenchSeries = 4000 // 80,000 series in all, within max_series' 100,000
	scaleBenchRounds = 5
)

// BenchmarkTwoTier sends the same fleet through tier 1 (the load-balancing
// exporter, deploy/tier1) into one tier-2 collector and its Pushgateway,
// then into two of each, with fresh processes for every run. It reports the
// data points per second delivered and the CPU seconds each tier and the
// gateways spent, read from /proc/<pid>/stat.
//
// As in BenchmarkE2ELoad, the end of the work is found without asking the
// gateways (a read of /api/v1/metrics serialises everything they hold):
// every process is sampled until none has used CPU for quietFor, then the
// gateways are read once to check that every job's group is on exactly one
// of them with the last round's values. The time of the last push is the
// newest push_time_seconds among the groups. "Delivered" counts every point
// tier 1 accepted: the exporter keeps the latest point per series and
// pushes whole groups, so a round superseded before its push went out
// reaches the gateway inside a later push.
func BenchmarkTwoTier(b *testing.B) {
	rounds := scaleBenchRounds
	if s := os.Getenv("SCALE_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("SCALE_ROUNDS=%q: want a positive integer", s)
		}
		rounds = n
	}
	collectorBinary(b) // both built once, before any timing
	tier1Binary(b)
	for _, backends := range []int{1, 2} {
		b.Run(fmt.Sprintf("gateways=%d", backends), func(b *testing.B) {
			var total scaleLoadResult
			for range b.N {
				b.StopTimer()
				total.add(runScaleLoad(b, backends, rounds))
			}
			b.ReportMetric(float64(total.points)/total.wall.Seconds(), "points/s")
			b.ReportMetric(total.gatewayCPU/float64(b.N), "gateway-cpu-s")
			b.ReportMetric(total.tier1CPU/float64(b.N), "tier1-cpu-s")
			b.ReportMetric(total.tier2CPU/float64(b.N), "tier2-cpu-s")
		})
	}
}

type scaleLoadResult struct {
	points                         int64
	wall                           time.Duration
	tier1CPU, tier2CPU, gatewayCPU float64 // seconds, summed over each tier's processes
}

func (r *scaleLoadResult) add(o scaleLoadResult) {
	r.points += o.points
	r.wall += o.wall
	r.tier1CPU += o.tier1CPU
	r.tier2CPU += o.tier2CPU
	r.gatewayCPU += o.gatewayCPU
}

// runScaleLoad starts the layout with backends tier-2 collectors and
// gateways, sends the fleet's rounds, waits until every process is idle,
// checks delivery and stops everything.
func runScaleLoad(b *testing.B, backends, rounds int) scaleLoadResult {
	s := startScaleOut(b, backends, 0)
	base := time.Now()
	f := newFleet(scaleBenchJobs, scaleBenchSeries, pcommon.NewTimestampFromTime(base))
	client := otlpClient(b, s.tier1)

	warmUp(b, client, "warm-up")
	pids := s.pids()
	before, _ := waitQuiet(b, quietFor, pids...)
	selfBefore := selfCPU(b)
	b.StartTimer()
	start := time.Now()

	senders := make([]roundSender, len(f.jobs))
	for i, j := range f.jobs {
		senders[i] = j
	}
	err := sendRounds(client, senders, rounds, base)
	accepted := time.Since(start)
	if err != nil {
		b.Fatalf("tier 1 refused the load: %v", err)
	}
	after, lastBusy := waitQuiet(b, quietFor, pids...)
	b.StopTimer()
	selfUsed := selfCPU(b) - selfBefore

	// Only now read the gateways, once each.
	copies := s.locate(b, f)
	if _, problem := onOneGateway(copies, f, rounds); problem != "" {
		b.Fatalf("every process went idle, but: %s (a push failed and waits for its retry?)", problem)
	}
	var last time.Time
	perGateway := make([]int, backends)
	for _, cs := range copies {
		if cs[0].round != rounds {
			b.Fatalf("a group at round %d, want %d", cs[0].round, rounds)
		}
		if cs[0].pushed.After(last) {
			last = cs[0].pushed
		}
		perGateway[cs[0].gateway]++
	}
	wall := last.Sub(start)
	if wall <= 0 {
		b.Fatalf("the last push (%s) is not after the first send (%s)", last, start)
	}

	cpu := func(from, to int) float64 { // pids[from:to], in seconds
		var ticks int64
		for i := from; i < to; i++ {
			ticks += after[i] - before[i]
		}
		return float64(ticks) / clockTicks
	}
	res := scaleLoadResult{
		points:     int64(rounds) * int64(len(f.jobs)) * int64(f.series+1),
		wall:       wall,
		tier1CPU:   cpu(0, 1),
		tier2CPU:   cpu(1, 1+backends),
		gatewayCPU: cpu(1+backends, 1+2*backends),
	}
	perGatewayCPU := make([]string, backends)
	for g := range backends {
		perGatewayCPU[g] = fmt.Sprintf("%.2fs", cpu(1+backends+g, 2+backends+g))
	}
	b.Logf("%d gateway(s): %d points (%d jobs × %d rounds × %d) delivered in %.2fs (accepted in %.2fs): %.0f points/s; "+
		"CPU: tier 1 %.2fs, tier 2 %.2fs, gateways %.2fs (each %v, holding %v groups); this harness %.2fs; all idle from %.2fs",
		backends, res.points, len(f.jobs), rounds, f.series+1, wall.Seconds(), accepted.Seconds(),
		float64(res.points)/wall.Seconds(), res.tier1CPU, res.tier2CPU, res.gatewayCPU, perGatewayCPU, perGateway,
		selfUsed, lastBusy.Sub(start).Seconds())
	return res
}

// waitIdle samples the processes until none has used any CPU for
// quietFor, and returns each one's CPU ticks then and when any last used
