package state

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

func TestNamesOfGroupsTheGatewayKeepsStayClaimed(t *testing.T) {
	now := time.Unix(1000, 0)
	s := New(Options{Now: func() time.Time { return now }})
	counter := prom.Family{Name: "x", Type: dto.MetricType_COUNTER, Points: []prom.Point{gaugePoint(1, 1)}}
	a := prom.GroupKey{{Name: prom.JobLabel, Value: "a"}}
	b := prom.GroupKey{{Name: prom.JobLabel, Value: "b"}}
	c := prom.GroupKey{{Name: prom.JobLabel, Value: "c"}}

	res := s.Apply(a, testWriter, []prom.Family{gaugeFamily("x", gaugePoint(1, 1))})
	require.True(t, s.Remove(res.Group, now, true), "forgotten after state_ttl: the gateway keeps it")
	res = s.Apply(b, testWriter, []prom.Family{counter})
	assert.Equal(t, []prom.Drop{{Metric: "x", Reason: prom.DropNameConflict, Points: 1}}, res.Drops,
		"the gateway still holds a's gauge x")

	res = s.Apply(b, testWriter, []prom.Family{gaugeFamily("y", gaugePoint(1, 1))})
	require.True(t, s.Remove(res.Group, now, false), "deleted at the gateway (group_ttl)")
	res = s.Apply(c, testWriter, []prom.Family{{Name: "y", Type: dto.MetricType_COUNTER, Points: []prom.Point{gaugePoint(1, 1)}}})
	assert.Empty(t, res.Drops, "nothing holds y any more")
}

func TestNamesTheGatewayHeldAtStart(t *testing.T) {
	n := newGatewayNames()
	_, conflict := n.learn("x", dto.MetricType_GAUGE)
	assert.False(t, conflict)
	known, conflict := n.learn("x", dto.MetricType_COUNTER)
	assert.True(t, conflict, "two groups at the gateway disagree")
	assert.Equal(t, dto.MetricType_GAUGE, known)
	n.learn("h", dto.MetricType_HISTOGRAM)

	assert.False(t, n.claim("x", dto.MetricType_COUNTER, false))
	assert.True(t, n.claim("x", dto.MetricType_GAUGE, false))
	assert.False(t, n.claim("h_bucket", dto.MetricType_GAUGE, false), "a histogram held at the gateway owns h_bucket")
	n.release("x", false)
	assert.False(t, n.claim("x", dto.MetricType_COUNTER, false), "learned names stay: the gateway keeps them")
}
