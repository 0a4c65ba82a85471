package pushgatewayexporter

import (
	"context"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testgateway"
)

type span struct {
	offset int32
	length uint32
}

func spansOf(spans []*dto.BucketSpan) []span {
	var out []span
	for _, s := range spans {
		out = append(out, span{s.GetOffset(), s.GetLength()})
	}
	return out
}

// TestIntegrationExponentialHistograms pushes an exponential histogram as a
// native histogram (protobuf) and as classic buckets (classic mode, and
// text) to a real gateway and reads back what it stored.
func TestIntegrationExponentialHistograms(t *testing.T) {
	point := testbatch.ExpPoint{Scale: 0, ZeroCount: 1, PosOffset: 0, Pos: []uint64{1, 2}, NegOffset: 1, Neg: []uint64{3}, Sum: 4.5}
	for _, tt := range []struct {
		name   string
		mutate func(*Config)
	}{
		{"native", nil},
		{"classic", func(c *Config) { c.ExponentialHistograms = ExponentialHistogramsClassic }},
		{"text", func(c *Config) { c.Format = FormatText }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := testgateway.Start(t)
			exp := startExporter(t, gw.URL, tt.mutate)
			b := testbatch.New()
			b.Resource(map[string]any{"service.name": "exp"}).ExpHistogram("latency", pmetric.AggregationTemporalityCumulative, 0, 10, point)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), b.MD))

			grp := gw.Group(t, map[string]string{"job": "exp"})
			require.NotNil(t, grp)
			fam := grp.Families["latency_seconds"]
			require.Len(t, fam.Metrics, 1, "families: %v", familyNames(grp))
			assert.Equal(t, "HISTOGRAM", fam.Type)
			m := fam.Metrics[0]
			assert.Equal(t, "7", m.Count)
			assert.Equal(t, "4.5", m.Sum)
			if tt.name == "native" {
				// The API shows no native buckets: scrape as Prometheus
				// does, in protobuf, to see them stored.
				fam := gw.ScrapeProtobuf(t)["latency_seconds"]
				require.NotNil(t, fam)
				require.Len(t, fam.GetMetric(), 1)
				h := fam.GetMetric()[0].GetHistogram()
				assert.Equal(t, int32(0), h.GetSchema())
				assert.Equal(t, uint64(1), h.GetZeroCount())
				assert.Equal(t, []span{{1, 2}}, spansOf(h.PositiveSpan))
				assert.Equal(t, []int64{1, 1}, h.PositiveDelta)
				assert.Equal(t, []span{{2, 1}}, spansOf(h.NegativeSpan))
				assert.Equal(t, []int64{3}, h.NegativeDelta)
				return
			}
			assert.Equal(t, map[string]string{"-2": "3", "0": "4", "2": "5", "4": "7", "+Inf": "7"}, m.Buckets)
		})
	}
}
