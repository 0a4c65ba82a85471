package pushgatewayexporter

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNamesOfGroupsTheGatewayKeepsStayClaimed(t *testing.T) {
	now := time.Unix(1000, 0)
	s := newGroupStates(0, 0).withClock(func() time.Time { return now })
	counter := family{name: "x", typ: dto.MetricType_COUNTER, points: []point{gaugePoint(1, 1)}}
	a, b, c := groupKey{{jobLabel, "a"}}, groupKey{{jobLabel, "b"}}, groupKey{{jobLabel, "c"}}

	res := s.apply(a, testWriter, []family{gaugeFamily("x", gaugePoint(1, 1))})
	require.True(t, s.remove(res.group, now, true), "forgotten after state_ttl: the gateway keeps it")
	res = s.apply(b, testWriter, []family{counter})
	assert.Equal(t, []drop{{metric: "x", reason: dropNameConflict, points: 1}}, res.drops,
		"the gateway still holds a's gauge x")

	res = s.apply(b, testWriter, []family{gaugeFamily("y", gaugePoint(1, 1))})
	require.True(t, s.remove(res.group, now, false), "deleted at the gateway (group_ttl)")
	res = s.apply(c, testWriter, []family{{name: "y", typ: dto.MetricType_COUNTER, points: []point{gaugePoint(1, 1)}}})
	assert.Empty(t, res.drops, "nothing holds y any more")
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
