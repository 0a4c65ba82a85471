package state

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// gaugePoint is a gauge's or counter's point; labels are name, value
// pairs, sorted.
func gaugePoint(ts pcommon.Timestamp, value float64, labels ...string) prom.Point {
	var pairs []*dto.LabelPair
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return prom.Point{Time: ts, Value: value, Labels: prom.NewLabelSet(pairs)}
}

func gaugeFamily(name string, points ...prom.Point) prom.Family {
	return prom.Family{Name: name, Type: dto.MetricType_GAUGE, Points: points}
}

// snapshotValues flattens what a group's Read hands out to
// name{labels} → value, for its gauges and counters.
func snapshotValues(t *testing.T, g *Group) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	require.NoError(t, g.Read(func(views []prom.FamilyView) error {
		for _, v := range views {
			if !v.Numeric() {
				continue
			}
			for _, idx := range v.Order {
				out[v.Name+v.Series[idx].Labels.Sig] = v.Series[idx].Value
			}
		}
		return nil
	}))
	return out
}

// snapshot is the group's families as the encoders write them.
func snapshot(t *testing.T, g *Group) []*dto.MetricFamily {
	t.Helper()
	var fams []*dto.MetricFamily
	require.NoError(t, g.Read(func(views []prom.FamilyView) error {
		fams = exposition.Snapshot(views)
		return nil
	}))
	return fams
}

var testKey = prom.GroupKey{{Name: prom.JobLabel, Value: "etl"}}

// testWriter is the one writer of the tests that need no other.
var testWriter = WriterOf(pcommon.NewResource())

func TestStateLatestPointWins(t *testing.T) {
	s := New(Options{})
	res := s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g",
		gaugePoint(20, 2, "a", "x"),
		gaugePoint(10, 1, "a", "x"), // older duplicate in the same batch: ignored
		gaugePoint(30, 3, "a", "y"),
		gaugePoint(30, 4, "a", "y"), // same time: the later one in the batch wins
	)})
	require.NotNil(t, res.Group)
	assert.Equal(t, map[string]float64{"ga\xffx\xff": 2, "ga\xffy\xff": 4}, snapshotValues(t, res.Group))

	// A replayed older batch does not regress anything; a newer point does.
	s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(15, 9, "a", "x"), gaugePoint(40, 5, "a", "y"))})
	assert.Equal(t, map[string]float64{"ga\xffx\xff": 2, "ga\xffy\xff": 5}, snapshotValues(t, res.Group))
	assert.Equal(t, int64(2), s.SeriesCount())
}

func TestStateKeepsSeriesOfOtherBatches(t *testing.T) {
	s := New(Options{})
	s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("a", gaugePoint(1, 1))})
	res := s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("b", gaugePoint(1, 2))})
	other := s.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "other"}}, testWriter, []prom.Family{gaugeFamily("c", gaugePoint(1, 3))})

	assert.Equal(t, map[string]float64{"a": 1, "b": 2}, snapshotValues(t, res.Group), "a push carries the whole group")
	assert.Equal(t, map[string]float64{"c": 3}, snapshotValues(t, other.Group))
}

func TestStateTypeChangeReplacesFamily(t *testing.T) {
	s := New(Options{})
	s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("m", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"))})
	counter := prom.Family{Name: "m", Type: dto.MetricType_COUNTER, Points: []prom.Point{gaugePoint(2, 5)}}
	res := s.Apply(testKey, testWriter, []prom.Family{counter})

	snap := snapshot(t, res.Group)
	require.Len(t, snap, 1)
	assert.Equal(t, dto.MetricType_COUNTER, snap[0].GetType())
	assert.Len(t, snap[0].GetMetric(), 1)
	assert.Equal(t, int64(1), s.SeriesCount())
}

func TestStateMaxSeries(t *testing.T) {
	s := New(Options{MaxSeries: 2})
	res := s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"), gaugePoint(1, 1, "a", "3"))})
	assert.Equal(t, 1, res.Refused)
	assert.Equal(t, int64(2), s.SeriesCount())

	// Held series keep updating at the limit.
	res = s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(2, 7, "a", "1"))})
	assert.Zero(t, res.Refused)
	assert.Equal(t, 7.0, snapshotValues(t, res.Group)["ga\xff1\xff"])

	// A new group cannot be made at the limit, and nothing is left behind.
	res = s.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "new"}}, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(1, 1))})
	assert.Nil(t, res.Group)
	assert.Equal(t, 1, res.Refused)
	assert.Len(t, s.groups, 1)
}

func TestStateReadIsSorted(t *testing.T) {
	s := New(Options{})
	res := s.Apply(testKey, testWriter, []prom.Family{
		gaugeFamily("zeta", gaugePoint(1, 1, "b", "2"), gaugePoint(1, 1, "b", "1"), gaugePoint(1, 1, "a", "9")),
		gaugeFamily("alpha", gaugePoint(1, 1)),
	})
	var (
		names []string
		sigs  []string
	)
	require.NoError(t, res.Group.Read(func(views []prom.FamilyView) error {
		for _, v := range views {
			names = append(names, v.Name)
		}
		for _, idx := range views[len(views)-1].Order {
			sigs = append(sigs, views[len(views)-1].Series[idx].Labels.Sig)
		}
		return nil
	}))
	require.Len(t, names, 2)
	assert.Equal(t, "alpha", names[0])
	assert.Equal(t, []string{"a\xff9\xff", "b\xff1\xff", "b\xff2\xff"}, sigs)
}

func TestStateMaxSeriesPerGroup(t *testing.T) {
	s := New(Options{MaxSeriesPerGroup: 2})
	res := s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"), gaugePoint(1, 1, "a", "3"))})
	assert.Equal(t, 1, res.RefusedInGroup)
	assert.Zero(t, res.Refused)

	// Another group has its own allowance; a type change frees the old
	// family's series.
	other := s.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "other"}}, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(1, 1, "a", "1"), gaugePoint(1, 1, "a", "2"))})
	assert.Zero(t, other.RefusedInGroup)
	counter := prom.Family{Name: "g", Type: dto.MetricType_COUNTER, Points: []prom.Point{
		gaugePoint(2, 1),
		gaugePoint(2, 1, "b", "1"),
	}}
	res = s.Apply(testKey, testWriter, []prom.Family{counter})
	assert.Zero(t, res.RefusedInGroup)
	assert.Equal(t, 2, res.Group.series)
	assert.Equal(t, int64(4), s.SeriesCount())
}

func TestStateRefusesNamesTheGatewayWouldRefuse(t *testing.T) {
	hist := func(name string) prom.Family {
		return prom.Family{Name: name, Type: dto.MetricType_HISTOGRAM, Points: []prom.Point{
			{Time: 1, Native: &dto.Metric{Histogram: &dto.Histogram{}}, Labels: prom.NewLabelSet(nil)},
		}}
	}
	other := prom.GroupKey{{Name: prom.JobLabel, Value: "other"}}

	s := New(Options{})
	res := s.Apply(testKey, testWriter, []prom.Family{hist("latency"), gaugeFamily("latency_count", gaugePoint(1, 1)), gaugeFamily("latency_bucket", gaugePoint(1, 1))})
	assert.Equal(t, []prom.Drop{
		{Metric: "latency_count", Reason: prom.DropNameConflict, Points: 1},
		{Metric: "latency_bucket", Reason: prom.DropNameConflict, Points: 1},
	}, res.Drops, "a histogram owns its _count and _bucket")

	res = s.Apply(other, testWriter, []prom.Family{gaugeFamily("latency", gaugePoint(1, 1)), gaugeFamily("latency_sum", gaugePoint(1, 1))})
	assert.Equal(t, []prom.Drop{
		{Metric: "latency", Reason: prom.DropNameConflict, Points: 1},
		{Metric: "latency_sum", Reason: prom.DropNameConflict, Points: 1},
	}, res.Drops, "one name has one type across groups")
	assert.Nil(t, res.Group)

	// The same type in another group is fine.
	res = s.Apply(other, testWriter, []prom.Family{hist("latency")})
	assert.Empty(t, res.Drops)
	require.NotNil(t, res.Group)

	// A group may change a family's type only while no other group holds
	// the name.
	res = s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("latency", gaugePoint(2, 1))})
	assert.Equal(t, []prom.Drop{{Metric: "latency", Reason: prom.DropNameConflict, Points: 1}}, res.Drops)
	solo := s.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "solo"}}, testWriter, []prom.Family{gaugeFamily("mood", gaugePoint(1, 1))})
	require.NotNil(t, solo.Group)
	res = s.Apply(prom.GroupKey{{Name: prom.JobLabel, Value: "solo"}}, testWriter, []prom.Family{hist("mood")})
	assert.Empty(t, res.Drops)
	assert.Equal(t, dto.MetricType_HISTOGRAM, snapshot(t, res.Group)[0].GetType())
}

func TestStateFindsSeriesWhateverTheBatchOrder(t *testing.T) {
	s := New(Options{})
	one, two := gaugePoint(0, 0, "a", "1").Labels, gaugePoint(0, 0, "a", "2").Labels
	at := func(ts pcommon.Timestamp, value float64, labels *prom.LabelSet) prom.Point {
		return prom.Point{Time: ts, Value: value, Labels: labels}
	}
	s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", at(1, 1, one), at(1, 2, two))})
	// The last batch's order and label sets; then the other order; then
	// label sets made afresh (as when the label cache started afresh)
	// with a point fewer.
	s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", at(2, 10, one), at(2, 20, two))})
	res := s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", at(3, 200, two), at(3, 100, one))})
	assert.Equal(t, map[string]float64{"ga\xff1\xff": 100, "ga\xff2\xff": 200}, snapshotValues(t, res.Group))
	requireIndexed(t, res.Group)
	res = s.Apply(testKey, testWriter, []prom.Family{gaugeFamily("g", gaugePoint(4, 2000, "a", "2"))})
	assert.Equal(t, map[string]float64{"ga\xff1\xff": 100, "ga\xff2\xff": 2000}, snapshotValues(t, res.Group))
	requireIndexed(t, res.Group)
	assert.Equal(t, int64(2), s.SeriesCount())
}

// requireIndexed checks that every series of the group is where its
// family's index says, its value and its fold at the same place.
func requireIndexed(t *testing.T, g *Group) {
	t.Helper()
	for name, fs := range g.families {
		require.Len(t, fs.folds, len(fs.values), "family %q", name)
		require.Len(t, fs.index, len(fs.values), "family %q", name)
		for i, held := range fs.values {
			require.Equal(t, int32(i), fs.index[held.Labels.Sig], "family %q: series %q", name, held.Labels.Sig)
		}
	}
}
