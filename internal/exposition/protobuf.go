package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"

import (
	"bytes"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// protobufEncoding holds, between the two passes of writeProtobuf, the
// families' sizes and the histogram and summary metrics with theirs.
type protobufEncoding struct {
	famSizes, sizes []int
	metrics         []*dto.Metric
}

var protobufEncodingPool = sync.Pool{New: func() any { return new(protobufEncoding) }}

// writeProtobuf writes fams into buf as length-delimited MetricFamily
// messages, straight from the state: byte for byte what expfmt writes for
// their snapshot, without making a message for each gauge and counter.
// Native histograms go as classic buckets unless native is set. It
// returns false, and writes nothing, where a series holds a message this
// writer leaves to expfmt.
func writeProtobuf(buf *bytes.Buffer, fams []prom.FamilyView, native bool) bool {
	pe := protobufEncodingPool.Get().(*protobufEncoding)
	defer func() {
		clear(pe.metrics)
		pe.famSizes, pe.sizes, pe.metrics = pe.famSizes[:0], pe.sizes[:0], pe.metrics[:0]
		protobufEncodingPool.Put(pe)
	}()
	total := 0
	for i := range fams {
		f := &fams[i]
		n := sizeFamilyHeader(&f.Name, helpField(f), &f.Type)
		if f.Numeric() {
			n += f.ProtoNumericSize
		} else {
			for _, idx := range f.Order {
				held := &f.Series[idx]
				if held.Agg != nil {
					size := aggregateMetricSize(held.Agg, f.Type, len(held.Labels.Proto))
					pe.metrics, pe.sizes = append(pe.metrics, nil), append(pe.sizes, size)
					n += sizeMessage(4, size)
					continue
				}
				m := held.Native
				if !native && prom.IsNative(m) {
					m = &dto.Metric{Label: m.Label, Histogram: prom.ClassicHistogram(m.Histogram)}
				}
				size, ok := sizeMetric(m, held.Labels.Proto)
				if !ok {
					return false
				}
				pe.metrics, pe.sizes = append(pe.metrics, m), append(pe.sizes, size)
				n += sizeMessage(4, size)
			}
		}
		pe.famSizes = append(pe.famSizes, n)
		total += protowire.SizeVarint(uint64(n)) + n
	}

	buf.Grow(total)
	b := buf.AvailableBuffer()
	k := 0
	for i := range fams {
		f := &fams[i]
		b = protowire.AppendVarint(b, uint64(pe.famSizes[i]))
		b = appendFamilyHeader(b, &f.Name, helpField(f), &f.Type)
		if !f.Numeric() {
			for _, idx := range f.Order {
				held := &f.Series[idx]
				b = appendMessageHeader(b, 4, pe.sizes[k])
				if held.Agg != nil {
					b = appendAggregateMetric(b, held.Agg, f.Type, held.Labels.Proto)
				} else {
					b = appendMetric(b, pe.metrics[k], held.Labels.Proto)
				}
				k++
			}
			continue
		}
		valueField := protowire.Number(2) // Metric.gauge
		if f.Type == dto.MetricType_COUNTER {
			valueField = 3 // Metric.counter
		}
		for _, idx := range f.Order {
			held := &f.Series[idx]
			b = appendMessageHeader(b, 4, held.Labels.ProtoNumericContentSize())
			b = append(b, held.Labels.Proto...)
			b = appendMessageHeader(b, valueField, sizeDouble(1, &held.Value))
			b = appendDouble(b, 1, &held.Value)
		}
	}
	buf.Write(b)
	return true
}

// helpField is the family's help as MetricFamily.help: nil when empty.
func helpField(f *prom.FamilyView) *string {
	if f.Help == "" {
		return nil
	}
	return &f.Help
}
