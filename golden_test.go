package pushgatewayexporter

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// go test -run TestGolden -update rewrites testdata/golden from what the
// exporter pushes now; review the diff before committing it.
var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCase is one row of the translation rules: batches sent in order,
// with a configuration of its own.
type goldenCase struct {
	name    string
	mutate  func(*Config)
	batches []func(b *testbatch.Batch)
}

// etl is the resource most cases use.
func etl(b *testbatch.Batch) *testbatch.Resource {
	return b.Resource(map[string]any{"service.name": "etl", "service.instance.id": "worker-1"})
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "types", batches: []func(*testbatch.Batch){func(b *testbatch.Batch) {
			r := etl(b).
				Gauge("memory.usage", "By", 10, 2048, nil).
				Sum("rows.processed", "{row}", true, 10, 1000, map[string]any{"table": "orders"}).
				Sum("queue.depth", "{item}", false, 10, -3, nil).
				Histogram("step.duration", "s", 10, []float64{0.5, 1, 5}, []uint64{1, 2, 1, 1}, 16.8).
				Summary("request.latency", "ms", 10, 4, 40, map[float64]float64{0.5: 9, 0.99: 15})
			r.Metrics().At(0).SetDescription("Memory in use.")
			r.Metrics().At(1).SetDescription("Rows processed.")
		}}},
		{name: "delta", batches: []func(*testbatch.Batch){
			func(b *testbatch.Batch) {
				etl(b).DeltaSum("rows", true, testbatch.DeltaPoint{Start: 0, End: 10, Value: 10}).
					DeltaSum("in.flight", false, testbatch.DeltaPoint{Start: 0, End: 10, Value: 4}).
					HistogramOver("latency", "", pmetric.AggregationTemporalityDelta, 0, 10, []float64{1, 5}, []uint64{1, 2, 0}, 7)
			},
			func(b *testbatch.Batch) {
				etl(b).DeltaSum("rows", true, testbatch.DeltaPoint{Start: 10, End: 20, Value: 5}).
					DeltaSum("in.flight", false, testbatch.DeltaPoint{Start: 10, End: 20, Value: -6}).
					HistogramOver("latency", "", pmetric.AggregationTemporalityDelta, 10, 20, []float64{1, 5}, []uint64{0, 1, 1}, 12)
			},
			func(b *testbatch.Batch) { // a replay and an overlap: both ignored, nothing to push
				etl(b).DeltaSum("rows", true, testbatch.DeltaPoint{Start: 10, End: 20, Value: 5}, testbatch.DeltaPoint{Start: 15, End: 30, Value: 7})
			},
		}},
		{name: "exponential", batches: exponentialBatches()},
		{name: "exponential_classic", batches: exponentialBatches(),
			mutate: func(c *Config) { c.ExponentialHistograms = ExponentialHistogramsClassic }},
		{name: "naming", batches: []func(*testbatch.Batch){func(b *testbatch.Batch) {
			etl(b).Gauge("cpu.utilization", "1", 10, 0.25, nil).
				Gauge("http.server.request.duration", "s", 10, 0.2, nil).
				Gauge("disk-io/bytes", "By/s", 10, 512, nil).
				Gauge("1st.metric", "", 10, 1, nil).
				Gauge("", "", 10, 1, nil)
		}}},
		{name: "naming_without_suffixes", batches: []func(*testbatch.Batch){func(b *testbatch.Batch) {
			etl(b).Gauge("cpu.utilization", "1", 10, 0.25, nil).
				Sum("rows.processed", "{row}", true, 10, 3, nil)
		}}, mutate: func(c *Config) {
			c.TranslationStrategy = "UnderscoreEscapingWithoutSuffixes"
			c.Namespace = "ci"
		}},
		{name: "labels", batches: []func(*testbatch.Batch){func(b *testbatch.Batch) {
			etl(b).Gauge("collide", "", 10, 1, map[string]any{"a.b": "dot", "a_b": "underscore", "a-b": "dash"}).
				Gauge("empty.value", "", 10, 2, map[string]any{"kept": "x", "dropped": ""}).
				Gauge("typed", "", 10, 3, map[string]any{
					"int": 7, "bool": true, "double": 1.5, "slice": []any{"a", 1}, "map": map[string]any{"k": "v"},
				}).
				Gauge("clash", "", 10, 4, map[string]any{"job": "mine", "instance": "me", "__name__": "x"}).
				Histogram("hist", "", 10, []float64{1}, []uint64{1, 0}, 0.5)
			b.MD.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(4).Histogram().DataPoints().At(0).
				Attributes().PutStr("le", "attribute")
		}}},
		{name: "scope_and_resource", batches: scopedBatches()},
		{name: "resource_to_telemetry", batches: scopedBatches(), mutate: func(c *Config) {
			c.ResourceToTelemetryConversion.Enabled = true
			c.TargetInfo = false
			c.ScopeLabels = false
		}},
		{name: "bad_points", batches: []func(*testbatch.Batch){func(b *testbatch.Batch) {
			r := etl(b).
				Gauge("nan", "", 10, math.NaN(), nil).
				Gauge("pos.inf", "", 10, math.Inf(1), nil).
				Gauge("neg.inf", "", 10, math.Inf(-1), nil).
				Gauge("no.recorded.value", "", 10, 1, nil).
				Gauge("duplicate", "", 20, 2, map[string]any{"k": "v"}). // the later point, first
				Histogram("bad.buckets", "", 10, []float64{1, 2}, []uint64{1, 1}, 1)
			r.Metrics().At(3).Gauge().DataPoints().At(0).SetFlags(pmetric.DefaultDataPointFlags.WithNoRecordedValue(true))
			dup := r.Metrics().At(4).Gauge().DataPoints().AppendEmpty()
			dup.SetTimestamp(15)
			dup.SetDoubleValue(1)
			dup.Attributes().PutStr("k", "v")
			r.Metric("no.value", "", "").SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(10)
		}}},
		{name: "gateway_names", batches: []func(*testbatch.Batch){func(b *testbatch.Batch) {
			etl(b).Gauge("push_time", "s", 10, 1, nil).
				Gauge("go.goroutines", "", 10, 1, nil).
				Gauge("pushgateway.custom", "", 10, 1, nil).
				Histogram("lat", "", 10, []float64{1}, []uint64{1, 0}, 0.5).
				Gauge("lat_count", "", 10, 1, nil)
		}}},
	}
}

func exponentialBatches() []func(*testbatch.Batch) {
	return []func(*testbatch.Batch){func(b *testbatch.Batch) {
		etl(b).
			ExpHistogram("exp", pmetric.AggregationTemporalityCumulative, 0, 10,
				testbatch.ExpPoint{Scale: 0, ZeroCount: 1, PosOffset: 0, Pos: []uint64{1, 2}, NegOffset: 1, Neg: []uint64{3}, Sum: 4.5}).
			ExpHistogram("exp.fine", pmetric.AggregationTemporalityCumulative, 0, 10,
				testbatch.ExpPoint{Scale: 12, PosOffset: 4100, Pos: []uint64{1, 1, 1, 1, 1}, Sum: 5.1}).
			ExpHistogram("exp.coarse", pmetric.AggregationTemporalityCumulative, 0, 10,
				testbatch.ExpPoint{Scale: -5, Pos: []uint64{1}, Sum: 3})
	}}
}

func scopedBatches() []func(*testbatch.Batch) {
	return []func(*testbatch.Batch){func(b *testbatch.Batch) {
		rm := b.MD.ResourceMetrics().AppendEmpty()
		testbatch.PutAttrs(rm.Resource().Attributes(), map[string]any{
			"service.name": "etl", "service.instance.id": "worker-1", "host.name": "runner-7", "os.type": "linux",
		})
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("github.com/acme/etl")
		sm.Scope().SetVersion("1.4.0")
		r := testbatch.ResourceOf(sm.Metrics())
		r.Gauge("batch.size", "", 10, 500, map[string]any{"stage": "load"})
	}}
}

// TestGolden pushes every case in both formats through the exporter, via a
// recorder in front of a real gateway that must accept every push, and
// compares what was pushed with testdata/golden.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		for _, format := range []PushFormat{FormatProtobuf, FormatText} {
			t.Run(c.name+"/"+string(format), func(t *testing.T) {
				got := runGoldenCase(t, c, format)
				path := filepath.Join("testdata", "golden", c.name+"."+string(format)+".golden")
				if *updateGolden {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "no golden file: go test -run TestGolden -update")
				assert.Equal(t, string(want), got, "differs from %s (go test -run TestGolden -update rewrites it)", path)
			})
		}
	}
}

func runGoldenCase(t *testing.T, c goldenCase, format PushFormat) string {
	gw := testgateway.Start(t)
	target, err := url.Parse(gw.URL)
	require.NoError(t, err)
	var (
		mu  sync.Mutex
		out strings.Builder
	)
	recorder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answerFamilies(w, r) {
			return
		}
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		mu.Lock()
		fmt.Fprintf(&out, "# %s %s\n", r.Method, r.URL.EscapedPath())
		if format == FormatText {
			out.Write(body)
		} else {
			out.WriteString(renderProtobuf(t, body))
		}
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		forward(t, rec, r, target)
		assert.Equal(t, http.StatusOK, rec.Code, "the gateway refused a golden push: %s", rec.Body)
		w.WriteHeader(rec.Code)
	}))
	defer recorder.Close()

	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, recorder.URL, func(cfg *Config) {
		cfg.Format = format
		if c.mutate != nil {
			c.mutate(cfg)
		}
	}, set)
	for _, fill := range c.batches {
		b := testbatch.New()
		fill(b)
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
	}
	mu.Lock()
	defer mu.Unlock()
	out.WriteString(renderDrops(t, tel))
	return out.String()
}

// renderDrops lists the points-dropped counter by reason.
func renderDrops(t *testing.T, tel *componenttest.Telemetry) string {
	m, err := tel.GetMetric("otelcol_exporter_pushgateway_points_dropped")
	if err != nil {
		return "# dropped: none\n"
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "points_dropped is an int64 sum: %T", m.Data)
	var lines []string
	for _, dp := range sum.DataPoints {
		reason, _ := dp.Attributes.Value("reason")
		lines = append(lines, fmt.Sprintf("# dropped: %s=%d", reason.AsString(), dp.Value))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// renderProtobuf renders a delimited protobuf body, field by field, so
// that it reads as a diff (prototext output is deliberately unstable).
func renderProtobuf(t *testing.T, body []byte) string {
	var b strings.Builder
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, mf := range fuzzDecodeProtobuf(t, body) {
		fmt.Fprintf(&b, "family %s type=%s help=%q\n", mf.GetName(), mf.GetType(), mf.GetHelp())
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			fmt.Fprintf(&b, "  {%s}", strings.Join(labels, ","))
			switch {
			case m.Gauge != nil:
				fmt.Fprintf(&b, " gauge=%s", f(m.GetGauge().GetValue()))
			case m.Counter != nil:
				fmt.Fprintf(&b, " counter=%s", f(m.GetCounter().GetValue()))
			case m.Summary != nil:
				s := m.GetSummary()
				fmt.Fprintf(&b, " count=%d sum=%s", s.GetSampleCount(), f(s.GetSampleSum()))
				for _, q := range s.GetQuantile() {
					fmt.Fprintf(&b, " q%s=%s", f(q.GetQuantile()), f(q.GetValue()))
				}
			case m.Histogram != nil:
				h := m.GetHistogram()
				fmt.Fprintf(&b, " count=%d sum=%s", h.GetSampleCount(), f(h.GetSampleSum()))
				for _, bk := range h.GetBucket() {
					fmt.Fprintf(&b, " le%s=%d", f(bk.GetUpperBound()), bk.GetCumulativeCount())
				}
				if h.Schema != nil {
					fmt.Fprintf(&b, " schema=%d zero_threshold=%s zero_count=%d positive=%s%v negative=%s%v",
						h.GetSchema(), f(h.GetZeroThreshold()), h.GetZeroCount(),
						renderSpans(h.PositiveSpan), h.PositiveDelta, renderSpans(h.NegativeSpan), h.NegativeDelta)
				}
			}
			if m.TimestampMs != nil {
				fmt.Fprintf(&b, " timestamp=%d", m.GetTimestampMs())
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func renderSpans(spans []*dto.BucketSpan) string {
	var parts []string
	for _, s := range spans {
		parts = append(parts, fmt.Sprintf("%d:%d", s.GetOffset(), s.GetLength()))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
