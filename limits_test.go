package pushgatewayexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadatatest"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// These tests send what an untrusted OTLP sender could, through the
// exporter, to a real Pushgateway: every resource lands in exactly its own
// group or is refused with an error that says why, and nothing a sender
// does grows the exporter's state past its limits.

func TestHostileGroupingValues(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, nil, set)

	huge := strings.Repeat("x", 1<<20)
	manyAttrs := map[string]any{"service.name": "many-attrs", "service.instance.id": "i"}
	for i := range 5000 {
		manyAttrs[fmt.Sprintf("attr.%d", i)] = strings.Repeat("v", 100)
	}

	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "fine"}).Gauge("a", "", 1, 1, nil)
	b.Resource(map[string]any{"service.name": "huge", "service.instance.id": huge}).Gauge("a", "", 1, 2, nil).Gauge("b", "", 1, 2, nil)
	b.Resource(map[string]any{"service.name": "bad-\xff-utf8"}).Gauge("a", "", 1, 3, nil)
	b.Resource(map[string]any{"service.name": "nul\x00byte"}).Gauge("a", "", 1, 4, nil)
	b.Resource(map[string]any{"service.name": "ctl\t\r\n"}).Gauge("a", "", 1, 5, nil)
	b.Resource(manyAttrs).Gauge("a", "", 1, 6, nil)
	err := exp.ConsumeMetrics(context.Background(), b.MD)

	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.ErrorContains(t, err, "refusing a resource's 2 points: grouping label instance has 1048576 bytes, more than max_label_value_length=4096")
	assert.ErrorContains(t, err, `refusing a resource's 1 points: resource attribute "service.name" is not valid UTF-8`)
	assert.Less(t, len(err.Error()), 1000, "the error does not repeat the huge value")

	got := map[string]string{}
	for _, grp := range gw.Groups(t) {
		got[grp.Labels["job"]+"|"+grp.Labels["instance"]] = grp.Families["a"].Metrics[0].Value
	}
	assert.Equal(t, map[string]string{
		"fine|":        "1",
		"nul\x00byte|": "4",
		"ctl\t\r\n|":   "5",
		"many-attrs|i": "6",
	}, got, "resource attributes outside the key are not labels; refused resources leave nothing")
	_, hasTargetInfo := gw.Group(t, map[string]string{"job": "many-attrs", "instance": "i"}).Families["target_info"]
	assert.False(t, hasTargetInfo, "5000 attributes are too many labels for target_info")

	metadatatest.AssertEqualExporterPushgatewayPointsDropped(t, tel,
		[]metricdata.DataPoint[int64]{
			{Value: 3, Attributes: exporterAttrs(attribute.String("reason", "invalid_group"))},
			{Value: 1, Attributes: exporterAttrs(attribute.String("reason", "too_many_labels"))},
		},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestHostileSeriesLabels(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, nil)

	tooMany := map[string]any{}
	for i := range 129 {
		tooMany[fmt.Sprintf("k%d", i)] = "v"
	}
	longKey := map[string]any{strings.Repeat("k", 4097): "v"}
	b := testbatch.New()
	b.Resource(map[string]any{"service.name": "etl"}).
		Gauge("ok", "", 1, 1, map[string]any{"a": "b"}).
		Gauge("long.value", "", 1, 1, map[string]any{"a": strings.Repeat("v", 1<<20)}).
		Gauge("long.key", "", 1, 1, longKey).
		Gauge("too.many", "", 1, 1, tooMany).
		Gauge("merged.too.long", "", 1, 1, map[string]any{"a.b": strings.Repeat("v", 3000), "a_b": strings.Repeat("w", 3000)})
	// Dropped points are counted, not failed: the batch succeeds.
	require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.ElementsMatch(t, []string{"ok", "push_time_seconds", "push_failure_time_seconds"}, familyNames(grp))
}

// TestEnormousBatchIsBounded sends one batch with far more series than the
// limits allow and checks that the exporter holds and pushes only what the
// limits let in, and says so.
func TestEnormousBatchIsBounded(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, func(c *Config) {
		c.MaxSeries = 1500
		c.MaxSeriesPerGroup = 1000
	})

	b := testbatch.New()
	for _, job := range []string{"first", "second"} {
		r := b.Resource(map[string]any{"service.name": job})
		for i := range 20_000 {
			r.Gauge("rows", "", 1, float64(i), map[string]any{"id": i})
		}
	}
	err := exp.ConsumeMetrics(context.Background(), b.MD)
	require.Error(t, err)
	assert.ErrorContains(t, err, "max_series_per_group=1000 reached: 19000 points of new series were dropped")
	assert.ErrorContains(t, err, "max_series=1500 reached: 19500 points of new series were dropped")

	first := gw.Group(t, map[string]string{"job": "first"})
	second := gw.Group(t, map[string]string{"job": "second"})
	require.NotNil(t, first)
	require.NotNil(t, second)
	assert.Len(t, first.Families["rows"].Metrics, 1000)
	assert.Len(t, second.Families["rows"].Metrics, 500)
}
