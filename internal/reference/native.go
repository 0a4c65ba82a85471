package reference

import (
	"math"
	"sort"
)

// Native histograms: schemas, coarser schemas, and the classic form.
//
// Native bucket n at schema s holds (base^(n-1), base^n] with base = 2^(2^-s);
// the negative side mirrors it. OTLP bucket i holds (base^i, base^(i+1)], so
// native n = OTLP i + 1.

// reduceIndex is the bucket of the schema one coarser that holds native bucket
// n: at schema s-1 bucket m holds (base^(2m-2), base^(2m)], so m = ceil(n/2).
func reduceIndex(n int64) int64 {
	return (n + 1) >> 1 // arithmetic shift: floor((n+1)/2) = ceil(n/2)
}

// reduceNative returns n at schema to (to <= n.Schema), each bucket merged
// whole into the coarser bucket that holds it.
func reduceNative(n *Native, to int32) *Native {
	r := n.clone()
	for r.Schema > to {
		r.Positive = reduceCounts(r.Positive)
		r.Negative = reduceCounts(r.Negative)
		r.Schema--
	}
	return r
}

func reduceCounts(m map[int32]uint64) map[int32]uint64 {
	r := make(map[int32]uint64, len(m))
	for k, v := range m {
		r[int32(reduceIndex(int64(k)))] += v
	}
	return r
}

// spanOf is the number of buckets from the lowest to the highest index of the
// given sides together (0 when they have none).
func spanOf(sides ...map[int32]uint64) int64 {
	first, last, any := int64(0), int64(0), false
	for _, m := range sides {
		for k := range m {
			i := int64(k)
			if !any || i < first {
				first = i
			}
			if !any || i > last {
				last = i
			}
			any = true
		}
	}
	if !any {
		return 0
	}
	return last - first + 1
}

// addNative adds two native histograms with the same zero threshold.
//
// (C5) They are added at the coarser of their schemas; while a side's bucket
// index span, first to last index over both operands, exceeds 16384 buckets,
// both are reduced one schema at a time (never below -4).
func addNative(a, b *Native) *Native {
	s := min(a.Schema, b.Schema)
	x, y := reduceNative(a, s), reduceNative(b, s)
	for s > minSchema && (spanOf(x.Positive, y.Positive) > maxNativeSpan || spanOf(x.Negative, y.Negative) > maxNativeSpan) {
		s--
		x, y = reduceNative(x, s), reduceNative(y, s)
	}
	for k, v := range y.Positive {
		x.Positive[k] += v
	}
	for k, v := range y.Negative {
		x.Negative[k] += v
	}
	x.ZeroCount += y.ZeroCount
	return x
}

// subNative is q - p at the coarser of their schemas, and whether any count
// went down (then the difference is meaningless).
func subNative(q, p *Native) (*Native, bool) {
	s := min(q.Schema, p.Schema)
	x, y := reduceNative(q, s), reduceNative(p, s)
	down := x.ZeroCount < y.ZeroCount
	x.ZeroCount -= y.ZeroCount
	for _, side := range [][2]map[int32]uint64{{x.Positive, y.Positive}, {x.Negative, y.Negative}} {
		for k, v := range side[1] {
			if side[0][k] < v {
				down = true
			}
			side[0][k] -= v
			if side[0][k] == 0 {
				delete(side[0], k)
			}
		}
	}
	return x, down
}

// nativeBound is base^n at schema s, computed as 2^(n / 2^s) with the integer
// part of the exponent exact.
func nativeBound(n int64, schema int32) float64 {
	if schema <= 0 {
		return math.Ldexp(1, int(n<<uint(-schema)))
	}
	q := n >> uint(schema) // floor
	r := n - q<<uint(schema)
	return math.Ldexp(math.Exp2(float64(r)/float64(int64(1)<<uint(schema))), int(q))
}

// classicFromNative is the classic form of an exponential histogram
// (MAPPING.md): one bucket per negative bucket, from the lowest up, with
// le = -base^i for OTLP index i (= native n-1); the zero bucket with
// le = the zero threshold; one bucket per positive bucket with le = base^(i+1)
// (= base^n); and +Inf = count. Bounds beyond float64 (±Inf) fold into the
// next bucket; equal bounds merge. The buckets are ordered by bound, so a
// zero threshold wider than some buckets still gives ascending bounds.
func classicFromNative(n *Native, count uint64) []Bucket {
	type entry struct {
		bound float64
		count uint64
	}
	var entries []entry
	for k, v := range n.Negative {
		entries = append(entries, entry{-nativeBound(int64(k)-1, n.Schema), v})
	}
	entries = append(entries, entry{n.ZeroThreshold, n.ZeroCount})
	for k, v := range n.Positive {
		entries = append(entries, entry{nativeBound(int64(k), n.Schema), v})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].bound < entries[j].bound })
	var buckets []Bucket
	var running uint64
	for _, e := range entries {
		running += e.count
		if math.IsInf(e.bound, 0) {
			continue // folds into the next bucket (+Inf: into the last)
		}
		if l := len(buckets); l > 0 && buckets[l-1].UpperBound == e.bound {
			buckets[l-1].CumulativeCount = running
			continue
		}
		buckets = append(buckets, Bucket{UpperBound: e.bound, CumulativeCount: running})
	}
	return append(buckets, Bucket{UpperBound: math.Inf(1), CumulativeCount: count})
}
