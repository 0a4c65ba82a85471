package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"cmp"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// ApplyResult says what folding one resource's families did.
type ApplyResult struct {
	// Group is the group the families went to; nil when none of its points
	// could be held (so there is nothing to push).
	Group *Group
	// Refused counts points that would have created a series beyond
	// max_series; RefusedInGroup those beyond max_series_per_group.
	Refused, RefusedInGroup int
	// Emptied says the group holds no family after the apply: it is to be
	// forgotten (and deleted at the gateway if it was pushed).
	Emptied *Group
	// Created says the apply made the group.
	Created bool
	// Version is the group's version after the apply: a push of it or of
	// a later version delivers the apply's points.
	Version uint64
	// Drops are the points not taken: families whose name conflicts with
	// a family the gateway holds (see gatewayNames), histograms that
	// cannot be added to other writers' total.
	Drops []prom.Drop
	// Stale are the points ignored because their series held a newer one,
	// each named as family{labels}.
	Stale []string
	// WriterConflicts are the series a second writer took over from
	// another writer that was alive at the same time (mode none).
	WriterConflicts []WriterConflict
	// Ended counts the series removed by a point without recorded value;
	// Expired those removed by series_ttl.
	Ended, Expired int
	// QuantilesDropped counts summary points whose quantiles were left
	// out (mode sum: quantiles of several writers cannot be merged).
	QuantilesDropped int
	// First and Last span the applied points' times (starts included).
	First, Last pcommon.Timestamp
}

// WriterConflict is a series taken over by a second live writer.
type WriterConflict struct {
	Metric, Series string
	// Attribute is a resource attribute that differs between the writers.
	Attribute string
}

// Apply folds the points of fams, all from writer w, into the group of
// key, by the rules of fold.go. A family that arrives with another type
// than the one held replaces it whole, since one family cannot mix types
// at the gateway. The group is made when it does not exist; if it holds no
// family afterwards, the result's Emptied says so.
func (s *Groups) Apply(key prom.GroupKey, w Writer, fams []prom.Family) ApplyResult {
	var res ApplyResult
	if len(fams) == 0 {
		return res
	}
	res.First, res.Last = timeSpan(fams)
	var g *Group
	for {
		if g, res.Created = s.group(key); g == nil {
			for _, f := range fams {
				res.Refused += len(f.Points)
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
	fo.writer = g.writers.enter(w, res.First, res.Last, fo.now)
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
	res.Version = g.version
	if len(g.families) > 0 {
		res.Group = g
	} else {
		res.Emptied = g
	}
	return res
}

// applyFamily folds one family's points into the folder's group and says
// whether any changed it.
func (s *Groups) applyFamily(fo *folder, f *prom.Family) (changed bool) {
	g := fo.g
	fs := g.families[f.Name]
	if fs == nil && !slices.ContainsFunc(f.Points, func(p prom.Point) bool { return !p.Ended }) {
		return false // only ends of series not held
	}
	if (fs == nil || fs.typ != f.Type) && !s.names.claim(f.Name, f.Type, fs != nil) {
		res := fo.res
		res.Drops = append(res.Drops, prom.Drop{Metric: f.Name, Reason: prom.DropNameConflict, Points: len(f.Points)})
		return false
	}
	if fs != nil && fs.typ != f.Type {
		fo.dropSeries(fs)
		fo.leaving = append(fo.leaving, leavingName{name: f.Name, retype: true})
		fs = nil
	}
	if fs == nil {
		fs = &familyState{
			typ:    f.Type,
			values: make([]prom.Series, 0, len(f.Points)),
			folds:  make([]seriesFold, 0, len(f.Points)),
			index:  make(map[string]int32, len(f.Points)),
		}
		g.families[f.Name] = fs
		g.names = nil // a new family: sort again at the next push
	}
	fs.help, fs.delta = f.Help, f.Delta
	fo.ruleFor(f)
	if f.Delta {
		// Deltas add up in time order, whatever order the batch had.
		slices.SortStableFunc(f.Points, func(a, b prom.Point) int { return cmp.Compare(a.Time, b.Time) })
	}
	// This batch's order is written over the last one's, each entry read
	// before it is written.
	recent := fs.recent
	fs.recent = fs.recent[:0]
	removed := false
	for i := range f.Points {
		p := &f.Points[i]
		var (
			idx int32
			ok  bool
		)
		if i < len(recent) && recent[i] >= 0 && int(recent[i]) < len(fs.values) && fs.values[recent[i]].Labels == p.Labels {
			idx, ok = recent[i], true // where the last batch had it
		} else {
			idx, ok = fs.index[p.Labels.Sig]
		}
		fs.recent = append(fs.recent, -1)
		if !ok {
			if p.Ended || !fo.reserveSlot() {
				continue
			}
			idx = int32(len(fs.values))
			fs.values = append(fs.values, prom.Series{Labels: p.Labels})
			fs.folds = append(fs.folds, seriesFold{seen: fo.now})
			fo.fold(fs.at(idx), p, true)
			changed = true
			fs.recent[i] = idx
			fs.index[p.Labels.Sig] = idx
			fs.order = nil // a new series: sort again at the next push
			if fs.numeric() {
				fs.protoNumericSize += p.Labels.ProtoNumericSize()
			}
			continue
		}
		st := fs.at(idx)
		switch fo.fold(st, p, false) {
		case taken:
			st.seen = fo.now
			fs.recent[i] = idx
			changed = true
		case stale:
			fo.res.Stale = append(fo.res.Stale, f.Name+p.Labels.String())
		case mismatched:
			fo.res.Drops = append(fo.res.Drops, prom.Drop{Metric: f.Name, Reason: prom.DropBucketMismatch, Points: 1})
		case ended:
			fo.removeSeries(fs, idx)
			fo.res.Ended++
			changed, removed = true, true
		}
	}
	if removed {
		fs.recent = fs.recent[:0] // series moved: no hints for the next batch
	}
	if len(fs.values) == 0 {
		fo.removeFamily(f.Name)
	}
	return changed
}

// timeSpan returns the earliest start (or time, where a point has no start)
// and the latest time of the points of fams.
func timeSpan(fams []prom.Family) (first, last pcommon.Timestamp) {
	for _, f := range fams {
		for i := range f.Points {
			p := &f.Points[i]
			from := p.Start
			if from == 0 {
				from = p.Time
			}
			if first == 0 || from < first {
				first = from
			}
			last = max(last, p.Time)
		}
	}
	return first, last
}

// removeSeries removes the series at idx from fs, freeing its slots and
// its writers; the last series takes its place.
func (f *folder) removeSeries(fs *familyState, idx int32) {
	st := fs.at(idx)
	f.releaseWriters(st)
	f.releaseSlots(st.slots())
	delete(fs.index, st.Labels.Sig)
	if fs.numeric() {
		fs.protoNumericSize -= st.Labels.ProtoNumericSize()
	}
	last := int32(len(fs.values) - 1)
	if idx != last {
		fs.values[idx], fs.folds[idx] = fs.values[last], fs.folds[last]
		fs.index[fs.values[idx].Labels.Sig] = idx
	}
	fs.values[last], fs.folds[last] = prom.Series{}, seriesFold{}
	fs.values, fs.folds = fs.values[:last], fs.folds[:last]
	fs.order = nil
}

// dropSeries removes every series of fs (a family replaced whole).
func (f *folder) dropSeries(fs *familyState) {
	for i := range fs.folds {
		f.releaseWriters(fs.at(int32(i)))
		f.releaseSlots(fs.folds[i].slots())
	}
}

// releaseWriters lets go of the writers that fed st.
func (f *folder) releaseWriters(st seriesState) {
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

// Acknowledged records that the gateway holds the group as of version: the
// names that left before it are released. The caller serialises it with
// the group's pushes.
func (s *Groups) Acknowledged(g *Group, version uint64) {
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
func (s *Groups) releaseLeaving(g *Group, kept bool) {
	for _, l := range g.leaving {
		if l.retype {
			s.names.retyped(l.name)
		} else {
			s.names.release(l.name, kept)
		}
	}
	g.leaving = nil
}
