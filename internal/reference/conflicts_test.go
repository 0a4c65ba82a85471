package reference

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func groupOf(job string, build func(*resourceBuilder)) *batchBuilder {
	b := newBatch()
	build(b.resource("service.name", job))
	return b
}

var latHist = func(r *resourceBuilder) {
	r.histogram("lat", hist{temp: cum, t: 10, bounds: []float64{1}, counts: []uint64{1, 0}, count: 1, sum: 0.5})
}

var latValue = Value{Count: 1, Sum: 0.5, Buckets: []Bucket{{1, 1}, {inf, 1}}}

func TestNameConflicts(t *testing.T) {
	aLat := Gateway{`{job="a"}`: {"lat": one(dto.MetricType_HISTOGRAM, latValue)}}

	t.Run("a name a histogram of another group owns", func(t *testing.T) {
		m := run(t, Config{},
			step{0, groupOf("a", latHist), aLat},
			step{1, groupOf("b", func(r *resourceBuilder) { r.gauge("lat.count", 10, 1) }), aLat},
		)
		assert.Equal(t, map[string]int{"name_conflict": 1}, m.Counts())
	})
	t.Run("a histogram owning a name another group holds", func(t *testing.T) {
		bCount := Gateway{`{job="b"}`: {"lat_sum": one(dto.MetricType_GAUGE, num(1))}}
		m := run(t, Config{},
			step{0, groupOf("b", func(r *resourceBuilder) { r.gauge("lat.sum", 10, 1) }), bCount},
			step{1, groupOf("a", latHist), bCount},
		)
		assert.Equal(t, map[string]int{"name_conflict": 1}, m.Counts())
	})
	t.Run("one name with two types across groups, the first batch's group first", func(t *testing.T) {
		b := newBatch()
		b.resource("service.name", "a").gauge("x", 10, 1)
		b.resource("service.name", "b").histogram("x", hist{temp: cum, t: 10, count: 1})
		m := run(t, Config{}, step{0, b, Gateway{`{job="a"}`: {"x": one(dto.MetricType_GAUGE, num(1))}}})
		assert.Equal(t, map[string]int{"name_conflict": 1}, m.Counts())
	})
	t.Run("a group the gateway held before", func(t *testing.T) {
		m := New(Config{})
		held := &dto.MetricFamily{Name: ptr("lat"), Type: dto.MetricType_SUMMARY.Enum(),
			Metric: []*dto.Metric{encodeMetric(dto.MetricType_SUMMARY, nil, Value{Count: 1})}}
		require.NoError(t, m.Preload(`{job="old"}`, []*dto.MetricFamily{held}))
		m.Export(at(0), groupOf("b", func(r *resourceBuilder) { r.gauge("lat.sum", 10, 1).gauge("lat.bucket", 10, 1) }).md)
		assert.Equal(t, []string{"lat_bucket"}, sortedKeys(m.Gateway()[`{job="b"}`]), "a summary does not own _bucket")
		assert.Equal(t, map[string]int{"name_conflict": 1}, m.Counts())
	})
	t.Run("a group the exporter forgot still holds its names at the gateway", func(t *testing.T) {
		m := run(t, Config{StateTTL: 10 * time.Second},
			step{0, groupOf("a", latHist), aLat},
			step{20, nil, aLat},
			step{21, groupOf("b", func(r *resourceBuilder) { r.gauge("lat.bucket", 10, 1) }), aLat},
		)
		assert.Equal(t, map[string]int{"name_conflict": 1}, m.Counts())
	})
	t.Run("within a group, the family that arrived first keeps the name", func(t *testing.T) {
		m := run(t, Config{},
			step{0, groupOf("a", func(r *resourceBuilder) { r.gauge("lat.count", 10, 1); latHist(r) }),
				Gateway{`{job="a"}`: {"lat_count": one(dto.MetricType_GAUGE, num(1))}}},
			step{1, groupOf("a", func(r *resourceBuilder) { latHist(r) }),
				Gateway{`{job="a"}`: {"lat_count": one(dto.MetricType_GAUGE, num(1))}}},
		)
		assert.Equal(t, map[string]int{"name_conflict": 2}, m.Counts())
	})
	t.Run("a group may change a family's type while no other group holds the name", func(t *testing.T) {
		run(t, Config{},
			step{0, groupOf("a", func(r *resourceBuilder) { r.gauge("lat", 10, 1).gauge("up", 10, 1) }), nil},
			step{1, groupOf("a", latHist), Gateway{`{job="a"}`: {"lat": one(dto.MetricType_HISTOGRAM, latValue), "up": one(dto.MetricType_GAUGE, num(1))}}},
		)
		b := newBatch()
		b.resource("service.name", "a").gauge("lat", 10, 1)
		b.resource("service.name", "b").gauge("lat", 10, 2)
		held := Gateway{`{job="a"}`: {"lat": one(dto.MetricType_GAUGE, num(1))}, `{job="b"}`: {"lat": one(dto.MetricType_GAUGE, num(2))}}
		m := run(t, Config{}, step{0, b, held}, step{1, groupOf("a", latHist), held})
		assert.Equal(t, map[string]int{"name_conflict": 1}, m.Counts())
	})
	t.Run("post: against the group's own families its push does not carry", func(t *testing.T) {
		before := func(r *resourceBuilder) { r.gauge("lat.count", 10, 1).gauge("up", 10, 1) }
		end := func(r *resourceBuilder) { r.gaugeMarker("lat.count", 11); latHist(r) }
		m := run(t, Config{Method: "post"},
			step{0, groupOf("a", before), nil},
			step{1, groupOf("a", end), Gateway{`{job="a"}`: {"lat_count": one(dto.MetricType_GAUGE, num(1)), "up": one(dto.MetricType_GAUGE, num(1))}}},
		)
		assert.Equal(t, map[string]int{"name_conflict": 1, "no_recorded_value": 1}, m.Counts())

		// With put, the group's previous content does not count.
		run(t, Config{Method: "put"},
			step{0, groupOf("a", before), nil},
			step{1, groupOf("a", end), Gateway{`{job="a"}`: {"lat": one(dto.MetricType_HISTOGRAM, latValue), "up": one(dto.MetricType_GAUGE, num(1))}}},
		)
	})
}
