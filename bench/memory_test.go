package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
)

// groupedBatch builds groups resources (one group each) of series gauge
// points each, with the anchor batch's attributes; unique adds the
// metric's number as an attribute, so that no two series share a label
// set.
func groupedBatch(groups, series int, unique bool) pmetric.Metrics {
	md := pmetric.NewMetrics()
	for g := range groups {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "bench-job")
		rm.Resource().Attributes().PutStr("service.instance.id", fmt.Sprintf("instance-%d", g))
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(scopeName)
		sm.Scope().SetVersion(scopeVersion)
		metrics, per := max(series/pointsPerMet, 1), min(series, pointsPerMet)
		for i := range metrics {
			m := sm.Metrics().AppendEmpty()
			m.SetName(fmt.Sprintf("bench.gauge.%d", i))
			m.SetUnit("By")
			dps := m.SetEmptyGauge().DataPoints()
			dps.EnsureCapacity(per)
			for p := range per {
				dp := dps.AppendEmpty()
				dp.SetTimestamp(1)
				dp.SetDoubleValue(pointValue(i, p))
				pointAttrs(dp.Attributes(), p)
				if unique {
					dp.Attributes().PutInt("metric", int64(i))
				}
			}
		}
	}
	return md
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkStateMemory measures the heap the exporter keeps after taking a
// batch (its per-group state and label cache; the batch itself is freed),
// per held series and per group (newOurs shuts each exporter down when the
// benchmark ends). Run with -benchtime=1x: one measurement per size is the
// figure.
func BenchmarkStateMemory(b *testing.B) {
	for _, tc := range []struct {
		name           string
		groups, series int // series per group
		unique         bool
		format         string
	}{
		{"series=1000", 1, 1000, false, ""},
		{"series=100000", 1, 100_000, false, ""},
		{"series=1000000", 10, 100_000, false, ""},
		{"groups=10000", 10_000, 1, false, ""},
		// Every series its own label set, pushed in each format: in the
		// text format a label set also keeps its labels' text.
		{"unique=100000", 1, 100_000, true, ""},
		{"unique=100000/text", 1, 100_000, true, "text"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var perSeries, perGroup float64
			for range b.N {
				before := heapInUse()
				exp, _ := newOurs(b, tc.format)
				md := groupedBatch(tc.groups, tc.series, tc.unique)
				if err := exp.ConsumeMetrics(context.Background(), md); err != nil {
					b.Fatal(err)
				}
				md = pmetric.NewMetrics() // the batch is gone once pushed
				held := float64(heapInUse() - before)
				runtime.KeepAlive(exp)
				runtime.KeepAlive(md)
				perSeries = held / float64(tc.groups*tc.series)
				perGroup = held / float64(tc.groups)
			}
			b.ReportMetric(perSeries, "B/series")
			b.ReportMetric(perGroup, "B/group")
		})
	}
}
