package pushgatewayexporter

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/proto"
)

// gaugePoint is a gauge's or counter's point; labels are name, value
// pairs, sorted.
func gaugePoint(ts pcommon.Timestamp, value float64, labels ...string) point {
	var pairs []*dto.LabelPair
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return point{time: ts, value: value, labels: labelSetOf(pairs)}
}

func gaugeFamily(name string, points ...point) family {
	return family{name: name, typ: dto.MetricType_GAUGE, points: points}
}

// snapshotValues flattens a group's snapshot to name{labels} → value.
func snapshotValues(g *groupState) map[string]float64 {
	out := map[string]float64{}
	for _, mf := range g.snapshot() {
		for _, m := range mf.GetMetric() {
			id := mf.GetName() + labelSignature(m.GetLabel())
			switch {
			case m.Gauge != nil:
				out[id] = m.GetGauge().GetValue()
			case m.Counter != nil:
				out[id] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

var testKey = groupKey{{jobLabel, "etl"}}

// testWriter is the one writer of the tests that need no other.
var testWriter = writerOf(pcommon.NewResource())

func TestStateLatestPointWins(t *testing.T) {
	s := newGroupStates(0, 0)
	res := s.apply(testKey, testWriter, []family{gaugeFamily("g",
		gaugePoint(20, 2, "a", "x"),
		gaugePoint(10, 1, "a", "x"), // older duplicate in the same batch: ignored
		gaugePoint(30, 3, "a", "y"),
		gaugePoint(30, 4, "a", "y"), // same time: the later one in the batch wins
	)})
	require.NotNil(t, res.group)
	assert.Equal(t, map[string]float64{"ga\xffx\xff": 2, "ga\xffy\xff": 4}, snapshotValues(res.group))

	// A replayed older batch does not regress anything; a newer point does.
	s.apply(testKey, testWriter, []family{gaugeFamily("g", gaugePoint(15, 9, "a", "x"), gaugePoint(40, 5, "a", "y"))})
	assert.Equal(t, map[string]float64{"ga\xffx\xff": 2, "ga\xffy\xff": 5}, snapshotValues(res.group))
	assert.Equal(t, int64(2), s.series.Load())
}

func TestStateKeepsSeriesOfOtherBatches(t *testing.T) {
	s := newGroupStates(0, 0)
	s.apply(testKey, testWriter, []family{gaugeFamily("a", gaugePoint(1, 1))})
	res := s.apply(testKey, testWriter, []family{gaugeFamily("b", gaugePoint(1, 2))})
	other := s.apply(groupKey{{jobLabel, "other"}}, testWriter, []family{gaugeFamily("c", gaugePoint(1, 3))})

	assert.Equal(t, map[string]float64{"a": 1, "b": 2}, snapshotValues(res.group), "a push carries the whole group")
	assert.Equal(t, map[string]float64{"c": 3}, snapshotValues(other.group))
}

func TestStateTypeChangeReplacesFamily(t *testing.T) {
	s := newGroupStates(0, 0)
	s.apply(testKey, testWriter, []family{gaugeFamily("m", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"))})
	counter := family{name: "m", typ: dto.MetricType_COUNTER, points: []point{gaugePoint(2, 5)}}
	res := s.apply(testKey, testWriter, []family{counter})

	snap := res.group.snapshot()
	require.Len(t, snap, 1)
	assert.Equal(t, dto.MetricType_COUNTER, snap[0].GetType())
	assert.Len(t, snap[0].GetMetric(), 1)
	assert.Equal(t, int64(1), s.series.Load())
}

func TestStateMaxSeries(t *testing.T) {
	s := newGroupStates(2, 0)
	res := s.apply(testKey, testWriter, []family{gaugeFamily("g", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"), gaugePoint(1, 1, "a", "3"))})
	assert.Equal(t, 1, res.refused)
	assert.Equal(t, int64(2), s.series.Load())

	// Held series keep updating at the limit.
	res = s.apply(testKey, testWriter, []family{gaugeFamily("g", gaugePoint(2, 7, "a", "1"))})
	assert.Zero(t, res.refused)
	assert.Equal(t, 7.0, snapshotValues(res.group)["ga\xff1\xff"])

	// A new group cannot be made at the limit, and nothing is left behind.
	res = s.apply(groupKey{{jobLabel, "new"}}, testWriter, []family{gaugeFamily("g", gaugePoint(1, 1))})
	assert.Nil(t, res.group)
	assert.Equal(t, 1, res.refused)
	assert.Len(t, s.groups, 1)
}

func TestStateSnapshotIsSorted(t *testing.T) {
	s := newGroupStates(0, 0)
	res := s.apply(testKey, testWriter, []family{
		gaugeFamily("zeta", gaugePoint(1, 1, "b", "2"), gaugePoint(1, 1, "b", "1"), gaugePoint(1, 1, "a", "9")),
		gaugeFamily("alpha", gaugePoint(1, 1)),
	})
	snap := res.group.snapshot()
	require.Len(t, snap, 2)
	assert.Equal(t, "alpha", snap[0].GetName())
	var sigs []string
	for _, m := range snap[1].GetMetric() {
		sigs = append(sigs, labelSignature(m.GetLabel()))
	}
	assert.Equal(t, []string{"a\xff9\xff", "b\xff1\xff", "b\xff2\xff"}, sigs)
}

func TestStateMaxSeriesPerGroup(t *testing.T) {
	s := newGroupStates(0, 2)
	res := s.apply(testKey, testWriter, []family{gaugeFamily("g", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"), gaugePoint(1, 1, "a", "3"))})
	assert.Equal(t, 1, res.refusedInGroup)
	assert.Zero(t, res.refused)

	// Another group has its own allowance; a type change frees the old
	// family's series.
	other := s.apply(groupKey{{jobLabel, "other"}}, testWriter, []family{gaugeFamily("g", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"))})
	assert.Zero(t, other.refusedInGroup)
	counter := family{name: "g", typ: dto.MetricType_COUNTER, points: []point{
		gaugePoint(2, 1),
		gaugePoint(2, 1, "b", "1"),
	}}
	res = s.apply(testKey, testWriter, []family{counter})
	assert.Zero(t, res.refusedInGroup)
	assert.Equal(t, 2, res.group.series)
	assert.Equal(t, int64(4), s.series.Load())
}

func TestStateRefusesNamesTheGatewayWouldRefuse(t *testing.T) {
	hist := func(name string) family {
		return family{name: name, typ: dto.MetricType_HISTOGRAM, points: []point{{time: 1, metric: &dto.Metric{Histogram: &dto.Histogram{}}, labels: labelSetOf(nil)}}}
	}
	other := groupKey{{jobLabel, "other"}}

	s := newGroupStates(0, 0)
	res := s.apply(testKey, testWriter, []family{hist("latency"), gaugeFamily("latency_count", gaugePoint(1, 1)), gaugeFamily("latency_bucket", gaugePoint(1, 1))})
	assert.Equal(t, []drop{
		{metric: "latency_count", reason: dropNameConflict, points: 1},
		{metric: "latency_bucket", reason: dropNameConflict, points: 1},
	}, res.drops, "a histogram owns its _count and _bucket")

	res = s.apply(other, testWriter, []family{gaugeFamily("latency", gaugePoint(1, 1)), gaugeFamily("latency_sum", gaugePoint(1, 1))})
	assert.Equal(t, []drop{
		{metric: "latency", reason: dropNameConflict, points: 1},
		{metric: "latency_sum", reason: dropNameConflict, points: 1},
	}, res.drops, "one name has one type across groups")
	assert.Nil(t, res.group)

	// The same type in another group is fine.
	res = s.apply(other, testWriter, []family{hist("latency")})
	assert.Empty(t, res.drops)
	require.NotNil(t, res.group)

	// A group may change a family's type only while no other group holds
	// the name.
	res = s.apply(testKey, testWriter, []family{gaugeFamily("latency", gaugePoint(2, 1))})
	assert.Equal(t, []drop{{metric: "latency", reason: dropNameConflict, points: 1}}, res.drops)
	solo := s.apply(groupKey{{jobLabel, "solo"}}, testWriter, []family{gaugeFamily("mood", gaugePoint(1, 1))})
	require.NotNil(t, solo.group)
	res = s.apply(groupKey{{jobLabel, "solo"}}, testWriter, []family{hist("mood")})
	assert.Empty(t, res.drops)
	assert.Equal(t, dto.MetricType_HISTOGRAM, res.group.snapshot()[0].GetType())
}

func TestStateFindsSeriesWhateverTheBatchOrder(t *testing.T) {
	s := newGroupStates(0, 0)
	one, two := gaugePoint(0, 0, "a", "1").labels, gaugePoint(0, 0, "a", "2").labels
	at := func(ts pcommon.Timestamp, value float64, labels *labelSet) point {
		return point{time: ts, value: value, labels: labels}
	}
	s.apply(testKey, testWriter, []family{gaugeFamily("g", at(1, 1, one), at(1, 2, two))})
	// The last batch's order and label sets; then the other order; then
	// label sets made afresh (as when the label cache started afresh)
	// with a point fewer.
	s.apply(testKey, testWriter, []family{gaugeFamily("g", at(2, 10, one), at(2, 20, two))})
	res := s.apply(testKey, testWriter, []family{gaugeFamily("g", at(3, 200, two), at(3, 100, one))})
	assert.Equal(t, map[string]float64{"ga\xff1\xff": 100, "ga\xff2\xff": 200}, snapshotValues(res.group))
	requireIndexed(t, res.group)
	res = s.apply(testKey, testWriter, []family{gaugeFamily("g", gaugePoint(4, 2000, "a", "2"))})
	assert.Equal(t, map[string]float64{"ga\xff1\xff": 100, "ga\xff2\xff": 2000}, snapshotValues(res.group))
	requireIndexed(t, res.group)
	assert.Equal(t, int64(2), s.series.Load())
}

// requireIndexed checks that every series of the group is where its
// family's index says.
func requireIndexed(t *testing.T, g *groupState) {
	t.Helper()
	for name, fs := range g.families {
		require.Len(t, fs.index, len(fs.series), "family %q", name)
		for i, held := range fs.series {
			require.Equal(t, int32(i), fs.index[held.labels.sig], "family %q: series %q", name, held.labels.sig)
		}
	}
}
