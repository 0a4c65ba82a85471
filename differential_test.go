package pushgatewayexporter

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// TestDifferentialClientGolang pushes the same data twice, each to its own
// real Pushgateway: once as OTLP through this exporter, once as the const
// metrics a client_golang user following the Prometheus conventions would
// write for the same OTel instruments, pushed with client_golang's push
// package (PUT). Two gateways, so that one side's families can never make
// the gateway refuse or alter the other's. What each gateway stored is then
// read back through /api/v1/metrics and through /metrics (what Prometheus
// scrapes) and the two are compared whole: family names, types, help,
// series labels (grouping labels included: both groups are
// {job="etl",instance="w-1"}), values, histogram buckets/count/sum and
// summary quantiles/count/sum.
//
// Documented differences, each asserted as such before it is taken out of
// the comparison:
//
//  1. The exporter adds otel_scope_name and otel_scope_version to every
//     series (scope_labels, default on, as the OTel Prometheus
//     compatibility rules say); a client_golang user has no scope.
//  2. The exporter adds a target_info gauge (value 1, help "Target
//     metadata") labelled with the resource attributes that are not in the
//     grouping key (here host_name); a client_golang user has no resource.
//  3. The +Inf bucket: client_golang's const histogram leaves it implicit
//     (it equals the count). Pushed as protobuf, the gateway stores the
//     buckets as sent, so /api/v1/metrics shows no +Inf bucket for
//     client_golang; pushed as text, the text encoder writes +Inf and the
//     gateway stores it. The exporter always writes +Inf explicitly, in
//     both formats. What Prometheus scrapes from the gateway has +Inf on
//     both sides, since the gateway's text exposition adds a missing one.
//  4. Help of a metric without description: the exporter leaves the
//     family's help unset, client_golang sends an empty string. Both are
//     the same empty help at the gateway (asserted on the family that has
//     none), so this needs no special handling.
//
// push_time_seconds and push_failure_time_seconds are the gateway's own
// bookkeeping: their values are times, so only their type, help and
// plausibility are checked, on both sides alike.
func TestDifferentialClientGolang(t *testing.T) {
	for _, tc := range []struct {
		name          string
		ours          PushFormat
		theirs        expfmt.Format
		theirsInfSent bool // whether client_golang's body carries +Inf
	}{
		{"protobuf vs protobuf", FormatProtobuf, expfmt.NewFormat(expfmt.TypeProtoDelim), false},
		{"text vs protobuf", FormatText, expfmt.NewFormat(expfmt.TypeProtoDelim), false},
		{"protobuf vs text", FormatProtobuf, expfmt.NewFormat(expfmt.TypeTextPlain), true},
		{"text vs text", FormatText, expfmt.NewFormat(expfmt.TypeTextPlain), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gwOurs := testgateway.Start(t)
			gwTheirs := testgateway.Start(t)

			exp := startExporter(t, gwOurs.URL, func(c *Config) { c.Format = tc.ours })
			require.NoError(t, exp.ConsumeMetrics(context.Background(), diffOTLP()))

			reg := prometheus.NewPedanticRegistry()
			require.NoError(t, reg.Register(diffClientGolangCollector()))
			require.NoError(t, push.New(gwTheirs.URL, "etl").
				Grouping("instance", "w-1").
				Format(tc.theirs).
				Gatherer(reg).
				Push())

			groupLabels := map[string]string{"job": "etl", "instance": "w-1"}
			oursGroup := gwOurs.Group(t, groupLabels)
			require.NotNil(t, oursGroup, "exporter's gateway holds %+v", gwOurs.Groups(t))
			theirsGroup := gwTheirs.Group(t, groupLabels)
			require.NotNil(t, theirsGroup, "client_golang's gateway holds %+v", gwTheirs.Groups(t))
			assert.Len(t, gwOurs.Groups(t), 1, "the exporter pushed one group")
			assert.Len(t, gwTheirs.Groups(t), 1, "client_golang pushed one group")

			// What was sent arrived, on each side on its own: two equally
			// empty or equally wrong sides cannot pass.
			for side, grp := range map[string]*testgateway.Group{"exporter": oursGroup, "client_golang": theirsGroup} {
				diffAssertSent(t, side, grp)
				diffTakePushTimes(t, side, grp)
			}

			// Difference 2: target_info, the exporter's only.
			if ti, ok := oursGroup.Families["target_info"]; assert.True(t, ok, "exporter's target_info") {
				assert.Equal(t, testgateway.Family{
					Type: "GAUGE", Help: "Target metadata",
					Metrics: []testgateway.Metric{{
						Labels: map[string]string{"job": "etl", "instance": "w-1", "host_name": "node-7"},
						Value:  "1",
					}},
				}, ti)
				delete(oursGroup.Families, "target_info")
			}
			assert.NotContains(t, theirsGroup.Families, "target_info")

			// Difference 1: the scope labels, on every series of the
			// exporter's, on none of client_golang's.
			for name, fam := range oursGroup.Families {
				for _, m := range fam.Metrics {
					assert.Equal(t, diffScopeName, m.Labels["otel_scope_name"], "%s%v", name, m.Labels)
					assert.Equal(t, diffScopeVersion, m.Labels["otel_scope_version"], "%s%v", name, m.Labels)
					delete(m.Labels, "otel_scope_name")
					delete(m.Labels, "otel_scope_version")
				}
			}
			for name, fam := range theirsGroup.Families {
				for _, m := range fam.Metrics {
					assert.NotContains(t, m.Labels, "otel_scope_name", name)
					assert.NotContains(t, m.Labels, "otel_scope_version", name)
				}
			}

			// Difference 3: the +Inf bucket at /api/v1/metrics.
			for side, grp := range map[string]*testgateway.Group{"exporter": oursGroup, "client_golang": theirsGroup} {
				hist := grp.Families["http_server_request_duration_seconds"]
				require.Len(t, hist.Metrics, 2, side)
				for _, m := range hist.Metrics {
					inf, hasInf := m.Buckets["+Inf"]
					if side == "client_golang" && !tc.theirsInfSent {
						assert.False(t, hasInf, "client_golang's protobuf push leaves +Inf implicit: %v", m.Buckets)
						continue
					}
					if assert.True(t, hasInf, "%s writes +Inf: %v", side, m.Buckets) {
						assert.Equal(t, m.Count, inf, "%s: +Inf bucket is the count", side)
					}
				}
			}
			if !tc.theirsInfSent {
				for _, m := range oursGroup.Families["http_server_request_duration_seconds"].Metrics {
					delete(m.Buckets, "+Inf")
				}
			}

			ours, theirs := diffNormalise(oursGroup), diffNormalise(theirsGroup)
			require.NotEmpty(t, ours)
			assert.Equal(t, diffSortedKeys(theirs), diffSortedKeys(ours), "family names")
			assert.Equal(t, theirs, ours, "families stored at the gateway (/api/v1/metrics)")

			// What Prometheus scrapes from each gateway, for the same
			// families: here even the +Inf bucket agrees, and labels come
			// in the same order.
			names := diffSortedKeys(theirs)
			oursScraped, theirsScraped := gwOurs.Scrape(t), gwTheirs.Scrape(t)
			assert.Contains(t, oursScraped, "target_info")
			assert.NotContains(t, theirsScraped, "target_info")
			oursS, theirsS := diffNormaliseScrape(t, oursScraped, names, true), diffNormaliseScrape(t, theirsScraped, names, false)
			require.Len(t, oursS, len(names))
			for _, side := range []map[string]diffScrapedFamily{oursS, theirsS} {
				for _, s := range side["http_server_request_duration_seconds"].Series {
					assert.Equal(t, s.Count, s.Buckets["+Inf"], "scraped +Inf bucket is the count")
				}
			}
			assert.Equal(t, theirsS, oursS, "families scraped from the gateway (/metrics)")
		})
	}
}

const (
	diffScopeName    = "github.com/acme/etl"
	diffScopeVersion = "v1.4.0"
	// diffSuccessHelp is a description that needs escaping in the text
	// format (a newline and a backslash) and is not ASCII.
	diffSuccessHelp = "Share of batches that succeeded.\nA \\ backslash and José stay."
	// diffOddValue is a label value that needs escaping in the text format.
	diffOddValue = "off \"heap\" \\ José\n2"
)

// diffOTLP is the OTLP side: one resource (job etl, instance w-1, and a
// host.name for target_info), one scope, every instrument kind.
func diffOTLP() pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	testbatch.PutAttrs(rm.Resource().Attributes(), map[string]any{
		"service.name": "etl", "service.instance.id": "w-1", "host.name": "node-7",
	})
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(diffScopeName)
	sm.Scope().SetVersion(diffScopeVersion)
	ms := sm.Metrics()
	const start, ts = pcommon.Timestamp(1_700_000_000_000_000_000), pcommon.Timestamp(1_700_000_060_000_000_000)
	newMetric := func(name, unit, desc string) pmetric.Metric {
		m := ms.AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		m.SetDescription(desc)
		return m
	}
	sum := func(name, unit, desc string, monotonic bool) pmetric.NumberDataPointSlice {
		s := newMetric(name, unit, desc).SetEmptySum()
		s.SetIsMonotonic(monotonic)
		s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		return s.DataPoints()
	}
	intPoint := func(dps pmetric.NumberDataPointSlice, v int64, attrs map[string]any) {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		dp.SetIntValue(v)
		testbatch.PutAttrs(dp.Attributes(), attrs)
	}
	doublePoint := func(dps pmetric.NumberDataPointSlice, v float64, attrs map[string]any) {
		dp := dps.AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		dp.SetDoubleValue(v)
		testbatch.PutAttrs(dp.Attributes(), attrs)
	}

	// Counters: attributes to sanitise (http.method), a non-string one
	// (the status code), units in braces (no suffix) and By (_bytes).
	requests := sum("http.server.requests", "{request}", "Number of HTTP requests served.", true)
	intPoint(requests, 1200, map[string]any{"http.method": "GET", "http.response.status_code": 200})
	intPoint(requests, 3, map[string]any{"http.method": "POST", "http.response.status_code": 500})
	intPoint(sum("etl.rows.processed", "{row}", "Rows processed.", true), 98765, map[string]any{"table": "orders"})
	doublePoint(sum("etl.read", "By", "Bytes read from the source.", true), 5.5e6, nil)

	// Up-down counter: a gauge.
	intPoint(sum("etl.batches.in_flight", "{batch}", "Batches being processed.", false), -2, nil)

	// Gauges: several series, one label value needing escapes, no
	// description; a unit "1" gauge (_ratio) with a help needing escapes.
	mem := newMetric("etl.memory.usage", "By", "").SetEmptyGauge().DataPoints()
	doublePoint(mem, 7.5e7, map[string]any{"memory.type": "heap"})
	doublePoint(mem, 1.25e6, map[string]any{"memory.type": "stack"})
	doublePoint(mem, 0, map[string]any{"memory.type": diffOddValue})
	doublePoint(newMetric("etl.success", "1", diffSuccessHelp).SetEmptyGauge().DataPoints(), 0.25, nil)

	// Histogram with explicit bounds, unit s (_seconds), two series.
	h := newMetric("http.server.request.duration", "s", "Duration of HTTP requests.").SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for _, p := range []struct {
		method string
		counts []uint64
		sum    float64
	}{
		{"GET", []uint64{1, 2, 3, 4, 0}, 2.5},
		{"POST", []uint64{0, 0, 1, 1, 2}, 12.75},
	} {
		dp := h.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(start)
		dp.SetTimestamp(ts)
		dp.ExplicitBounds().FromRaw([]float64{0.005, 0.01, 0.1, 1})
		dp.BucketCounts().FromRaw(p.counts)
		var n uint64
		for _, c := range p.counts {
			n += c
		}
		dp.SetCount(n)
		dp.SetSum(p.sum)
		testbatch.PutAttrs(dp.Attributes(), map[string]any{"http.method": p.method})
	}

	// Summary with quantiles, unit ms (_milliseconds), sent out of order.
	sdp := newMetric("etl.rpc.latency", "ms", "RPC latency.").SetEmptySummary().DataPoints().AppendEmpty()
	sdp.SetStartTimestamp(start)
	sdp.SetTimestamp(ts)
	sdp.SetCount(8)
	sdp.SetSum(100)
	for _, q := range [][2]float64{{0.99, 40}, {0, 1}, {0.5, 10}, {1, 55}, {0.9, 30}} {
		qv := sdp.QuantileValues().AppendEmpty()
		qv.SetQuantile(q[0])
		qv.SetValue(q[1])
	}
	testbatch.PutAttrs(sdp.Attributes(), map[string]any{"rpc.method": "Fetch"})
	return md
}

// diffConstCollector serves fixed const metrics, as a client_golang user
// bridging values computed elsewhere would.
type diffConstCollector struct {
	metrics []prometheus.Metric
}

func (c diffConstCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.Desc()
	}
}

func (c diffConstCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.metrics {
		ch <- m
	}
}

// diffClientGolangCollector is the client_golang side: the same data as
// diffOTLP, with the names and labels the Prometheus conventions give the
// same instruments, written by hand.
func diffClientGolangCollector() prometheus.Collector {
	requests := prometheus.NewDesc("http_server_requests_total", "Number of HTTP requests served.",
		[]string{"http_method", "http_response_status_code"}, nil)
	rows := prometheus.NewDesc("etl_rows_processed_total", "Rows processed.", []string{"table"}, nil)
	read := prometheus.NewDesc("etl_read_bytes_total", "Bytes read from the source.", nil, nil)
	inFlight := prometheus.NewDesc("etl_batches_in_flight", "Batches being processed.", nil, nil)
	mem := prometheus.NewDesc("etl_memory_usage_bytes", "", []string{"memory_type"}, nil)
	success := prometheus.NewDesc("etl_success_ratio", diffSuccessHelp, nil, nil)
	duration := prometheus.NewDesc("http_server_request_duration_seconds", "Duration of HTTP requests.",
		[]string{"http_method"}, nil)
	latency := prometheus.NewDesc("etl_rpc_latency_milliseconds", "RPC latency.", []string{"rpc_method"}, nil)

	return diffConstCollector{metrics: []prometheus.Metric{
		prometheus.MustNewConstMetric(requests, prometheus.CounterValue, 1200, "GET", "200"),
		prometheus.MustNewConstMetric(requests, prometheus.CounterValue, 3, "POST", "500"),
		prometheus.MustNewConstMetric(rows, prometheus.CounterValue, 98765, "orders"),
		prometheus.MustNewConstMetric(read, prometheus.CounterValue, 5.5e6),
		prometheus.MustNewConstMetric(inFlight, prometheus.GaugeValue, -2),
		prometheus.MustNewConstMetric(mem, prometheus.GaugeValue, 7.5e7, "heap"),
		prometheus.MustNewConstMetric(mem, prometheus.GaugeValue, 1.25e6, "stack"),
		prometheus.MustNewConstMetric(mem, prometheus.GaugeValue, 0, diffOddValue),
		prometheus.MustNewConstMetric(success, prometheus.GaugeValue, 0.25),
		// Cumulative buckets, +Inf implicit (= the count).
		prometheus.MustNewConstHistogram(duration, 10, 2.5,
			map[float64]uint64{0.005: 1, 0.01: 3, 0.1: 6, 1: 10}, "GET"),
		prometheus.MustNewConstHistogram(duration, 4, 12.75,
			map[float64]uint64{0.005: 0, 0.01: 0, 0.1: 1, 1: 2}, "POST"),
		prometheus.MustNewConstSummary(latency, 8, 100,
			map[float64]float64{0: 1, 0.5: 10, 0.9: 30, 0.99: 40, 1: 55}, "Fetch"),
	}}
}

// diffAssertSent checks a few values against what was sent, on one side.
func diffAssertSent(t *testing.T, side string, grp *testgateway.Group) {
	t.Helper()
	find := func(family string, labels map[string]string) *testgateway.Metric {
		fam, ok := grp.Families[family]
		if !assert.True(t, ok, "%s: family %s missing; have %v", side, family, familyNames(grp)) {
			return nil
		}
		for i, m := range fam.Metrics {
			if diffHasLabels(m.Labels, labels) {
				return &fam.Metrics[i]
			}
		}
		assert.Fail(t, "series missing", "%s: %s%v not in %+v", side, family, labels, fam.Metrics)
		return nil
	}
	if m := find("http_server_requests_total", map[string]string{"job": "etl", "instance": "w-1", "http_method": "GET", "http_response_status_code": "200"}); m != nil {
		assert.Equal(t, "1200", m.Value, side)
	}
	assert.Equal(t, "COUNTER", grp.Families["http_server_requests_total"].Type, side)
	assert.Equal(t, "Number of HTTP requests served.", grp.Families["http_server_requests_total"].Help, side)
	if m := find("etl_batches_in_flight", nil); m != nil {
		assert.Equal(t, "-2", m.Value, side)
	}
	assert.Equal(t, "GAUGE", grp.Families["etl_batches_in_flight"].Type, side)
	assert.Len(t, grp.Families["etl_memory_usage_bytes"].Metrics, 3, side)
	if m := find("etl_memory_usage_bytes", map[string]string{"memory_type": diffOddValue}); m != nil {
		assert.Equal(t, "0", m.Value, side)
	}
	// Difference 4: no description is an empty help on both sides.
	assert.Equal(t, "", grp.Families["etl_memory_usage_bytes"].Help, side)
	assert.Equal(t, diffSuccessHelp, grp.Families["etl_success_ratio"].Help, side)
	if m := find("http_server_request_duration_seconds", map[string]string{"http_method": "GET"}); m != nil {
		assert.Equal(t, "10", m.Count, side)
		assert.Equal(t, "2.5", m.Sum, side)
		assert.Equal(t, "6", m.Buckets["0.1"], side)
	}
	assert.Equal(t, "HISTOGRAM", grp.Families["http_server_request_duration_seconds"].Type, side)
	if m := find("etl_rpc_latency_milliseconds", map[string]string{"rpc_method": "Fetch"}); m != nil {
		assert.Equal(t, "8", m.Count, side)
		assert.Equal(t, "100", m.Sum, side)
		assert.Equal(t, map[string]string{"0": "1", "0.5": "10", "0.9": "30", "0.99": "40", "1": "55"}, m.Quantiles, side)
	}
	assert.Equal(t, "SUMMARY", grp.Families["etl_rpc_latency_milliseconds"].Type, side)
}

// diffTakePushTimes checks the gateway's own families of a group, which
// hold times and so differ between the sides, and removes them.
func diffTakePushTimes(t *testing.T, side string, grp *testgateway.Group) {
	t.Helper()
	for name, wantZero := range map[string]bool{"push_time_seconds": false, "push_failure_time_seconds": true} {
		fam, ok := grp.Families[name]
		if !assert.True(t, ok, "%s: %s missing", side, name) {
			continue
		}
		assert.Equal(t, "GAUGE", fam.Type, "%s: %s", side, name)
		if assert.Len(t, fam.Metrics, 1, "%s: %s", side, name) {
			assert.Equal(t, grp.Labels, fam.Metrics[0].Labels, "%s: %s", side, name)
			v, err := strconv.ParseFloat(fam.Metrics[0].Value, 64)
			assert.NoError(t, err, "%s: %s", side, name)
			assert.Equal(t, wantZero, v == 0, "%s: %s = %v", side, name, v)
		}
		delete(grp.Families, name)
	}
}

// diffFamily is a family as stored by the gateway, its series keyed by
// their labels so that the order the gateway lists them in does not count.
type diffFamily struct {
	Type, Help string
	Series     map[string]testgateway.Metric
}

func diffNormalise(grp *testgateway.Group) map[string]diffFamily {
	out := map[string]diffFamily{}
	for name, fam := range grp.Families {
		f := diffFamily{Type: fam.Type, Help: fam.Help, Series: map[string]testgateway.Metric{}}
		for _, m := range fam.Metrics {
			f.Series[diffLabelKey(m.Labels)] = m
		}
		out[name] = f
	}
	return out
}

// diffScrapedFamily is a family as Prometheus scrapes it from the gateway.
type diffScrapedFamily struct {
	Type, Help string
	Series     map[string]diffScrapedSeries
}

type diffScrapedSeries struct {
	Labels             []string // in the order scraped
	Value, Count, Sum  string
	Buckets, Quantiles map[string]string
	TimestampMs        int64
}

// diffNormaliseScrape takes the named families of a scrape. With
// scopeLabels it checks and removes the exporter's scope labels
// (difference 1).
func diffNormaliseScrape(t *testing.T, scraped map[string]*dto.MetricFamily, names []string, scopeLabels bool) map[string]diffScrapedFamily {
	t.Helper()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	out := map[string]diffScrapedFamily{}
	for _, name := range names {
		mf, ok := scraped[name]
		if !assert.True(t, ok, "scraped family %s", name) {
			continue
		}
		fam := diffScrapedFamily{Type: mf.GetType().String(), Help: mf.GetHelp(), Series: map[string]diffScrapedSeries{}}
		for _, m := range mf.GetMetric() {
			var s diffScrapedSeries
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				switch {
				case scopeLabels && l.GetName() == "otel_scope_name":
					assert.Equal(t, diffScopeName, l.GetValue(), name)
				case scopeLabels && l.GetName() == "otel_scope_version":
					assert.Equal(t, diffScopeVersion, l.GetValue(), name)
				default:
					labels[l.GetName()] = l.GetValue()
					s.Labels = append(s.Labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
				}
			}
			if scopeLabels {
				assert.Equal(t, diffScopeName, labelMap(m.GetLabel())["otel_scope_name"], "scraped %s carries the scope", name)
			}
			s.TimestampMs = m.GetTimestampMs()
			switch {
			case m.Counter != nil:
				s.Value = f(m.GetCounter().GetValue())
			case m.Gauge != nil:
				s.Value = f(m.GetGauge().GetValue())
			case m.Untyped != nil:
				s.Value = f(m.GetUntyped().GetValue())
			case m.Histogram != nil:
				s.Count, s.Sum = strconv.FormatUint(m.GetHistogram().GetSampleCount(), 10), f(m.GetHistogram().GetSampleSum())
				s.Buckets = map[string]string{}
				for _, b := range m.GetHistogram().GetBucket() {
					le := f(b.GetUpperBound())
					if math.IsInf(b.GetUpperBound(), 1) {
						le = "+Inf"
					}
					s.Buckets[le] = strconv.FormatUint(b.GetCumulativeCount(), 10)
				}
			case m.Summary != nil:
				s.Count, s.Sum = strconv.FormatUint(m.GetSummary().GetSampleCount(), 10), f(m.GetSummary().GetSampleSum())
				s.Quantiles = map[string]string{}
				for _, q := range m.GetSummary().GetQuantile() {
					s.Quantiles[f(q.GetQuantile())] = f(q.GetValue())
				}
			}
			fam.Series[diffLabelKey(labels)] = s
		}
		out[name] = fam
	}
	return out
}

// diffLabelKey renders labels sorted by name: {a="x",b="y"}.
func diffLabelKey(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.Quote(labels[n])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func diffHasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if w, ok := have[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func diffSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
