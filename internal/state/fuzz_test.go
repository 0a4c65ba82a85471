package state

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// FuzzFold folds the batches FuzzTranslate makes (same input format, its
// seeds and corpus as this target's seeds) into the state, with the limit
// profiles and aggregation modes a batch picks, and checks the state's
// invariants after every resource: every series indexed where it is, every
// writer a series holds in its group's table and no other, the slots each
// group and all groups count equal to the series and their writers, and
// the limits kept.
//
//	go test -run='^$' -fuzz='^FuzzFold$' ./internal/state
func FuzzFold(f *testing.F) {
	for _, b := range testbatch.FuzzSeeds() {
		f.Add(b.Encode())
	}
	corpus, err := testbatch.CorpusInputs(filepath.Join("..", "..", testbatch.TranslateCorpus))
	require.NoError(f, err)
	for _, data := range corpus {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		batch := testbatch.DecodeFuzzBatch(data)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("batch: %s", batch)
			}
		})
		fuzzCheckInvariants(t, batch)
	})
}

// fuzzLimits are the limit profiles a batch can pick (as FuzzTranslate's):
// the defaults, none, and limits tight enough for a small batch to hit.
var fuzzLimits = []struct {
	maxLabelLength, maxLabels, maxSeries, maxSeriesPerGroup int
}{
	{4096, 128, 100_000, 10_000},
	{0, 0, 0, 0},
	{8, 2, 6, 4},
	{4096, 128, 100_000, 10_000},
}

func fuzzCheckInvariants(t *testing.T, batch testbatch.FuzzBatch) {
	lim := fuzzLimits[int(batch.Limits)%len(fuzzLimits)]
	bits := batch.Limits / uint8(len(fuzzLimits))
	tr := translate.New(translate.Options{
		Grouping: translate.Grouping{
			InstanceAttributes: []string{"service.instance.id"},
			Labels:             []translate.GroupingLabel{{Name: "env", Attribute: "deployment.environment.name"}},
		},
		MaxLabelLength: lim.maxLabelLength,
		MaxLabels:      lim.maxLabels,
	})
	s := New(Options{
		MaxSeries:         lim.maxSeries,
		MaxSeriesPerGroup: lim.maxSeriesPerGroup,
		Aggregation:       Aggregation{Sum: bits&1 == 1, Gauges: []GaugeCombination{GaugesLast, GaugesSum, GaugesMax, GaugesMin}[(bits>>1)%4]},
	})
	rms := batch.Metrics().ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		key, err := tr.GroupKey(rm.Resource())
		if err != nil {
			continue
		}
		fams, _ := tr.Resource(rm, new(translate.Scratch))
		res := s.Apply(key, WriterOf(rm.Resource()), fams)
		if res.Emptied != nil {
			require.True(t, s.RemoveEmpty(res.Emptied), "a group left without families is forgotten")
		}
		requireConsistent(t, s, lim.maxSeries, lim.maxSeriesPerGroup)
	}
}

// requireConsistent checks the invariants of every group of s, and the
// slots of all of them.
func requireConsistent(t *testing.T, s *Groups, maxSeries, maxSeriesPerGroup int) {
	t.Helper()
	total := 0
	for _, g := range s.All() {
		g.mu.Lock()
		require.NotEmpty(t, g.families, "group %s: a group held has families", g.key)
		slots := requireWriters(t, g)
		require.Equal(t, g.series, slots, "group %s: slots counted vs series and their writers", g.key)
		if maxSeriesPerGroup > 0 {
			require.LessOrEqual(t, slots, maxSeriesPerGroup, "group %s", g.key)
		}
		g.mu.Unlock()
		requireIndexed(t, g)
		total += slots
	}
	require.Equal(t, int64(total), s.series.Load(), "slots counted vs series and their writers in all groups")
	if maxSeries > 0 {
		require.LessOrEqual(t, total, maxSeries)
	}
}

// requireWriters checks that every writer a series of g holds is in g's
// writer table, that the table holds no other, each counted as often as it
// is held, and returns the slots the series take. The caller holds g.mu.
func requireWriters(t *testing.T, g *Group) (slots int) {
	t.Helper()
	refs := map[writerID]int32{}
	for name, fs := range g.families {
		for _, st := range fs.folds {
			slots += st.slots()
			if st.feeds == nil {
				if st.writer != 0 {
					refs[st.writer]++
				}
				continue
			}
			require.Zero(t, st.writer, "%s: a series with feeds has no single writer", name)
			seen := map[writerID]bool{}
			for _, fd := range *st.feeds {
				require.NotZero(t, fd.writer, "%s", name)
				require.False(t, seen[fd.writer], "%s: a writer feeds a series once", name)
				seen[fd.writer] = true
				refs[fd.writer]++
			}
		}
	}
	live := 0
	for i, e := range g.writers.entries {
		id := writerID(i + 1)
		if e.fp == 0 {
			require.Zero(t, refs[id], "writer %d is held but forgotten", id)
			continue
		}
		live++
		require.Equal(t, refs[id], e.refs, "writer %d: holds counted vs held", id)
		require.Positive(t, e.refs, "writer %d is remembered but held by no series", id)
		require.Equal(t, id, g.writers.ids[e.fp])
	}
	require.Len(t, g.writers.ids, live)
	return slots
}
