package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// foldRule is how the points of a family fold into their series.
type foldRule uint8

const (
	// ruleLatest: the newest point wins (cumulative points and gauges).
	ruleLatest foldRule = iota
	// ruleDelta: delta points add up, each writer's checked for replays
	// and overlaps on its own (OTel data model: a point is added when its
	// interval starts at or after the end of the last one added for its
	// stream; a gap is not a reset).
	ruleDelta
	// ruleIncrement (aggregation.mode sum): each writer's cumulative
	// stream is turned into increments that add up in the series' total.
	ruleIncrement
	// ruleCombine (aggregation.mode sum, gauges sum, max or min): the
	// series is a function of each known writer's latest value.
	ruleCombine
)

// foldOutcome says what folding one point did.
type foldOutcome uint8

const (
	// taken: the point changed its series.
	taken foldOutcome = iota
	// stale: the point is no newer than what its series (or its writer's
	// part of it) holds: a replay, a retry, an overlap or out of order.
	stale
	// refused: the point needed one more writer slot beyond the series
	// limits.
	refused
	// mismatched: the point cannot be added to the other writers' total
	// (other histogram buckets or zero threshold).
	mismatched
	// ended: the series has ended and is to be removed.
	ended
	// ignored: nothing of the point's writer was held.
	ignored
)

// feed is one writer's part of a series fed by several writers, or by any
// writer in mode sum: the end of the last point taken from it and, for
// increments and combined gauges, that point's value.
type feed struct {
	writer      writerID
	time, start pcommon.Timestamp
	value       float64
	agg         *prom.Aggregate
	metric      *dto.Metric
}

// folder folds the points of one resource (one writer) into its group.
// The caller holds the group's mu.
type folder struct {
	s      *Groups
	g      *Group
	res    *ApplyResult
	writer writerID
	now    int64

	// The family being folded.
	name   string
	typ    dto.MetricType
	rule   foldRule
	gauges GaugeCombination
	// conflicts says a second writer of a series is reported (mode none).
	conflicts bool
	// leaving are the names the group let go of in this change (see
	// groupState.leaving).
	leaving []leavingName
}

// ruleFor sets the folder's rule for a family.
func (f *folder) ruleFor(fam *prom.Family) {
	f.name, f.typ, f.conflicts = fam.Name, fam.Type, false
	sum := f.s.aggregation.Sum
	f.gauges = f.s.aggregation.Gauges
	if fam.Name == prom.TargetInfoName && fam.Type == dto.MetricType_GAUGE {
		f.gauges = GaugesMax // 1 whatever the number of writers
	}
	switch {
	case fam.Delta:
		f.rule = ruleDelta
	case sum && fam.Type != dto.MetricType_GAUGE:
		f.rule = ruleIncrement
	case sum && f.gauges != GaugesLast:
		f.rule = ruleCombine
	default:
		f.rule, f.conflicts = ruleLatest, !sum
	}
}

// fold folds p into s; fresh says s is a new series, not yet held.
func (f *folder) fold(s seriesState, p *prom.Point, fresh bool) foldOutcome {
	if p.Ended {
		return f.end(s, p)
	}
	switch f.rule {
	case ruleDelta:
		return f.delta(s, p, fresh)
	case ruleIncrement:
		return f.increment(s, p, fresh)
	case ruleCombine:
		return f.combine(s, p, fresh)
	}
	return f.latest(s, p, fresh)
}

func (f *folder) latest(s seriesState, p *prom.Point, fresh bool) foldOutcome {
	if !fresh && p.Time < s.time {
		return stale
	}
	if f.conflicts && !fresh && s.writer != 0 && s.writer != f.writer && f.g.writers.overlap(s.writer, f.writer) {
		f.res.WriterConflicts = append(f.res.WriterConflicts, WriterConflict{
			Metric:    f.name,
			Series:    p.Labels.String(),
			Attribute: f.g.writers.difference(s.writer, f.writer),
		})
	}
	f.restart(s, p, false)
	return taken
}

// restart makes p, from the folder's writer alone, all that s holds;
// total says the value is a running total from now on.
func (f *folder) restart(s seriesState, p *prom.Point, total bool) {
	f.dropFeeds(s)
	f.setWriter(s, f.writer)
	s.time, s.total = p.Time, total
	f.setValue(s, p)
}

func (f *folder) delta(s seriesState, p *prom.Point, fresh bool) foldOutcome {
	if !fresh && !s.total {
		// Cumulative until now: the deltas start a new run.
		f.restart(s, p, true)
		return taken
	}
	fd, end, known := f.partOf(s)
	if known && (p.Time <= end || (p.Start != 0 && p.Start < end)) {
		return stale
	}
	switch {
	case fd != nil:
		fd.time = p.Time
	case known || fresh || (s.writer == 0 && s.feeds == nil):
		f.setWriter(s, f.writer) // its end is the series' time
	default:
		if fd = f.addFeed(s); fd == nil {
			return refused
		}
		fd.time = p.Time
	}
	f.addValue(s, p)
	s.time, s.total = max(s.time, p.Time), true
	return taken
}

func (f *folder) increment(s seriesState, p *prom.Point, fresh bool) foldOutcome {
	fd := f.feedOf(s)
	if fd != nil && p.Time <= fd.time {
		return stale
	}
	// What a native histogram counted since the writer's last point; nil
	// when it cannot follow it.
	var nativeInc *dto.Histogram
	if fd != nil && p.Native != nil && fd.metric != nil {
		nativeInc = prom.SubNative(p.Native.GetHistogram(), fd.metric.GetHistogram())
	}
	// A writer's run resets when its start time changes or a count goes
	// down (its process restarted): the new run's whole value is new.
	reset := fd == nil || (p.Start != 0 && fd.start != 0 && p.Start != fd.start) || decreased(fd, p, nativeInc)
	// Buckets that do not fit the total start a new run, but only when the
	// writer is alone in the series: others' counts cannot be thrown away.
	fits := fresh || addable(s, p)
	alone := fresh || s.feeds == nil || (fd != nil && len(*s.feeds) == 1)
	if !fits && !alone {
		return mismatched
	}
	if fd == nil {
		if fd = f.addFeed(s); fd == nil {
			return refused
		}
	}
	switch {
	case !fits || fresh:
		f.setValue(s, p)
		if f.typ == dto.MetricType_SUMMARY {
			// Quantiles of several writers cannot be merged.
			f.res.QuantilesDropped += min(len(s.Agg.Bounds), 1)
			s.Agg.Bounds, s.Agg.Values = s.Agg.Bounds[:0], s.Agg.Values[:0]
		}
	case reset:
		f.addValue(s, p)
	default:
		f.addDifference(s, p, fd, nativeInc)
	}
	fd.time, fd.start, fd.value, fd.metric = p.Time, p.Start, p.Value, p.Native
	if p.Agg != nil {
		fd.agg = fd.agg.Assign(p.Agg)
	}
	s.time, s.total = max(s.time, p.Time), true
	return taken
}

func (f *folder) combine(s seriesState, p *prom.Point, fresh bool) foldOutcome {
	fd := f.feedOf(s)
	if fd != nil && p.Time < fd.time {
		return stale
	}
	if fd == nil {
		if fd = f.addFeed(s); fd == nil {
			return refused
		}
	}
	fd.time, fd.value = p.Time, p.Value
	s.Value = f.combined(*s.feeds)
	s.time, s.total = max(s.time, p.Time), false
	return taken
}

// end folds a point that says its series has ended (no recorded value).
func (f *folder) end(s seriesState, p *prom.Point) foldOutcome {
	if s.feeds == nil {
		if p.Time < s.time {
			return stale
		}
		return ended
	}
	fd := f.feedOf(s)
	switch {
	case fd == nil:
		return ignored
	case p.Time < fd.time:
		return stale
	}
	return f.forget(s, f.writer)
}

// forget removes the writer's part of s: a combined gauge no longer counts
// it, a total keeps what it added. It says ended when no writer is left,
// ignored when the writer had no part.
func (f *folder) forget(s seriesState, id writerID) foldOutcome {
	if s.feeds == nil {
		if s.writer != id {
			return ignored
		}
		f.setWriter(s, 0)
		return taken
	}
	list := *s.feeds
	for i := range list {
		if list[i].writer != id {
			continue
		}
		f.g.writers.unref(id)
		list = append(list[:i], list[i+1:]...)
		*s.feeds = list
		if len(list) == 0 {
			s.feeds = nil
			return ended
		}
		f.releaseSlots(1)
		if f.rule == ruleCombine {
			s.Value = f.combined(list)
		}
		return taken
	}
	return ignored
}

// partOf returns the folder's writer's part of s: its feed when s has
// feeds, else whether it is s's only writer, whose end is s's time.
func (f *folder) partOf(s seriesState) (fd *feed, end pcommon.Timestamp, known bool) {
	if s.feeds == nil {
		return nil, s.time, s.writer != 0 && s.writer == f.writer
	}
	if fd = f.feedOf(s); fd != nil {
		return fd, fd.time, true
	}
	return nil, 0, false
}

// feedOf returns the folder's writer's feed of s, or nil.
func (f *folder) feedOf(s seriesState) *feed {
	if s.feeds == nil {
		return nil
	}
	list := *s.feeds
	for i := range list {
		if list[i].writer == f.writer {
			return &list[i]
		}
	}
	return nil
}

// addFeed adds the folder's writer as a feed of s and returns it; nil when
// the series limits leave no room. A series' first feed is the series
// itself; every further one takes a slot of the limits. A series held
// with one writer (no feeds) turns that writer into its first feed.
func (f *folder) addFeed(s seriesState) *feed {
	if s.feeds == nil {
		list := make([]feed, 0, 2)
		if s.writer != 0 {
			list = append(list, feed{writer: s.writer, time: s.time, value: s.Value})
			s.writer = 0 // its hold moves to the feed
		}
		s.feeds = &list
	}
	if len(*s.feeds) > 0 && !f.reserveSlot() {
		return nil
	}
	f.g.writers.ref(f.writer)
	*s.feeds = append(*s.feeds, feed{writer: f.writer})
	return &(*s.feeds)[len(*s.feeds)-1]
}

// dropFeeds returns s to one writer.
func (f *folder) dropFeeds(s seriesState) {
	if s.feeds == nil {
		return
	}
	for _, fd := range *s.feeds {
		f.g.writers.unref(fd.writer)
	}
	f.releaseSlots(len(*s.feeds) - 1)
	s.feeds = nil
}

// setWriter makes id the only writer of s (which has no feeds).
func (f *folder) setWriter(s seriesState, id writerID) {
	if s.writer == id {
		return
	}
	f.g.writers.ref(id)
	f.g.writers.unref(s.writer)
	s.writer = id
}

// reserveSlot takes one slot of the series limits, for a new series or a
// further writer of one, or records which limit refused it.
func (f *folder) reserveSlot() bool {
	switch {
	case f.s.maxSeriesPerGroup > 0 && f.g.series >= f.s.maxSeriesPerGroup:
		f.res.RefusedInGroup++
		return false
	case !f.s.reserveSeries():
		f.res.Refused++
		return false
	}
	f.g.series++
	return true
}

func (f *folder) releaseSlots(n int) {
	if n > 0 {
		f.g.series -= n
		f.s.series.Add(-int64(n))
	}
}

// setValue makes s hold p's value. A point's aggregate lives in the
// batch's scratch: the series keeps a copy, in its own storage if it has
// one.
func (f *folder) setValue(s seriesState, p *prom.Point) {
	s.Value, s.Native = p.Value, p.Native
	if p.Agg != nil {
		s.Agg = s.Agg.Assign(p.Agg)
	} else {
		s.Agg = nil
	}
}

// addValue adds p to what s holds: a histogram whose buckets cannot be
// added (other bounds, another zero threshold) starts a new run.
func (f *folder) addValue(s seriesState, p *prom.Point) {
	switch {
	case p.Agg != nil && f.typ == dto.MetricType_SUMMARY && s.Agg != nil:
		s.Agg.Count += p.Agg.Count
		s.Agg.Sum += p.Agg.Sum
		f.res.QuantilesDropped += min(len(p.Agg.Bounds), 1)
	case p.Agg != nil:
		if s.Agg == nil || !s.Agg.AddHistogram(p.Agg) {
			s.Agg = s.Agg.Assign(p.Agg)
		}
	case p.Native != nil:
		if h := addNativeMetric(s.Native, p.Native); h != nil {
			s.Native = h
		} else {
			s.Native = p.Native
		}
	default:
		s.Value += p.Value
	}
}

// addDifference adds to s what p counted since prev, the last point of
// the same writer's run (for a native histogram, nativeInc).
func (f *folder) addDifference(s seriesState, p *prom.Point, prev *feed, nativeInc *dto.Histogram) {
	switch {
	case p.Agg != nil && f.typ == dto.MetricType_SUMMARY:
		s.Agg.Count += p.Agg.Count - prev.agg.Count
		s.Agg.Sum += p.Agg.Sum - prev.agg.Sum
		f.res.QuantilesDropped += min(len(p.Agg.Bounds), 1)
	case p.Agg != nil:
		s.Agg.AddDifference(p.Agg, prev.agg)
	case p.Native != nil:
		if h := addNativeMetric(s.Native, &dto.Metric{Label: p.Native.Label, Histogram: nativeInc}); h != nil {
			s.Native = h
		}
	default:
		s.Value += p.Value - prev.value
	}
}

// combined is the gauge value of the writers' latest values.
func (f *folder) combined(list []feed) float64 {
	v := list[0].value
	for _, fd := range list[1:] {
		switch f.gauges {
		case GaugesSum:
			v += fd.value
		case GaugesMax:
			v = max(v, fd.value)
		case GaugesMin:
			v = min(v, fd.value)
		}
	}
	return v
}

// decreased says p cannot follow prev in one cumulative run: a count or
// value went down, or a histogram changed its buckets (for a native one,
// nativeInc, what it counted since prev, is nil).
func decreased(prev *feed, p *prom.Point, nativeInc *dto.Histogram) bool {
	switch {
	case p.Agg != nil:
		return prev.agg == nil || p.Agg.Count < prev.agg.Count || !p.Agg.Follows(prev.agg)
	case p.Native != nil:
		return nativeInc == nil
	}
	return p.Value < prev.value
}

// addable says p's buckets can be added to s's total.
func addable(s seriesState, p *prom.Point) bool {
	switch {
	case p.Agg != nil:
		return s.Agg != nil && (len(s.Agg.Counts) == 0 || s.Agg.SameBounds(p.Agg))
	case p.Native != nil:
		return s.Native != nil && s.Native.GetHistogram().GetZeroThreshold() == p.Native.GetHistogram().GetZeroThreshold()
	}
	return true
}

// addNativeMetric is a + b for two native histogram metrics, labelled as
// b; nil when a is nil or they cannot be added.
func addNativeMetric(a, b *dto.Metric) *dto.Metric {
	if a.GetHistogram() == nil || b.GetHistogram() == nil {
		return nil
	}
	if h := prom.AddNative(a.Histogram, b.Histogram); h != nil {
		return &dto.Metric{Label: b.Label, Histogram: h}
	}
	return nil
}
