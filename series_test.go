package pushgatewayexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// ended marks the last point added to r as having no recorded value.
func (r *testResource) ended() *testResource {
	m := r.ms.At(r.ms.Len() - 1)
	flags := pmetric.DefaultDataPointFlags.WithNoRecordedValue(true)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		m.Gauge().DataPoints().At(0).SetFlags(flags)
	case pmetric.MetricTypeSum:
		m.Sum().DataPoints().At(0).SetFlags(flags)
	case pmetric.MetricTypeHistogram:
		m.Histogram().DataPoints().At(0).SetFlags(flags)
	}
	return r
}

func TestNoRecordedValueEndsItsSeries(t *testing.T) {
	states := newGroupStates(0, 0)
	w := newWriterFold(t, states)
	w.from(nil, func(r *testResource) {
		r.gauge("up", "", 10, 1, map[string]any{"target": "a"}).gauge("up", "", 10, 1, map[string]any{"target": "b"})
	})
	require.Len(t, w.values(), 2)

	res := w.from(nil, func(r *testResource) { r.gauge("up", "", 5, 0, map[string]any{"target": "a"}).ended() })
	assert.Len(t, res.stale, 1, "a marker older than the series' point is stale")
	res = w.from(nil, func(r *testResource) { r.gauge("up", "", 20, 0, map[string]any{"target": "a"}).ended() })
	assert.Equal(t, 1, res.ended)
	assert.Equal(t, map[string]float64{"up" + gaugePoint(0, 0, "target", "b").labels.sig: 1}, w.values(), "the next push no longer carries it")
	assert.Equal(t, int64(1), states.series.Load())

	res = w.from(nil, func(r *testResource) { r.gauge("down", "", 20, 0, nil).ended() })
	assert.Zero(t, res.ended, "the end of a series never held creates nothing")
	assert.NotContains(t, states.groups[groupKey{{jobLabel, "etl"}}.id()].families, "down")
	res = w.from(nil, func(r *testResource) { r.gauge("up", "", 20, 0, map[string]any{"target": "c"}).ended() })
	assert.Zero(t, res.ended)
	assert.Len(t, w.values(), 1, "nor in a family held")

	// The group's last series ends: the group is left empty, to be
	// deleted at the gateway and forgotten.
	res = w.from(nil, func(r *testResource) { r.gauge("up", "", 30, 0, map[string]any{"target": "b"}).ended() })
	assert.Nil(t, res.group)
	assert.NotNil(t, res.emptied)
	assert.Empty(t, states.groups)
	assert.Zero(t, states.series.Load())
}

func TestSeriesTTLRemovesSeriesTheGroupGoesOnWithout(t *testing.T) {
	now := time.Unix(1000, 0)
	states := newGroupStates(0, 0).withSeriesTTL(time.Minute).withClock(func() time.Time { return now })
	w := newWriterFold(t, states)
	w.from(nil, func(r *testResource) { r.gauge("g", "", 1, 1, map[string]any{"pid": 1}).gauge("h", "", 1, 1, nil) })

	now = now.Add(50 * time.Second)
	w.from(nil, func(r *testResource) { r.gauge("g", "", 2, 2, map[string]any{"pid": 2}).gauge("h", "", 2, 2, nil) })
	assert.Len(t, w.values(), 3, "pid 1 is 50s old: kept")

	now = now.Add(20 * time.Second)
	res := w.from(nil, func(r *testResource) { r.gauge("g", "", 3, 3, map[string]any{"pid": 2}).gauge("h", "", 3, 3, nil) })
	assert.Equal(t, 1, res.expired)
	assert.Equal(t, map[string]float64{
		"g" + gaugePoint(0, 0, "pid", "2").labels.sig: 3,
		"h": 3,
	}, w.values(), "pid 1 had no point for 70s while the group went on: removed")
	assert.Equal(t, int64(2), states.series.Load())

	// A group that receives nothing keeps everything: nothing runs for it.
	now = now.Add(time.Hour)
	assert.Len(t, w.values(), 2)
}

func TestAGroupIsMadeOnlyForAcceptedFamilies(t *testing.T) {
	states := newGroupStates(0, 0)
	states.apply(groupKey{{jobLabel, "a"}}, testWriter, []family{gaugeFamily("x", gaugePoint(1, 1))})
	// Group b's only family conflicts with a's x (another type): refused.
	counter := family{name: "x", typ: 2, points: []point{gaugePoint(1, 1)}} // COUNTER
	res := states.apply(groupKey{{jobLabel, "b"}}, testWriter, []family{counter})
	assert.Len(t, res.drops, 1)
	assert.Nil(t, res.group, "nothing to push")
	require.NotNil(t, res.emptied)
	assert.True(t, states.removeEmpty(res.emptied))
	assert.Equal(t, 1, states.groupCount())
}
