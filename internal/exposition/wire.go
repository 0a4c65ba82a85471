package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"

// The protobuf wire form of the Prometheus messages' fields, written
// without reflection.

import (
	"math"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
)

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

func sizeZigZag(num protowire.Number, v int64) int {
	return protowire.SizeTag(num) + protowire.SizeVarint(protowire.EncodeZigZag(v))
}

func appendZigZag(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeZigZag(v))
}
