package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Group is the state of one group.
type Group struct {
	key prom.GroupKey

	mu       sync.Mutex
	families map[string]*familyState
	// names is the families' names, sorted, while no family was added or
	// removed since it was made (nil: to be made).
	names []string
	// views are the families as Read hands them out, reused from read to
	// read.
	views  []prom.FamilyView
	series int // slots held in this group (see Groups.series)
	// writers are the resources that feed the group's series.
	writers writerTable
	// updated is when a point last changed the group; removed is set once
	// the group has expired, so an apply that found it just before must
	// look it up again.
	updated time.Time
	removed bool
	// version counts the changes of the group: a push that encoded it at
	// version v holds every change up to v.
	version uint64
	// pruned is when (unix nanoseconds) series_ttl last looked for
	// series to remove.
	pruned int64
	// leaving are the families the group no longer holds (or holds with
	// another type) that the gateway still does until a push of the
	// version given is acknowledged: their names stay claimed till then.
	leaving []leavingName
}

// Key is the group's grouping key.
func (g *Group) Key() prom.GroupKey { return g.key }

// Status returns the group's version, whether it holds any family, and
// whether it was removed.
func (g *Group) Status() (version uint64, held, removed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.version, len(g.families) > 0, g.removed
}

// Read calls read with the group's families, sorted by name, each with
// its series in label order, while no change can reach the group: what
// read writes holds the group's state as of one version, the version
// Status returned before Read was called or a newer one. The views are
// valid only during the call.
func (g *Group) Read(read func([]prom.FamilyView) error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	views := g.views[:0]
	for _, name := range g.sortedNames() {
		fs := g.families[name]
		views = append(views, prom.FamilyView{
			Name: name, Help: fs.help, Type: fs.typ,
			Series: fs.values, Order: fs.sortedSeries(),
			ProtoNumericSize: fs.protoNumericSize,
		})
	}
	g.views = views
	return read(views)
}

// leavingName is a family name a group let go of, as of a version.
type leavingName struct {
	name    string
	version uint64
	retype  bool // the family changed its type rather than went away
}

// familyState is one metric family of a group.
type familyState struct {
	help  string
	typ   dto.MetricType
	delta bool // its last points were deltas
	// values and folds hold the family's series in the order they were
	// added, at the same index: what is pushed, and what fed it. index
	// finds a series by its label signature.
	values []prom.Series
	folds  []seriesFold
	index  map[string]int32
	// order is the series sorted by signature, while no series was added
	// or removed since it was made (nil: to be made).
	order []int32
	// recent is the series of each point of the last batch, in the
	// batch's order (-1: none): a batch like the last finds its series
	// there without a lookup.
	recent []int32
	// protoNumericSize is, for a gauge or counter family, the encoded size
	// of its metrics in a protobuf push: it changes only when a series is
	// added or removed.
	protoNumericSize int
}

// numeric says the family's series hold a plain value, not a metric.
func (fs *familyState) numeric() bool { return prom.IsNumeric(fs.typ) }

// at returns the series at idx.
func (fs *familyState) at(idx int32) seriesState {
	return seriesState{&fs.values[idx], &fs.folds[idx]}
}

// sortedNames returns the group's family names, sorted. The caller holds
// g.mu.
func (g *Group) sortedNames() []string {
	if g.names == nil {
		g.names = slices.Sorted(maps.Keys(g.families))
	}
	return g.names
}

// sortedSeries returns the family's series indices sorted by label
// signature. The caller holds the group's mu.
func (fs *familyState) sortedSeries() []int32 {
	if fs.order == nil {
		fs.order = make([]int32, len(fs.values))
		for i := range fs.order {
			fs.order[i] = int32(i)
		}
		slices.SortFunc(fs.order, func(a, b int32) int {
			return strings.Compare(fs.values[a].Labels.Sig, fs.values[b].Labels.Sig)
		})
	}
	return fs.order
}

// seriesState is one series: its value (what is pushed) and what fed it.
type seriesState struct {
	*prom.Series
	*seriesFold
}

// seriesFold is what the folding rules remember of one series besides its
// value.
type seriesFold struct {
	time pcommon.Timestamp // of the newest point taken
	// seen is when (clock, unix nanoseconds) a point last changed it.
	seen int64
	// feeds are the parts of its writers when several feed it (or any, in
	// aggregation mode sum); nil while one writer does.
	feeds *[]feed
	// writer is its only writer while feeds is nil (0: unknown).
	writer writerID
	// total says the value is a running total (of deltas, or of the
	// writers' increments), not a point's value.
	total bool
}

// slots is the series' share of the series limits: one, and one per
// writer beyond its first.
func (st *seriesFold) slots() int {
	if st.feeds == nil || len(*st.feeds) == 0 {
		return 1
	}
	return len(*st.feeds)
}
