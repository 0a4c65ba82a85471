package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

import (
	"strconv"
	"strings"
	"sync/atomic"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
)

// LabelSet is the labels of one series, sorted by name, with the forms
// every push writes them in. It is made once per distinct set of point
// attributes (translation caches it), shared by the series of every group
// that carries it, and never modified.
type LabelSet struct {
	// Labels are the series' labels, sorted by name.
	Labels []*dto.LabelPair
	// Sig identifies the series within its family.
	Sig string
	// Proto is the labels as the protobuf Metric message's repeated field
	// 1, ready to be copied into a push.
	Proto []byte
	// text is the labels in the text format, made at the first text push
	// that needs them (see Text).
	text atomic.Pointer[string]
}

// NewLabelSet makes the label set of labels, which must be sorted by name.
func NewLabelSet(labels []*dto.LabelPair) *LabelSet {
	return &LabelSet{Labels: labels, Sig: signature(labels), Proto: appendProtoLabels(nil, labels)}
}

// signature identifies a series within its family. 0xff never occurs in
// valid UTF-8, so distinct label sets never share a signature.
func signature(labels []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(l.GetName())
		b.WriteByte(0xff)
		b.WriteString(l.GetValue())
		b.WriteByte(0xff)
	}
	return b.String()
}

// Text returns the labels as the text format writes a series' labels,
// {name="value",...}, or "" when there are none. A label set is shared by
// the series of every group, pushed concurrently: the first pushes to need
// it may each make it, and store the same text.
func (ls *LabelSet) Text() string {
	if text := ls.text.Load(); text != nil {
		return *text
	}
	text := string(appendTextLabels(nil, ls.Labels))
	ls.text.Store(&text)
	return text
}

// String renders the labels for logs: {name="value",...}, values quoted
// as Go strings.
func (ls *LabelSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.GetValue()))
	}
	b.WriteByte('}')
	return b.String()
}

// numericValueSize is the encoded size of a gauge's or counter's value in
// its Metric: the Gauge or Counter message's tag and length, then its
// double field 1.
const numericValueSize = 2 + 1 + 8

// ProtoNumericSize is the size a gauge or counter series with these labels
// takes in its family's protobuf message: the Metric's tag, length and
// content.
func (ls *LabelSet) ProtoNumericSize() int {
	n := len(ls.Proto) + numericValueSize
	return protowire.SizeTag(4) + protowire.SizeBytes(n)
}

// ProtoNumericContentSize is the size of the content of a gauge or counter
// Metric message with these labels.
func (ls *LabelSet) ProtoNumericContentSize() int {
	return len(ls.Proto) + numericValueSize
}

// appendProtoLabels appends labels as the Metric message's repeated field
// 1.
func appendProtoLabels(b []byte, labels []*dto.LabelPair) []byte {
	for _, l := range labels {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(protoStringSize(1, l.Name)+protoStringSize(2, l.Value)))
		b = appendProtoString(b, 1, l.Name)
		b = appendProtoString(b, 2, l.Value)
	}
	return b
}

func protoStringSize(num protowire.Number, s *string) int {
	if s == nil {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(*s))
}

func appendProtoString(b []byte, num protowire.Number, s *string) []byte {
	if s == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, *s)
}

// appendTextLabels appends labels as the text format writes a series'
// labels, {name="value",...}, or nothing when there are none.
func appendTextLabels(b []byte, labels []*dto.LabelPair) []byte {
	for i, l := range labels {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, l.GetName()...)
		b = append(b, `="`...)
		b = AppendTextEscaped(b, l.GetValue(), true)
		b = append(b, '"')
	}
	if len(labels) > 0 {
		b = append(b, '}')
	}
	return b
}

// AppendTextEscaped appends s as the text format escapes it: a backslash
// as \\ and a newline as \n and, in a label value (quoted), a double quote
// as \". Help text keeps its double quotes.
func AppendTextEscaped(b []byte, s string, quoted bool) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		case '"':
			if !quoted {
				continue
			}
			esc = `\"`
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}
