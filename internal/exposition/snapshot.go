package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"

import (
	"slices"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Snapshot returns fams as MetricFamily messages, in the order given, each
// with its series in label order: what the direct writers write, as
// messages for expfmt and for tests.
func Snapshot(fams []prom.FamilyView) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(fams))
	for i := range fams {
		f := &fams[i]
		name := f.Name
		mf := &dto.MetricFamily{Name: &name, Type: f.Type.Enum(), Metric: make([]*dto.Metric, 0, len(f.Series))}
		if f.Help != "" {
			help := f.Help
			mf.Help = &help
		}
		for _, idx := range f.Order {
			held := &f.Series[idx]
			var m *dto.Metric
			switch {
			case f.Numeric():
				value := held.Value
				m = &dto.Metric{Label: held.Labels.Labels}
				if f.Type == dto.MetricType_COUNTER {
					m.Counter = &dto.Counter{Value: &value}
				} else {
					m.Gauge = &dto.Gauge{Value: &value}
				}
			case held.Agg != nil:
				m = aggregateMetric(held.Agg, f.Type, held.Labels.Labels)
			default:
				m = held.Native
			}
			mf.Metric = append(mf.Metric, m)
		}
		out = append(out, mf)
	}
	return out
}

// aggregateMetric makes the Prometheus metric of a series of type typ holding a,
// with labels.
func aggregateMetric(a *prom.Aggregate, typ dto.MetricType, labels []*dto.LabelPair) *dto.Metric {
	m := &dto.Metric{Label: labels}
	if typ == dto.MetricType_SUMMARY {
		s := &dto.Summary{SampleCount: proto.Uint64(a.Count), SampleSum: proto.Float64(a.Sum), Quantile: make([]*dto.Quantile, len(a.Bounds))}
		for i, q := range a.Bounds {
			s.Quantile[i] = &dto.Quantile{Quantile: proto.Float64(q), Value: proto.Float64(a.Values[i])}
		}
		m.Summary = s
		return m
	}
	h := &dto.Histogram{SampleCount: proto.Uint64(a.Count), SampleSum: proto.Float64(a.Sum), Bucket: make([]*dto.Bucket, len(a.Bounds))}
	for i, bound := range a.Bounds {
		h.Bucket[i] = &dto.Bucket{CumulativeCount: proto.Uint64(a.Counts[i]), UpperBound: proto.Float64(bound)}
	}
	m.Histogram = h
	return m
}

// withClassicHistograms returns fams with every native histogram turned
// into classic buckets, sharing everything else; fams itself is unchanged.
func withClassicHistograms(fams []*dto.MetricFamily) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for i, mf := range fams {
		if !slices.ContainsFunc(mf.Metric, prom.IsNative) {
			if out != nil {
				out = append(out, mf)
			}
			continue
		}
		if out == nil {
			out = append(make([]*dto.MetricFamily, 0, len(fams)), fams[:i]...)
		}
		c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Metric: make([]*dto.Metric, len(mf.Metric))}
		for k, m := range mf.Metric {
			c.Metric[k] = m
			if prom.IsNative(m) {
				c.Metric[k] = &dto.Metric{Label: m.Label, Histogram: prom.ClassicHistogram(m.Histogram)}
			}
		}
		out = append(out, c)
	}
	if out == nil {
		return fams
	}
	return out
}
