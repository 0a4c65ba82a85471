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
	aggregation       AggregationConfig
	seriesTTL         time.Duration // 0: off
	now               func() time.Time

	mu     sync.Mutex
	groups map[string]*groupState

	// series counts the slots held across all groups: one per series, and
	// one more per writer of a series beyond its first.
	series atomic.Int64

	// names are the family names the gateway holds, with their types.
	names *gatewayNames
	// keepsFamilies says the gateway keeps a family the exporter no
	// longer pushes for a group it holds (method post).
	keepsFamilies bool
}

func newGroupStates(maxSeries, maxSeriesPerGroup int) *groupStates {
	return &groupStates{
		maxSeries: int64(maxSeries), maxSeriesPerGroup: maxSeriesPerGroup,
		aggregation: AggregationConfig{Mode: AggregationNone, Gauges: GaugesLast},
		now:         time.Now,
		groups:      map[string]*groupState{}, names: newGatewayNames(),
	}
}

// withAggregation sets how the writers of a series combine.
func (s *groupStates) withAggregation(cfg AggregationConfig) *groupStates {
	s.aggregation = cfg
	return s
}

// withSeriesTTL sets series_ttl (0: off).
func (s *groupStates) withSeriesTTL(ttl time.Duration) *groupStates {
	s.seriesTTL = ttl
	return s
}

// withKeptFamilies says the gateway keeps a family the exporter stops
// pushing for a group (method post).
func (s *groupStates) withKeptFamilies(kept bool) *groupStates {
	s.keepsFamilies = kept
	return s
}

// withClock sets the clock that stamps updates.
func (s *groupStates) withClock(now func() time.Time) *groupStates {
	s.now = now
	return s
}

// groupState is the state of one group.
type groupState struct {
	key groupKey

	// pushMu serialises the requests of this group to the gateway (see
	// publisher). A push encodes its body while holding it, so a body that
	// reaches the gateway is never older than one that reached it before.
	pushMu sync.Mutex
	pub    publishing // guarded by pushMu

	mu       sync.Mutex
	families map[string]*familyState
	// names is the families' names, sorted, while no family was added or
	// removed since it was made (nil: to be made).
	names  []string
	series int // slots held in this group (see groupStates.series)
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

// seriesState is the value of one series: a gauge's or counter's value, a
// classic histogram's or a summary's aggregate (updated in place), or a
// native histogram's metric (never modified once stored); and what fed it.
type seriesState struct {
	time   pcommon.Timestamp // of the newest point taken
	value  float64
	agg    *aggregate
	metric *dto.Metric
	labels *labelSet
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
func (st *seriesState) slots() int {
	if st.feeds == nil || len(*st.feeds) == 0 {
		return 1
	}
	return len(*st.feeds)
}

// applyResult says what applying translated families did.
type applyResult struct {
	// group is the group the families went to; nil when none of its points
	// could be held (so there is nothing to push).
	group *groupState
	// refused counts points that would have created a series beyond
	// max_series; refusedInGroup those beyond max_series_per_group.
	refused, refusedInGroup int
	// emptied says the group holds no family after the apply: it is to be
	// forgotten (and deleted at the gateway if it was pushed).
	emptied *groupState
	// created says the apply made the group.
	created bool
	// version is the group's version after the apply: a push of it or of
	// a later version delivers the apply's points.
	version uint64
	// drops are the points not taken: families whose name conflicts with
	// a family the gateway holds (see gatewayNames), histograms that
	// cannot be added to other writers' total.
	drops []drop
	// stale are the points ignored because their series held a newer one,
	// each named as family{labels}.
	stale []string
	// writerConflicts are the series a second writer took over from
	// another writer that was alive at the same time (mode none).
	writerConflicts []writerConflict
	// ended counts the series removed by a point without recorded value;
	// expired those removed by series_ttl.
	ended, expired int
	// quantilesDropped counts summary points whose quantiles were left
	// out (mode sum: quantiles of several writers cannot be merged).
	quantilesDropped int
	// first and last span the applied points' times (starts included).
	first, last pcommon.Timestamp
}

// writerConflict is a series taken over by a second live writer.
type writerConflict struct {
	metric, series string
	// attribute is a resource attribute that differs between the writers.
	attribute string
}

// apply folds the points of fams, all from writer w, into the group of
// key, by the rules of fold.go. A family that arrives with another type
// than the one held replaces it whole, since one family cannot mix types
// at the gateway. The group is made when it does not exist; if it holds no
// family afterwards, res.emptied says so.
func (s *groupStates) apply(key groupKey, w writer, fams []family) applyResult {
	var res applyResult
	if len(fams) == 0 {
		return res
	}
	res.first, res.last = timeSpan(fams)
	var g *groupState
	for {
		if g, res.created = s.group(key); g == nil {
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
	now := s.now()
	fo := folder{s: s, g: g, res: &res, now: now.UnixNano()}
	fo.writer = g.writers.enter(w, res.first, res.last, fo.now)
	defer g.writers.settle()
	changed := false
	for i := range fams {
		if s.applyFamily(&fo, &fams[i]) {
			changed = true
		}
	}
	if s.seriesTTL > 0 && fo.now-g.pruned >= int64(s.seriesTTL/4) {
		g.pruned = fo.now
		if fo.prune(fo.now - int64(s.seriesTTL)) {
			changed = true
		}
	}
	if changed {
		g.updated = now
		g.version++
	}
	fo.leave()
	res.version = g.version
	if len(g.families) > 0 {
		res.group = g
	} else {
		res.emptied = g
	}
	return res
}

// applyFamily folds one family's points into the folder's group and says
// whether any changed it.
func (s *groupStates) applyFamily(fo *folder, f *family) (changed bool) {
	g := fo.g
	fs := g.families[f.name]
	if fs == nil && !slices.ContainsFunc(f.points, func(p point) bool { return !p.ended }) {
		return false // only ends of series not held
	}
	if (fs == nil || fs.typ != f.typ) && !s.names.claim(f.name, f.typ, fs != nil) {
		res := fo.res
		res.drops = append(res.drops, drop{metric: f.name, reason: dropNameConflict, points: len(f.points)})
		return false
	}
	if fs != nil && fs.typ != f.typ {
		fo.dropSeries(fs)
		fo.leaving = append(fo.leaving, leavingName{name: f.name, retype: true})
		fs = nil
	}
	if fs == nil {
		fs = &familyState{typ: f.typ, series: make([]seriesState, 0, len(f.points)), index: make(map[string]int32, len(f.points))}
		g.families[f.name] = fs
		g.names = nil // a new family: sort again at the next push
	}
	fs.help, fs.delta = f.help, f.delta
	fo.ruleFor(f)
	if f.delta {
		// Deltas add up in time order, whatever order the batch had.
		slices.SortStableFunc(f.points, func(a, b point) int { return cmp.Compare(a.time, b.time) })
	}
	// This batch's order is written over the last one's, each entry read
	// before it is written.
	recent := fs.recent
	fs.recent = fs.recent[:0]
	removed := false
	for i := range f.points {
		p := &f.points[i]
		var (
			idx int32
			ok  bool
		)
		if i < len(recent) && recent[i] >= 0 && int(recent[i]) < len(fs.series) && fs.series[recent[i]].labels == p.labels {
			idx, ok = recent[i], true // where the last batch had it
		} else {
			idx, ok = fs.index[p.labels.sig]
		}
		fs.recent = append(fs.recent, -1)
		if !ok {
			if p.ended || !fo.reserveSlot() {
				continue
			}
			st := seriesState{labels: p.labels, seen: fo.now}
			fo.fold(&st, p, true)
			changed = true
			fs.recent[i] = int32(len(fs.series))
			fs.index[p.labels.sig] = int32(len(fs.series))
			fs.series = append(fs.series, st)
			fs.order = nil // a new series: sort again at the next push
			if fs.numeric() {
				fs.metricsSize += numericMetricSize(p.labels)
			}
			continue
		}
		st := &fs.series[idx]
		switch fo.fold(st, p, false) {
		case taken:
			st.seen = fo.now
			fs.recent[i] = idx
			changed = true
		case stale:
			fo.res.stale = append(fo.res.stale, f.name+p.labelsString())
		case mismatched:
			fo.res.drops = append(fo.res.drops, drop{metric: f.name, reason: dropBucketMismatch, points: 1})
		case ended:
			fo.removeSeries(fs, idx)
			fo.res.ended++
			changed, removed = true, true
		}
	}
	if removed {
		fs.recent = fs.recent[:0] // series moved: no hints for the next batch
	}
	if len(fs.series) == 0 {
		fo.removeFamily(f.name)
	}
	return changed
}

// timeSpan returns the earliest start (or time, where a point has no start)
// and the latest time of the points of fams.
func timeSpan(fams []family) (first, last pcommon.Timestamp) {
	for _, f := range fams {
		for i := range f.points {
			p := &f.points[i]
			from := p.start
			if from == 0 {
				from = p.time
			}
			if first == 0 || from < first {
				first = from
			}
			last = max(last, p.time)
		}
	}
	return first, last
}

// removeSeries removes the series at idx from fs, freeing its slots and
// its writers; the last series takes its place.
func (f *folder) removeSeries(fs *familyState, idx int32) {
	st := &fs.series[idx]
	f.releaseWriters(st)
	f.releaseSlots(st.slots())
	delete(fs.index, st.labels.sig)
	if fs.numeric() {
		fs.metricsSize -= numericMetricSize(st.labels)
	}
	last := int32(len(fs.series) - 1)
	if idx != last {
		fs.series[idx] = fs.series[last]
		fs.index[fs.series[idx].labels.sig] = idx
	}
	fs.series[last] = seriesState{}
	fs.series = fs.series[:last]
	fs.order = nil
}

// dropSeries removes every series of fs (a family replaced whole).
func (f *folder) dropSeries(fs *familyState) {
	for i := range fs.series {
		f.releaseWriters(&fs.series[i])
		f.releaseSlots(fs.series[i].slots())
	}
}

// releaseWriters lets go of the writers that fed st.
func (f *folder) releaseWriters(st *seriesState) {
	f.g.writers.unref(st.writer)
	if st.feeds != nil {
		for _, fd := range *st.feeds {
			f.g.writers.unref(fd.writer)
		}
	}
}

// removeFamily forgets a family left without series. The gateway holds
// it until a push without it is acknowledged (see leave), or for good with
// method post, which never removes a family.
func (f *folder) removeFamily(name string) {
	delete(f.g.families, name)
	f.g.names = nil
	if f.s.keepsFamilies {
		f.s.names.release(name, true)
		return
	}
	f.leaving = append(f.leaving, leavingName{name: name})
}

// leave records the names the folder let go of as leaving the gateway with
// the group's current version, which the caller has set.
func (f *folder) leave() {
	for _, l := range f.leaving {
		l.version = f.g.version
		f.g.leaving = append(f.g.leaving, l)
	}
	f.leaving = f.leaving[:0]
}

// acknowledged records that the gateway holds the group as of version: the
// names that left before it are released. The caller holds g.pushMu.
func (s *groupStates) acknowledged(g *groupState, version uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	kept := g.leaving[:0]
	for _, l := range g.leaving {
		switch {
		case l.version > version:
			kept = append(kept, l)
		case l.retype:
			s.names.retyped(l.name)
		default:
			s.names.release(l.name, false)
		}
	}
	g.leaving = kept
}

// releaseLeaving releases every leaving name of g; kept says the gateway
// keeps the group. The caller holds g.mu.
func (s *groupStates) releaseLeaving(g *groupState, kept bool) {
	for _, l := range g.leaving {
		if l.retype {
			s.names.retyped(l.name)
		} else {
			s.names.release(l.name, kept)
		}
	}
	g.leaving = nil
}

// prune removes the series no point changed since cutoff (series_ttl) and
// says whether it removed any.
func (f *folder) prune(cutoff int64) bool {
	pruned := false
	for name, fs := range f.g.families {
		for idx := int32(len(fs.series)) - 1; idx >= 0; idx-- {
			if fs.series[idx].seen <= cutoff {
				f.removeSeries(fs, idx)
				f.res.expired++
				pruned = true
			}
		}
		if pruned {
			fs.recent = fs.recent[:0]
		}
		if len(fs.series) == 0 {
			f.removeFamily(name)
		}
	}
	return pruned
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

// expired returns the groups that no point has changed since cutoff.
func (s *groupStates) expired(cutoff time.Time) []*groupState {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*groupState
	for _, g := range s.groups {
		g.mu.Lock()
		if !g.updated.After(cutoff) {
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

// remove forgets g if no point has changed it since cutoff, and reports
// whether it did; kept says the gateway keeps the group. The caller holds
// g.pushMu, so no push of g runs.
func (s *groupStates) remove(g *groupState, cutoff time.Time, kept bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.updated.After(cutoff) || g.removed {
		return false
	}
	s.dropLocked(g, kept)
	return true
}

// dropLocked forgets g: its names (kept says the gateway keeps the
// group), its slots and its place. The caller holds s.mu and g.mu.
func (s *groupStates) dropLocked(g *groupState, kept bool) {
	for name := range g.families {
		s.names.release(name, kept)
	}
	s.releaseLeaving(g, kept)
	s.series.Add(-int64(g.series))
	g.families, g.names, g.series, g.writers, g.removed = nil, nil, 0, writerTable{}, true
	delete(s.groups, g.key.id())
}

// forgetWriters forgets, in every group, the writers that sent nothing
// since cutoff: a combined gauge no longer counts them (a series left
// without writers is removed), a total keeps what they added. It returns
// the groups whose pushed values changed, and the series removed.
func (s *groupStates) forgetWriters(cutoff time.Time) (changed []*groupState, removed int) {
	for _, g := range s.all() {
		g.mu.Lock()
		if ids := g.writers.silent(cutoff.UnixNano()); len(ids) > 0 && !g.removed {
			n, ok := s.forgetIn(g, ids)
			removed += n
			if ok {
				changed = append(changed, g)
			}
		}
		g.mu.Unlock()
	}
	return changed, removed
}

// forgetIn forgets the writers ids of g, whose mu the caller holds.
func (s *groupStates) forgetIn(g *groupState, ids []writerID) (removed int, changed bool) {
	fo := folder{s: s, g: g, res: &applyResult{}}
	defer g.writers.settle()
	defer func() {
		if changed {
			g.version++
		}
		fo.leave()
	}()
	for name, fs := range g.families {
		fo.ruleFor(&family{name: name, typ: fs.typ, delta: fs.delta})
		for idx := int32(len(fs.series)) - 1; idx >= 0; idx-- {
			for _, id := range ids {
				out := fo.forget(&fs.series[idx], id)
				if out == ended && fo.rule == ruleCombine {
					fo.removeSeries(fs, idx)
					removed++
					changed = true
					break
				}
				changed = changed || (out == taken && fo.rule == ruleCombine)
			}
		}
		if removed > 0 {
			fs.recent = fs.recent[:0]
		}
		if len(fs.series) == 0 {
			fo.removeFamily(name)
		}
	}
	return removed, changed
}

// status returns the group's version, whether it holds any family, and
// whether it was removed.
func (g *groupState) status() (version uint64, held, removed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.version, len(g.families) > 0, g.removed
}

// groupCount is the number of groups held.
func (s *groupStates) groupCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// group returns the state of key's group, creating it unless the series
// limit is reached (a new group could hold nothing, so it is not made).
// created says this call made it.
func (s *groupStates) group(key groupKey) (g *groupState, created bool) {
	id := key.id()
	s.mu.Lock()
	defer s.mu.Unlock()
	if g = s.groups[id]; g == nil {
		if s.maxSeries > 0 && s.series.Load() >= s.maxSeries {
			return nil, false
		}
		g = &groupState{key: key, families: map[string]*familyState{}}
		s.groups[id] = g
		created = true
	}
	return g, created
}

// removeEmpty forgets g if it holds no family, and reports whether it did.
func (s *groupStates) removeEmpty(g *groupState) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.families) > 0 || g.removed {
		return false
	}
	s.dropLocked(g, false)
	return true
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
