package e2e

// The fleet benchmark: many short jobs, each pushing one small group, the
// shape of a CronJob fleet. Every iteration runs the same fleet three
// times, side by side, each time against a fresh gateway: as hand-written
// jobs that push themselves with client_golang's push package ("hand"); as
// OTel SDK jobs sending OTLP to the built collector, which pushes with this
// exporter ("otel"); and as hand-written jobs whose pushes carry what the
// OTel path's carry under the OTel compatibility rules, the two scope
// labels on every series and a target_info series ("same"). The ratios
// otel/hand are what a user moving from hand-written pushes pays; otel/same
// is what the path itself costs, with the content held equal. The absolute
// figures move with whatever else the machine runs.
//
// Environment (all optional):
//
//	FLEET_JOBS                 fleet sizes, comma-separated (default 100,500,1000)
//	FLEET_SERIES               series per job (default 50)
//	FLEET_CONCURRENCY          jobs running at once (default 8)
//	FLEET_CHECK                on, off or on,off (default): the gateway's consistency check
//	FLEET_PERSISTENCE_INTERVAL the gateway's --persistence.interval (default: its own, 5m)
//	FLEET_EXPORTER             more exporter keys, YAML flow style: "scope_labels: false, target_info: false"
//	FLEET_BATCH_TIMEOUT        the batch processor's timeout (default: its own, 200ms)
//	FLEET_BATCH_SIZE           the batch processor's send_batch_size (default: its own, 8192)
//	FLEET_FLUSH                1: each OTel job calls ForceFlush before Shutdown (two exports)
//	FLEET_PROFILE_DIR          save a CPU profile of each gateway, taken during the run
//	FLEET_PROFILE_SECONDS      its length (default 30)
//	FLEET_TRACE_DIR            record every push through a loopback proxy (both sides) and
//	                           the collector's debug log; log what the pushes repeat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

const (
	// fleetShards is how many series (values of the shard attribute) each
	// instrument of a job has: instruments alternate counter, gauge, ...
	fleetShards = 5
	// fleetScope is the meter of the OTel jobs.
	fleetScope, fleetScopeVersion = "fleet", "1.0.0"
)

// fleetCollectorConfig is the default-like collector of load_test.go: the
// batch processor and the exporter with their defaults, unless the
// environment adds settings (%s: batch settings, endpoint, exporter keys,
// log settings).
const fleetCollectorConfig = `
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "@GRPC@"}
processors:
  batch: {%s}
exporters:
  pushgateway: {endpoint: %q%s}
service:
  pipelines:
    metrics: {receivers: [otlp], processors: [batch], exporters: [pushgateway]}
  telemetry:
    metrics: {level: none}
    logs: {%s}
`

// fleetParams is one configuration of the benchmark.
type fleetParams struct {
	jobs, series, concurrency int
	check                     bool
	persistenceInterval       string
	exporterKeys              string
	batchTimeout, batchSize   string
	flushFirst                bool
	profileDir                string
	profileSeconds            int
	traceDir                  string
}

// fleetSides are the three paths of a run, in the order of the first run.
var fleetSides = []string{"hand", "otel", "same"}

// fleetSide is what one side of a run measured.
type fleetSide struct {
	pushes, failedPushes int
	meanRequestBytes     float64 // the gateway's approximate request size: headers and body
	wall                 time.Duration
	idle                 time.Duration // from the start until the measured processes went idle
	jobsDone             time.Duration // from the start until the last job returned
	gatewayCPU           float64       // seconds
	collectorCPU         float64       // seconds; 0 for the hand-written sides
	harnessCPU           float64       // seconds this process used: the jobs themselves
	gatewayRSSMiB        int
	longestStall         time.Duration // the longest the harness was not scheduled (see watchStalls)
	held                 []string      // what the gateway held at the end (see heldContent)
}

// fleetRuns rotates which side goes first, so that none always runs on a
// machine warmed (or loaded) by another.
var fleetRuns atomic.Int64

// BenchmarkE2EFleet measures what a fleet of short jobs costs the
// Pushgateway through the collector, against the same jobs pushing for
// themselves. Each job is its own OTel SDK MeterProvider with its own
// resource (service.name, service.instance.id and the SDK's defaults),
// records FLEET_SERIES series, exports once on Shutdown and is gone; the
// hand-written twins register the same series under the names Prometheus
// gives them and push once with client_golang (PUT, protobuf, grouped by
// job and instance), "same" with the scope labels and target_info too.
// All run FLEET_CONCURRENCY jobs at a time.
//
// Per side it reports pushes the gateway received (its own
// pushgateway_http_requests_total, read once at the end: the gateway's
// count, at no cost during the run and with no proxy in the path), the wall
// time from the fleet's start to the newest push_time_seconds (when the
// gateway parsed the last push), the gateway's and the collector's CPU
// seconds from /proc, and the ratios otel/hand and otel/same. The end is
// found without asking the gateway anything: the processes are sampled
// until idle (see waitQuiet), then the gateway is read once to check that
// every group holds every series with its value.
func BenchmarkE2EFleet(b *testing.B) {
	collectorBinary(b)
	base := fleetParamsFromEnv(b)
	checks := envList(b, "FLEET_CHECK", "on,off")
	sizes := envInts(b, "FLEET_JOBS", "100,500,1000")
	for _, check := range checks {
		if check != "on" && check != "off" {
			b.Fatalf("FLEET_CHECK: %q is neither on nor off", check)
		}
		b.Run("check="+check, func(b *testing.B) {
			for _, jobs := range sizes {
				b.Run("jobs="+strconv.Itoa(jobs), func(b *testing.B) {
					p := base
					p.jobs, p.check = jobs, check == "on"
					benchmarkFleet(b, p)
				})
			}
		})
	}
}

func benchmarkFleet(b *testing.B, p fleetParams) {
	total := map[string]*fleetSide{}
	for _, side := range fleetSides {
		total[side] = &fleetSide{}
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		first := int(fleetRuns.Add(1))
		for k := range fleetSides {
			side := fleetSides[(first+k)%len(fleetSides)]
			total[side].add(runFleetSide(b, p, side))
		}
	}
	n := float64(b.N)
	hand, otel, same := total["hand"], total["otel"], total["same"]
	for _, side := range fleetSides {
		s := total[side]
		b.ReportMetric(float64(s.pushes)/n, side+"-pushes")
		b.ReportMetric(s.wall.Seconds()/n, side+"-wall-s")
		b.ReportMetric(s.gatewayCPU/n, side+"-gw-cpu-s")
	}
	b.ReportMetric(float64(otel.pushes)/float64(hand.pushes), "push-ratio")
	b.ReportMetric(otel.wall.Seconds()/hand.wall.Seconds(), "wall-ratio")
	b.ReportMetric(otel.gatewayCPU/hand.gatewayCPU, "gw-cpu-ratio")
	b.ReportMetric(otel.wall.Seconds()/same.wall.Seconds(), "same-wall-ratio")
	b.ReportMetric(otel.gatewayCPU/same.gatewayCPU, "same-gw-cpu-ratio")
	b.ReportMetric(otel.collectorCPU/n, "collector-cpu-s")
	b.ReportMetric(max(hand.longestStall, otel.longestStall, same.longestStall).Seconds(), "stall-s")
}

func (s *fleetSide) add(o fleetSide) {
	s.pushes += o.pushes
	s.wall += o.wall
	s.gatewayCPU += o.gatewayCPU
	s.collectorCPU += o.collectorCPU
	s.longestStall = max(s.longestStall, o.longestStall)
}

// runFleetSide runs the fleet once along one path (hand, otel or same)
// against a fresh gateway and measures it.
func runFleetSide(b testing.TB, p fleetParams, side string) fleetSide {
	opts := testgateway.Options{DefaultPersistenceInterval: true}
	if p.persistenceInterval != "" {
		opts.Args = append(opts.Args, "--persistence.interval="+p.persistenceInterval)
	}
	if !p.check {
		opts.Args = append(opts.Args, "--push.disable-consistency-check")
	}
	gw := testgateway.StartWith(b, opts)
	defer gw.Stop()
	label := fmt.Sprintf("%s-%s", strings.NewReplacer("/", "_", "=", "").Replace(b.Name()), side)

	endpoint := gw.URL
	var rec *pushRecorder
	if p.traceDir != "" {
		rec = startPushRecorder(b, gw.URL)
		defer rec.stop()
		endpoint = rec.url
	}

	pids := []int{gw.PID()}
	var col *collector
	quiet := quietFor
	if side == "otel" {
		col = startCollectorWithConfig(b, p.collectorConfig(endpoint))
		defer col.stop(b)
		pids = append(pids, col.cmd.Process.Pid)
		if p.batchTimeout != "" {
			// The batch processor may hold points, idle, for its timeout.
			d, err := time.ParseDuration(p.batchTimeout)
			if err != nil {
				b.Fatalf("FLEET_BATCH_TIMEOUT: %v", err)
			}
			quiet += d
		}
	}
	waitQuiet(b, quiet, pids...) // the start-up settled

	before := make([]int64, len(pids))
	for i, pid := range pids {
		before[i] = cpuTicks(b, pid)
	}
	selfBefore := selfCPU(b)
	profile := p.startProfile(b, gw, label)
	bench, isBench := b.(*testing.B)
	if isBench {
		bench.StartTimer()
	}
	stalls := watchStalls()
	start := time.Now()

	var job func(int) error
	switch side {
	case "hand":
		job = func(i int) error { return pushByHand(endpoint, i, p.series, false) }
	case "same":
		job = func(i int) error { return pushByHand(endpoint, i, p.series, true) }
	case "otel":
		job = func(i int) error { return runOTelJob(col.grpcAddr, i, p.series, p.flushFirst) }
	default:
		b.Fatalf("no fleet side %q", side)
	}
	if err := runJobs(p.jobs, p.concurrency, job); err != nil {
		b.Fatalf("%s side: %v", side, err)
	}
	jobsDone := time.Since(start)
	after, lastBusy := waitQuiet(b, quiet, pids...)
	if isBench {
		bench.StopTimer()
	}
	res := fleetSide{
		jobsDone:      jobsDone,
		idle:          lastBusy.Sub(start),
		harnessCPU:    selfCPU(b) - selfBefore,
		gatewayCPU:    float64(after[0]-before[0]) / clockTicks,
		gatewayRSSMiB: peakRSSMiB(gw.PID()),
	}
	if col != nil {
		res.collectorCPU = float64(after[1]-before[1]) / clockTicks
	}
	res.longestStall = stalls()
	profile()

	// Only now read the gateway: once for the groups, once for its counts.
	last, held := checkFleet(b, gw, p, side)
	res.wall, res.held = last.Sub(start), held
	res.pushes, res.failedPushes, res.meanRequestBytes = gatewayPushes(b, gw)
	if res.failedPushes > 0 {
		b.Fatalf("%s side: the gateway refused %d pushes", side, res.failedPushes)
	}

	b.Logf("%s: %d jobs × %d series, %d at a time, check=%t: %d pushes (mean request %.0f B), all held %.2fs after the start "+
		"(last job done at %.2fs, idle at %.2fs); CPU: gateway %.2fs, collector %.2fs, jobs (this process) %.2fs; gateway peak RSS %d MiB",
		side, p.jobs, p.series, p.concurrency, p.check, res.pushes, res.meanRequestBytes, res.wall.Seconds(),
		res.jobsDone.Seconds(), res.idle.Seconds(), res.gatewayCPU, res.collectorCPU, res.harnessCPU, res.gatewayRSSMiB)
	if res.longestStall > stallWarning {
		b.Logf("%s: WARNING: this process was not scheduled for %s at a time during the run: the machine was "+
			"overloaded or paused, and this run's times are not comparable", side, res.longestStall.Round(time.Millisecond))
	}

	if col != nil {
		col.stop(b)
		for _, line := range strings.Split(col.logs.String(), "\n") {
			if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"warn"`) {
				b.Errorf("the collector logged: %s", line)
			}
		}
	}
	if rec != nil {
		rec.report(b, p.traceDir, label)
		if col != nil {
			writeFile(b, filepath.Join(p.traceDir, label+".collector.log"), col.logs.String())
		}
	}
	return res
}

// stallWarning is the scheduling gap beyond which a run is flagged.
const stallWarning = 500 * time.Millisecond

// watchStalls measures, until the returned func is called, the longest
// time a goroutine sleeping 10ms at a time took to wake: on a machine
// shared with other work, a gap of seconds means every process here was
// held up, and the run's times say more about the machine than about the
// gateway.
func watchStalls() func() time.Duration {
	stop := make(chan struct{})
	result := make(chan time.Duration)
	go func() {
		var longest time.Duration
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-tick.C:
				now := time.Now()
				longest = max(longest, now.Sub(last))
				last = now
			case <-stop:
				result <- max(longest, time.Since(last))
				return
			}
		}
	}()
	return func() time.Duration {
		close(stop)
		return <-result
	}
}

// collectorConfig is fleetCollectorConfig with the environment's settings.
func (p fleetParams) collectorConfig(endpoint string) string {
	var batch []string
	if p.batchTimeout != "" {
		batch = append(batch, "timeout: "+p.batchTimeout)
	}
	if p.batchSize != "" {
		batch = append(batch, "send_batch_size: "+p.batchSize)
	}
	keys := ""
	if p.exporterKeys != "" {
		keys = ", " + p.exporterKeys
	}
	logs := "level: info, encoding: json"
	if p.traceDir != "" {
		// The exporter logs every push with its group at debug; the
		// collector samples repeated entries unless told not to.
		logs = "level: debug, encoding: json, sampling: {enabled: false}"
	}
	return fmt.Sprintf(fleetCollectorConfig, strings.Join(batch, ", "), endpoint, keys, logs)
}

// startProfile asks the gateway for a CPU profile of the coming
// p.profileSeconds, when FLEET_PROFILE_DIR is set; the returned func waits
// for it and saves it. One request for the whole run, not polling.
func (p fleetParams) startProfile(b testing.TB, gw *testgateway.Gateway, label string) func() {
	if p.profileDir == "" {
		return func() {}
	}
	done := make(chan error, 1)
	path := filepath.Join(p.profileDir, label+".pprof")
	go func() {
		resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", gw.URL, p.profileSeconds))
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", resp.Status, data)
		}
		if err == nil {
			err = os.WriteFile(path, data, 0o644)
		}
		done <- err
	}()
	return func() {
		if err := <-done; err != nil {
			b.Fatalf("profiling the gateway: %v", err)
		}
		b.Logf("gateway CPU profile: %s", path)
	}
}

func fleetParamsFromEnv(b *testing.B) fleetParams {
	p := fleetParams{
		series:              envInt(b, "FLEET_SERIES", 50),
		concurrency:         envInt(b, "FLEET_CONCURRENCY", 8),
		persistenceInterval: os.Getenv("FLEET_PERSISTENCE_INTERVAL"),
		exporterKeys:        os.Getenv("FLEET_EXPORTER"),
		batchTimeout:        os.Getenv("FLEET_BATCH_TIMEOUT"),
		batchSize:           os.Getenv("FLEET_BATCH_SIZE"),
		flushFirst:          os.Getenv("FLEET_FLUSH") == "1",
		profileDir:          os.Getenv("FLEET_PROFILE_DIR"),
		profileSeconds:      envInt(b, "FLEET_PROFILE_SECONDS", 30),
		traceDir:            os.Getenv("FLEET_TRACE_DIR"),
	}
	for _, dir := range []string{p.profileDir, p.traceDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
	}
	return p
}

func envList(b *testing.B, name, def string) []string {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		b.Fatalf("%s=%q: empty", name, v)
	}
	return out
}

func envInts(b *testing.B, name, def string) []int {
	var out []int
	for _, s := range envList(b, name, def) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("%s: %q is not a positive integer", name, s)
		}
		out = append(out, n)
	}
	return out
}

func envInt(b *testing.B, name string, def int) int {
	if os.Getenv(name) == "" {
		return def
	}
	return envInts(b, name, "")[0]
}

// runJobs runs jobs 0..n-1, at most concurrency at once, and returns the
// first errors.
func runJobs(n, concurrency int, job func(int) error) error {
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := job(i); err != nil {
					mu.Lock()
					if len(errs) < 5 {
						errs = append(errs, fmt.Errorf("job %d: %w", i, err))
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return errors.Join(errs...)
}

// The fleet's names. Each job has a name of its own, as the CronJobs of a
// fleet do, and an instance.
func fleetJobName(i int) string  { return fmt.Sprintf("fleet-job-%04d", i) }
func fleetInstance(i int) string { return fmt.Sprintf("run-%04d", i) }

// fleetSeries describes series s of every job: instrument s/fleetShards,
// a counter when that is even, else a gauge, and shard s%fleetShards.
type fleetSeries struct {
	counter            bool
	otelName, promName string
	help               string
	shard              string
}

func fleetSeriesOf(s int) fleetSeries {
	inst := s / fleetShards
	fs := fleetSeries{counter: inst%2 == 0, shard: strconv.Itoa(s % fleetShards)}
	if fs.counter {
		fs.otelName = fmt.Sprintf("fleet.items.%02d", inst)
		fs.promName = fmt.Sprintf("fleet_items_%02d_total", inst)
		fs.help = "Items the job processed."
	} else {
		fs.otelName = fmt.Sprintf("fleet.level.%02d", inst)
		fs.promName = fmt.Sprintf("fleet_level_%02d", inst)
		fs.help = "A level the job measured."
	}
	return fs
}

// fleetValue is series s's value in job i: whole for counters, .5 for
// gauges, distinct across the fleet.
func fleetValue(i, s int) float64 {
	v := float64(i*1000 + s + 1)
	if !fleetSeriesOf(s).counter {
		v += 0.5
	}
	return v
}

// pushByHand is one hand-written job: client_golang metrics, one PUT of
// the job's registry (protobuf, client_golang's default), grouped by job
// and instance, over connections of its own as a process of its own has.
// otelContent adds what the OTel path's pushes carry: the scope's labels
// on every series and a target_info series with the job's resource
// attributes that are not in the grouping key.
func pushByHand(gatewayURL string, i, series int, otelContent bool) error {
	reg := prometheus.NewRegistry()
	var scope prometheus.Labels
	if otelContent {
		scope = prometheus.Labels{"otel_scope_name": fleetScope, "otel_scope_version": fleetScopeVersion}
		info := prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "target_info", Help: "Target metadata", ConstLabels: fleetTargetInfoLabels(i),
		})
		info.Set(1)
		reg.MustRegister(info)
	}
	counters := map[string]*prometheus.CounterVec{}
	gauges := map[string]*prometheus.GaugeVec{}
	for s := 0; s < series; s++ {
		fs := fleetSeriesOf(s)
		if fs.counter {
			c := counters[fs.promName]
			if c == nil {
				c = prometheus.NewCounterVec(prometheus.CounterOpts{Name: fs.promName, Help: fs.help, ConstLabels: scope}, []string{"shard"})
				reg.MustRegister(c)
				counters[fs.promName] = c
			}
			c.WithLabelValues(fs.shard).Add(fleetValue(i, s))
		} else {
			g := gauges[fs.promName]
			if g == nil {
				g = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: fs.promName, Help: fs.help, ConstLabels: scope}, []string{"shard"})
				reg.MustRegister(g)
				gauges[fs.promName] = g
			}
			g.WithLabelValues(fs.shard).Set(fleetValue(i, s))
		}
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	return push.New(gatewayURL, fleetJobName(i)).
		Grouping("instance", fleetInstance(i)).
		Gatherer(reg).
		Client(&http.Client{Transport: transport, Timeout: 60 * time.Second}).
		Push()
}

// fleetResource is the resource of OTel job i: its name and instance and
// the SDK's defaults.
func fleetResource(i int) (*resource.Resource, error) {
	return resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", fleetJobName(i)),
		attribute.String("service.instance.id", fleetInstance(i)),
	))
}

// fleetTargetInfoLabels are the labels of job i's target_info series as
// the OTel compatibility rules make them: the resource's attributes but
// the two that became job and instance, dots turned into underscores.
// TestFleetHarness checks them against what the exporter pushes.
func fleetTargetInfoLabels(i int) prometheus.Labels {
	res, err := fleetResource(i)
	if err != nil {
		panic(err)
	}
	labels := prometheus.Labels{}
	for _, kv := range res.Attributes() {
		if k := string(kv.Key); k != "service.name" && k != "service.instance.id" {
			labels[strings.ReplaceAll(k, ".", "_")] = kv.Value.Emit()
		}
	}
	return labels
}

// runOTelJob is one OTel job: its own MeterProvider and OTLP gRPC
// connection, its own resource, the series recorded once, exported on
// Shutdown (after a ForceFlush too, when flushFirst).
func runOTelJob(collectorAddr string, i, series int, flushFirst bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(collectorAddr), otlpmetricgrpc.WithInsecure())
	if err != nil {
		return err
	}
	res, err := fleetResource(i)
	if err != nil {
		return err
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
	)
	meter := provider.Meter(fleetScope, metric.WithInstrumentationVersion(fleetScopeVersion))
	counters := map[string]metric.Float64Counter{}
	gauges := map[string]metric.Float64Gauge{}
	for s := 0; s < series; s++ {
		fs := fleetSeriesOf(s)
		attrs := metric.WithAttributes(attribute.String("shard", fs.shard))
		if fs.counter {
			c, ok := counters[fs.otelName]
			if !ok {
				if c, err = meter.Float64Counter(fs.otelName, metric.WithDescription(fs.help)); err != nil {
					return err
				}
				counters[fs.otelName] = c
			}
			c.Add(ctx, fleetValue(i, s), attrs)
		} else {
			g, ok := gauges[fs.otelName]
			if !ok {
				if g, err = meter.Float64Gauge(fs.otelName, metric.WithDescription(fs.help)); err != nil {
					return err
				}
				gauges[fs.otelName] = g
			}
			g.Record(ctx, fleetValue(i, s), attrs)
		}
	}
	if flushFirst {
		if err := provider.ForceFlush(ctx); err != nil {
			return fmt.Errorf("flushing: %w", err)
		}
	}
	return provider.Shutdown(ctx)
}

// checkFleet reads the gateway once and fails unless every job's group
// holds each of its series with its value and no failed push; it returns
// the newest push_time_seconds and what the gateway held.
func checkFleet(b testing.TB, gw *testgateway.Gateway, p fleetParams, side string) (time.Time, []string) {
	b.Helper()
	byKey := map[string]*testgateway.Group{}
	groups := gw.Groups(b)
	for i := range groups {
		byKey[groups[i].Labels["job"]+"\xff"+groups[i].Labels["instance"]] = &groups[i]
	}
	if len(groups) != p.jobs {
		b.Errorf("%s side: the gateway holds %d groups, want %d", side, len(groups), p.jobs)
	}
	var last time.Time
	for i := 0; i < p.jobs; i++ {
		grp := byKey[fleetJobName(i)+"\xff"+fleetInstance(i)]
		if grp == nil {
			b.Fatalf("%s side went idle but the gateway holds no group for job %d: a push failed and waits for its retry?", side, i)
		}
		for s := 0; s < p.series; s++ {
			fs := fleetSeriesOf(s)
			got := ""
			for _, m := range grp.Families[fs.promName].Metrics {
				if m.Labels["shard"] == fs.shard {
					got = m.Value
				}
			}
			if v, err := strconv.ParseFloat(got, 64); err != nil || v != fleetValue(i, s) {
				b.Fatalf("%s side: job %d holds %s{shard=%q} = %q, want %v", side, i, fs.promName, fs.shard, got, fleetValue(i, s))
			}
		}
		if f := grp.Families["push_failure_time_seconds"].Metrics; len(f) != 1 || f[0].Value != "0" {
			b.Fatalf("%s side: job %d: a push failed: %+v", side, i, f)
		}
		pushed := grp.Families["push_time_seconds"].Metrics
		if len(pushed) != 1 {
			b.Fatalf("%s side: job %d: no push_time_seconds", side, i)
		}
		secs, err := strconv.ParseFloat(pushed[0].Value, 64)
		if err != nil {
			b.Fatalf("%s side: job %d: push_time_seconds %q: %v", side, i, pushed[0].Value, err)
		}
		if t := time.Unix(0, int64(secs*1e9)); t.After(last) {
			last = t
		}
	}
	return last, heldContent(groups)
}

// heldContent is every series the groups hold, but the gateway's own push
// times, one sorted line each: family, type, help, labels, value.
func heldContent(groups []testgateway.Group) []string {
	var lines []string
	for _, g := range groups {
		for name, fam := range g.Families {
			if name == "push_time_seconds" || name == "push_failure_time_seconds" {
				continue
			}
			for _, m := range fam.Metrics {
				labels := make([]string, 0, len(m.Labels))
				for k, v := range m.Labels {
					labels = append(labels, k+"="+strconv.Quote(v))
				}
				sort.Strings(labels)
				lines = append(lines, fmt.Sprintf("%s %s %q {%s} %s", name, fam.Type, fam.Help, strings.Join(labels, ","), m.Value))
			}
		}
	}
	sort.Strings(lines)
	return lines
}

// gatewayPushes reads the gateway's own counts of the pushes it handled:
// accepted, refused, and their mean approximate request size (headers and
// body, as promhttp measures it).
func gatewayPushes(b testing.TB, gw *testgateway.Gateway) (ok, failed int, meanBytes float64) {
	b.Helper()
	fams := gw.Scrape(b)
	for _, m := range fams["pushgateway_http_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["handler"] != "push" {
			continue
		}
		if strings.HasPrefix(labels["code"], "2") {
			ok += int(m.GetCounter().GetValue())
		} else {
			failed += int(m.GetCounter().GetValue())
		}
	}
	var sum float64
	var count uint64
	for _, m := range fams["pushgateway_http_push_size_bytes"].GetMetric() {
		sum += m.GetSummary().GetSampleSum()
		count += m.GetSummary().GetSampleCount()
	}
	if count > 0 {
		meanBytes = sum / float64(count)
	}
	return ok, failed, meanBytes
}

func writeFile(b testing.TB, path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// TestFleetHarness runs a small fleet along the three paths, so that make
// e2e keeps the benchmark honest: every job's group held with its values
// on every gateway, exactly one push per job on each path (each OTel job
// exports once, so the collector has one group state to push per job), and
// the "same" side's gateway holding exactly what the OTel path's holds.
func TestFleetHarness(t *testing.T) {
	collectorBinary(t)
	p := fleetParams{jobs: 20, series: 12, concurrency: 4, check: true}
	held := map[string][]string{}
	for _, side := range fleetSides {
		res := runFleetSide(t, p, side)
		assert.Equal(t, p.jobs, res.pushes, "%s: pushes the gateway received", side)
		assert.Positive(t, res.wall, "%s: the last push came after the start", side)
		held[side] = res.held
	}
	if d := heldDifference(held["otel"], held["same"]); d != "" {
		t.Errorf("the hand-written pushes meant to carry what the OTel path carries differ from it: %s", d)
	}
	if heldDifference(held["otel"], held["hand"]) == "" {
		t.Errorf("the plain hand-written pushes hold what the OTel path's hold: the scope labels and target_info are missing")
	}
}

// heldDifference names up to three series each side holds and the other
// does not; "" when both hold the same.
func heldDifference(a, b []string) string {
	only := func(x, y []string) []string {
		in := map[string]bool{}
		for _, l := range y {
			in[l] = true
		}
		var out []string
		for _, l := range x {
			if !in[l] && len(out) < 3 {
				out = append(out, l)
			}
		}
		return out
	}
	onlyA, onlyB := only(a, b), only(b, a)
	if len(onlyA) == 0 && len(onlyB) == 0 && len(a) == len(b) {
		return ""
	}
	return fmt.Sprintf("%d series against %d; only in the first: %q; only in the second: %q", len(a), len(b), onlyA, onlyB)
}
