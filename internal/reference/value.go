package reference

import (
	"fmt"
	"sort"
	"strings"
)

// Value is what one series holds. Which fields count depends on the family's
// type: Number for gauges and counters; Count and Sum for histograms and
// summaries; Buckets for classic histograms; Quantiles for summaries; Native
// for native histograms.
type Value struct {
	Number    float64
	Count     uint64
	Sum       float64
	Buckets   []Bucket   // classic histogram: cumulative, ascending, +Inf last
	Quantiles []Quantile // summary, ascending
	Native    *Native    // native histogram (nil otherwise)
}

// Bucket is one classic histogram bucket: observations at or below UpperBound.
type Bucket struct {
	UpperBound      float64
	CumulativeCount uint64
}

// Quantile is one summary quantile.
type Quantile struct{ Quantile, Value float64 }

// Native is a native histogram's buckets. Native bucket n at schema s holds
// (base^(n-1), base^n] (negated for Negative), base = 2^(2^-s).
type Native struct {
	Schema             int32
	ZeroThreshold      float64
	ZeroCount          uint64
	Positive, Negative map[int32]uint64 // native bucket index → count, zero counts omitted
}

// maxNativeSpan is the most buckets one side of a sum may span (C5).
const maxNativeSpan = 16384

// minSchema is the coarsest schema Prometheus has.
const minSchema = -4

func (v Value) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{number=%v count=%d sum=%v", v.Number, v.Count, v.Sum)
	if v.Buckets != nil {
		b.WriteString(" buckets=[")
		for i, bk := range v.Buckets {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%v:%d", bk.UpperBound, bk.CumulativeCount)
		}
		b.WriteString("]")
	}
	if v.Quantiles != nil {
		b.WriteString(" quantiles=[")
		for i, q := range v.Quantiles {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%v:%v", q.Quantile, q.Value)
		}
		b.WriteString("]")
	}
	if n := v.Native; n != nil {
		fmt.Fprintf(&b, " native={schema=%d zt=%v zc=%d pos=%s neg=%s}",
			n.Schema, n.ZeroThreshold, n.ZeroCount, formatIndexCounts(n.Positive), formatIndexCounts(n.Negative))
	}
	b.WriteString("}")
	return b.String()
}

func formatIndexCounts(m map[int32]uint64) string {
	idx := sortedIndexes(m)
	parts := make([]string, len(idx))
	for i, k := range idx {
		parts[i] = fmt.Sprintf("%d:%d", k, m[k])
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func sortedIndexes(m map[int32]uint64) []int32 {
	idx := make([]int32, 0, len(m))
	for k := range m {
		idx = append(idx, k)
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	return idx
}

func (v Value) clone() Value {
	c := v
	if v.Buckets != nil {
		c.Buckets = append([]Bucket{}, v.Buckets...)
	}
	if v.Quantiles != nil {
		c.Quantiles = append([]Quantile{}, v.Quantiles...)
	}
	if v.Native != nil {
		c.Native = v.Native.clone()
	}
	return c
}

func (n *Native) clone() *Native {
	c := *n
	c.Positive = cloneCounts(n.Positive)
	c.Negative = cloneCounts(n.Negative)
	return &c
}

func cloneCounts(m map[int32]uint64) map[int32]uint64 {
	c := make(map[int32]uint64, len(m))
	for k, v := range m {
		if v != 0 {
			c[k] = v
		}
	}
	return c
}
