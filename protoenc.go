package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"bytes"
	"math"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
)

// appendLabelsField appends labels as Metric's repeated field 1, the form
// in which a label set keeps them (labelSet.enc) for sizeMetric and
// appendMetric.
func appendLabelsField(b []byte, labels []*dto.LabelPair) []byte {
	for _, l := range labels {
		b = appendMessageHeader(b, 1, sizeLabel(l))
		b = appendString(b, 1, l.Name)
		b = appendString(b, 2, l.Value)
	}
	return b
}

func sizeString(num protowire.Number, s *string) int {
	if s == nil {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(*s))
}

func appendString(b []byte, num protowire.Number, s *string) []byte {
	if s == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, *s)
}

func sizeDouble(num protowire.Number, v *float64) int {
	if v == nil {
		return 0
	}
	return protowire.SizeTag(num) + 8
}

func appendDouble(b []byte, num protowire.Number, v *float64) []byte {
	if v == nil {
		return b
	}
	return appendFixed64(b, num, math.Float64bits(*v))
}

// appendFixed64 appends a double's bits as field num.
func appendFixed64(b []byte, num protowire.Number, bits uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, bits)
}

func sizeUvarint(num protowire.Number, v *uint64) int {
	if v == nil {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(*v)
}

func appendUvarint(b []byte, num protowire.Number, v *uint64) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, *v)
}

func sizeMessage(num protowire.Number, size int) int {
	return protowire.SizeTag(num) + protowire.SizeBytes(size)
}

func appendMessageHeader(b []byte, num protowire.Number, size int) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(size))
}

// sizeFamilyHeader and appendFamilyHeader write a MetricFamily's fields
// before its metrics.
func sizeFamilyHeader(name, help *string, typ *dto.MetricType) int {
	n := sizeString(1, name) + sizeString(2, help)
	if typ != nil {
		n += protowire.SizeTag(3) + protowire.SizeVarint(uint64(*typ))
	}
	return n
}

func appendFamilyHeader(b []byte, name, help *string, typ *dto.MetricType) []byte {
	b = appendString(b, 1, name)
	b = appendString(b, 2, help)
	if typ != nil {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*typ))
	}
	return b
}

func sizeLabel(l *dto.LabelPair) int {
	return sizeString(1, l.Name) + sizeString(2, l.Value)
}

// sizeMetric and appendMetric write a Metric; its labels are encLabels
// when not nil (a label set's enc), otherwise m.Label.
func sizeMetric(m *dto.Metric, encLabels []byte) (int, bool) {
	if m.Untyped != nil || (m.Counter != nil && (m.Counter.Exemplar != nil || m.Counter.CreatedTimestamp != nil)) {
		return 0, false
	}
	n := len(encLabels)
	if encLabels == nil {
		for _, l := range m.Label {
			n += sizeMessage(1, sizeLabel(l))
		}
	}
	if m.Gauge != nil {
		n += sizeMessage(2, sizeDouble(1, m.Gauge.Value))
	}
	if m.Counter != nil {
		n += sizeMessage(3, sizeDouble(1, m.Counter.Value))
	}
	if m.Summary != nil {
		size, ok := sizeSummary(m.Summary)
		if !ok {
			return 0, false
		}
		n += sizeMessage(4, size)
	}
	if m.TimestampMs != nil {
		n += protowire.SizeTag(6) + protowire.SizeVarint(uint64(*m.TimestampMs))
	}
	if m.Histogram != nil {
		size, ok := sizeHistogram(m.Histogram)
		if !ok {
			return 0, false
		}
		n += sizeMessage(7, size)
	}
	return n, true
}

func appendMetric(b []byte, m *dto.Metric, encLabels []byte) []byte {
	if encLabels != nil {
		b = append(b, encLabels...)
	} else {
		b = appendLabelsField(b, m.Label)
	}
	if m.Gauge != nil {
		b = appendMessageHeader(b, 2, sizeDouble(1, m.Gauge.Value))
		b = appendDouble(b, 1, m.Gauge.Value)
	}
	if m.Counter != nil {
		b = appendMessageHeader(b, 3, sizeDouble(1, m.Counter.Value))
		b = appendDouble(b, 1, m.Counter.Value)
	}
	if m.Summary != nil {
		size, _ := sizeSummary(m.Summary)
		b = appendMessageHeader(b, 4, size)
		b = appendSummary(b, m.Summary)
	}
	if m.TimestampMs != nil {
		b = protowire.AppendTag(b, 6, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*m.TimestampMs))
	}
	if m.Histogram != nil {
		size, _ := sizeHistogram(m.Histogram)
		b = appendMessageHeader(b, 7, size)
		b = appendHistogram(b, m.Histogram)
	}
	return b
}

func sizeQuantile(q *dto.Quantile) int {
	return sizeDouble(1, q.Quantile) + sizeDouble(2, q.Value)
}

func sizeSummary(s *dto.Summary) (int, bool) {
	if s.CreatedTimestamp != nil {
		return 0, false
	}
	n := sizeUvarint(1, s.SampleCount) + sizeDouble(2, s.SampleSum)
	for _, q := range s.Quantile {
		n += sizeMessage(3, sizeQuantile(q))
	}
	return n, true
}

func appendSummary(b []byte, s *dto.Summary) []byte {
	b = appendUvarint(b, 1, s.SampleCount)
	b = appendDouble(b, 2, s.SampleSum)
	for _, q := range s.Quantile {
		b = appendMessageHeader(b, 3, sizeQuantile(q))
		b = appendDouble(b, 1, q.Quantile)
		b = appendDouble(b, 2, q.Value)
	}
	return b
}

func sizeBucket(k *dto.Bucket) int {
	return sizeUvarint(1, k.CumulativeCount) + sizeDouble(2, k.UpperBound)
}

func sizeZigZag(num protowire.Number, v int64) int {
	return protowire.SizeTag(num) + protowire.SizeVarint(protowire.EncodeZigZag(v))
}

func appendZigZag(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeZigZag(v))
}

func sizeSpan(s *dto.BucketSpan) int {
	n := 0
	if s.Offset != nil {
		n += sizeZigZag(1, int64(*s.Offset))
	}
	if s.Length != nil {
		n += protowire.SizeTag(2) + protowire.SizeVarint(uint64(*s.Length))
	}
	return n
}

func appendSpan(b []byte, s *dto.BucketSpan) []byte {
	if s.Offset != nil {
		b = appendZigZag(b, 1, int64(*s.Offset))
	}
	if s.Length != nil {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(*s.Length))
	}
	return b
}

// sizeSide and appendSide write one side of a native histogram: its spans
// as field spanNum, then its deltas, unpacked, as field deltaNum.
func sizeSide(spanNum, deltaNum protowire.Number, spans []*dto.BucketSpan, deltas []int64) int {
	n := 0
	for _, s := range spans {
		n += sizeMessage(spanNum, sizeSpan(s))
	}
	for _, d := range deltas {
		n += sizeZigZag(deltaNum, d)
	}
	return n
}

func appendSide(b []byte, spanNum, deltaNum protowire.Number, spans []*dto.BucketSpan, deltas []int64) []byte {
	for _, s := range spans {
		b = appendMessageHeader(b, spanNum, sizeSpan(s))
		b = appendSpan(b, s)
	}
	for _, d := range deltas {
		b = appendZigZag(b, deltaNum, d)
	}
	return b
}

func sizeHistogram(h *dto.Histogram) (int, bool) {
	if h.SampleCountFloat != nil || h.ZeroCountFloat != nil || h.CreatedTimestamp != nil ||
		len(h.Exemplars) > 0 || len(h.NegativeCount) > 0 || len(h.PositiveCount) > 0 {
		return 0, false
	}
	n := sizeUvarint(1, h.SampleCount) + sizeDouble(2, h.SampleSum)
	for _, k := range h.Bucket {
		if k.CumulativeCountFloat != nil || k.Exemplar != nil {
			return 0, false
		}
		n += sizeMessage(3, sizeBucket(k))
	}
	if h.Schema != nil {
		n += sizeZigZag(5, int64(*h.Schema))
	}
	n += sizeDouble(6, h.ZeroThreshold) + sizeUvarint(7, h.ZeroCount)
	n += sizeSide(9, 10, h.NegativeSpan, h.NegativeDelta)
	n += sizeSide(12, 13, h.PositiveSpan, h.PositiveDelta)
	return n, true
}

func appendHistogram(b []byte, h *dto.Histogram) []byte {
	b = appendUvarint(b, 1, h.SampleCount)
	b = appendDouble(b, 2, h.SampleSum)
	for _, k := range h.Bucket {
		b = appendMessageHeader(b, 3, sizeBucket(k))
		b = appendUvarint(b, 1, k.CumulativeCount)
		b = appendDouble(b, 2, k.UpperBound)
	}
	if h.Schema != nil {
		b = appendZigZag(b, 5, int64(*h.Schema))
	}
	b = appendDouble(b, 6, h.ZeroThreshold)
	b = appendUvarint(b, 7, h.ZeroCount)
	b = appendSide(b, 9, 10, h.NegativeSpan, h.NegativeDelta)
	return appendSide(b, 12, 13, h.PositiveSpan, h.PositiveDelta)
}

// numericValueSize is the encoded size of a gauge's or counter's value in
// its Metric: the Gauge or Counter message's tag and length, then its
// double field 1.
const numericValueSize = 2 + 1 + 8

// numericMetricSize is the size a gauge or counter series with these
// labels takes in its family: the Metric's tag, length and content.
func numericMetricSize(labels *labelSet) int {
	return sizeMessage(4, len(labels.enc)+numericValueSize)
}

// groupEncoding holds, between the two passes of writeGroupDelimited, the
// families' sizes and the histogram and summary metrics with theirs.
type groupEncoding struct {
	famSizes, sizes []int
	metrics         []*dto.Metric
}

var groupEncodingPool = sync.Pool{New: func() any { return new(groupEncoding) }}

// writeGroupDelimited writes the group's families into buf straight from
// its state: byte for byte what writeDelimitedFamilies writes for its
// snapshot, without making a message for each gauge and counter. Native
// histograms go as classic buckets unless native is set. It returns
// false, and writes nothing, where writeDelimitedFamilies would. The
// caller holds g.mu.
func writeGroupDelimited(buf *bytes.Buffer, g *groupState, native bool) bool {
	ge := groupEncodingPool.Get().(*groupEncoding)
	defer func() {
		clear(ge.metrics)
		ge.famSizes, ge.sizes, ge.metrics = ge.famSizes[:0], ge.sizes[:0], ge.metrics[:0]
		groupEncodingPool.Put(ge)
	}()
	total := 0
	for _, name := range g.sortedNames() {
		fs := g.families[name]
		n := sizeFamilyHeader(&name, fs.helpField(), &fs.typ)
		if fs.numeric() {
			n += fs.metricsSize
		} else {
			for _, idx := range fs.sortedSeries() {
				held := &fs.series[idx]
				if held.agg != nil {
					size := held.agg.metricSize(fs.typ, len(held.labels.enc))
					ge.metrics, ge.sizes = append(ge.metrics, nil), append(ge.sizes, size)
					n += sizeMessage(4, size)
					continue
				}
				m := held.metric
				if !native && isNative(m) {
					m = &dto.Metric{Label: m.Label, Histogram: classicHistogram(m.Histogram)}
				}
				size, ok := sizeMetric(m, held.labels.enc)
				if !ok {
					return false
				}
				ge.metrics, ge.sizes = append(ge.metrics, m), append(ge.sizes, size)
				n += sizeMessage(4, size)
			}
		}
		ge.famSizes = append(ge.famSizes, n)
		total += protowire.SizeVarint(uint64(n)) + n
	}

	buf.Grow(total)
	b := buf.AvailableBuffer()
	k := 0
	for i, name := range g.names {
		fs := g.families[name]
		b = protowire.AppendVarint(b, uint64(ge.famSizes[i]))
		b = appendFamilyHeader(b, &name, fs.helpField(), &fs.typ)
		if !fs.numeric() {
			for _, idx := range fs.order {
				held := &fs.series[idx]
				b = appendMessageHeader(b, 4, ge.sizes[k])
				if held.agg != nil {
					b = held.agg.appendMetric(b, fs.typ, held.labels.enc)
				} else {
					b = appendMetric(b, ge.metrics[k], held.labels.enc)
				}
				k++
			}
			continue
		}
		valueField := protowire.Number(2) // Metric.gauge
		if fs.typ == dto.MetricType_COUNTER {
			valueField = 3 // Metric.counter
		}
		for _, idx := range fs.sortedSeries() {
			held := &fs.series[idx]
			b = appendMessageHeader(b, 4, len(held.labels.enc)+numericValueSize)
			b = append(b, held.labels.enc...)
			b = appendMessageHeader(b, valueField, sizeDouble(1, &held.value))
			b = appendDouble(b, 1, &held.value)
		}
	}
	buf.Write(b)
	return true
}
