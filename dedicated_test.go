package pushgatewayexporter

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// The tests of this file prove that the exporter keeps a dedicated gateway
// (one only it writes to, started with --push.disable-consistency-check)
// consistent: such a gateway accepts whatever parses, and one inconsistent
// push makes every scrape of it fail from then on. Each gateway here runs
// behind testgateway's checking proxy, which scrapes it after every write
// and fails the test, naming the write, when the scrape fails, does not
// parse, is cut short, holds what Prometheus cannot ingest, or makes
// promtool complain (see internal/testgateway/dedicated.go).
// make dedicated runs them (and the end-to-end suite with
// PUSHGATEWAY_DEDICATED=1); docs/notes/dedicated-gateway-checks.MD lists
// the gateway's checks and how the exporter meets each.

// TestDedicatedGolden pushes every golden case, in both formats, into one
// dedicated gateway, each case in groups of its own: all of them are held
// together, so every case is checked against every other one.
func TestDedicatedGolden(t *testing.T) {
	gw := testgateway.StartWith(t, testgateway.Options{Dedicated: true})
	groups := 0
	for _, c := range goldenCases() {
		for _, format := range []PushFormat{FormatProtobuf, FormatText} {
			namespace := "golden-" + c.name + "-" + string(format)
			t.Run(c.name+"/"+string(format), func(t *testing.T) {
				exp := startExporter(t, gw.URL, func(cfg *Config) {
					cfg.Format = format
					if c.mutate != nil {
						c.mutate(cfg)
					}
				})
				for _, fill := range c.batches {
					b := testbatch.New()
					fill(b)
					inNamespace(b.MD, namespace)
					require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
				}
			})
			held := 0
			for _, grp := range gw.Groups(t) {
				if strings.HasPrefix(grp.Labels["job"], namespace+"/") {
					held++
				}
			}
			assert.Positive(t, held, "case %s/%s left no group at the gateway", c.name, format)
			groups += held
		}
	}
	writes, failures := gw.Checked()
	assert.Empty(t, failures)
	assert.Positive(t, writes)
	assert.Len(t, gw.Groups(t), groups, "every case's groups are held together")
	t.Logf("%d golden cases in 2 formats: %d groups held together, %d writes checked", len(goldenCases()), groups, writes)
}

// inNamespace puts every resource of md in a service namespace, so that
// its group is the case's own.
func inNamespace(md pmetric.Metrics, namespace string) {
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		md.ResourceMetrics().At(i).Resource().Attributes().PutStr("service.namespace", namespace)
	}
}

// dedicatedReplayProfiles are the configurations the fuzz replay runs with,
// each through one exporter into one dedicated gateway of its own.
var dedicatedReplayProfiles = []struct {
	name   string
	mutate func(*Config)
}{
	{name: "defaults", mutate: func(*Config) {}},
	{name: "post", mutate: func(c *Config) { c.Method = MethodPost }},
	{name: "text_sum_classic", mutate: func(c *Config) {
		c.Format = FormatText
		c.ExponentialHistograms = ExponentialHistogramsClassic
		c.Aggregation = AggregationConfig{Mode: AggregationSum, Gauges: GaugesMax}
	}},
	{name: "tight_limits", mutate: func(c *Config) {
		// The fuzz target's tight limits, but for max_series (all inputs
		// share one exporter, which would be full after the first few)
		// and a label length that lets most groups in ("unknown_service").
		lim := fuzzLimits[2]
		c.MaxLabelValueLength, c.MaxLabelsPerSeries = 16, lim.maxLabels
		c.MaxSeriesPerGroup = lim.maxSeriesPerGroup
	}},
}

// TestDedicatedFuzzReplay pushes every FuzzTranslate input — the seeds and
// the corpus under testdata/fuzz/FuzzTranslate — in sequence through the
// exporter into one dedicated gateway, checked after every push. (The
// fuzz target itself checks one batch's groups against each other without
// a gateway; here every input's groups meet all earlier inputs' groups.)
// The limits byte of an input is not used: one exporter has one
// configuration, so each profile runs every input. A push may be refused
// only as the exporter documents: a resource whose grouping key it refuses,
// series beyond a limit. The gateway itself must accept every push.
func TestDedicatedFuzzReplay(t *testing.T) {
	inputs := fuzzReplayInputs(t)
	for _, profile := range dedicatedReplayProfiles {
		t.Run(profile.name, func(t *testing.T) {
			gw := testgateway.StartWith(t, testgateway.Options{Dedicated: true})
			exp := startInternal(t, gw.URL, func(c *Config) {
				c.Grouping = fuzzGrouping()
				profile.mutate(c)
			})
			refused := 0
			for i, in := range inputs {
				batch := testbatch.DecodeFuzzBatch(in.data)
				md := batch.Metrics()
				// Each input comes after the ones before it, so that its
				// points are not stale against theirs.
				shiftTimestamps(md, pcommon.Timestamp(i+1)*1000)
				_, before := gw.Checked()
				err := exp.pushMetrics(context.Background(), md)
				if err != nil {
					require.True(t, consumererror.IsPermanent(err), "input %s: a retryable error from a healthy gateway: %v", in.name, err)
					assert.NotContains(t, err.Error(), "pushing group", "input %s: the gateway refused a push", in.name)
					refused++
				}
				if _, after := gw.Checked(); len(after) > len(before) {
					t.Errorf("input %s broke the gateway (reported above); its batch: %s", in.name, batch)
				}
			}
			writes, failures := gw.Checked()
			assert.Empty(t, failures)
			t.Logf("%d inputs, %d writes checked, %d inputs with a documented refusal", len(inputs), writes, refused)
		})
	}
}

// shiftTimestamps moves every point of md later by d.
func shiftTimestamps(md pmetric.Metrics, d pcommon.Timestamp) {
	type point interface {
		StartTimestamp() pcommon.Timestamp
		SetStartTimestamp(pcommon.Timestamp)
		Timestamp() pcommon.Timestamp
		SetTimestamp(pcommon.Timestamp)
	}
	shift := func(p point) {
		p.SetTimestamp(p.Timestamp() + d)
		if p.StartTimestamp() != 0 {
			p.SetStartTimestamp(p.StartTimestamp() + d)
		}
	}
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		sms := rms.At(i).ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			ms := sms.At(j).Metrics()
			for k := 0; k < ms.Len(); k++ {
				m := ms.At(k)
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					for _, p := range m.Gauge().DataPoints().All() {
						shift(p)
					}
				case pmetric.MetricTypeSum:
					for _, p := range m.Sum().DataPoints().All() {
						shift(p)
					}
				case pmetric.MetricTypeHistogram:
					for _, p := range m.Histogram().DataPoints().All() {
						shift(p)
					}
				case pmetric.MetricTypeExponentialHistogram:
					for _, p := range m.ExponentialHistogram().DataPoints().All() {
						shift(p)
					}
				case pmetric.MetricTypeSummary:
					for _, p := range m.Summary().DataPoints().All() {
						shift(p)
					}
				}
			}
		}
	}
}

type fuzzInput struct {
	name string
	data []byte
}

// fuzzReplayInputs returns FuzzTranslate's seeds and its corpus files.
func fuzzReplayInputs(t *testing.T) []fuzzInput {
	var inputs []fuzzInput
	for i, seed := range testbatch.FuzzSeeds() {
		inputs = append(inputs, fuzzInput{name: "seed#" + strconv.Itoa(i), data: seed.Encode()})
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzTranslate")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		inputs = append(inputs, fuzzInput{name: e.Name(), data: mustParseCorpusFile(t, e.Name(), raw)})
	}
	require.Greater(t, len(inputs), len(testbatch.FuzzSeeds()), "corpus files found")
	if os.Getenv("FUZZ_REPLAY_CACHE") != "" {
		inputs = append(inputs, fuzzCacheInputs(t)...)
	}
	return inputs
}

// fuzzCacheInputs returns the inputs go test's fuzzing generated and kept
// in the build cache (FUZZ_REPLAY_CACHE=1): what make fuzz found
// interesting on this machine.
func fuzzCacheInputs(t *testing.T) []fuzzInput {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	require.NoError(t, err)
	dir := filepath.Join(strings.TrimSpace(string(out)), "fuzz", "github.com", "pushgatewayexporter", "pushgatewayexporter", "FuzzTranslate")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err, "FUZZ_REPLAY_CACHE: no generated inputs (make fuzz-short makes some)")
	var inputs []fuzzInput
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		inputs = append(inputs, fuzzInput{name: "cache/" + e.Name(), data: mustParseCorpusFile(t, e.Name(), raw)})
	}
	return inputs
}

// TestDedicatedAcrossGroups sends, through one exporter into one dedicated
// gateway, what is legal in one group and may be illegal across groups.
// What the gateway would fail to serve must be refused by the exporter
// (name_conflict); the rest must be pushed and served.
func TestDedicatedAcrossGroups(t *testing.T) {
	gw := testgateway.StartWith(t, testgateway.Options{Dedicated: true})
	exp := startInternal(t, gw.URL, nil)
	group := func(name string) map[string]any {
		return map[string]any{"service.name": name, "service.instance.id": "i", "host.name": name + "-host"}
	}
	held := func(job string) testgateway.Group {
		grp := gw.Group(t, map[string]string{"job": job, "instance": "i"})
		require.NotNil(t, grp, "group %s", job)
		return *grp
	}

	// One name, each group's own description: the gateway serves one.
	exp.send(t, group("help-a"), func(r *testbatch.Resource) {
		r.Gauge("queue.size", "", 10, 1, nil)
		r.Metrics().At(0).SetDescription("Items waiting (a).")
	})
	exp.send(t, group("help-b"), func(r *testbatch.Resource) {
		r.Gauge("queue.size", "", 10, 2, nil)
		r.Metrics().At(0).SetDescription("Queue length, as b counts it.")
	})
	assert.Equal(t, "Items waiting (a).", held("help-a").Families["queue_size"].Help)
	assert.Equal(t, "Queue length, as b counts it.", held("help-b").Families["queue_size"].Help)

	// One name, two types: the second is refused, the first stays.
	exp.send(t, group("type-a"), func(r *testbatch.Resource) { r.Gauge("jobs", "", 10, 1, nil) })
	exp.send(t, group("type-b"), func(r *testbatch.Resource) {
		r.Histogram("jobs", "", 10, []float64{1}, []uint64{1, 0}, 0.5).Gauge("other", "", 10, 1, nil)
	})
	assert.Equal(t, "GAUGE", held("type-a").Families["jobs"].Type)
	assert.NotContains(t, held("type-b").Families, "jobs")

	// A histogram owns its _count, _sum and _bucket, whichever comes first.
	exp.send(t, group("hist-a"), func(r *testbatch.Resource) {
		r.Histogram("x", "", 10, []float64{1}, []uint64{1, 0}, 0.5).Gauge("y.count", "", 10, 1, nil)
	})
	exp.send(t, group("hist-b"), func(r *testbatch.Resource) {
		r.Gauge("x.count", "", 10, 1, nil).Gauge("x.bucket", "", 10, 1, nil).Gauge("x.sum", "", 10, 1, nil).
			Histogram("y", "", 10, []float64{1}, []uint64{1, 0}, 0.5).Gauge("kept", "", 10, 1, nil)
	})
	assert.Contains(t, held("hist-a").Families, "x")
	assert.Contains(t, held("hist-a").Families, "y_count")
	for _, refused := range []string{"x_count", "x_bucket", "x_sum", "y"} {
		assert.NotContains(t, held("hist-b").Families, refused)
	}

	// A summary owns _count and _sum, not _bucket.
	exp.send(t, group("summary-a"), func(r *testbatch.Resource) {
		r.Summary("s", "", 10, 4, 40, map[float64]float64{0.5: 9, 0.99: 15})
	})
	exp.send(t, group("summary-b"), func(r *testbatch.Resource) {
		r.Summary("s", "", 10, 1, 2, map[float64]float64{0.5: 1}).
			Gauge("s.sum", "", 10, 1, nil).Gauge("s.bucket", "", 10, 1, nil)
	})
	assert.Equal(t, "SUMMARY", held("summary-b").Families["s"].Type)
	assert.NotContains(t, held("summary-b").Families, "s_sum")
	assert.Contains(t, held("summary-b").Families, "s_bucket")

	// target_info of every group, each with its own labels.
	exp.send(t, map[string]any{"service.name": "info-a", "service.instance.id": "i", "os.type": "linux"}, func(r *testbatch.Resource) {
		r.Gauge("g", "", 10, 1, nil)
	})
	exp.send(t, map[string]any{"service.name": "info-b", "service.instance.id": "i", "k8s.pod.name": "p", "cloud.region": "r"}, func(r *testbatch.Resource) {
		r.Gauge("g", "", 10, 1, nil)
	})
	assert.Equal(t, map[string]string{"job": "info-a", "instance": "i", "os_type": "linux"}, held("info-a").Families["target_info"].Metrics[0].Labels)

	// A native histogram next to a classic one, in one group and across.
	exp.send(t, group("native"), func(r *testbatch.Resource) {
		r.ExpHistogram("latency.native", pmetric.AggregationTemporalityCumulative, 0, 10,
			testbatch.ExpPoint{Scale: 2, ZeroCount: 1, Pos: []uint64{1, 2}, Neg: []uint64{1}, Sum: 3}).
			Histogram("latency.classic", "s", 10, []float64{0.1, 1}, []uint64{1, 1, 0}, 0.6)
	})
	exp.send(t, group("classic"), func(r *testbatch.Resource) {
		r.Histogram("latency.native", "s", 10, []float64{0.1, 1}, []uint64{0, 1, 0}, 0.5)
	})
	native := gw.ScrapeProtobuf(t)["latency_native_seconds"]
	require.NotNil(t, native)
	assert.Len(t, native.GetMetric(), 2, "one native, one classic series of one histogram family")

	// The gateway's own families, of another type or help: never pushed.
	exp.send(t, group("own"), func(r *testbatch.Resource) {
		r.Gauge("go.gc.duration.seconds.count", "", 10, 1, nil). // the _count of the gateway's own summary
										Histogram("go.goroutines", "", 10, []float64{1}, []uint64{1, 0}, 0.5).
										Summary("process.open.fds", "", 10, 1, 1, nil).
										Sum("pushgateway.http.requests", "", true, 10, 1, nil).
										Gauge("push.time", "s", 10, 1, nil).Gauge("kept", "", 10, 1, nil)
		r.Metrics().At(3).SetDescription("Mine.")
	})
	own := held("own")
	assert.ElementsMatch(t, []string{"kept", "push_failure_time_seconds", "push_time_seconds", "target_info"}, familyNames(&own))

	// Point attributes named like grouping labels: the gateway would write
	// the group's values over them, making these two series one.
	exp.send(t, group("clash"), func(r *testbatch.Resource) {
		r.Gauge("g", "", 10, 1, map[string]any{"job": "a", "instance": "x"}).
			Gauge("g", "", 10, 2, map[string]any{"job": "b", "instance": "x"})
	})
	assert.Len(t, held("clash").Families["g"].Metrics, 2)

	// A summary with one quantile twice would be one sample twice.
	exp.send(t, group("quantiles"), func(r *testbatch.Resource) {
		r.Summary("dup", "", 10, 2, 3, map[float64]float64{0.5: 1})
		qv := r.Metrics().At(0).Summary().DataPoints().At(0).QuantileValues().AppendEmpty()
		qv.SetQuantile(0.5)
		qv.SetValue(2)
		r.Gauge("kept", "", 10, 1, nil)
	})
	assert.NotContains(t, held("quantiles").Families, "dup")

	writes, failures := gw.Checked()
	assert.Empty(t, failures)
	drops := renderDrops(t, exp.tel)
	assert.Contains(t, drops, "invalid_summary=1")
	assert.Contains(t, drops, "name_conflict=", "the exporter refused what the gateway could not serve")
	assert.Contains(t, drops, "reserved_name=5")
	t.Logf("%d writes checked", writes)
}

// TestDedicatedNamesLeaveWithTheGateway ends a family in one group and
// claims its name with another type in another: the gateway holds the
// first family until a push without it is acknowledged (put) or for good
// (post), so the second is refused until then.
func TestDedicatedNamesLeaveWithTheGateway(t *testing.T) {
	ended := func(r *testbatch.Resource) { r.Gauge("x", "", 20, 0, nil).Ended().Gauge("y", "", 20, 1, nil) }
	histogram := func(r *testbatch.Resource) {
		r.Histogram("x", "", 30, []float64{1}, []uint64{1, 0}, 0.5).Gauge("z", "", 30, 1, nil)
	}
	a, b := map[string]any{"service.name": "a"}, map[string]any{"service.name": "b"}

	t.Run("post", func(t *testing.T) {
		gw := testgateway.StartWith(t, testgateway.Options{Dedicated: true})
		exp := startInternal(t, gw.URL, func(c *Config) { c.Method = MethodPost })
		exp.send(t, a, func(r *testbatch.Resource) { r.Gauge("x", "", 10, 1, nil).Gauge("y", "", 10, 1, nil) })
		exp.send(t, a, ended)
		exp.send(t, b, histogram)
		grp := gw.Group(t, map[string]string{"job": "b"})
		require.NotNil(t, grp)
		assert.NotContains(t, grp.Families, "x", "a post never removes a's gauge x")
		_, failures := gw.Checked()
		assert.Empty(t, failures)
	})

	t.Run("put", func(t *testing.T) {
		gw := testgateway.StartWith(t, testgateway.Options{Dedicated: true})
		exp := startInternal(t, gw.URL, nil)
		exp.send(t, a, func(r *testbatch.Resource) { r.Gauge("x", "", 10, 1, nil).Gauge("y", "", 10, 1, nil) })
		// a's state drops x, but its push fails: the gateway keeps x.
		batch := testbatch.New()
		ended(batch.Resource(a))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		require.Error(t, exp.pushMetrics(ctx, batch.MD))
		exp.send(t, b, histogram)
		grp := gw.Group(t, map[string]string{"job": "b"})
		require.NotNil(t, grp)
		assert.NotContains(t, grp.Families, "x", "the gateway still holds a's gauge x")

		// a's next push lands without x: b may have its histogram now.
		exp.send(t, a, func(r *testbatch.Resource) { r.Gauge("y", "", 40, 2, nil) })
		exp.send(t, b, func(r *testbatch.Resource) { r.Histogram("x", "", 50, []float64{1}, []uint64{1, 0}, 0.5) })
		grp = gw.Group(t, map[string]string{"job": "b"})
		require.NotNil(t, grp)
		assert.Equal(t, "HISTOGRAM", grp.Families["x"].Type)
		_, failures := gw.Checked()
		assert.Empty(t, failures)
	})
}

// mustParseCorpusFile reads a FuzzTranslate corpus file.
func mustParseCorpusFile(t *testing.T, name string, raw []byte) []byte {
	t.Helper()
	data, err := testbatch.ParseCorpusFile(raw)
	require.NoError(t, err, name)
	return data
}
