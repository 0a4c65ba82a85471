package e2e

// End-to-end checks of the OTLP → Prometheus mapping (docs/MAPPING.md "OTLP →
// Prometheus mapping") through the built collector: an OTel Go SDK job with
// delta temporality and an exponential histogram, and a hand-written
// OTLP/JSON request with the awkward cases.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// The SDK job's identity and what the gateway must file it under.
const (
	deltaJob       = "delta-etl"
	deltaInstance  = "worker-7"
	deltaHost      = "build-host-3"
	deltaMeter     = "e2e/translation"
	deltaMeterVers = "0.3.1"
)

// expObservation is what the SDK job records into the exponential
// histogram, per series (attribute kind) and export interval.
type expObservation struct {
	kind      string
	intervals [2][]float64
	// schema is the native schema the gateway must hold after both
	// intervals were added up. The SDK (MaxSize 160, MaxScale 20) picks the
	// finest scale at which an interval's values span at most 160 buckets:
	//   narrow: 1.5…1.75 → scale 9, 1.5625…1.6875 → scale 10; both are
	//           reduced to 8 by the exporter, so the sum is at 8;
	//   wide:   1.5…1.75 → scale 9 (→ 8), 1.5625…2.5 → scale 7; deltas add
	//           up at the coarser scale: 7.
	schema int32
}

// Values are exact in binary, so sums compare exactly.
var expObservations = []expObservation{
	{kind: "narrow", intervals: [2][]float64{{1.5, 1.625, 1.75}, {1.5625, 1.6875}}, schema: 8},
	{kind: "wide", intervals: [2][]float64{{1.5, 1.75}, {0, 1.5625, 2.5}}, schema: 7},
}

// runDeltaJob is a batch job exporting with delta temporality: it records,
// flushes (one export), records again, flushes (a second export) and shuts
// down.
func runDeltaJob(t *testing.T, httpAddr string) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlpmetrichttp.New(ctx,
		otlpmetrichttp.WithEndpoint(httpAddr), otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithTemporalitySelector(func(sdkmetric.InstrumentKind) metricdata.Temporality {
			return metricdata.DeltaTemporality
		}))
	require.NoError(t, err)
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(
			attribute.String("service.name", deltaJob),
			attribute.String("service.instance.id", deltaInstance),
			attribute.String("host.name", deltaHost),
		)),
		// Exports happen only on ForceFlush and Shutdown.
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Name: "job.item.latency"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 20}},
		)),
	)
	meter := provider.Meter(deltaMeter, metric.WithInstrumentationVersion(deltaMeterVers))

	rows, err := meter.Int64Counter("job.rows.processed", metric.WithUnit("{row}"), metric.WithDescription("Rows processed."))
	require.NoError(t, err)
	inFlight, err := meter.Int64UpDownCounter("job.batches.in_flight", metric.WithUnit("{batch}"))
	require.NoError(t, err)
	duration, err := meter.Float64Histogram("job.step.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.5, 1, 5))
	require.NoError(t, err)
	latency, err := meter.Float64Histogram("job.item.latency", metric.WithUnit("s"))
	require.NoError(t, err)

	orders := metric.WithAttributes(attribute.String("table", "orders"))
	flush := func() {
		t.Helper()
		flushCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		require.NoError(t, provider.ForceFlush(flushCtx), "flushing to the collector")
	}
	recordLatency := func(interval int) {
		for _, o := range expObservations {
			for _, v := range o.intervals[interval] {
				latency.Record(ctx, v, metric.WithAttributes(attribute.String("kind", o.kind)))
			}
		}
	}

	// Interval 1.
	rows.Add(ctx, 10, orders)
	// Recorded in interval 1 only: the SDK does not export it again, the
	// group must keep it.
	rows.Add(ctx, 4, metric.WithAttributes(attribute.String("table", "customers")))
	inFlight.Add(ctx, 3)
	for _, v := range []float64{0.25, 0.75} {
		duration.Record(ctx, v)
	}
	recordLatency(0)
	flush()

	// Interval 2.
	rows.Add(ctx, 5, orders)
	inFlight.Add(ctx, -5)
	for _, v := range []float64{0.875, 3, 12} {
		duration.Record(ctx, v)
	}
	recordLatency(1)
	flush()

	shutdownCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	require.NoError(t, provider.Shutdown(shutdownCtx), "shutting the SDK down")
}

func TestTranslationSDKDeltaAndExponentialHistogram(t *testing.T) {
	for _, tt := range []struct {
		name string
		// exporter is the exporter's configuration; nil: startCollector's
		// defaults (format protobuf, exponential_histograms native).
		exporter func(gatewayURL string) string
		native   bool
	}{
		{name: "native (defaults)", native: true},
		{name: "classic", exporter: func(u string) string {
			return fmt.Sprintf(`{endpoint: %q, exponential_histograms: classic, retry_on_failure: %s}`, u, shortRetry)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := testgateway.Start(t)
			var col *collector
			if tt.exporter == nil {
				col = startCollector(t, gw.URL)
			} else {
				col = startCollectorWithConfig(t, authConfig(nil, tt.exporter(gw.URL), `{metrics: {level: none}}`))
			}
			runDeltaJob(t, col.httpAddr)

			groupLabels := map[string]string{"job": deltaJob, "instance": deltaInstance}
			// Every push carries the whole group: wait for the one holding
			// both intervals.
			grp := gw.WaitGroup(t, groupLabels, 20*time.Second, func(g testgateway.Group) bool {
				return valuesBy(g.Families["job_rows_processed_total"], "table")["orders"] == "15" &&
					valuesBy(g.Families["job_batches_in_flight"], "none")[""] == "-2" &&
					len(g.Families["job_step_duration_seconds"].Metrics) == 1 &&
					g.Families["job_step_duration_seconds"].Metrics[0].Count == "5" &&
					countsBy(g.Families["job_item_latency_seconds"], "kind")["narrow"] == "5" &&
					countsBy(g.Families["job_item_latency_seconds"], "kind")["wide"] == "5"
			})
			assert.Len(t, gw.Groups(t), 1, "exactly the job's group")

			scope := map[string]string{
				"job": deltaJob, "instance": deltaInstance,
				"otel_scope_name": deltaMeter, "otel_scope_version": deltaMeterVers,
			}
			with := func(extra ...string) string {
				labels := map[string]string{}
				for k, v := range scope {
					labels[k] = v
				}
				for i := 0; i+1 < len(extra); i += 2 {
					labels[extra[i]] = extra[i+1]
				}
				return labelString(labels)
			}

			// Counter: 10 then 5 read 15; a series of interval 1 only is kept.
			rows := grp.Families["job_rows_processed_total"]
			assert.Equal(t, "COUNTER", rows.Type)
			assert.Equal(t, "Rows processed.", rows.Help)
			assert.Equal(t, map[string]string{
				with("table", "orders"):    "15",
				with("table", "customers"): "4",
			}, seriesValues(rows))

			// Up-down counter: +3 then −5 reads −2.
			inFlight := grp.Families["job_batches_in_flight"]
			assert.Equal(t, "GAUGE", inFlight.Type)
			assert.Equal(t, map[string]string{with(): "-2"}, seriesValues(inFlight))

			// Explicit histogram: the totals over both intervals.
			hist := grp.Families["job_step_duration_seconds"]
			assert.Equal(t, "HISTOGRAM", hist.Type)
			require.Len(t, hist.Metrics, 1)
			assert.Equal(t, with(), labelString(hist.Metrics[0].Labels))
			assert.Equal(t, "5", hist.Metrics[0].Count)
			assert.Equal(t, "16.875", hist.Metrics[0].Sum)
			assert.Equal(t, map[string]string{"0.5": "1", "1": "3", "5": "4", "+Inf": "5"}, hist.Metrics[0].Buckets)

			// target_info: the non-identifying resource attribute, no scope.
			info := grp.Families["target_info"]
			assert.Equal(t, "GAUGE", info.Type)
			assert.Equal(t, map[string]string{
				labelString(map[string]string{"job": deltaJob, "instance": deltaInstance, "host_name": deltaHost}): "1",
			}, seriesValues(info))

			// Nothing else in the group but the gateway's own push times.
			assert.ElementsMatch(t, []string{
				"job_rows_processed_total", "job_batches_in_flight", "job_step_duration_seconds",
				"job_item_latency_seconds", "target_info", "push_time_seconds", "push_failure_time_seconds",
			}, familyNames(grp))

			// Exponential histogram: count and sum through the API, in
			// either mode; a native histogram's buckets too, from a
			// gateway (1.8 on) whose API shows them.
			showsNative := gw.ShowsNativeBuckets(t)
			latency := grp.Families["job_item_latency_seconds"]
			assert.Equal(t, "HISTOGRAM", latency.Type)
			require.Len(t, latency.Metrics, len(expObservations))
			for _, o := range expObservations {
				m := metricWith(t, latency, "kind", o.kind)
				assert.Equal(t, with("kind", o.kind), labelString(m.Labels))
				all := o.values()
				assert.Equal(t, strconv.Itoa(len(all)), m.Count, o.kind)
				assert.Equal(t, strconv.FormatFloat(sum(all), 'g', -1, 64), m.Sum, o.kind)
				if tt.native {
					// The API shows no le buckets of a native histogram.
					assert.Empty(t, m.Buckets, o.kind)
					if showsNative {
						buckets, zero := apiNativeBuckets(t, m.NativeBuckets, o.schema)
						assert.Equal(t, o.nativeBuckets(), buckets, "%s: the API's native buckets (index → count)", o.kind)
						assert.Equal(t, o.zeroCount(), zero, "%s: the API's zero bucket", o.kind)
					} else {
						assert.Empty(t, m.NativeBuckets, o.kind)
					}
				} else {
					assert.Equal(t, o.classicBuckets(), parseBuckets(t, m.Buckets), "%s: classic le buckets", o.kind)
				}
			}

			// What a Prometheus scrape of the gateway (protobuf) sees.
			fams := gw.ScrapeProtobuf(t)
			lat := fams["job_item_latency_seconds"]
			require.NotNil(t, lat, "job_item_latency_seconds in the gateway's protobuf exposition")
			assert.Equal(t, dto.MetricType_HISTOGRAM, lat.GetType())
			for _, o := range expObservations {
				m := protoMetricWith(t, lat, map[string]string{"job": deltaJob, "kind": o.kind})
				h := m.GetHistogram()
				require.NotNil(t, h, o.kind)
				all := o.values()
				assert.Equal(t, uint64(len(all)), h.GetSampleCount(), o.kind)
				assert.Equal(t, sum(all), h.GetSampleSum(), o.kind)
				if !tt.native {
					assert.Nil(t, h.Schema, "%s: classic buckets, no native schema", o.kind)
					assert.Empty(t, h.GetPositiveSpan(), o.kind)
					scraped := map[float64]uint64{}
					for _, b := range h.GetBucket() {
						scraped[b.GetUpperBound()] = b.GetCumulativeCount()
					}
					assert.Equal(t, o.classicBuckets(), scraped, "%s: scraped classic le buckets", o.kind)
					continue
				}
				require.NotNil(t, h.Schema, "%s: a native histogram", o.kind)
				assert.Equal(t, o.schema, h.GetSchema(), "%s: native schema", o.kind)
				assert.LessOrEqual(t, h.GetSchema(), int32(8), o.kind)
				assert.Equal(t, 0.0, h.GetZeroThreshold(), o.kind)
				assert.Equal(t, o.zeroCount(), h.GetZeroCount(), "%s: zero count", o.kind)
				assert.Empty(t, h.GetNegativeSpan(), o.kind)
				buckets := nativeBuckets(h.GetPositiveSpan(), h.GetPositiveDelta())
				assert.Equal(t, o.nativeBuckets(), buckets, "%s: native buckets (index → count)", o.kind)
				var total uint64
				for _, c := range buckets {
					total += c
				}
				assert.Equal(t, h.GetSampleCount(), total+h.GetZeroCount(), "%s: buckets and zero count add up to the count", o.kind)
				assert.Empty(t, h.GetBucket(), "%s: no classic buckets next to the native ones", o.kind)
			}

			col.stop(t)
			assertNoErrorLogged(t, col)
		})
	}
}

func (o expObservation) values() []float64 {
	return append(append([]float64(nil), o.intervals[0]...), o.intervals[1]...)
}

func (o expObservation) zeroCount() uint64 {
	var n uint64
	for _, v := range o.values() {
		if v == 0 {
			n++
		}
	}
	return n
}

// nativeIndex is the native bucket of a positive value v at schema:
// bucket i holds (2^((i-1)/2^schema), 2^(i/2^schema)].
func nativeIndex(v float64, schema int32) int32 {
	return int32(math.Ceil(math.Log2(v) * math.Exp2(float64(schema))))
}

// nativeBuckets are the observation's positive values counted by native
// bucket index at its schema.
func (o expObservation) nativeBuckets() map[int32]uint64 {
	out := map[int32]uint64{}
	for _, v := range o.values() {
		if v > 0 {
			out[nativeIndex(v, o.schema)]++
		}
	}
	return out
}

// classicBuckets are the cumulative le buckets the exporter must push for
// the observation in classic mode: the zero bucket (le = the SDK's zero
// threshold, 0), one per native bucket from the lowest to the highest
// populated one (le = its upper bound), and +Inf (= the count).
func (o expObservation) classicBuckets() map[float64]uint64 {
	native := o.nativeBuckets()
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	for i := range native {
		lo, hi = min(lo, i), max(hi, i)
	}
	cumulative := o.zeroCount()
	out := map[float64]uint64{0: cumulative}
	for i := lo; i <= hi; i++ {
		cumulative += native[i]
		out[math.Exp2(float64(i)/math.Exp2(float64(o.schema)))] = cumulative
	}
	out[math.Inf(1)] = uint64(len(o.values()))
	return out
}

func sum(values []float64) float64 {
	var s float64
	for _, v := range values {
		s += v
	}
	return s
}

// parseBuckets turns the gateway API's le → cumulative count strings into
// numbers.
func parseBuckets(t *testing.T, buckets map[string]string) map[float64]uint64 {
	t.Helper()
	out := map[float64]uint64{}
	for le, count := range buckets {
		bound, err := strconv.ParseFloat(le, 64)
		require.NoError(t, err, "le %q", le)
		n, err := strconv.ParseUint(count, 10, 64)
		require.NoError(t, err, "count %q of le %q", count, le)
		out[bound] = n
	}
	return out
}

// nativeBuckets decodes native histogram spans and deltas into bucket
// index → count, leaving out empty buckets.
func nativeBuckets(spans []*dto.BucketSpan, deltas []int64) map[int32]uint64 {
	out := map[int32]uint64{}
	var idx int32
	var count int64
	d := 0
	for _, span := range spans {
		idx += span.GetOffset()
		for range span.GetLength() {
			if d < len(deltas) {
				count += deltas[d]
				d++
			}
			if count != 0 {
				out[idx] = uint64(count)
			}
			idx++
		}
	}
	return out
}

// apiNativeBuckets turns the native buckets the gateway's API shows (from
// 1.8: populated buckets only, each with its bounds) into positive bucket
// index → count at schema, and the zero bucket's count. Bounds are read
// back to indexes, not compared as strings: the gateway computes them its
// own way.
func apiNativeBuckets(t *testing.T, buckets []testgateway.NativeBucket, schema int32) (map[int32]uint64, uint64) {
	t.Helper()
	out := map[int32]uint64{}
	var zero uint64
	for _, b := range buckets {
		lower, errLower := strconv.ParseFloat(b.Lower, 64)
		upper, errUpper := strconv.ParseFloat(b.Upper, 64)
		count, errCount := strconv.ParseUint(b.Count, 10, 64)
		require.NoError(t, errors.Join(errLower, errUpper, errCount), "native bucket %+v", b)
		if b.Boundaries == 3 { // [lower, upper]: the zero bucket
			assert.Equal(t, -upper, lower, "zero bucket %+v", b)
			zero = count
			continue
		}
		require.Equal(t, 0, b.Boundaries, "a positive bucket is (lower, upper]: %+v", b)
		require.Positive(t, lower, "a positive bucket: %+v", b)
		index := int32(math.Round(math.Log2(upper) * math.Exp2(float64(schema))))
		assert.Equal(t, index-1, int32(math.Round(math.Log2(lower)*math.Exp2(float64(schema)))), "bucket %+v is one wide", b)
		out[index] = count
	}
	return out, zero
}

// protoMetricWith returns the one series of a scraped family carrying all
// of labels.
func protoMetricWith(t *testing.T, mf *dto.MetricFamily, labels map[string]string) *dto.Metric {
	t.Helper()
	var found []*dto.Metric
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && have[k] == v
		}
		if match {
			found = append(found, m)
		}
	}
	require.Len(t, found, 1, "series of %s with %v", mf.GetName(), labels)
	return found[0]
}

// metricWith returns the one series of a family whose label has value.
func metricWith(t *testing.T, f testgateway.Family, label, value string) testgateway.Metric {
	t.Helper()
	var found []testgateway.Metric
	for _, m := range f.Metrics {
		if m.Labels[label] == value {
			found = append(found, m)
		}
	}
	require.Len(t, found, 1, "series with %s=%q", label, value)
	return found[0]
}

// countsBy maps the value of one label to each histogram series' count.
func countsBy(f testgateway.Family, label string) map[string]string {
	out := map[string]string{}
	for _, m := range f.Metrics {
		out[m.Labels[label]] = m.Count
	}
	return out
}

// labelString renders labels as {a="x",b="y"}, sorted by name.
func labelString(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// seriesValues maps each series' complete label set to its value.
func seriesValues(f testgateway.Family) map[string]string {
	out := map[string]string{}
	for _, m := range f.Metrics {
		out[labelString(m.Labels)] = m.Value
	}
	return out
}

func familyNames(g testgateway.Group) []string {
	names := make([]string, 0, len(g.Families))
	for name := range g.Families {
		names = append(names, name)
	}
	return names
}

// otlpJSONBody is an OTLP/JSON ExportMetricsServiceRequest, as a client
// without an OTel SDK would write it (the proto3 JSON mapping: 64-bit
// integers and timestamps as strings, NaN as "NaN", enums as numbers).
const otlpJSONBody = `{
  "resourceMetrics": [{
    "resource": {"attributes": [
      {"key": "service.name", "value": {"stringValue": "otlp-json"}},
      {"key": "service.instance.id", "value": {"stringValue": "json-1"}}
    ]},
    "scopeMetrics": [{
      "scope": {"name": "handwritten"},
      "metrics": [
        {"name": "queue.depth", "unit": "{item}", "description": "Items waiting.", "gauge": {"dataPoints": [
          {"attributes": [{"key": "queue", "value": {"stringValue": "q1"}}], "timeUnixNano": "1767225602000000000", "asInt": "7"},
          {"attributes": [{"key": "queue", "value": {"stringValue": "q1"}}], "timeUnixNano": "1767225601000000000", "asInt": "3"},
          {"attributes": [{"key": "queue", "value": {"stringValue": "q2"}}], "timeUnixNano": "1767225601000000000", "asInt": "20"},
          {"attributes": [{"key": "queue", "value": {"stringValue": "q2"}}], "timeUnixNano": "1767225603000000000", "asInt": "11"},
          {"attributes": [{"key": "queue", "value": {"stringValue": "q3"}}], "timeUnixNano": "1767225601000000000", "asInt": "5"},
          {"attributes": [{"key": "queue", "value": {"stringValue": "q3"}}], "timeUnixNano": "1767225601000000000", "asInt": "6"}
        ]}},
        {"name": "label.merge", "gauge": {"dataPoints": [
          {"attributes": [
            {"key": "a_b", "value": {"stringValue": "underscore"}},
            {"key": "a.b", "value": {"stringValue": "dot"}},
            {"key": "empty", "value": {"stringValue": ""}},
            {"key": "9lives", "value": {"stringValue": "cat"}}
          ], "timeUnixNano": "1767225601000000000", "asDouble": 1}
        ]}},
        {"name": "", "gauge": {"dataPoints": [{"timeUnixNano": "1767225601000000000", "asInt": "1"}]}},
        {"name": "...", "gauge": {"dataPoints": [{"timeUnixNano": "1767225601000000000", "asInt": "1"}]}},
        {"name": "2fast", "gauge": {"dataPoints": [{"timeUnixNano": "1767225601000000000", "asInt": "2"}]}},
        {"name": "nan.gauge", "gauge": {"dataPoints": [{"timeUnixNano": "1767225601000000000", "asDouble": "NaN"}]}},
        {"name": "flagged.gauge", "gauge": {"dataPoints": [
          {"attributes": [{"key": "series", "value": {"stringValue": "a"}}], "timeUnixNano": "1767225601000000000", "asDouble": 5, "flags": 1},
          {"attributes": [{"key": "series", "value": {"stringValue": "b"}}], "timeUnixNano": "1767225601000000000", "asDouble": 1.5}
        ]}},
        {"name": "http.requests", "unit": "{request}", "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
          {"attributes": [{"key": "code", "value": {"intValue": "200"}}], "startTimeUnixNano": "1767225600000000000", "timeUnixNano": "1767225601000000000", "asInt": "42"}
        ]}}
      ]
    }]
  }]
}`

// postOTLPJSON sends an OTLP/JSON body to the collector's OTLP/HTTP receiver.
func postOTLPJSON(t *testing.T, col *collector, body string) {
	t.Helper()
	resp, err := http.Post("http://"+col.httpAddr+"/v1/metrics", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "POST /v1/metrics: %s", answer)
}

func TestTranslationOTLPJSONBody(t *testing.T) {
	gw := testgateway.Start(t)
	metricsAddr := testgateway.FreeAddr(t)
	host, port, _ := strings.Cut(metricsAddr, ":")
	col := startCollectorWithConfig(t, authConfig(nil,
		fmt.Sprintf(`{endpoint: %q, retry_on_failure: %s}`, gw.URL, shortRetry),
		fmt.Sprintf(`{logs: {level: debug, encoding: json}, metrics: {level: detailed, readers: [{pull: {exporter: {prometheus: {host: %q, port: %s}}}}]}}`, host, port),
	))
	postOTLPJSON(t, col, otlpJSONBody)

	// One request, one batch, one push: wait for it.
	grp := gw.WaitGroup(t, map[string]string{"job": "otlp-json", "instance": "json-1"}, 20*time.Second, func(g testgateway.Group) bool {
		return len(g.Families["http_requests_total"].Metrics) == 1
	})
	assert.Len(t, gw.Groups(t), 1, "exactly the request's group")
	series := func(extra ...string) string {
		labels := map[string]string{"job": "otlp-json", "instance": "json-1", "otel_scope_name": "handwritten"}
		for i := 0; i+1 < len(extra); i += 2 {
			labels[extra[i]] = extra[i+1]
		}
		return labelString(labels)
	}

	// Every metric of the request but the two without a valid name arrived
	// in one push: "" and "..." (nothing left after sanitising) are
	// dropped; "2fast" is sanitised, not dropped. No target_info: the
	// resource has only identifying attributes. No otel_scope_version: the
	// scope has none.
	assert.ElementsMatch(t, []string{
		"queue_depth", "label_merge", "_2fast", "nan_gauge", "flagged_gauge", "http_requests_total",
		"push_time_seconds", "push_failure_time_seconds",
	}, familyNames(grp))

	// Two points of one series in one request: the later timestamp wins,
	// whichever comes first; of two with the same time, the later in the
	// request.
	queue := grp.Families["queue_depth"]
	assert.Equal(t, "GAUGE", queue.Type)
	assert.Equal(t, "Items waiting.", queue.Help)
	assert.Equal(t, map[string]string{
		series("queue", "q1"): "7",  // later point first
		series("queue", "q2"): "11", // later point second
		series("queue", "q3"): "6",  // same time: the second
	}, seriesValues(queue))

	// a.b and a_b both become a_b: one label, the values joined with ";"
	// in the order of the original keys ("a.b" < "a_b"), not the
	// request's; the empty value is no label; a leading digit gets key_.
	assert.Equal(t, map[string]string{
		series("a_b", "dot;underscore", "key_9lives", "cat"): "1",
	}, seriesValues(grp.Families["label_merge"]))

	// A metric name starting with a digit: otlptranslator prefixes "_".
	assert.Equal(t, "GAUGE", grp.Families["_2fast"].Type)
	assert.Equal(t, map[string]string{series(): "2"}, seriesValues(grp.Families["_2fast"]))

	// NaN is a value like any other.
	assert.Equal(t, map[string]string{series(): "NaN"}, seriesValues(grp.Families["nan_gauge"]))

	// The point flagged "no recorded value" ends a series the group does
	// not hold: nothing to remove; its neighbour kept.
	assert.Equal(t, map[string]string{series("series", "b"): "1.5"}, seriesValues(grp.Families["flagged_gauge"]))

	// A monotonic cumulative sum is a counter with _total; the int
	// attribute is rendered as text.
	requests := grp.Families["http_requests_total"]
	assert.Equal(t, "COUNTER", requests.Type)
	assert.Equal(t, map[string]string{series("code", "200"): "42"}, seriesValues(requests))

	// The collector's own metrics count each drop by reason, and the one
	// older duplicate as stale.
	scrape := testgateway.GetOK(t, "http://"+metricsAddr+"/metrics")
	dropped := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^otelcol_exporter_pushgateway_points_dropped(?:_total)?\{[^}]*reason="([a-z_]+)"[^}]*\} (\S+)$`).FindAllStringSubmatch(scrape, -1) {
		dropped[m[1]] = m[2]
	}
	assert.Equal(t, map[string]string{"invalid_name": "2"}, dropped, "points_dropped by reason")
	assert.Regexp(t, `(?m)^otelcol_exporter_pushgateway_stale_points(_total)?(\{[^}]*\})? 1$`, scrape)

	// Each drop is logged at Warn, naming the metric and the reason.
	type warning struct {
		Metric, Reason string
		Points         float64
	}
	var warnings []warning
	for _, e := range logEntries(col) {
		if e.Level == "warn" && e.Msg == "Dropping data points that cannot be pushed" {
			metric, _ := e.Fields["metric"].(string)
			reason, _ := e.Fields["reason"].(string)
			points, _ := e.Fields["points"].(float64)
			warnings = append(warnings, warning{metric, reason, points})
		}
	}
	assert.ElementsMatch(t, []warning{
		{"", "invalid_name", 1},
		{"...", "invalid_name", 1},
	}, warnings)

	// An empty name is dropped even where otlptranslator would name the
	// metric after its suffixes alone ("total", "seconds").
	t.Run("empty names with a suffix", func(t *testing.T) {
		postOTLPJSON(t, col, emptyNamesJSONBody)
		grp := gw.WaitGroup(t, map[string]string{"job": "otlp-json-empty-names"}, 20*time.Second, func(g testgateway.Group) bool {
			return len(g.Families["companion"].Metrics) == 1
		})
		assert.ElementsMatch(t, []string{"companion", "push_time_seconds", "push_failure_time_seconds"}, familyNames(grp),
			"docs/MAPPING.md: the empty-named metrics are dropped (invalid_name), not pushed as total / seconds")
	})

	col.stop(t)
	assert.Zero(t, countLogEntries(col, func(e logEntry) bool { return e.Level == "error" }), "the collector logged an error")
}

// emptyNamesJSONBody holds metrics with an empty name that get a suffix
// from otlptranslator, and one valid metric next to them.
const emptyNamesJSONBody = `{
  "resourceMetrics": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "otlp-json-empty-names"}}]},
    "scopeMetrics": [{
      "scope": {"name": "handwritten"},
      "metrics": [
        {"name": "", "sum": {"aggregationTemporality": 2, "isMonotonic": true, "dataPoints": [
          {"startTimeUnixNano": "1767225600000000000", "timeUnixNano": "1767225601000000000", "asInt": "9"}
        ]}},
        {"name": "", "unit": "s", "gauge": {"dataPoints": [{"timeUnixNano": "1767225601000000000", "asDouble": 0.5}]}},
        {"name": "companion", "gauge": {"dataPoints": [{"timeUnixNano": "1767225601000000000", "asInt": "1"}]}}
      ]
    }]
  }]
}`
