package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"

import (
	"bytes"
	"math"
	"strconv"
	"sync"

	dto "github.com/prometheus/client_model/go"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// The text exposition format (version 0.0.4), written straight from a
// group's state: byte for byte what expfmt's MetricFamilyToText writes for
// the group's snapshot with native histograms turned into classic buckets
// (the format has no others). Names are written as they are, which is what
// expfmt does for legacy Prometheus names only: other names it quotes, and
// those bodies are left to it.

// maxTextFloatLen is the longest float64 that strconv's shortest 'g'
// form writes: a sign, 17 digits, a point and a three-digit exponent
// with its sign, as in -2.2250738585072014e-308.
const maxTextFloatLen = 24

// textLineOverhead bounds what a sample line adds to its family name and
// its series' labels: the longest suffix (_bucket), an extra label
// (,quantile="…" with a float; braces of their own when the series has no
// labels), a space, the value and the newline.
const textLineOverhead = len("_bucket") + len(`{quantile=""}`) + maxTextFloatLen + 1 + maxTextFloatLen + 1

// textEncoding holds, between the two passes of writeGroupText, the
// classic forms of the group's native histograms, in the order they are
// written.
type textEncoding struct {
	hists []*dto.Histogram
}

var textEncodingPool = sync.Pool{New: func() any { return new(textEncoding) }}

// writeText writes fams into buf in the text format, straight from the
// state. Names must be legacy Prometheus names. It returns false, and
// writes nothing, when a family holds something this writer leaves to
// expfmt (a type other than gauge, counter, histogram or summary; a
// family without series or name; a held metric other than a native
// histogram).
func writeText(buf *bytes.Buffer, fams []prom.FamilyView) bool {
	te := textEncodingPool.Get().(*textEncoding)
	defer func() {
		clear(te.hists)
		te.hists = te.hists[:0]
		textEncodingPool.Put(te)
	}()

	// First pass: check what the state holds, convert native histograms
	// and bound the body's size, so that buf grows once.
	total := 0
	for i := range fams {
		f := &fams[i]
		if f.Name == "" || len(f.Series) == 0 || !textWrites(f.Type) {
			return false
		}
		total += len("# HELP  \n# TYPE  histogram\n") + 2*len(f.Name) + 2*len(f.Help)
		for _, idx := range f.Order {
			held := &f.Series[idx]
			lines := 1
			switch {
			case f.Numeric():
			case held.Agg != nil:
				lines = len(held.Agg.Bounds) + 3 // bounds, a +Inf if missing, _sum, _count
			case f.Type == dto.MetricType_HISTOGRAM && prom.IsNative(held.Native):
				h := prom.ClassicHistogram(held.Native.Histogram)
				te.hists = append(te.hists, h)
				lines = len(h.Bucket) + 3
			default:
				return false
			}
			total += lines * (len(f.Name) + len(held.Labels.Text()) + textLineOverhead)
		}
	}

	buf.Grow(total)
	b := buf.AvailableBuffer()
	k := 0
	for i := range fams {
		f := &fams[i]
		b = appendTextHeader(b, f.Name, f.Help, f.Type)
		for _, idx := range f.Order {
			held := &f.Series[idx]
			labels := held.Labels.Text()
			switch {
			case f.Numeric():
				b = appendTextSample(b, f.Name, "", labels, held.Value)
			case held.Agg != nil && f.Type == dto.MetricType_SUMMARY:
				b = appendTextSummary(b, f.Name, labels, held.Agg)
			case held.Agg != nil:
				b = appendTextAggregateHistogram(b, f.Name, labels, held.Agg)
			default:
				b = appendTextHistogram(b, f.Name, labels, te.hists[k])
				k++
			}
		}
	}
	buf.Write(b)
	return true
}

// textWrites says writeText writes families of this type.
func textWrites(typ dto.MetricType) bool {
	switch typ {
	case dto.MetricType_GAUGE, dto.MetricType_COUNTER, dto.MetricType_HISTOGRAM, dto.MetricType_SUMMARY:
		return true
	}
	return false
}

// appendTextHeader appends a family's HELP line (none when help is empty:
// the snapshot leaves MetricFamily.help unset then) and its TYPE line.
func appendTextHeader(b []byte, name, help string, typ dto.MetricType) []byte {
	if help != "" {
		b = append(b, "# HELP "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = prom.AppendTextEscaped(b, help, false)
		b = append(b, '\n')
	}
	b = append(b, "# TYPE "...)
	b = append(b, name...)
	switch typ {
	case dto.MetricType_COUNTER:
		b = append(b, " counter\n"...)
	case dto.MetricType_GAUGE:
		b = append(b, " gauge\n"...)
	case dto.MetricType_SUMMARY:
		b = append(b, " summary\n"...)
	default:
		b = append(b, " histogram\n"...)
	}
	return b
}

// appendTextSample appends one sample line: the name with its suffix, the
// series' labels (as textLabels makes them), the value.
func appendTextSample(b []byte, name, suffix, labels string, value float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	b = append(b, labels...)
	b = append(b, ' ')
	b = appendTextFloat(b, value)
	return append(b, '\n')
}

// appendTextExtraSample appends a sample line whose labels are the
// series' followed by one more, extra="extraValue": a bucket's le or a
// quantile's quantile.
func appendTextExtraSample(b []byte, name, suffix, labels, extra string, extraValue, value float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if labels == "" {
		b = append(b, '{')
	} else {
		b = append(b, labels[:len(labels)-1]...) // without its closing brace
		b = append(b, ',')
	}
	b = append(b, extra...)
	b = append(b, `="`...)
	b = appendTextFloat(b, extraValue)
	b = append(b, `"} `...)
	b = appendTextFloat(b, value)
	return append(b, '\n')
}

// appendTextSummary appends a summary's lines: its quantiles in order,
// then _sum and _count.
func appendTextSummary(b []byte, name, labels string, a *prom.Aggregate) []byte {
	for i, q := range a.Bounds {
		b = appendTextExtraSample(b, name, "", labels, "quantile", q, a.Values[i])
	}
	b = appendTextSample(b, name, "_sum", labels, a.Sum)
	return appendTextSample(b, name, "_count", labels, float64(a.Count))
}

// appendTextAggregateHistogram appends a classic histogram's lines: its
// buckets in order, a +Inf bucket unless one was among them, then _sum
// and _count.
func appendTextAggregateHistogram(b []byte, name, labels string, a *prom.Aggregate) []byte {
	infSeen := false
	for i, bound := range a.Bounds {
		b = appendTextExtraSample(b, name, "_bucket", labels, "le", bound, float64(a.Counts[i]))
		infSeen = infSeen || math.IsInf(bound, 1)
	}
	if !infSeen {
		b = appendTextExtraSample(b, name, "_bucket", labels, "le", math.Inf(1), float64(a.Count))
	}
	b = appendTextSample(b, name, "_sum", labels, a.Sum)
	return appendTextSample(b, name, "_count", labels, float64(a.Count))
}

// appendTextHistogram appends the lines of a histogram message, as
// appendTextAggregateHistogram; a count is its float form when that is
// set and not zero, as expfmt reads it.
func appendTextHistogram(b []byte, name, labels string, h *dto.Histogram) []byte {
	infSeen := false
	for _, bucket := range h.Bucket {
		v := bucket.GetCumulativeCountFloat()
		if v == 0 {
			v = float64(bucket.GetCumulativeCount())
		}
		b = appendTextExtraSample(b, name, "_bucket", labels, "le", bucket.GetUpperBound(), v)
		infSeen = infSeen || math.IsInf(bucket.GetUpperBound(), 1)
	}
	count := h.GetSampleCountFloat()
	if count == 0 {
		count = float64(h.GetSampleCount())
	}
	if !infSeen {
		b = appendTextExtraSample(b, name, "_bucket", labels, "le", math.Inf(1), count)
	}
	b = appendTextSample(b, name, "_sum", labels, h.GetSampleSum())
	return appendTextSample(b, name, "_count", labels, count)
}

// appendTextFloat appends f as expfmt writes a value: NaN, +Inf and -Inf
// by name, zero (negative zero too) as 0, anything else in strconv's
// shortest 'g' form.
func appendTextFloat(b []byte, f float64) []byte {
	switch {
	case f == 0:
		return append(b, '0')
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
