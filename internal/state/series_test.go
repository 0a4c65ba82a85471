package state

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
)

func TestNoRecordedValueEndsItsSeries(t *testing.T) {
	states := New(Options{})
	w := newWriterFold(t, states)
	w.from(nil, func(r *testbatch.Resource) {
		r.Gauge("up", "", 10, 1, map[string]any{"target": "a"}).Gauge("up", "", 10, 1, map[string]any{"target": "b"})
	})
	require.Len(t, w.values(), 2)

	res := w.from(nil, func(r *testbatch.Resource) { r.Gauge("up", "", 5, 0, map[string]any{"target": "a"}).Ended() })
	assert.Len(t, res.Stale, 1, "a marker older than the series' point is stale")
	res = w.from(nil, func(r *testbatch.Resource) { r.Gauge("up", "", 20, 0, map[string]any{"target": "a"}).Ended() })
	assert.Equal(t, 1, res.Ended)
	assert.Equal(t, map[string]float64{"up" + gaugePoint(0, 0, "target", "b").Labels.Sig: 1}, w.values(), "the next push no longer carries it")
	assert.Equal(t, int64(1), states.SeriesCount())

	res = w.from(nil, func(r *testbatch.Resource) { r.Gauge("down", "", 20, 0, nil).Ended() })
	assert.Zero(t, res.Ended, "the end of a series never held creates nothing")
	assert.NotContains(t, w.group().families, "down")
	res = w.from(nil, func(r *testbatch.Resource) { r.Gauge("up", "", 20, 0, map[string]any{"target": "c"}).Ended() })
	assert.Zero(t, res.Ended)
	assert.Len(t, w.values(), 1, "nor in a family held")

	// The group's last series ends: the group is left empty, to be
	// deleted at the gateway and forgotten.
	res = w.from(nil, func(r *testbatch.Resource) { r.Gauge("up", "", 30, 0, map[string]any{"target": "b"}).Ended() })
	assert.Nil(t, res.Group)
	assert.NotNil(t, res.Emptied)
	assert.Empty(t, states.groups)
	assert.Zero(t, states.SeriesCount())
}

func TestSeriesTTLRemovesSeriesTheGroupGoesOnWithout(t *testing.T) {
	now := time.Unix(1000, 0)
	states := New(Options{SeriesTTL: time.Minute, Now: func() time.Time { return now }})
	w := newWriterFold(t, states)
	w.from(nil, func(r *testbatch.Resource) {
		r.Gauge("g", "", 1, 1, map[string]any{"pid": 1}).Gauge("h", "", 1, 1, nil)
	})

	now = now.Add(50 * time.Second)
	w.from(nil, func(r *testbatch.Resource) {
		r.Gauge("g", "", 2, 2, map[string]any{"pid": 2}).Gauge("h", "", 2, 2, nil)
	})
	assert.Len(t, w.values(), 3, "pid 1 is 50s old: kept")

	now = now.Add(20 * time.Second)
	res := w.from(nil, func(r *testbatch.Resource) {
		r.Gauge("g", "", 3, 3, map[string]any{"pid": 2}).Gauge("h", "", 3, 3, nil)
	})
	assert.Equal(t, 1, res.Expired)
	assert.Equal(t, map[string]float64{
		"g" + gaugePoint(0, 0, "pid", "2").Labels.Sig: 3,
		"h": 3,
	}, w.values(), "pid 1 had no point for 70s while the group went on: removed")
	assert.Equal(t, int64(2), states.SeriesCount())

	// A group that receives nothing keeps everything: nothing runs for it.
	now = now.Add(time.Hour)
	assert.Len(t, w.values(), 2)
}

func TestAGroupIsMadeOnlyForAcceptedFamilies(t *testing.T) {
	states := New(Options{})
	states.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "a"}}, testWriter, []prom.Family{gaugeFamily("x", gaugePoint(1, 1))})
	// Group b's only family conflicts with a's x (another type): refused.
	counter := prom.Family{Name: "x", Type: dto.MetricType_COUNTER, Points: []prom.Point{gaugePoint(1, 1)}}
	res := states.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "b"}}, testWriter, []prom.Family{counter})
	assert.Len(t, res.Drops, 1)
	assert.Nil(t, res.Group, "nothing to push")
	require.NotNil(t, res.Emptied)
	assert.True(t, states.RemoveEmpty(res.Emptied))
	assert.Equal(t, 1, states.GroupCount())
}
