package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

// Aggregate is the value of a classic histogram or a summary point. A
// series holds its own, updated in place by every newer point; a point's
// lives in translation's scratch storage for the length of one batch.
type Aggregate struct {
	Count uint64
	Sum   float64
	// Bounds are a histogram's upper bounds, +Inf last, with Counts their
	// cumulative counts; or a summary's quantiles, ascending, with Values
	// their values.
	Bounds []float64
	Counts []uint64
	Values []float64
}

// Assign makes a hold what from holds, reusing a's storage (a nil a is
// made), and returns a.
func (a *Aggregate) Assign(from *Aggregate) *Aggregate {
	if a == nil {
		a = new(Aggregate)
	}
	a.Count, a.Sum = from.Count, from.Sum
	a.Bounds = append(a.Bounds[:0], from.Bounds...)
	a.Counts = append(a.Counts[:0], from.Counts...)
	a.Values = append(a.Values[:0], from.Values...)
	return a
}

// AddHistogram adds the histogram b to the histogram a, in place, and
// reports whether it could: the buckets must be the same.
func (a *Aggregate) AddHistogram(b *Aggregate) bool {
	if !a.SameBounds(b) {
		return false
	}
	a.Count += b.Count
	a.Sum += b.Sum
	for i := range a.Counts {
		a.Counts[i] += b.Counts[i]
	}
	return true
}

// SameBounds says two histograms have the same buckets.
func (a *Aggregate) SameBounds(b *Aggregate) bool {
	if len(a.Bounds) != len(b.Bounds) || len(a.Counts) != len(b.Counts) {
		return false
	}
	for i, bound := range a.Bounds {
		if bound != b.Bounds[i] {
			return false
		}
	}
	return true
}

// Follows says a can come after prev in one cumulative run: a summary
// always can (its count is checked by the caller), a histogram when it
// has the same buckets and none of its counts went down.
func (a *Aggregate) Follows(prev *Aggregate) bool {
	if a.Counts == nil {
		return true
	}
	if !a.SameBounds(prev) {
		return false
	}
	for i, c := range a.Counts {
		if c < prev.Counts[i] {
			return false
		}
	}
	return true
}

// AddDifference adds to the histogram a what b counted since prev, an
// earlier point of the same run (b follows prev; a has their buckets).
func (a *Aggregate) AddDifference(b, prev *Aggregate) {
	a.Count += b.Count - prev.Count
	a.Sum += b.Sum - prev.Sum
	for i := range a.Counts {
		a.Counts[i] += b.Counts[i] - prev.Counts[i]
	}
}
