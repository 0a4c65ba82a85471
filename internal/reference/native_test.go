package reference

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestReduceIndex(t *testing.T) {
	// Native n at schema s holds (b^(n-1), b^n]; at s-1 bucket m holds
	// (b^(2m-2), b^(2m)]. So 1 and 2 → 1, 3 → 2, 0 and -1 → 0, -2 and -3 → -1.
	for n, want := range map[int64]int64{0: 0, 1: 1, 2: 1, 3: 2, 4: 2, -1: 0, -2: -1, -3: -1, -4: -2} {
		assert.Equal(t, want, reduceIndex(n), "n=%d", n)
	}
}

func TestNativeBound(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int64
		schema int32
		want   float64
	}{
		{"schema 0, 2^1", 1, 0, 2},
		{"schema 0, 2^-1", -1, 0, 0.5},
		{"schema 1, sqrt 2", 1, 1, math.Sqrt2},
		{"schema 1, 2^1", 2, 1, 2},
		{"schema 1, 2^-1.5", -3, 1, 1 / (2 * math.Sqrt2)},
		{"schema -2, 2^20", 5, -2, 1 << 20},
		{"schema 8, 2^(1/256)", 1, 8, math.Pow(2, 1.0/256)},
		{"beyond float64", 2000, 0, math.Inf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.True(t, floatsEqual(tc.want, nativeBound(tc.n, tc.schema)), "got %v", nativeBound(tc.n, tc.schema))
		})
	}
}

func TestClassicFromNative(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name   string
		native Native
		count  uint64
		want   []Bucket
	}{
		{
			// negative n=1 is OTLP 0: [-2,-1), le -1; zero bucket le 0;
			// positive n=1 (1,2] le 2, n=3 (4,8] le 8.
			name:   "both sides and the zero bucket",
			native: Native{Schema: 0, ZeroCount: 1, Positive: map[int32]uint64{1: 2, 3: 1}, Negative: map[int32]uint64{1: 1}},
			count:  5,
			want:   []Bucket{{-1, 1}, {0, 2}, {2, 4}, {8, 5}, {inf, 5}},
		},
		{
			name:   "a bound beyond float64 folds into +Inf",
			native: Native{Schema: 0, ZeroThreshold: 0.5, Positive: map[int32]uint64{0: 1, 2000: 3}},
			count:  4,
			want:   []Bucket{{0.5, 0}, {1, 1}, {inf, 4}},
		},
		{
			name:   "a negative bound beyond float64 folds into the next bucket",
			native: Native{Schema: 0, Negative: map[int32]uint64{2000: 2, 1: 1}},
			count:  3,
			want:   []Bucket{{-1, 3}, {0, 3}, {inf, 3}},
		},
		{
			// positive n=0 is (0.5,1], le 1 = the zero threshold: they merge.
			name:   "equal bounds merge",
			native: Native{Schema: 0, ZeroThreshold: 1, ZeroCount: 2, Positive: map[int32]uint64{0: 1}},
			count:  3,
			want:   []Bucket{{1, 3}, {inf, 3}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classicFromNative(&tc.native, tc.count)
			assert.True(t, valuesEqual(Value{Buckets: tc.want}, Value{Buckets: got}), "got %v", got)
		})
	}
}

func TestAddNative(t *testing.T) {
	t.Run("at the coarser schema", func(t *testing.T) {
		a := &Native{Schema: 2, ZeroCount: 1, Positive: map[int32]uint64{4: 1, 5: 2}}
		b := &Native{Schema: 1, ZeroCount: 2, Positive: map[int32]uint64{2: 1}, Negative: map[int32]uint64{-1: 1}}
		// At schema 1: 4 → 2, 5 → 3.
		got := addNative(a, b)
		assert.Equal(t, &Native{Schema: 1, ZeroCount: 3, Positive: map[int32]uint64{2: 2, 3: 2}, Negative: map[int32]uint64{-1: 1}}, got)
	})
	t.Run("C5: a span beyond 16384 buckets reduces the schema until it fits", func(t *testing.T) {
		// OTLP -8503 and +8503 at scale 8 are native -8502 and 8504: 17007
		// buckets apart. At schema 7 they are -4251 and 4252: 8504.
		a := &Native{Schema: 8, Positive: map[int32]uint64{-8502: 1}}
		b := &Native{Schema: 8, Positive: map[int32]uint64{8504: 1}}
		got := addNative(a, b)
		assert.Equal(t, &Native{Schema: 7, Positive: map[int32]uint64{-4251: 1, 4252: 1}, Negative: map[int32]uint64{}}, got)
	})
	t.Run("never below schema -4", func(t *testing.T) {
		a := &Native{Schema: -4, Positive: map[int32]uint64{-1 << 30: 1}}
		b := &Native{Schema: -4, Positive: map[int32]uint64{1 << 30: 1}}
		assert.Equal(t, int32(-4), addNative(a, b).Schema)
	})
}

func TestSubNative(t *testing.T) {
	q := &Native{Schema: 1, ZeroCount: 3, Positive: map[int32]uint64{1: 4, 2: 2}}
	p := &Native{Schema: 2, ZeroCount: 1, Positive: map[int32]uint64{1: 1, 2: 1, 3: 1}}
	// p at schema 1: 1 → 1, 2 → 1, 3 → 2: {1: 2, 2: 1}.
	got, down := subNative(q, p)
	assert.False(t, down)
	assert.Equal(t, &Native{Schema: 1, ZeroCount: 2, Positive: map[int32]uint64{1: 2, 2: 1}, Negative: map[int32]uint64{}}, got)

	_, down = subNative(p, q)
	assert.True(t, down)
}
