package exposition

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// FuzzEncode translates the batches FuzzTranslate makes (same input format,
// its seeds and corpus as this target's seeds) and checks that the direct
// writers write every group of them, byte for byte as expfmt writes its
// snapshot: in protobuf with native histograms and with classic ones, and
// in the text format. Each resource's points become one group's series
// (the last point of a series wins), as the state would hold them.
//
//	go test -run='^$' -fuzz='^FuzzEncode$' ./internal/exposition
func FuzzEncode(f *testing.F) {
	for _, b := range testbatch.FuzzSeeds() {
		f.Add(b.Encode())
	}
	corpus, err := testbatch.CorpusInputs(filepath.Join("..", "..", testbatch.TranslateCorpus))
	require.NoError(f, err)
	for _, data := range corpus {
		f.Add(data)
	}
	tr := translate.New(translate.Options{ScopeLabels: true, TargetInfo: true})
	f.Fuzz(func(t *testing.T, data []byte) {
		batch := testbatch.DecodeFuzzBatch(data)
		rms := batch.Metrics().ResourceMetrics()
		for i := 0; i < rms.Len(); i++ {
			fams, _ := tr.Resource(rms.At(i), new(translate.Scratch))
			views := viewsOf(fams)
			snap := Snapshot(views)
			for _, enc := range []Encoder{{Format: Text}, {Format: Protobuf, Native: true}, {Format: Protobuf}} {
				var direct, expected bytes.Buffer
				var ok bool
				if enc.Format == Text {
					ok = writeText(&direct, views)
				} else {
					ok = writeProtobuf(&direct, views, enc.Native)
				}
				require.True(t, ok, "batch %s: translated data has only what the %s writer writes", batch, enc.Format)
				require.NoError(t, enc.EncodeFamilies(&expected, snap))
				require.Equal(t, expected.Bytes(), direct.Bytes(), "batch %s (%s, native %v): written directly vs expfmt", batch, enc.Format, enc.Native)
			}
		}
	})
}

// viewsOf holds translated families as a group would: one family per
// name (the first type seen), one series per label set (the last point
// wins), markers left out.
func viewsOf(fams []prom.Family) []prom.FamilyView {
	type family struct {
		view  prom.FamilyView
		index map[string]int
	}
	byName := map[string]*family{}
	var order []*family
	for _, f := range fams {
		fam := byName[f.Name]
		if fam == nil {
			fam = &family{view: prom.FamilyView{Name: f.Name, Help: f.Help, Type: f.Type}, index: map[string]int{}}
			byName[f.Name] = fam
			order = append(order, fam)
		}
		if fam.view.Type != f.Type {
			continue
		}
		for _, p := range f.Points {
			if p.Ended {
				continue
			}
			s := prom.Series{Labels: p.Labels, Value: p.Value, Agg: p.Agg, Native: p.Native}
			if i, ok := fam.index[p.Labels.Sig]; ok {
				fam.view.Series[i] = s
				continue
			}
			fam.index[p.Labels.Sig] = len(fam.view.Series)
			fam.view.Series = append(fam.view.Series, s)
		}
	}
	var views []prom.FamilyView
	for _, fam := range order {
		if len(fam.view.Series) > 0 {
			views = append(views, familyView(fam.view.Name, fam.view.Help, fam.view.Type, fam.view.Series...))
		}
	}
	return groupViews(views...)
}
