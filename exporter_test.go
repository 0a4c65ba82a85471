package pushgatewayexporter

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadatatest"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// TestConcurrentBatchesNeverRegress sends many batches for one group at
// once, each newer than the last, the way the queue's consumers do, through
// a recording proxy in front of a real gateway. Pushes must reach the
// gateway one at a time, each snapshot at least as new as the one before,
// and the gateway must end with the newest value. Batches that arrive while
// a push of the group is under way are carried by one following push.
func TestConcurrentBatchesNeverRegress(t *testing.T) {
	gw := testgateway.Start(t)
	target, err := url.Parse(gw.URL)
	require.NoError(t, err)

	var (
		mu       sync.Mutex
		inFlight int
		overlaps int
		pushed   []float64
	)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isFamiliesRead(r) {
			forward(t, w, r, target)
			return
		}
		mu.Lock()
		inFlight++
		if inFlight > 1 {
			overlaps++
		}
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		value := decodeMarker(t, body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		forward(t, w, r, target)
		mu.Lock()
		inFlight--
		pushed = append(pushed, value)
		mu.Unlock()
	}))
	defer proxy.Close()
	// No skipping of unchanged bodies: only group commit may save pushes.
	exp := startExporter(t, proxy.URL, func(c *Config) { c.Heartbeat = 0 })

	const batches = 200
	var wg sync.WaitGroup
	for i := 1; i <= batches; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := testbatch.New()
			b.Resource(map[string]any{"service.name": "etl", "service.instance.id": "w-1"}).
				Gauge("marker", "", pcommon.Timestamp(i), float64(i), nil).
				Gauge("per_batch", "", 1, 1, map[string]any{"batch": strconv.Itoa(i)})
			assert.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
		}()
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	assert.Zero(t, overlaps, "pushes of one group must not overlap")
	require.NotEmpty(t, pushed)
	assert.Less(t, len(pushed), batches, "batches that waited for a push in flight share the next one")
	assert.IsNonDecreasing(t, pushed, "an older snapshot reached the gateway after a newer one")
	assert.Equal(t, float64(batches), pushed[len(pushed)-1])

	grp := gw.Group(t, map[string]string{"job": "etl", "instance": "w-1"})
	require.NotNil(t, grp)
	assert.Equal(t, strconv.Itoa(batches), grp.Families["marker"].Metrics[0].Value)
	assert.Len(t, grp.Families["per_batch"].Metrics, batches, "every batch's series is in the group")
}

// decodeMarker reads the value of the marker gauge from a protobuf body.
func decodeMarker(t *testing.T, body []byte) float64 {
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			t.Errorf("no marker in push body: %v", err)
			return -1
		}
		if mf.GetName() == "marker" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
}

func TestSelfTelemetry(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	exp, _ := startExporterWithSettings(t, gw.URL, func(c *Config) { c.MaxSeries = 2 }, set)

	b := testbatch.New()
	r := b.Resource(map[string]any{"service.name": "etl"}).
		Gauge("a", "", 1, 1, map[string]any{"n": "1"}).
		Gauge("a", "", 1, 1, map[string]any{"n": "2"}).
		Gauge("a", "", 1, 1, map[string]any{"n": "3"})
	r.Metric("d", "", "").SetEmptySum().DataPoints().AppendEmpty().SetIntValue(1) // no temporality
	err := exp.ConsumeMetrics(context.Background(), b.MD)
	assert.ErrorContains(t, err, "max_series=2 reached: 1 points of new series were dropped")

	metadatatest.AssertEqualExporterPushgatewaySeriesLimitReached(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs(attribute.String("limit", "max_series"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPushgatewayPointsDropped(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs(attribute.String("reason", "unspecified_temporality"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	grp := gw.Group(t, map[string]string{"job": "etl"})
	require.NotNil(t, grp)
	assert.Len(t, grp.Families["a"].Metrics, 2, "the series within the limit are delivered")

	metadatatest.AssertEqualExporterPushgatewayPushes(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs(
			attribute.String("outcome", "success"), attribute.String("status_class", "2xx"))}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
	metadatatest.AssertEqualExporterPushgatewaySeries(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 2, Attributes: exporterAttrs()}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualExporterPushgatewayGroups(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: exporterAttrs()}}, metricdatatest.IgnoreTimestamp())
	bytesSent, err := tel.GetMetric("otelcol_exporter_pushgateway_push_bytes")
	require.NoError(t, err)
	assert.Positive(t, bytesSent.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
	assert.Equal(t, exporterAttrs(), bytesSent.Data.(metricdata.Sum[int64]).DataPoints[0].Attributes)
	duration, err := tel.GetMetric("otelcol_exporter_pushgateway_push_duration")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), duration.Data.(metricdata.Histogram[float64]).DataPoints[0].Count)
	assert.Equal(t, exporterAttrs(attribute.String("outcome", "success")), duration.Data.(metricdata.Histogram[float64]).DataPoints[0].Attributes)
}

// TestSelfTelemetryOfTwoExporters runs two pushgateway exporters in one
// collector's telemetry, as for a shared and a dedicated gateway: each
// one's figures are its own, told apart by the exporter attribute.
func TestSelfTelemetryOfTwoExporters(t *testing.T) {
	gw := testgateway.Start(t)
	tel, set := telemetrySettings(t)
	for name, jobs := range map[string]int{"shared": 1, "dedicated": 2} {
		set.ID = component.MustNewIDWithName(metadata.Type.String(), name)
		exp, _ := startExporterWithSettings(t, gw.URL, nil, set)
		b := testbatch.New()
		for i := range jobs {
			b.Resource(map[string]any{"service.name": fmt.Sprintf("%s-%d", name, i)}).Gauge("a", "", 1, 1, nil)
		}
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
	}
	of := func(name string, kvs ...attribute.KeyValue) attribute.Set {
		return attribute.NewSet(append(kvs, attribute.String("exporter", "pushgateway/"+name))...)
	}
	metadatatest.AssertEqualExporterPushgatewayGroups(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: of("shared")}, {Value: 2, Attributes: of("dedicated")}},
		metricdatatest.IgnoreTimestamp())
	success := []attribute.KeyValue{attribute.String("outcome", "success"), attribute.String("status_class", "2xx")}
	metadatatest.AssertEqualExporterPushgatewayPushes(t, tel,
		[]metricdata.DataPoint[int64]{{Value: 1, Attributes: of("shared", success...)}, {Value: 2, Attributes: of("dedicated", success...)}},
		metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreExemplars())
}

func TestDropWarningsAreRateLimited(t *testing.T) {
	exp, err := newExporter(createDefaultConfig().(*Config), exportertest.NewNopSettings(metadata.Type), gateway.SystemClock{})
	require.NoError(t, err)
	now := time.Now()
	assert.True(t, exp.shouldWarn("no_value/a", now))
	assert.False(t, exp.shouldWarn("no_value/a", now.Add(time.Minute)), "the same metric and reason: once per warnEvery")
	assert.True(t, exp.shouldWarn("no_value/a", now.Add(warnEvery)), "and again after it")
	assert.True(t, exp.shouldWarn("invalid_name/a", now.Add(warnEvery)), "another reason is another warning")

	// Many bad metrics at once: a burst, then one per second.
	later := now.Add(2 * warnEvery)
	warned := 0
	for i := range 1000 {
		if exp.shouldWarn(fmt.Sprintf("no_value/m%d", i), later) {
			warned++
		}
	}
	assert.Equal(t, warnBurst, warned)
	assert.True(t, exp.shouldWarn("no_value/next", later.Add(time.Second)))
}
