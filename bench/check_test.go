package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/proto"

	prw "github.com/open-telemetry/opentelemetry-collector-contrib/pkg/translator/prometheusremotewrite"
)

func decodeDelimited(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var fams []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return fams
		}
		if err != nil {
			t.Fatal(err)
		}
		fams = append(fams, mf)
	}
}

func decodeText(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	parsed, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return slices.Collect(maps.Values(parsed))
}

// bySeries keys a family's metrics by name, help, type and labels: the two
// pipelines order series differently.
func bySeries(mf *dto.MetricFamily) map[string]*dto.Metric {
	out := map[string]*dto.Metric{}
	for _, m := range mf.GetMetric() {
		key := fmt.Sprintf("%s|%s|%s", mf.GetName(), mf.GetHelp(), mf.GetType())
		for _, l := range m.GetLabel() {
			key += "|" + l.GetName() + "=" + l.GetValue()
		}
		out[key] = m
	}
	return out
}

// TestAnchorsAgree checks that the anchors do the same work: ours pushes
// exactly what the client_golang collector encodes, every bumped batch is
// taken as new, and the remote-write translator makes one series a point.
func TestAnchorsAgree(t *testing.T) {
	exp, s := newOurs(t, "")
	s.keepLast = true
	bt := gaugeBatch(anchorPoints)
	ctx := context.Background()
	for range 2 {
		bt.bump()
		if err := exp.ConsumeMetrics(ctx, bt.md); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.requests.Load(); n != 2 {
		t.Fatalf("pushes: got %d, want 2", n)
	}
	ours := decodeDelimited(t, *s.last.Load())

	var buf bytes.Buffer
	if err := golangEncode(newGolangRegistry(), &buf); err != nil {
		t.Fatal(err)
	}
	theirs := decodeDelimited(t, buf.Bytes())
	if len(ours) != anchorPoints/pointsPerMet || len(ours) != len(theirs) {
		t.Fatalf("families: ours %d, client_golang %d", len(ours), len(theirs))
	}
	for i := range ours {
		if a, b := bySeries(ours[i]), bySeries(theirs[i]); !maps.EqualFunc(a, b, func(x, y *dto.Metric) bool { return proto.Equal(x, y) }) {
			t.Fatalf("family %d differs: ours %s (%d series), client_golang %s (%d series)",
				i, ours[i].GetName(), len(a), theirs[i].GetName(), len(b))
		}
	}

	// A changed value must reach the gateway: the bumped batch is not stale.
	bt.md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics().At(0).Gauge().DataPoints().At(0).SetDoubleValue(-1)
	bt.bump()
	if err := exp.ConsumeMetrics(ctx, bt.md); err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, m := range decodeDelimited(t, *s.last.Load())[0].GetMetric() {
		changed = changed || m.GetGauge().GetValue() == -1
	}
	if !changed {
		t.Fatal("the changed value was not pushed")
	}

	series, err := prw.FromMetrics(gaugeBatch(anchorPoints).md, prwSettings)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != anchorPoints {
		t.Fatalf("remote-write series: got %d, want %d", len(series), anchorPoints)
	}
}

// TestOursVariants checks that every BenchmarkOurs batch is pushed whole,
// the text one in the text format.
func TestOursVariants(t *testing.T) {
	for name, v := range map[string]struct {
		bt     *batch
		format string
	}{
		"size=10": {gaugeBatch(10), ""},
		"mixed":   {mixedBatch(), ""},
		"text":    {gaugeBatch(anchorPoints), "text"},
	} {
		t.Run(name, func(t *testing.T) {
			bt := v.bt
			exp, s := newOurs(t, v.format)
			s.keepLast = true
			bt.bump()
			if err := exp.ConsumeMetrics(context.Background(), bt.md); err != nil {
				t.Fatal(err)
			}
			decode := decodeDelimited
			if v.format == "text" {
				decode = decodeText
			}
			var metrics int
			for _, mf := range decode(t, *s.last.Load()) {
				metrics += len(mf.GetMetric())
			}
			if metrics != bt.points {
				t.Fatalf("pushed %d series, want %d", metrics, bt.points)
			}
		})
	}
}
