package reference

import (
	"math"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

const cum = pmetric.AggregationTemporalityCumulative
const del = pmetric.AggregationTemporalityDelta

// exportOnce runs one batch through a fresh model.
func exportOnce(cfg Config, b *batchBuilder) *Model {
	m := New(cfg)
	m.Export(at(0), b.md)
	return m
}

func TestMetricTypes(t *testing.T) {
	b := newBatch()
	r := b.resource("service.name", "j")
	r.gauge("temp", 10, 21.5)
	r.cumulative("requests", 1, 10, 7)
	r.sum("queue.depth", false, cum, 1, 10, -3)
	r.histogram("latency", hist{temp: cum, start: 1, t: 10, bounds: []float64{1, 5}, counts: []uint64{2, 3, 1}, count: 6, sum: 12.5})
	r.histogram("plain", hist{temp: cum, start: 1, t: 10, count: 4, sum: 2})
	r.expHistogram("size", expHist{temp: cum, start: 1, t: 10, scale: 1, zeroThreshold: 0.1, zeroCount: 1, posOffset: -1, pos: []uint64{2, 0, 3}, negOffset: 2, neg: []uint64{1}, count: 7, sum: 9})
	r.summary("rpc", 1, 10, 5, 2.5, []Quantile{{0.99, 9}, {0.5, 1}})
	m := exportOnce(baseConfig(), b)

	want := Gateway{`{job="j"}`: {
		"temp":           one(dto.MetricType_GAUGE, num(21.5)),
		"requests_total": one(dto.MetricType_COUNTER, num(7)),
		"queue_depth":    one(dto.MetricType_GAUGE, num(-3)),
		// cumulative per bound: le=1 → 2, le=5 → 5, +Inf = count 6.
		"latency": one(dto.MetricType_HISTOGRAM, Value{Count: 6, Sum: 12.5, Buckets: []Bucket{{1, 2}, {5, 5}, {inf, 6}}}),
		"plain":   one(dto.MetricType_HISTOGRAM, Value{Count: 4, Sum: 2, Buckets: []Bucket{{inf, 4}}}),
		// native index = OTLP index + 1: positive -1 → 0, 0 → 1 (count 0, left out), 1 → 2; negative 2 → 3.
		"size": one(dto.MetricType_HISTOGRAM, Value{Count: 7, Sum: 9, Native: &Native{Schema: 1, ZeroThreshold: 0.1, ZeroCount: 1,
			Positive: map[int32]uint64{0: 2, 2: 3}, Negative: map[int32]uint64{3: 1}}}),
		"rpc": one(dto.MetricType_SUMMARY, Value{Count: 5, Sum: 2.5, Quantiles: []Quantile{{0.5, 1}, {0.99, 9}}}),
	}}
	assert.Empty(t, Diff(want, m.Gateway()))
	assert.Empty(t, m.Counts())

	t.Run("exponential histograms as classic buckets", func(t *testing.T) {
		cfg := baseConfig()
		cfg.ClassicExponential = true
		m := exportOnce(cfg, b)
		// Scale 1, base √2. Negative OTLP 2: le = -base^2 = -2. Zero bucket:
		// le 0.1. Positive OTLP -1: le = base^0 = 1; OTLP 1: le = base^2 = 2.
		want := Value{Count: 7, Sum: 9, Buckets: []Bucket{{-2, 1}, {0.1, 2}, {1, 4}, {2, 7}, {inf, 7}}}
		assert.Empty(t, Diff(Gateway{`{job="j"}`: {"size": one(dto.MetricType_HISTOGRAM, want)}},
			Gateway{`{job="j"}`: {"size": m.Gateway()[`{job="j"}`]["size"]}}))
	})
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		name, metric, unit string
		build              func(r *resourceBuilder, name string)
		strategy           otlptranslator.TranslationStrategyOption
		namespace          string
		want               string
	}{
		{name: "units become suffixes", metric: "http.server.duration", unit: "s", want: "http_server_duration_seconds",
			build: func(r *resourceBuilder, n string) { r.gauge(n, 1, 1) }},
		{name: "a counter ends in _total, {row} adds nothing", metric: "etl.rows.processed", unit: "{row}", want: "etl_rows_processed_total",
			build: func(r *resourceBuilder, n string) { r.cumulative(n, 1, 2, 1) }},
		{name: "unit 1 on a gauge adds _ratio", metric: "cpu.utilization", unit: "1", want: "cpu_utilization_ratio",
			build: func(r *resourceBuilder, n string) { r.gauge(n, 1, 1) }},
		{name: "unit 1 on a non-monotonic sum (a gauge) adds _ratio", metric: "cpu.share", unit: "1", want: "cpu_share_ratio",
			build: func(r *resourceBuilder, n string) { r.sum(n, false, cum, 1, 2, 1) }},
		{name: "a leading digit gets _", metric: "2fast", want: "_2fast",
			build: func(r *resourceBuilder, n string) { r.gauge(n, 1, 1) }},
		{name: "namespace", metric: "jobs", namespace: "ci", want: "ci_jobs_total",
			build: func(r *resourceBuilder, n string) { r.cumulative(n, 1, 2, 1) }},
		{name: "without suffixes", metric: "jobs", unit: "s", strategy: otlptranslator.UnderscoreEscapingWithoutSuffixes, want: "jobs",
			build: func(r *resourceBuilder, n string) { r.cumulative(n, 1, 2, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBatch()
			r := b.resource("service.name", "j")
			tc.build(r, tc.metric)
			r.sm.Metrics().At(0).SetUnit(tc.unit)
			cfg := baseConfig()
			cfg.Strategy, cfg.Namespace = tc.strategy, tc.namespace
			m := exportOnce(cfg, b)
			assert.Equal(t, []string{tc.want}, sortedKeys(m.Gateway()[`{job="j"}`]))
		})
	}
}

func TestMetricDrops(t *testing.T) {
	for _, tc := range []struct {
		name   string
		build  func(r *resourceBuilder)
		reason string
		n      int
	}{
		{"a metric without data counts as one point", func(r *resourceBuilder) { r.metric("empty") }, "unknown_type", 1},
		{"unspecified temporality", func(r *resourceBuilder) {
			r.sum("s", true, pmetric.AggregationTemporalityUnspecified, 1, 2, 1)
		}, "unspecified_temporality", 1},
		{"no letter or digit", func(r *resourceBuilder) { r.gauge("...", 1, 1) }, "invalid_name", 1},
		{"no letter or digit, even with a unit that would make a name", func(r *resourceBuilder) {
			r.gauge("_", 1, 1)
			r.sm.Metrics().At(0).SetUnit("s")
		}, "invalid_name", 1},
		{"the gateway's push_time_seconds", func(r *resourceBuilder) {
			r.gauge("push.time", 1, 1)
			r.sm.Metrics().At(0).SetUnit("s")
		}, "reserved_name", 1},
		{"a pushgateway_* name", func(r *resourceBuilder) { r.gauge("pushgateway.anything", 1, 1) }, "reserved_name", 1},
		{"the gateway's go_goroutines", func(r *resourceBuilder) { r.gauge("go.goroutines", 1, 1) }, "reserved_name", 1},
		{"the _count of the gateway's go_gc_duration_seconds", func(r *resourceBuilder) { r.gauge("go.gc.duration.seconds.count", 1, 1) }, "reserved_name", 1},
		{"no value", func(r *resourceBuilder) {
			r.gauge("g", 1, 1)
			r.sm.Metrics().At(0).Gauge().DataPoints().At(0).SetIntValue(0)
			r.sm.Metrics().At(0).Gauge().DataPoints().At(0).Attributes().Clear()
			resetValue(r)
		}, "no_value", 1},
		{"bounds not increasing", func(r *resourceBuilder) {
			r.histogram("h", hist{temp: cum, t: 1, bounds: []float64{2, 1}, counts: []uint64{0, 0, 0}})
		}, "invalid_histogram", 1},
		{"an infinite bound", func(r *resourceBuilder) {
			r.histogram("h", hist{temp: cum, t: 1, bounds: []float64{1, math.Inf(1)}, counts: []uint64{0, 0, 0}})
		}, "invalid_histogram", 1},
		{"counts do not match the bounds", func(r *resourceBuilder) {
			r.histogram("h", hist{temp: cum, t: 1, bounds: []float64{1}, counts: []uint64{1}, count: 1})
		}, "invalid_histogram", 1},
		{"C10: bucket counts above the count", func(r *resourceBuilder) {
			r.histogram("h", hist{temp: cum, t: 1, bounds: []float64{1}, counts: []uint64{2, 1}, count: 2})
		}, "invalid_histogram", 1},
		{"a quantile twice", func(r *resourceBuilder) { r.summary("s", 0, 1, 1, 1, []Quantile{{0.5, 1}, {0.5, 2}}) }, "invalid_summary", 1},
		{"C11: a NaN quantile", func(r *resourceBuilder) { r.summary("s", 0, 1, 1, 1, []Quantile{{math.NaN(), 1}}) }, "invalid_summary", 1},
		{"C11: a quantile above 1", func(r *resourceBuilder) { r.summary("s", 0, 1, 1, 1, []Quantile{{1.5, 1}}) }, "invalid_summary", 1},
		{"scale below -4", func(r *resourceBuilder) { r.expHistogram("e", expHist{temp: cum, t: 1, scale: -5}) }, "scale_too_low", 1},
		{"a negative zero threshold", func(r *resourceBuilder) { r.expHistogram("e", expHist{temp: cum, t: 1, zeroThreshold: -1}) }, "invalid_histogram", 1},
		{"a NaN zero threshold", func(r *resourceBuilder) { r.expHistogram("e", expHist{temp: cum, t: 1, zeroThreshold: math.NaN()}) }, "invalid_histogram", 1},
		{"buckets that do not add up to the count", func(r *resourceBuilder) {
			r.expHistogram("e", expHist{temp: cum, t: 1, zeroCount: 1, pos: []uint64{1}, count: 3})
		}, "invalid_histogram", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBatch()
			tc.build(b.resource("service.name", "j"))
			m := exportOnce(baseConfig(), b)
			assert.Empty(t, m.Gateway())
			assert.Equal(t, map[string]int{tc.reason: tc.n}, m.Counts())
		})
	}
}

// resetValue leaves the last gauge point without a value type.
func resetValue(r *resourceBuilder) {
	ms := r.sm.Metrics()
	m := ms.At(ms.Len() - 1)
	dps := m.Gauge().DataPoints()
	dps.RemoveIf(func(pmetric.NumberDataPoint) bool { return true })
	dps.AppendEmpty().SetTimestamp(ts(1))
}

func TestScaleAboveEight(t *testing.T) {
	// Scale 10 → 8: OTLP index i → i >> 2. 4..7 → 1, 8 → 2; native +1.
	b := newBatch()
	b.resource("service.name", "j").expHistogram("e", expHist{temp: cum, t: 1, scale: 10, posOffset: 4, pos: []uint64{1, 1, 1, 1, 5}, count: 9, sum: 1})
	m := exportOnce(baseConfig(), b)
	want := Value{Count: 9, Sum: 1, Native: &Native{Schema: 8, Positive: map[int32]uint64{2: 4, 3: 5}}}
	assert.Empty(t, Diff(Gateway{`{job="j"}`: {"e": one(dto.MetricType_HISTOGRAM, want)}}, m.Gateway()))
}

func TestGroupKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		attrs []string
		want  string
	}{
		{"namespace and name", nil, []string{"service.namespace", "demo", "service.name", "etl"}, `{job="demo/etl"}`},
		{"name alone", nil, []string{"service.name", "etl"}, `{job="etl"}`},
		{"an empty namespace", nil, []string{"service.namespace", "", "service.name", "etl"}, `{job="etl"}`},
		{"neither", nil, []string{"host.name", "h"}, `{job="unknown_service"}`},
		{"a fixed job", func(c *Config) { c.Job = "fixed" }, []string{"service.name", "etl"}, `{job="fixed"}`},
		{"the first instance attribute with a value", func(c *Config) { c.InstanceAttributes = []string{"k8s.pod.name", "host.name"} },
			[]string{"service.name", "etl", "k8s.pod.name", "", "host.name", "h1"}, `{job="etl",instance="h1"}`},
		{"no instance attribute present", func(c *Config) { c.InstanceAttributes = []string{"service.instance.id"} },
			[]string{"service.name", "etl"}, `{job="etl"}`},
		{"grouping labels, missing and empty ones left out", func(c *Config) {
			c.Labels = []GroupingLabel{{"env", "deployment.environment.name"}, {"zone", "cloud.zone"}, {"team", "team"}}
		}, []string{"service.name", "etl", "deployment.environment.name", "prod", "team", ""}, `{job="etl",env="prod"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			b := newBatch()
			b.resource(tc.attrs...).gauge("g", 1, 1)
			m := exportOnce(cfg, b)
			assert.Equal(t, []string{tc.want}, sortedKeys(m.Gateway()))
		})
	}
}

func TestInvalidGroup(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   func(*Config)
		attrs []string
	}{
		{"service.name not UTF-8", nil, []string{"service.name", "a\xffb"}},
		{"service.namespace not UTF-8", nil, []string{"service.name", "a", "service.namespace", "\xff"}},
		{"an instance attribute not UTF-8, even one not chosen", func(c *Config) { c.InstanceAttributes = []string{"a", "b"} },
			[]string{"service.name", "j", "a", "ok", "b", "\xff"}},
		{"a grouping label attribute not UTF-8", func(c *Config) { c.Labels = []GroupingLabel{{"env", "env"}} },
			[]string{"service.name", "j", "env", "\xfe"}},
		{"a grouping value too long", func(c *Config) { c.MaxLabelValueLength = 3 }, []string{"service.name", "four"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			b := newBatch()
			r := b.resource(tc.attrs...)
			r.gauge("g", 1, 1).delta("d", 0, 1, 1)
			r.metric("empty")
			m := exportOnce(cfg, b)
			assert.Empty(t, m.Gateway())
			assert.Equal(t, map[string]int{"invalid_group": 3}, m.Counts())
		})
	}
	t.Run("UTF-8 of service.name is not read when the job is fixed", func(t *testing.T) {
		b := newBatch()
		b.resource("service.name", "\xff").gauge("g", 1, 1)
		m := exportOnce(Config{Job: "x"}, b)
		assert.Equal(t, []string{`{job="x"}`}, sortedKeys(m.Gateway()))
	})
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    func(*Config)
		typ    string // "gauge", "histogram", "summary"
		scope  [2]string
		res    []string
		attrs  []string
		want   string // series key; "" = dropped
		reason string
	}{
		{name: "names sanitised", attrs: []string{"http.method", "GET"}, want: `{http_method="GET"}`},
		{name: "a leading digit gets key_", attrs: []string{"0x", "1"}, want: `{key_0x="1"}`},
		{name: "empty values are no label", attrs: []string{"a", "", "b", "1"}, want: `{b="1"}`},
		{name: "equal names merge in key byte order", attrs: []string{"a_b", "3", "a.b", "2", "a-b", "1"}, want: `{a_b="1;2;3"}`},
		{name: "an empty value does not merge", attrs: []string{"a_b", "", "a.b", "2"}, want: `{a_b="2"}`},
		{name: "job becomes exported_job", attrs: []string{"job", "x"}, want: `{exported_job="x"}`},
		{name: "instance is kept when there is no instance label", attrs: []string{"instance", "x"}, want: `{instance="x"}`},
		{name: "instance becomes exported_instance with instance attributes", cfg: func(c *Config) { c.InstanceAttributes = []string{"host.name"} },
			attrs: []string{"instance", "x"}, want: `{exported_instance="x"}`},
		{name: "a grouping label name", cfg: func(c *Config) { c.Labels = []GroupingLabel{{"env", "env"}} }, attrs: []string{"env", "x"}, want: `{exported_env="x"}`},
		{name: "job and exported_job merge after renaming", attrs: []string{"job", "b", "exported_job", "a"}, want: `{exported_job="a;b"}`},
		{name: "__name__", attrs: []string{"__name__", "x"}, want: `{exported___name__="x"}`},
		{name: "le on a histogram", typ: "histogram", attrs: []string{"le", "x"}, want: `{exported_le="x"}`},
		{name: "le on a gauge stays", attrs: []string{"le", "x"}, want: `{le="x"}`},
		{name: "quantile on a summary", typ: "summary", attrs: []string{"quantile", "x"}, want: `{exported_quantile="x"}`},
		{name: "invalid UTF-8 becomes U+FFFD", attrs: []string{"a", "x\xff\xfey"}, want: "{a=\"x\uFFFDy\"}"},
		{name: "scope labels, the empty version left out", cfg: func(c *Config) { c.ScopeLabels = true }, scope: [2]string{"lib", ""},
			want: `{otel_scope_name="lib"}`},
		{name: "a point attribute wins over a scope label", cfg: func(c *Config) { c.ScopeLabels = true }, scope: [2]string{"lib", "1.0"},
			attrs: []string{"otel.scope.name", "mine"}, want: `{otel_scope_name="mine",otel_scope_version="1.0"}`},
		{name: "resource attributes on every series", cfg: func(c *Config) { c.ResourceToTelemetry = true },
			res: []string{"host.name", "h", "a", "r", ".", "skipped"}, attrs: []string{"a", "p"}, want: `{a="p",host_name="h",service_name="j"}`},
		{name: "C9: a key with no label name drops the point", attrs: []string{".", "x", "b", "1"}, reason: "invalid_label_name"},
		{name: "C9: even with an empty value", attrs: []string{"__", ""}, reason: "invalid_label_name"},
		{name: "too many labels", cfg: func(c *Config) { c.MaxLabelsPerSeries = 1 }, attrs: []string{"a", "1", "b", "2"}, reason: "too_many_labels"},
		{name: "C8: merged and empty labels do not count", cfg: func(c *Config) { c.MaxLabelsPerSeries = 1 }, attrs: []string{"a.b", "1", "a_b", "2", "c", ""},
			want: `{a_b="1;2"}`},
		{name: "C8: extra labels count", cfg: func(c *Config) { c.MaxLabelsPerSeries = 1; c.ScopeLabels = true }, scope: [2]string{"lib", ""},
			attrs: []string{"a", "1"}, reason: "too_many_labels"},
		{name: "a value too long", cfg: func(c *Config) { c.MaxLabelValueLength = 3 }, attrs: []string{"a", "four"}, reason: "label_too_long"},
		{name: "a merged value too long", cfg: func(c *Config) { c.MaxLabelValueLength = 3 }, attrs: []string{"a.b", "1", "a_b", "22"}, reason: "label_too_long"},
		{name: "a name too long", cfg: func(c *Config) { c.MaxLabelValueLength = 3 }, attrs: []string{"abcd", "1"}, reason: "label_too_long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			b := newBatch()
			r := b.resource(append([]string{"service.name", "j"}, tc.res...)...).scope(tc.scope[0], tc.scope[1])
			switch tc.typ {
			case "histogram":
				r.histogram("x", hist{temp: cum, t: 1, count: 1}, tc.attrs...)
			case "summary":
				r.summary("x", 0, 1, 1, 1, nil, tc.attrs...)
			default:
				r.gauge("x", 1, 1, tc.attrs...)
			}
			m := exportOnce(cfg, b)
			if tc.reason != "" {
				assert.Empty(t, m.Gateway())
				assert.Equal(t, map[string]int{tc.reason: 1}, m.Counts())
				return
			}
			assert.Equal(t, []string{tc.want}, sortedKeys(m.Gateway()[`{job="j"}`]["x"].Series))
			assert.Empty(t, m.Counts())
		})
	}
}

func TestTargetInfo(t *testing.T) {
	cfg := baseConfig()
	cfg.TargetInfo = true
	cfg.InstanceAttributes = []string{"service.instance.id", "host.name"}
	cfg.Labels = []GroupingLabel{{"env", "env"}, {"zone", "zone"}}
	b := newBatch()
	// C12: service.name (the job's), service.instance.id (the instance chosen)
	// and env (a grouping label) are left out; host.name (an instance
	// attribute not chosen) and zone (empty: made no label, and is no
	// label) and the rest stay.
	b.resource("service.name", "j", "service.instance.id", "i1", "host.name", "h", "env", "prod", "zone", "", "k8s.pod.name", "p", "job", "x").
		gauge("g", 5, 1).gauge("g2", 9, 1)
	m := exportOnce(cfg, b)
	want := Gateway{`{job="j",env="prod",instance="i1"}`: {
		"g":  one(dto.MetricType_GAUGE, num(1)),
		"g2": one(dto.MetricType_GAUGE, num(1)),
		"target_info": {Type: dto.MetricType_GAUGE, Help: "Target metadata", Series: map[string]Value{
			`{exported_job="x",host_name="h",k8s_pod_name="p"}`: num(1),
		}},
	}}
	assert.Empty(t, Diff(want, m.Gateway()))

	t.Run("a fixed job leaves service.name on target_info", func(t *testing.T) {
		b := newBatch()
		b.resource("service.name", "j", "service.namespace", "ns").gauge("g", 1, 1)
		m := exportOnce(Config{TargetInfo: true, Job: "fixed"}, b)
		assert.Equal(t, []string{`{service_name="j",service_namespace="ns"}`}, sortedKeys(m.Gateway()[`{job="fixed"}`]["target_info"].Series))
	})
	t.Run("no labels: no target_info", func(t *testing.T) {
		b := newBatch()
		b.resource("service.name", "j", ".", "bad name").gauge("g", 1, 1)
		m := exportOnce(Config{TargetInfo: true}, b)
		assert.Equal(t, []string{"g"}, sortedKeys(m.Gateway()[`{job="j"}`]))
	})
	t.Run("only with a live point translated", func(t *testing.T) {
		b := newBatch()
		b.resource("service.name", "j", "host.name", "h").gauge("g", 1, 1, ".", "dropped").gaugeMarker("g", 2)
		m := exportOnce(Config{TargetInfo: true}, b)
		assert.Empty(t, m.Gateway())
	})
	t.Run("stamped with the resource's newest point: an older batch's target_info is stale", func(t *testing.T) {
		m := New(Config{TargetInfo: true})
		b := newBatch()
		b.resource("service.name", "j", "host.name", "h").gauge("g", 10, 1)
		m.Export(at(0), b.md)
		b = newBatch()
		b.resource("service.name", "j", "host.name", "h").gauge("g", 5, 2)
		m.Export(at(1), b.md)
		assert.Equal(t, map[string]int{"stale": 2}, m.Counts())
	})
}

func TestHelp(t *testing.T) {
	b := newBatch()
	r := b.resource("service.name", "j")
	r.gauge("g", 1, 1)
	r.sm.Metrics().At(0).SetDescription("first")
	r.gauge("g", 2, 2, "a", "1")
	r.sm.Metrics().At(1).SetDescription("second")
	m := exportOnce(baseConfig(), b)
	assert.Equal(t, "second", m.Gateway()[`{job="j"}`]["g"].Help, "the last point taken sets the help")
}
