// Package bench compares the exporter's per-batch cost with two anchors:
// a hand-written client_golang collector and contrib's remote-write
// translator. It is its own module so the exporter never depends on contrib.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	prw "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	pushgatewayexporter "github.com/pushgatewayexporter/pushgatewayexporter"
)

// anchorPoints is the anchors' batch: 100 gauges × 100 points, one resource.
const anchorPoints = 10_000

const (
	scopeName    = "github.com/example/bench"
	scopeVersion = "1.0.0"
	pointsPerMet = 100
)

var (
	hosts    = []string{"host-0", "host-1", "host-2", "host-3", "host-4", "host-5", "host-6", "host-7", "host-8", "host-9"}
	regions  = []string{"eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"}
	statuses = []string{"ok", "error"}
)

// pointAttrs gives point p of a metric its attributes; shard makes every
// point of a metric its own series.
func pointAttrs(m pcommon.Map, p int) {
	host, region, status := attrValues(p)
	m.EnsureCapacity(4)
	m.PutStr("host", host)
	m.PutStr("region", region)
	m.PutStr("status", status)
	m.PutInt("shard", int64(p))
}

func attrValues(p int) (host, region, status string) {
	return hosts[p%len(hosts)], regions[p/len(hosts)%len(regions)], statuses[p*len(statuses)/pointsPerMet%len(statuses)]
}

func pointValue(m, p int) float64 { return float64(m*1000+p) + 0.5 }

// batch is prebuilt pdata whose point timestamps can be moved forward.
type batch struct {
	md     pmetric.Metrics
	points int
	stamps []interface{ SetTimestamp(pcommon.Timestamp) }
	now    pcommon.Timestamp
}

// bump gives every point a newer timestamp, so the exporter's stale-write
// guard accepts the batch again. About 5 ns a point.
func (b *batch) bump() {
	b.now += pcommon.Timestamp(time.Millisecond)
	for _, dp := range b.stamps {
		dp.SetTimestamp(b.now)
	}
}

func newBatch() (*batch, pmetric.ScopeMetrics) {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "bench-job")
	rm.Resource().Attributes().PutStr("service.instance.id", "bench-instance-1")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	sm.Scope().SetVersion(scopeVersion)
	return &batch{md: md, now: pcommon.NewTimestampFromTime(time.Unix(1_700_000_000, 0))}, sm
}

// gaugeBatch builds n gauge points: 100 per metric (n itself below 100).
func gaugeBatch(n int) *batch {
	b, sm := newBatch()
	metrics, per := max(n/pointsPerMet, 1), min(n, pointsPerMet)
	for i := range metrics {
		m := sm.Metrics().AppendEmpty()
		m.SetName(fmt.Sprintf("bench.gauge.%d", i))
		m.SetUnit("By")
		m.SetDescription(fmt.Sprintf("Bench gauge %d.", i))
		dps := m.SetEmptyGauge().DataPoints()
		dps.EnsureCapacity(per)
		for p := range per {
			dp := dps.AppendEmpty()
			dp.SetStartTimestamp(b.now)
			dp.SetTimestamp(b.now)
			dp.SetDoubleValue(pointValue(i, p))
			pointAttrs(dp.Attributes(), p)
			b.stamps = append(b.stamps, dp)
		}
	}
	b.points = metrics * per
	return b
}

// mixedBatch builds 10,000 points in 100 metrics: cumulative counters,
// histograms with 10 bounds and summaries with 3 quantiles.
func mixedBatch() *batch {
	b, sm := newBatch()
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	for i := range 100 {
		m := sm.Metrics().AppendEmpty()
		m.SetDescription(fmt.Sprintf("Bench metric %d.", i))
		for p := range pointsPerMet {
			var (
				attrs pcommon.Map
				stamp interface{ SetTimestamp(pcommon.Timestamp) }
			)
			switch i % 3 {
			case 0:
				if p == 0 {
					m.SetName(fmt.Sprintf("bench.requests.%d", i))
					m.SetEmptySum().SetIsMonotonic(true)
					m.Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				}
				dp := m.Sum().DataPoints().AppendEmpty()
				dp.SetDoubleValue(pointValue(i, p))
				dp.SetStartTimestamp(b.now)
				attrs, stamp = dp.Attributes(), dp
			case 1:
				if p == 0 {
					m.SetName(fmt.Sprintf("bench.latency.%d", i))
					m.SetUnit("s")
					m.SetEmptyHistogram().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
				}
				dp := m.Histogram().DataPoints().AppendEmpty()
				dp.ExplicitBounds().FromRaw(bounds)
				counts := make([]uint64, len(bounds)+1)
				var total uint64
				for k := range counts {
					counts[k] = uint64(k + p)
					total += counts[k]
				}
				dp.BucketCounts().FromRaw(counts)
				dp.SetCount(total)
				dp.SetSum(pointValue(i, p))
				dp.SetStartTimestamp(b.now)
				attrs, stamp = dp.Attributes(), dp
			default:
				if p == 0 {
					m.SetName(fmt.Sprintf("bench.size.%d", i))
					m.SetUnit("By")
					m.SetEmptySummary()
				}
				dp := m.Summary().DataPoints().AppendEmpty()
				dp.SetCount(uint64(100 + p))
				dp.SetSum(pointValue(i, p))
				for _, q := range []float64{0.5, 0.9, 0.99} {
					qv := dp.QuantileValues().AppendEmpty()
					qv.SetQuantile(q)
					qv.SetValue(q * 100)
				}
				dp.SetStartTimestamp(b.now)
				attrs, stamp = dp.Attributes(), dp
			}
			pointAttrs(attrs, p)
			stamp.SetTimestamp(b.now)
			b.stamps = append(b.stamps, stamp)
		}
	}
	b.points = 100 * pointsPerMet
	return b
}

// sinkID names the auth extension that answers every request in process.
var sinkID = component.MustNewID("benchsink")

// sink is an extensionauth.HTTPClient whose RoundTripper never reaches the
// network: it drains the body and answers 200.
type sink struct {
	component.StartFunc
	component.ShutdownFunc
	requests, bytes atomic.Int64
	last            atomic.Pointer[[]byte] // body of the last request, when keepLast
	keepLast        bool
}

func (s *sink) RoundTripper(http.RoundTripper) (http.RoundTripper, error) { return s, nil }

func (s *sink) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet {
		// The exporter's one read of the groups the gateway holds, before
		// its first batch: none. Not a push.
		return &http.Response{
			Status: "200 OK", StatusCode: http.StatusOK,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"status":"success","data":[]}`)), Request: req,
		}, nil
	}
	var n int64
	if req.Body != nil {
		if s.keepLast {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			s.last.Store(&body)
			n = int64(len(body))
		} else {
			n, _ = io.Copy(io.Discard, req.Body)
		}
		_ = req.Body.Close()
	}
	s.requests.Add(1)
	s.bytes.Add(n)
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: http.NoBody, Request: req,
	}, nil
}

// host offers the sink as the only extension.
type host struct{ ext *sink }

func (h host) GetExtensions() map[component.ID]component.Component {
	return map[component.ID]component.Component{sinkID: h.ext}
}

// newOurs starts the real exporter, without queue and retry, pushing to
// the sink.
func newOurs(tb testing.TB, format string) (exporter.Metrics, *sink) {
	tb.Helper()
	return newOursWith(tb, func(cfg *pushgatewayexporter.Config) {
		if format != "" {
			cfg.Format = pushgatewayexporter.PushFormat(format)
		}
	})
}

// newOursWith is newOurs with mutate's changes to the configuration.
func newOursWith(tb testing.TB, mutate func(*pushgatewayexporter.Config)) (exporter.Metrics, *sink) {
	tb.Helper()
	f := pushgatewayexporter.NewFactory()
	cfg := f.CreateDefaultConfig().(*pushgatewayexporter.Config)
	cfg.Endpoint = "http://127.0.0.1:1" // never dialled
	cfg.Auth = configoptional.Some(configauth.Config{AuthenticatorID: sinkID})
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	// The 100,000-point batch is beyond the default limits; no limits
	// anywhere keeps all variants alike.
	cfg.MaxSeries, cfg.MaxSeriesPerGroup = 0, 0
	// Every iteration pushes: a batch whose values did not move would
	// otherwise be skipped as unchanged after the first push (what that
	// saves the gateway is measured end to end by the fleet load).
	cfg.Heartbeat = 0
	mutate(cfg)
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	exp, err := f.CreateMetrics(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	s := &sink{}
	if err := exp.Start(context.Background(), host{ext: s}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := exp.Shutdown(context.Background()); err != nil {
			tb.Error(err)
		}
	})
	return exp, s
}

func reportPoints(b *testing.B, points int) {
	b.ReportMetric(float64(points*b.N)/b.Elapsed().Seconds(), "points/s")
}

// benchOurs pushes the batch once per iteration through ConsumeMetrics:
// translation, state update, grouping, encoding and the in-process HTTP
// round trip. Bumping the timestamps stays inside the timer (~0.05 ms per
// 10,000 points).
func benchOurs(b *testing.B, bt *batch, format string) {
	exp, s := newOurs(b, format)
	benchExporter(b, exp, s, bt)
}

// benchExporter is benchOurs for an exporter already started.
func benchExporter(b *testing.B, exp exporter.Metrics, s *sink, bt *batch) {
	ctx := context.Background()
	// One push first, so the loop measures the steady state (series held).
	bt.bump()
	if err := exp.ConsumeMetrics(ctx, bt.md); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		bt.bump()
		if err := exp.ConsumeMetrics(ctx, bt.md); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportPoints(b, bt.points)
	if n := s.requests.Load(); n > 0 {
		b.ReportMetric(float64(s.bytes.Load())/float64(n), "B/push")
	}
}

// golangCollector is what a client_golang user writes: precomputed
// descriptors, label values and values, emitted as const gauges.
type golangCollector struct {
	descs  []*prometheus.Desc
	labels [][]string // per point: host, region, shard, status
	values [][]float64
}

func newGolangCollector(metrics, per int) *golangCollector {
	c := &golangCollector{}
	for p := range per {
		host, region, status := attrValues(p)
		c.labels = append(c.labels, []string{host, region, strconv.Itoa(p), status})
	}
	for i := range metrics {
		c.descs = append(c.descs, prometheus.NewDesc(
			fmt.Sprintf("bench_gauge_%d_bytes", i), fmt.Sprintf("Bench gauge %d.", i),
			[]string{"host", "region", "shard", "status"},
			prometheus.Labels{"otel_scope_name": scopeName, "otel_scope_version": scopeVersion}))
		vals := make([]float64, per)
		for p := range per {
			vals[p] = pointValue(i, p)
		}
		c.values = append(c.values, vals)
	}
	return c
}

func (c *golangCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *golangCollector) Collect(ch chan<- prometheus.Metric) {
	for i, d := range c.descs {
		for p, v := range c.values[i] {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, c.labels[p]...)
		}
	}
}

// golangEncode gathers reg and encodes every family as length-delimited
// protobuf into buf.
func golangEncode(reg *prometheus.Registry, buf *bytes.Buffer) error {
	fams, err := reg.Gather()
	if err != nil {
		return err
	}
	buf.Reset()
	enc := expfmt.NewEncoder(buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, mf := range fams {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return nil
}

func newGolangRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newGolangCollector(anchorPoints/pointsPerMet, pointsPerMet))
	return reg
}

var prwSettings = prw.Settings{TranslationStrategy: "UnderscoreEscapingWithSuffixes", AddMetricSuffixes: true}

// BenchmarkAnchors runs the three pipelines on the same 10,000 gauge points.
func BenchmarkAnchors(b *testing.B) {
	b.Run("ours", func(b *testing.B) {
		benchOurs(b, gaugeBatch(anchorPoints), "")
	})
	b.Run("client_golang", func(b *testing.B) {
		reg := newGolangRegistry()
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			if err := golangEncode(reg, &buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportPoints(b, anchorPoints)
		b.ReportMetric(float64(buf.Len()), "B/push")
	})
	b.Run("prw_translator", func(b *testing.B) {
		bt := gaugeBatch(anchorPoints)
		b.ReportAllocs()
		for b.Loop() {
			bt.bump() // as for ours; FromMetrics does not need it
			if _, err := prw.FromMetrics(bt.md, prwSettings); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportPoints(b, anchorPoints)
	})
}

// BenchmarkOurs runs the exporter on other batch sizes, point types and
// the text format.
func BenchmarkOurs(b *testing.B) {
	for _, n := range []int{10, 1_000, 100_000} {
		b.Run("size="+strconv.Itoa(n), func(b *testing.B) {
			benchOurs(b, gaugeBatch(n), "")
		})
	}
	b.Run("mixed", func(b *testing.B) {
		benchOurs(b, mixedBatch(), "")
	})
	b.Run("text", func(b *testing.B) {
		benchOurs(b, gaugeBatch(anchorPoints), "text")
	})
	// aggregation.mode sum: every series keeps each writer's part (here
	// one writer), gauges combined by sum.
	sum := func(cfg *pushgatewayexporter.Config) {
		cfg.Aggregation = pushgatewayexporter.AggregationConfig{Mode: pushgatewayexporter.AggregationSum, Gauges: pushgatewayexporter.GaugesSum}
	}
	b.Run("sum", func(b *testing.B) {
		exp, s := newOursWith(b, sum)
		benchExporter(b, exp, s, gaugeBatch(anchorPoints))
	})
	b.Run("mixed-sum", func(b *testing.B) {
		exp, s := newOursWith(b, sum)
		benchExporter(b, exp, s, mixedBatch())
	})
}
