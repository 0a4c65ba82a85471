package reference

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// maxDiffLines bounds Diff's description.
const maxDiffLines = 20

// Diff compares two gateways: the same groups, families, types, help and
// series, with equal values. Floats are equal when both are NaN or they are
// within 1e-9 of each other, relative to the larger. A nil and an empty
// slice or map are equal. It returns the first differences, one a line,
// each naming where it is (empty when the gateways are equal).
func Diff(want, got Gateway) string {
	var lines []string
	note := func(format string, args ...any) {
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	for _, g := range unionKeys(want, got) {
		wg, inWant := want[g]
		gg, inGot := got[g]
		switch {
		case !inGot:
			note("group %s: missing (want %d families)", g, len(wg))
			continue
		case !inWant:
			note("group %s: not expected (got %d families: %s)", g, len(gg), strings.Join(sortedKeys(gg), ", "))
			continue
		}
		for _, name := range unionKeys(wg, gg) {
			wf, inWant := wg[name]
			gf, inGot := gg[name]
			where := fmt.Sprintf("group %s family %s", g, name)
			switch {
			case !inGot:
				note("%s: missing (want %s, %d series)", where, wf.Type, len(wf.Series))
				continue
			case !inWant:
				note("%s: not expected (got %s, %d series)", where, gf.Type, len(gf.Series))
				continue
			}
			if wf.Type != gf.Type {
				note("%s: type %s, want %s", where, gf.Type, wf.Type)
				continue
			}
			if wf.Help != gf.Help {
				note("%s: help %q, want %q", where, gf.Help, wf.Help)
			}
			for _, s := range unionKeys(wf.Series, gf.Series) {
				wv, inWant := wf.Series[s]
				gv, inGot := gf.Series[s]
				switch {
				case !inGot:
					note("%s series %s: missing (want %v)", where, s, wv)
				case !inWant:
					note("%s series %s: not expected (got %v)", where, s, gv)
				case !valuesEqual(wv, gv):
					note("%s series %s: got %v, want %v", where, s, gv, wv)
				}
			}
		}
	}
	if len(lines) > maxDiffLines {
		lines = append(lines[:maxDiffLines], fmt.Sprintf("… and %d more differences", len(lines)-maxDiffLines))
	}
	return strings.Join(lines, "\n")
}

func valuesEqual(a, b Value) bool {
	if !floatsEqual(a.Number, b.Number) || a.Count != b.Count || !floatsEqual(a.Sum, b.Sum) {
		return false
	}
	if len(a.Buckets) != len(b.Buckets) || len(a.Quantiles) != len(b.Quantiles) {
		return false
	}
	for i := range a.Buckets {
		if !floatsEqual(a.Buckets[i].UpperBound, b.Buckets[i].UpperBound) || a.Buckets[i].CumulativeCount != b.Buckets[i].CumulativeCount {
			return false
		}
	}
	for i := range a.Quantiles {
		if !floatsEqual(a.Quantiles[i].Quantile, b.Quantiles[i].Quantile) || !floatsEqual(a.Quantiles[i].Value, b.Quantiles[i].Value) {
			return false
		}
	}
	if (a.Native == nil) != (b.Native == nil) {
		return false
	}
	if a.Native == nil {
		return true
	}
	x, y := a.Native, b.Native
	return x.Schema == y.Schema && floatsEqual(x.ZeroThreshold, y.ZeroThreshold) && x.ZeroCount == y.ZeroCount &&
		countsEqual(x.Positive, y.Positive) && countsEqual(x.Negative, y.Negative)
}

// countsEqual compares bucket counts, a zero count being no bucket.
func countsEqual(a, b map[int32]uint64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// floatsEqual: both NaN, or equal (infinities included), or within 1e-9
// relative to the larger magnitude.
func floatsEqual(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

func unionKeys[V any](a, b map[string]V) []string {
	seen := make(map[string]bool, len(a)+len(b))
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
