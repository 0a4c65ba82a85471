package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// groupStates holds, per grouping key, the latest point of every series the
// exporter has received. Every push sends a group's complete state, which
// makes pushes correct however the collector splits, merges or replays
// batches.
type groupStates struct {
	maxSeries         int64 // 0: no limit
	maxSeriesPerGroup int   // 0: no limit

	mu     sync.Mutex
	groups map[string]*groupState

	series atomic.Int64 // held across all groups

	// names holds every family name held in any group, with its type and
	// the number of groups that hold it. The gateway checks every push
	// against all the groups it holds: one name has one type, and a
	// histogram or summary owns its name's _count and _sum (a histogram
	// also _bucket). A group that broke either would be refused on every
	// push from then on.
	namesMu sync.Mutex
	names   map[string]*nameUse
}

// nameUse is one family name held in some groups.
type nameUse struct {
	typ    dto.MetricType
	groups int
}

func newGroupStates(maxSeries, maxSeriesPerGroup int) *groupStates {
	return &groupStates{maxSeries: int64(maxSeries), maxSeriesPerGroup: maxSeriesPerGroup, groups: map[string]*groupState{}, names: map[string]*nameUse{}}
}

// groupState is the state of one group.
type groupState struct {
	key groupKey

	// pushMu serialises the pushes of this group. A push takes its
	// snapshot while holding it, so a snapshot that reaches the gateway is
	// never older than one that reached it before.
	pushMu sync.Mutex

	mu       sync.Mutex
	families map[string]*familyState
	// names is the families' names, sorted, while no family was added or
	// removed since it was made (nil: to be made).
	names  []string
	series int // held in this group
	// updated is when a point last changed the group; removed is set once
	// the group has expired, so an apply that found it just before must
	// look it up again.
	updated time.Time
	removed bool
}

// familyState is one metric family of a group.
type familyState struct {
	help string
	typ  dto.MetricType
	// series holds the family's series in the order they were added;
	// index finds one by its label signature. A series is never removed
	// on its own: the family goes as a whole.
	series []seriesState
	index  map[string]int32
	// order is the series sorted by signature, while no series was added
	// since it was made (nil: to be made).
	order []int32
	// recent is the series of each point of the last batch, in the
	// batch's order (-1: none): a batch like the last finds its series
	// there without a lookup.
	recent []int32
	// metricsSize is, for a gauge or counter family, the encoded size of
	// its metrics in a push: it changes only when a series is added.
	metricsSize int
}

// helpField is the family's help as MetricFamily.help: nil when empty.
func (fs *familyState) helpField() *string {
	if fs.help == "" {
		return nil
	}
	return &fs.help
}

// numeric says the family's series hold a plain value, not a metric.
func (fs *familyState) numeric() bool { return isNumeric(fs.typ) }

// isNumeric says points of this type carry their value in point.value.
func isNumeric(typ dto.MetricType) bool {
	return typ == dto.MetricType_GAUGE || typ == dto.MetricType_COUNTER
}

// seriesState is the latest point of one series: a gauge's or counter's
// value, a classic histogram's or a summary's aggregate (updated in
// place), or a native histogram's metric (never modified once stored).
type seriesState struct {
	time   pcommon.Timestamp
	value  float64
	agg    *aggregate
	metric *dto.Metric
	labels *labelSet
	// delta says the value is the running total of delta points.
	delta bool
}

// applyResult says what applying translated families did.
type applyResult struct {
	// group is the group the families went to; nil when none of its points
	// could be held (so there is nothing to push).
	group *groupState
	// refused counts points that would have created a series beyond
	// max_series; refusedInGroup those beyond max_series_per_group.
	refused, refusedInGroup int
	// conflicts are the families refused because their name conflicts
	// with a family held in some group (see groupStates.names).
	conflicts []drop
	// stale are the points ignored because their series held a newer one,
	// each named as family{labels}.
	stale []string
}

// apply stores the points of fams in the group of key. A point replaces the
// one held for its series unless it is older; of two points with the same
// time, the later one in the batch wins. A family that arrives with another
// type than the one held replaces it whole, since one family cannot mix
// types at the gateway.
func (s *groupStates) apply(key groupKey, fams []family) applyResult {
	var res applyResult
	if len(fams) == 0 {
		return res
	}
	var g *groupState
	for {
		if g = s.group(key); g == nil {
			for _, f := range fams {
				res.refused += len(f.points)
			}
			return res
		}
		g.mu.Lock()
		if !g.removed {
			break
		}
		g.mu.Unlock() // expired meanwhile: a new group takes its place
	}
	defer g.mu.Unlock()
	changed := false
	defer func() {
		if changed {
			g.updated = time.Now()
		}
	}()
	for _, f := range fams {
		fs := g.families[f.name]
		if (fs == nil || fs.typ != f.typ) && !s.claimName(f.name, f.typ, fs != nil) {
			res.conflicts = append(res.conflicts, drop{metric: f.name, reason: dropNameConflict, points: len(f.points)})
			continue
		}
		if fs != nil && fs.typ != f.typ {
			s.series.Add(-int64(len(fs.series)))
			g.series -= len(fs.series)
			fs = nil
		}
		if fs == nil {
			fs = &familyState{typ: f.typ, series: make([]seriesState, 0, len(f.points)), index: make(map[string]int32, len(f.points))}
			g.families[f.name] = fs
			g.names = nil // a new family: sort again at the next push
		}
		fs.help = f.help
		if f.delta {
			// Deltas add up in time order, whatever order the batch had.
			slices.SortStableFunc(f.points, func(a, b point) int { return cmp.Compare(a.time, b.time) })
		}
		// This batch's order is written over the last one's, each entry
		// read before it is written.
		recent := fs.recent
		fs.recent = fs.recent[:0]
		for i := range f.points {
			p := &f.points[i]
			var (
				idx int32
				ok  bool
			)
			if i < len(recent) && recent[i] >= 0 && fs.series[recent[i]].labels == p.labels {
				idx, ok = recent[i], true // where the last batch had it
			} else {
				idx, ok = fs.index[p.labels.sig]
			}
			fs.recent = append(fs.recent, -1)
			next := seriesState{time: p.time, value: p.value, agg: p.agg, metric: p.metric, labels: p.labels, delta: f.delta}
			switch {
			case ok && f.delta:
				var stale bool
				if next, stale = foldDelta(&fs.series[idx], p); stale {
					res.stale = append(res.stale, f.name+p.labelsString())
					continue
				}
			case ok && p.time < fs.series[idx].time:
				res.stale = append(res.stale, f.name+p.labelsString())
				continue
			case ok:
			case s.maxSeriesPerGroup > 0 && g.series >= s.maxSeriesPerGroup:
				res.refusedInGroup++
				continue
			case !s.reserveSeries():
				res.refused++
				continue
			default:
				g.series++
			}
			changed = true
			if next.agg != nil && next.agg == p.agg {
				// The point's aggregate lives in the batch's scratch: the
				// series keeps a copy, in its own storage if it has one.
				var into *aggregate
				if ok {
					into = fs.series[idx].agg
				}
				next.agg = into.assign(p.agg)
			}
			if ok {
				fs.series[idx] = next
				fs.recent[i] = idx
				continue
			}
			fs.recent[i] = int32(len(fs.series))
			fs.index[p.labels.sig] = int32(len(fs.series))
			fs.series = append(fs.series, next)
			fs.order = nil // a new series: sort again at the next push
			if fs.numeric() {
				fs.metricsSize += numericMetricSize(p.labels)
			}
		}
		if len(fs.series) == 0 {
			delete(g.families, f.name)
			g.names = nil
			s.releaseName(f.name)
		}
	}
	if len(g.families) > 0 {
		res.group = g
	}
	return res
}

// claimName records that a group holds a family of this name and type,
// unless that conflicts with a family held in any group. retype says the
// group holds the name already with another type, to be replaced.
func (s *groupStates) claimName(name string, typ dto.MetricType, retype bool) bool {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	u := s.names[name]
	if u != nil && u.typ != typ && (!retype || u.groups > 1) {
		return false
	}
	if collidesWithHeld(name, typ, s.names) {
		return false
	}
	switch {
	case u == nil:
		s.names[name] = &nameUse{typ: typ, groups: 1}
	case retype:
		u.typ = typ
	default:
		u.groups++
	}
	return true
}

// releaseName records that a group no longer holds a family of this name.
func (s *groupStates) releaseName(name string) {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if u := s.names[name]; u != nil {
		if u.groups--; u.groups <= 0 {
			delete(s.names, name)
		}
	}
}

// collidesWithHeld is client_golang's suffix collision check, which the
// gateway runs on every push.
func collidesWithHeld(name string, typ dto.MetricType, names map[string]*nameUse) bool {
	owns := func(typ dto.MetricType, suffix string) bool {
		return typ == dto.MetricType_HISTOGRAM || (typ == dto.MetricType_SUMMARY && suffix != "_bucket")
	}
	for _, suffix := range []string{"_count", "_sum", "_bucket"} {
		if owns(typ, suffix) && names[name+suffix] != nil {
			return true
		}
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if u := names[base]; u != nil && owns(u.typ, suffix) {
				return true
			}
		}
	}
	return false
}

// reserveSeries counts one more held series, unless that would pass
// max_series.
func (s *groupStates) reserveSeries() bool {
	if s.maxSeries <= 0 {
		s.series.Add(1)
		return true
	}
	for {
		n := s.series.Load()
		if n >= s.maxSeries {
			return false
		}
		if s.series.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// expired returns the groups that no point has changed since before cutoff.
func (s *groupStates) expired(cutoff time.Time) []*groupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*groupState
	for _, g := range s.groups {
		g.mu.Lock()
		if g.updated.Before(cutoff) {
			out = append(out, g)
		}
		g.mu.Unlock()
	}
	return out
}

// all returns every group held.
func (s *groupStates) all() []*groupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.groups))
}

// remove forgets g if no point has changed it since before cutoff, and
// reports whether it did. The caller holds g.pushMu, so no push of g runs.
func (s *groupStates) remove(g *groupState, cutoff time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.updated.Before(cutoff) || g.removed {
		return false
	}
	for name, fs := range g.families {
		s.series.Add(-int64(len(fs.series)))
		s.releaseName(name)
	}
	g.families, g.names, g.series, g.removed = nil, nil, 0, true
	delete(s.groups, g.key.id())
	return true
}

func (g *groupState) isRemoved() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.removed
}

// groupCount is the number of groups held.
func (s *groupStates) groupCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// group returns the state of key's group, creating it unless the series
// limit is reached (a new group could hold nothing, so it is not made).
func (s *groupStates) group(key groupKey) *groupState {
	id := key.id()
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[id]
	if g == nil {
		if s.maxSeries > 0 && s.series.Load() >= s.maxSeries {
			return nil
		}
		g = &groupState{key: key, families: map[string]*familyState{}}
		s.groups[id] = g
	}
	return g
}

// sortedNames returns the group's family names, sorted. The caller holds
// g.mu.
func (g *groupState) sortedNames() []string {
	if g.names == nil {
		g.names = slices.Sorted(maps.Keys(g.families))
	}
	return g.names
}

// sortedSeries returns the family's series indices sorted by label
// signature. The caller holds the group's mu.
func (fs *familyState) sortedSeries() []int32 {
	if fs.order == nil {
		fs.order = make([]int32, len(fs.series))
		for i := range fs.order {
			fs.order[i] = int32(i)
		}
		slices.SortFunc(fs.order, func(a, b int32) int {
			return strings.Compare(fs.series[a].labels.sig, fs.series[b].labels.sig)
		})
	}
	return fs.order
}

// snapshot returns the group's families, sorted by name, each with its
// series sorted by labels: deterministic bodies make pushes comparable.
func (g *groupState) snapshot() []*dto.MetricFamily {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.snapshotLocked()
}

// snapshotLocked is snapshot for a caller that holds g.mu. The metrics of
// gauges and counters are made here, from their values; those of
// histograms and summaries from their aggregates.
func (g *groupState) snapshotLocked() []*dto.MetricFamily {
	names := g.sortedNames()
	out := make([]*dto.MetricFamily, 0, len(names))
	for _, name := range names {
		fs := g.families[name]
		mf := &dto.MetricFamily{Name: &name, Type: fs.typ.Enum(), Metric: make([]*dto.Metric, 0, len(fs.series))}
		if fs.help != "" {
			help := fs.help
			mf.Help = &help
		}
		var (
			metrics []dto.Metric
			values  []float64
		)
		if fs.numeric() {
			metrics, values = make([]dto.Metric, len(fs.series)), make([]float64, len(fs.series))
		}
		for k, idx := range fs.sortedSeries() {
			held := &fs.series[idx]
			m := held.metric
			if held.agg != nil {
				m = held.agg.metric(fs.typ, held.labels.labels)
			}
			if fs.numeric() {
				m, values[k] = &metrics[k], held.value
				m.Label = held.labels.labels
				if fs.typ == dto.MetricType_COUNTER {
					m.Counter = &dto.Counter{Value: &values[k]}
				} else {
					m.Gauge = &dto.Gauge{Value: &values[k]}
				}
			}
			mf.Metric = append(mf.Metric, m)
		}
		out = append(out, mf)
	}
	return out
}

// labelsString renders the point's labels as {name="value",...}.
func (p point) labelsString() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range p.labels.labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.GetValue()))
	}
	b.WriteByte('}')
	return b.String()
}

// labelSignature identifies a series within its family. Labels are sorted
// by the translator; 0xff never occurs in valid UTF-8, so distinct label
// sets never share a signature.
func labelSignature(labels []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(l.GetName())
		b.WriteByte(0xff)
		b.WriteString(l.GetValue())
		b.WriteByte(0xff)
	}
	return b.String()
}
