package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"

import (
	"math"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// sizeMetric and appendMetric write a Metric whose labels are encLabels
// (a label set's Proto) and whose value is m's.
func sizeMetric(m *dto.Metric, encLabels []byte) (int, bool) {
	if m.Untyped != nil || (m.Counter != nil && (m.Counter.Exemplar != nil || m.Counter.CreatedTimestamp != nil)) {
		return 0, false
	}
	n := len(encLabels)
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
	b = append(b, encLabels...)
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

// quantileSize is the size of a Quantile: two doubles.
const quantileSize = 2 * (1 + 8)

// bucketSize is the size of a Bucket with this cumulative count: a varint
// and a double.
func bucketSize(count uint64) int {
	return protowire.SizeTag(1) + protowire.SizeVarint(count) + 1 + 8
}

// aggregateSize is the size of the Summary or Histogram message of a.
func aggregateSize(a *prom.Aggregate, typ dto.MetricType) int {
	n := protowire.SizeTag(1) + protowire.SizeVarint(a.Count) + 1 + 8
	for i := range a.Bounds {
		if typ == dto.MetricType_SUMMARY {
			n += sizeMessage(3, quantileSize)
		} else {
			n += sizeMessage(3, bucketSize(a.Counts[i]))
		}
	}
	return n
}

// aggregateField is the Metric field of a's message.
func aggregateField(typ dto.MetricType) protowire.Number {
	if typ == dto.MetricType_SUMMARY {
		return 4
	}
	return 7
}

// aggregateMetricSize is the size of the Metric holding a, with labels of encLen
// bytes.
func aggregateMetricSize(a *prom.Aggregate, typ dto.MetricType, encLen int) int {
	return encLen + sizeMessage(aggregateField(typ), aggregateSize(a, typ))
}

// appendAggregateMetric appends the Metric holding a, labels encoded in enc.
func appendAggregateMetric(b []byte, a *prom.Aggregate, typ dto.MetricType, enc []byte) []byte {
	b = append(b, enc...)
	b = appendMessageHeader(b, aggregateField(typ), aggregateSize(a, typ))
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, a.Count)
	b = appendFixed64(b, 2, math.Float64bits(a.Sum))
	for i, bound := range a.Bounds {
		if typ == dto.MetricType_SUMMARY {
			b = appendMessageHeader(b, 3, quantileSize)
			b = appendFixed64(b, 1, math.Float64bits(bound))
			b = appendFixed64(b, 2, math.Float64bits(a.Values[i]))
			continue
		}
		b = appendMessageHeader(b, 3, bucketSize(a.Counts[i]))
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, a.Counts[i])
		b = appendFixed64(b, 2, math.Float64bits(bound))
	}
	return b
}
