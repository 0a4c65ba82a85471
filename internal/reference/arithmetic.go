package reference

import "math"

// Adding and subtracting series values, for running totals (deltas, and
// increments in mode sum). Values of one family share a type, so the
// operations work field by field: numbers for counters and gauges, count and
// sum for histograms and summaries, cumulative buckets for classic
// histograms, native buckets for native ones. Totals never carry quantiles.

// sameLayout reports whether two values can be added bucket by bucket:
// classic histograms with the same bounds, native histograms with the same
// zero threshold (their schemas are reconciled when added). A classic and a
// native histogram never can. Numbers and summaries always can.
func sameLayout(a, b Value) bool {
	if (a.Native == nil) != (b.Native == nil) {
		return false
	}
	if a.Native != nil {
		return a.Native.ZeroThreshold == b.Native.ZeroThreshold
	}
	if len(a.Buckets) != len(b.Buckets) {
		return false
	}
	for i := range a.Buckets {
		if a.Buckets[i].UpperBound != b.Buckets[i].UpperBound {
			return false
		}
	}
	return true
}

// add is a + b, for values of the same layout.
func add(a, b Value) Value {
	r := Value{Number: a.Number + b.Number, Count: a.Count + b.Count, Sum: a.Sum + b.Sum}
	if a.Buckets != nil {
		r.Buckets = make([]Bucket, len(a.Buckets))
		for i := range a.Buckets {
			r.Buckets[i] = Bucket{a.Buckets[i].UpperBound, a.Buckets[i].CumulativeCount + b.Buckets[i].CumulativeCount}
		}
	}
	if a.Native != nil {
		r.Native = addNative(a.Native, b.Native)
	}
	return r
}

// sub is the increment from p to q (values of the same layout), and whether
// a count or a counter's value went down: a reset, which makes the increment
// meaningless. A sum may go down (negative observations).
func sub(q, p Value) (Value, bool) {
	r := Value{Number: q.Number - p.Number, Count: q.Count - p.Count, Sum: q.Sum - p.Sum}
	down := q.Number < p.Number || q.Count < p.Count
	if q.Buckets != nil {
		r.Buckets = make([]Bucket, len(q.Buckets))
		for i := range q.Buckets {
			if q.Buckets[i].CumulativeCount < p.Buckets[i].CumulativeCount {
				down = true
			}
			r.Buckets[i] = Bucket{q.Buckets[i].UpperBound, q.Buckets[i].CumulativeCount - p.Buckets[i].CumulativeCount}
		}
	}
	if q.Native != nil {
		n, nativeDown := subNative(q.Native, p.Native)
		r.Native, down = n, down || nativeDown
	}
	return r, down
}

// finite reports whether a value may be added to a running total (C7): a
// number that is not NaN or ±Inf; for histograms and summaries, a finite sum.
func finite(v Value) bool {
	return !math.IsNaN(v.Number) && !math.IsInf(v.Number, 0) && !math.IsNaN(v.Sum) && !math.IsInf(v.Sum, 0)
}
