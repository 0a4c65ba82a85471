package exposition

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// The families the encoders read, built as the state hands them out: the
// families sorted by name, each with its series' order by label signature
// and, for a gauge or counter, its protobuf size.

// labelSet makes a label set; pairs are name, value pairs, sorted.
func labelSet(pairs ...string) *prom.LabelSet {
	var labels []*dto.LabelPair
	for i := 0; i+1 < len(pairs); i += 2 {
		labels = append(labels, &dto.LabelPair{Name: proto.String(pairs[i]), Value: proto.String(pairs[i+1])})
	}
	return prom.NewLabelSet(labels)
}

// familyView makes the view of a family holding series, in any order.
func familyView(name, help string, typ dto.MetricType, series ...prom.Series) prom.FamilyView {
	f := prom.FamilyView{Name: name, Help: help, Type: typ, Series: series}
	for i, s := range series {
		f.Order = append(f.Order, int32(i))
		if f.Numeric() {
			f.ProtoNumericSize += s.Labels.ProtoNumericSize()
		}
	}
	slices.SortFunc(f.Order, func(a, b int32) int { return strings.Compare(series[a].Labels.Sig, series[b].Labels.Sig) })
	return f
}

// groupViews sorts fams by name, as a group hands them out.
func groupViews(fams ...prom.FamilyView) []prom.FamilyView {
	slices.SortFunc(fams, func(a, b prom.FamilyView) int { return strings.Compare(a.Name, b.Name) })
	return fams
}

// expfmtEncode is what expfmt's encoder writes for fams, as they are.
func expfmtEncode(t *testing.T, fams []*dto.MetricFamily, format Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format.expfmtFormat())
	for _, mf := range fams {
		require.NoError(t, enc.Encode(mf))
	}
	return buf.Bytes()
}
