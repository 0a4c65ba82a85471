package pushgatewayexporter

import (
	"context"
	"fmt"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadatatest"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// These tests push to a real Pushgateway process and read back what it
// stored, through its API and through the /metrics Prometheus scrapes.

func TestIntegrationMetricTypes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"protobuf", nil},
		{"text", func(c *Config) { c.Format = FormatText }},
		{"protobuf gzip", func(c *Config) { c.Compression = configcompression.TypeGzip }},
		{"text post", func(c *Config) { c.Format, c.Method = FormatText, MethodPost }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := testgateway.Start(t)
			exp := startExporter(t, gw.URL, tc.mutate)

			b := testbatch.New()
			b.Resource(map[string]any{"service.name": "etl", "service.namespace": "batch", "service.instance.id": "w-1", "host.name": "h"}).
				Sum("etl.rows.processed", "{row}", true, 10, 1200, map[string]any{"table": "orders"}).
				Sum("etl.batches.in_flight", "{batch}", false, 10, -2, nil).
				Gauge("etl.memory.usage", "By", 10, 7.5e7, nil).
				Gauge("etl.success", "1", 10, 0.25, nil).
				Histogram("etl.batch.duration", "s", 10, []float64{0.5, 1, 5}, []uint64{1, 2, 3, 4}, 42.5).
				Summary("etl.rpc.latency", "ms", 10, 8, 100, map[float64]float64{0.5: 10, 0.99: 40})
			require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

			grp := gw.Group(t, map[string]string{"job": "batch/etl", "instance": "w-1"})
			require.NotNil(t, grp, "groups: %+v", gw.Groups(t))

			assertFamily(t, grp, "etl_rows_processed_total", "COUNTER", map[string]string{"table": "orders"}, "1200")
			assertFamily(t, grp, "etl_batches_in_flight", "GAUGE", nil, "-2")
			assertFamily(t, grp, "etl_memory_usage_bytes", "GAUGE", nil, "7.5e+07")
			assertFamily(t, grp, "etl_success_ratio", "GAUGE", nil, "0.25")

			hist := grp.Families["etl_batch_duration_seconds"]
			assert.Equal(t, "HISTOGRAM", hist.Type)
			require.Len(t, hist.Metrics, 1)
			assert.Equal(t, "10", hist.Metrics[0].Count)
			assert.Equal(t, "42.5", hist.Metrics[0].Sum)
			assert.Equal(t, map[string]string{"0.5": "1", "1": "3", "5": "6", "+Inf": "10"}, hist.Metrics[0].Buckets)

			sum := grp.Families["etl_rpc_latency_milliseconds"]
			assert.Equal(t, "SUMMARY", sum.Type)
			require.Len(t, sum.Metrics, 1)
			assert.Equal(t, "8", sum.Metrics[0].Count)
			assert.Equal(t, "100", sum.Metrics[0].Sum)
			assert.Equal(t, map[string]string{"0.5": "10", "0.99": "40"}, sum.Metrics[0].Quantiles)

			// What Prometheus scrapes: the +Inf bucket and the grouping
			// labels on every series, no resource attribute repeated.
			scraped := gw.Scrape(t)
			require.Contains(t, scraped, "etl_batch_duration_seconds")
			m := scraped["etl_batch_duration_seconds"].GetMetric()[0]
			assert.Equal(t, map[string]string{"job": "batch/etl", "instance": "w-1"}, labelMap(m.GetLabel()))
			assert.Equal(t, uint64(10), m.GetHistogram().GetSampleCount(), "+Inf bucket is the count")
			counter := scraped["etl_rows_processed_total"].GetMetric()[0]
			assert.Equal(t, map[string]string{"job": "batch/etl", "instance": "w-1", "table": "orders"}, labelMap(counter.GetLabel()))
		})
	}
}

func TestIntegrationGrouping(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, func(c *Config) {
		c.Grouping.Labels = []GroupingLabel{{Name: "env", Attribute: "deployment.environment.name"}}
	})

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "etl"}).Gauge("a", "", 1, 1, nil)
	b.Resource(map[string]any{"service.name": "etl", "service.namespace": "batch"}).Gauge("a", "", 1, 2, nil)
	b.Resource(map[string]any{"service.name": "etl", "service.instance.id": "w-1"}).Gauge("a", "", 1, 3, nil)
	b.Resource(map[string]any{"service.name": "etl", "service.instance.id": "w-1", "deployment.environment.name": "prod"}).
		Gauge("a", "", 1, 4, map[string]any{"job": "clash", "env": "clash-too"})
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

	want := map[string]string{
		`{env="",instance="",job="etl"}`:        "1",
		`{env="",instance="",job="batch/etl"}`:  "2",
		`{env="",instance="w-1",job="etl"}`:     "3",
		`{env="prod",instance="w-1",job="etl"}`: "4",
	}
	got := map[string]string{}
	for _, grp := range gw.Groups(t) {
		key := fmt.Sprintf(`{env=%q,instance=%q,job=%q}`, grp.Labels["env"], grp.Labels["instance"], grp.Labels["job"])
		fam := grp.Families["a"]
		require.Len(t, fam.Metrics, 1, key)
		got[key] = fam.Metrics[0].Value
	}
	assert.Equal(t, want, got)

	// Metric labels that clash with grouping labels are kept, renamed.
	grp := gw.Group(t, map[string]string{"job": "etl", "instance": "w-1", "env": "prod"})
	require.NotNil(t, grp)
	assert.Equal(t, map[string]string{
		"job": "etl", "instance": "w-1", "env": "prod", "exported_job": "clash", "exported_env": "clash-too",
	}, grp.Families["a"].Metrics[0].Labels)
}

// TestIntegrationHostileGroupValues pushes grouping values that need
// escaping or base64 and checks each lands in exactly its own group.
func TestIntegrationHostileGroupValues(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, nil)

	values := []string{
		"with space", "a/b", "a+b", "100%", "%2F", "José 🚀", "..", ".", "../../metrics/job/victim",
		"x@base64", "=", "a?b#c", "tab\there", "//",
	}
	b := testbatch.New()
	for i, v := range values {
		b.Resource(map[string]any{"service.name": v, "service.instance.id": v}).Gauge("marker", "", 1, float64(i), nil)
	}
	// Empty values add no label: this resource shares the {job="empty"}
	// group with the next one, whose later point wins.
	b.Resource(map[string]any{"service.name": "empty", "service.instance.id": ""}).Gauge("marker", "", 1, -1, nil)
	b.Resource(map[string]any{"service.name": "empty"}).Gauge("marker", "", 2, -2, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

	groups := gw.Groups(t)
	assert.Len(t, groups, len(values)+1, "one group per value, nothing else: %+v", groups)
	for i, v := range values {
		grp := gw.Group(t, map[string]string{"job": v, "instance": v})
		if assert.NotNil(t, grp, "group for %q", v) {
			assert.Equal(t, fmt.Sprint(i), grp.Families["marker"].Metrics[0].Value, "value of group %q", v)
		}
	}
	grp := gw.Group(t, map[string]string{"job": "empty"})
	require.NotNil(t, grp)
	assert.Equal(t, "-2", grp.Families["marker"].Metrics[0].Value)
}

func TestIntegrationPutAndPost(t *testing.T) {
	const other = "# TYPE other_pusher gauge\nother_pusher 7\n"
	for _, tc := range []struct {
		method    PushMethod
		keepOther bool
	}{
		{MethodPut, false},
		{MethodPost, true},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			gw := testgateway.Start(t)
			gw.Push(t, "PUT", "/metrics/job/etl", "text/plain; version=0.0.4", other)
			exp := startExporter(t, gw.URL, func(c *Config) { c.Method = tc.method })

			first := testbatch.New()
			first.Resource(map[string]any{"service.name": "etl"}).Gauge("mine", "", 1, 1, nil).Gauge("mine.too", "", 1, 2, nil)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), first.MD))

			second := testbatch.New()
			second.Resource(map[string]any{"service.name": "etl"}).Gauge("mine", "", 2, 3, nil)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), second.MD))

			grp := gw.Group(t, map[string]string{"job": "etl"})
			require.NotNil(t, grp)
			assert.Equal(t, "3", grp.Families["mine"].Metrics[0].Value)
			// The group's whole state travels with every push: a batch
			// without mine_too does not remove it, whatever the method.
			assert.Equal(t, "2", grp.Families["mine_too"].Metrics[0].Value)
			_, hasOther := grp.Families["other_pusher"]
			assert.Equal(t, tc.keepOther, hasOther, "PUT replaces the group; POST keeps other pushers' families")
		})
	}
}

// TestIntegrationRejectedGroupDoesNotBlockOthers makes the gateway refuse
// one group (a family whose type contradicts another group's) and checks
// that the other groups of the batch arrive and the error is permanent,
// names the group and carries the gateway's reason.
func TestIntegrationRejectedGroupDoesNotBlockOthers(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, nil)
	warmUp := testbatch.New()
	warmUp.Resource(map[string]any{"service.name": "before"}).Gauge("fine", "", 0, 0, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), warmUp.MD))
	// Another pusher, after the exporter read what the gateway held.
	gw.Push(t, "PUT", "/metrics/job/legacy", "text/plain; version=0.0.4", "# TYPE clash_total gauge\nclash_total 1\n")

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "before"}).Gauge("fine", "", 1, 1, nil)
	b.Resource(map[string]any{"service.name": "bad", "service.instance.id": "i"}).Sum("clash", "", true, 1, 5, nil)
	b.Resource(map[string]any{"service.name": "after"}).Gauge("fine", "", 1, 2, nil)
	err := exp.ConsumeMetrics(context.Background(), b.MD)

	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "a 400 cannot succeed on retry: %v", err)
	assert.ErrorContains(t, err, `pushing group {job="bad",instance="i"} to `+gw.URL+`: 400 Bad Request: pushed metrics are invalid or inconsistent with existing metrics`)
	assert.ErrorContains(t, err, "clash_total")

	for job, value := range map[string]string{"before": "1", "after": "2"} {
		grp := gw.Group(t, map[string]string{"job": job})
		if assert.NotNil(t, grp, job) {
			assert.Equal(t, value, grp.Families["fine"].Metrics[0].Value)
		}
	}
}

// TestIntegrationFamiliesHeldBeforeStartAreRespected starts the exporter
// against a gateway that holds a family from an earlier run (or another
// pusher): a family of that name with another type is dropped as a
// name conflict, not pushed, so the rest of its group still arrives.
func TestIntegrationFamiliesHeldBeforeStartAreRespected(t *testing.T) {
	gw := testgateway.Start(t)
	gw.Push(t, "PUT", "/metrics/job/legacy", "text/plain; version=0.0.4", "# TYPE clash_total gauge\nclash_total 1\n# TYPE lat histogram\nlat_bucket{le=\"+Inf\"} 1\nlat_sum 1\nlat_count 1\n")
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, nil, set)

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "new", "service.instance.id": "i"}).
		Sum("clash", "", true, 1, 5, nil). // a counter: the gateway holds a gauge of that name
		Gauge("lat_count", "", 1, 1, nil). // a histogram owns that name
		Gauge("fine", "", 1, 2, nil)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD), "nothing the gateway would refuse is pushed")

	grp := gw.Group(t, map[string]string{"job": "new", "instance": "i"})
	require.NotNil(t, grp)
	assert.ElementsMatch(t, []string{"fine", "push_time_seconds", "push_failure_time_seconds"}, familyNames(grp))
	metadatatest.AssertEqualExporterPushgatewayPointsDropped(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: exporterAttrs(attribute.String("reason", "name_conflict"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func assertFamily(t *testing.T, grp *testgateway.Group, name, typ string, labels map[string]string, value string) {
	t.Helper()
	fam, ok := grp.Families[name]
	if !assert.True(t, ok, "family %s missing; have %v", name, familyNames(grp)) {
		return
	}
	assert.Equal(t, typ, fam.Type, name)
	require.Len(t, fam.Metrics, 1, name)
	want := map[string]string{}
	for k, v := range grp.Labels {
		want[k] = v
	}
	for k, v := range labels {
		want[k] = v
	}
	assert.Equal(t, want, fam.Metrics[0].Labels, name)
	assert.Equal(t, value, fam.Metrics[0].Value, name)
}

func familyNames(grp *testgateway.Group) []string {
	var names []string
	for n := range grp.Families {
		names = append(names, n)
	}
	return names
}

func labelMap(pairs []*dto.LabelPair) map[string]string {
	out := map[string]string{}
	for _, p := range pairs {
		out[p.GetName()] = p.GetValue()
	}
	return out
}

// TestIntegrationNameConflictsAreDroppedNotPushed sends what the gateway
// would refuse for a whole group — one name with two types across groups, a
// gauge named like a histogram's _count, a label starting with "__" — and
// checks that only the offending families are dropped, before pushing.
func TestIntegrationNameConflictsAreDroppedNotPushed(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, nil)

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "a"}).Gauge("x", "", 1, 1, nil)
	b.Resource(map[string]any{"service.name": "b"}).
		Histogram("x", "", 1, []float64{1}, []uint64{1, 0}, 0.5).
		Gauge("y", "", 1, 2, nil)
	b.Resource(map[string]any{"service.name": "c"}).
		Histogram("z", "", 1, []float64{1}, []uint64{1, 0}, 0.5).
		Gauge("z.count", "", 1, 3, map[string]any{"__name__": "sneaky"})
	b.Resource(map[string]any{"service.name": "d"}).Gauge("w", "", 1, 4, map[string]any{"__name__": "sneaky"})
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD), "dropped families do not fail the batch")

	families := map[string][]string{}
	for _, grp := range gw.Groups(t) {
		families[grp.Labels["job"]] = familyNames(&grp)
	}
	pushed := []string{"push_failure_time_seconds", "push_time_seconds"}
	assert.ElementsMatch(t, append([]string{"x"}, pushed...), families["a"])
	assert.ElementsMatch(t, append([]string{"y"}, pushed...), families["b"])
	assert.ElementsMatch(t, append([]string{"z"}, pushed...), families["c"])
	assert.ElementsMatch(t, append([]string{"w"}, pushed...), families["d"])
	grp := gw.Group(t, map[string]string{"job": "d"})
	assert.Equal(t, "sneaky", grp.Families["w"].Metrics[0].Labels["exported___name__"])
}
