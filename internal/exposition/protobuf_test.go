package exposition

import (
	"bytes"
	"fmt"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// TestProtobufWriterLeavesToExpfmt checks that a held metric with a field
// the protobuf writer does not write (an exemplar) makes it write nothing,
// and that the push is then expfmt's.
func TestProtobufWriterLeavesToExpfmt(t *testing.T) {
	l := labelSet("k", "v")
	native := &dto.Metric{Label: l.Labels, Histogram: &dto.Histogram{
		SampleCount: proto.Uint64(1), SampleSum: proto.Float64(1), Schema: proto.Int32(0),
		ZeroThreshold: proto.Float64(0), ZeroCount: proto.Uint64(1),
		Exemplars: []*dto.Exemplar{{Value: proto.Float64(1)}},
	}}
	views := groupViews(familyView("h", "", dto.MetricType_HISTOGRAM, prom.Series{Labels: l, Native: native}))
	var buf bytes.Buffer
	ok := writeProtobuf(&buf, views, true)
	require.False(t, ok)
	require.Zero(t, buf.Len(), "nothing written")

	require.NoError(t, Encoder{Format: Protobuf, Native: true}.Encode(&buf, views))
	want := expfmtEncode(t, Snapshot(views), Protobuf)
	assert.Equal(t, want, buf.Bytes(), "the generic encoder took over")
	assert.NotZero(t, buf.Len(), fmt.Sprint(buf.Bytes()))
}
