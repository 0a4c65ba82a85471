package pushgatewayexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

// TestIntegrationDeltaTemporality pushes deltas through the exporter, with
// a retry replaying one batch, and reads the totals at a real gateway.
func TestIntegrationDeltaTemporality(t *testing.T) {
	gw := testgateway.Start(t)
	exp := startExporter(t, gw.URL, nil)
	send := func(fill func(*testbatch.Resource)) {
		b := testbatch.New()
		fill(b.Resource(map[string]any{"service.name": "delta"}))
		require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))
	}
	send(func(r *testbatch.Resource) {
		r.DeltaSum("rows", true, testbatch.DeltaPoint{Start: 0, End: 10, Value: 10}).
			DeltaSum("queue_depth", false, testbatch.DeltaPoint{Start: 0, End: 10, Value: 4}).
			HistogramOver("latency", "", pmetric.AggregationTemporalityDelta, 0, 10, []float64{1}, []uint64{1, 1}, 2.5)
	})
	second := func(r *testbatch.Resource) {
		r.DeltaSum("rows", true, testbatch.DeltaPoint{Start: 10, End: 20, Value: 5}).
			DeltaSum("queue_depth", false, testbatch.DeltaPoint{Start: 10, End: 20, Value: -3}).
			HistogramOver("latency", "", pmetric.AggregationTemporalityDelta, 10, 20, []float64{1}, []uint64{2, 0}, 0.5)
	}
	send(second)
	send(second) // as a retry would replay it

	grp := gw.Group(t, map[string]string{"job": "delta"})
	require.NotNil(t, grp)
	noInstance := map[string]string{"instance": ""} // the gateway's own addition
	assertFamily(t, grp, "rows_total", "COUNTER", noInstance, "15")
	assertFamily(t, grp, "queue_depth", "GAUGE", noInstance, "1")
	h := grp.Families["latency"].Metrics[0]
	assert.Equal(t, "4", h.Count)
	assert.Equal(t, "3", h.Sum)
	assert.Equal(t, map[string]string{"1": "3", "+Inf": "4"}, h.Buckets)
}
