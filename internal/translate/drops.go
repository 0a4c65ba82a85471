package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// dropCounter gathers the drops of one metric, one entry per reason.
type dropCounter struct {
	list []prom.Drop
}

func (d *dropCounter) add(m pmetric.Metric, reason prom.DropReason) {
	d.addN(m, reason, 1)
}

func (d *dropCounter) addN(m pmetric.Metric, reason prom.DropReason, n int) {
	for i := range d.list {
		if d.list[i].Reason == reason {
			d.list[i].Points += n
			return
		}
	}
	d.list = append(d.list, prom.Drop{Metric: m.Name(), Reason: reason, Points: n})
}

// all drops every point of a metric for one reason.
func (d *dropCounter) all(m pmetric.Metric, reason prom.DropReason) []prom.Drop {
	d.addN(m, reason, max(dataPointCount(m), 1))
	return d.list
}

// DropResource counts every point of a refused resource as dropped for
// reason, per metric, and returns how many points there were.
func DropResource(rm pmetric.ResourceMetrics, reason prom.DropReason) (drops []prom.Drop, points int) {
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			var dc dropCounter
			d := dc.all(ms.At(j), reason)
			drops = append(drops, d...)
			points += d[0].Points
		}
	}
	return drops, points
}

func dataPointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 0
}
