package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"bytes"
	"math"
	"strconv"
	"sync"

	dto "github.com/prometheus/client_model/go"
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

// writeGroupText writes the group's families into buf in the text format,
// straight from its state. Names must be legacy Prometheus names. It
// returns false, and writes nothing, when the state holds something this
// writer leaves to expfmt (a type other than gauge, counter, histogram or
// summary; a family without series or name; a held metric other than a
// native histogram): the caller then encodes a snapshot. The caller holds
// g.mu.
func writeGroupText(buf *bytes.Buffer, g *groupState) bool {
	te := textEncodingPool.Get().(*textEncoding)
	defer func() {
		clear(te.hists)
		te.hists = te.hists[:0]
		textEncodingPool.Put(te)
	}()

	// First pass: check what the state holds, convert native histograms
	// and bound the body's size, so that buf grows once.
	total := 0
	names := g.sortedNames()
	for _, name := range names {
		fs := g.families[name]
		if name == "" || len(fs.series) == 0 || !textWrites(fs.typ) {
			return false
		}
		total += len("# HELP  \n# TYPE  histogram\n") + 2*len(name) + 2*len(fs.help)
		for _, idx := range fs.sortedSeries() {
			held := &fs.series[idx]
			lines := 1
			switch {
			case fs.numeric():
			case held.agg != nil:
				lines = len(held.agg.bounds) + 3 // bounds, a +Inf if missing, _sum, _count
			case fs.typ == dto.MetricType_HISTOGRAM && isNative(held.metric):
				h := classicHistogram(held.metric.Histogram)
				te.hists = append(te.hists, h)
				lines = len(h.Bucket) + 3
			default:
				return false
			}
			total += lines * (len(name) + len(held.labels.textLabels()) + textLineOverhead)
		}
	}

	buf.Grow(total)
	b := buf.AvailableBuffer()
	k := 0
	for _, name := range names {
		fs := g.families[name]
		b = appendTextHeader(b, name, fs.help, fs.typ)
		for _, idx := range fs.sortedSeries() {
			held := &fs.series[idx]
			labels := held.labels.textLabels()
			switch {
			case fs.numeric():
				b = appendTextSample(b, name, "", labels, held.value)
			case held.agg != nil && fs.typ == dto.MetricType_SUMMARY:
				b = appendTextSummary(b, name, labels, held.agg)
			case held.agg != nil:
				b = appendTextAggregateHistogram(b, name, labels, held.agg)
			default:
				b = appendTextHistogram(b, name, labels, te.hists[k])
				k++
			}
		}
	}
	buf.Write(b)
	return true
}

// textWrites says writeGroupText writes families of this type.
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
		b = appendTextEscaped(b, help, false)
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
func appendTextSummary(b []byte, name, labels string, a *aggregate) []byte {
	for i, q := range a.bounds {
		b = appendTextExtraSample(b, name, "", labels, "quantile", q, a.values[i])
	}
	b = appendTextSample(b, name, "_sum", labels, a.sum)
	return appendTextSample(b, name, "_count", labels, float64(a.count))
}

// appendTextAggregateHistogram appends a classic histogram's lines: its
// buckets in order, a +Inf bucket unless one was among them, then _sum
// and _count.
func appendTextAggregateHistogram(b []byte, name, labels string, a *aggregate) []byte {
	infSeen := false
	for i, bound := range a.bounds {
		b = appendTextExtraSample(b, name, "_bucket", labels, "le", bound, float64(a.counts[i]))
		infSeen = infSeen || math.IsInf(bound, 1)
	}
	if !infSeen {
		b = appendTextExtraSample(b, name, "_bucket", labels, "le", math.Inf(1), float64(a.count))
	}
	b = appendTextSample(b, name, "_sum", labels, a.sum)
	return appendTextSample(b, name, "_count", labels, float64(a.count))
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
		b = appendTextEscaped(b, l.GetValue(), true)
		b = append(b, '"')
	}
	if len(labels) > 0 {
		b = append(b, '}')
	}
	return b
}

// appendTextEscaped appends s with a backslash written as \\ and a newline
// as \n, and, in a label value (quoted), a double quote as \". Help text
// keeps its double quotes.
func appendTextEscaped(b []byte, s string, quoted bool) []byte {
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
