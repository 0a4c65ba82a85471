package reference

import (
	"fmt"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// Model is the reference model: what the exporter must have made the
// Pushgateway hold after a sequence of Export and Tick steps. It is not safe
// for concurrent use.
type Model struct {
	cfg    Config
	groups map[string]*group
	gw     SimulatedGateway
	counts map[string]int
}

// group is what the exporter holds of one group.
type group struct {
	key             groupKey
	families        []*family // in the order they arrived
	writers         map[string]*writer
	lastChange      time.Time // the last step that took a point (group_ttl, state_ttl)
	lastSeriesCheck time.Time // series_ttl
	held            bool      // it has held a family (else it was never made)
}

// family is one metric family of a group.
type family struct {
	name   string
	typ    dto.MetricType
	help   string
	series map[string]*series
}

// writer is what a group knows of one writer (resource).
type writer struct {
	lastBatch  time.Time // the last batch with a point of it for the group (state_ttl)
	targetInfo string    // the series key of its target_info, if it sent one
}

// New returns a model with an empty gateway. It panics on a Method, Mode or
// Gauges the exporter would refuse.
func New(cfg Config) *Model {
	cfg = cfg.withDefaults()
	cfg.check()
	return &Model{cfg: cfg, groups: map[string]*group{}, counts: map[string]int{}}
}

// Preload makes the gateway hold a group the exporter never pushed (what
// the gateway held before the exporter started, or another pusher's group):
// its names count in the name conflicts (C2). Call it before the first
// Export; it returns the gateway's refusal, if any.
func (m *Model) Preload(group string, fams []*dto.MetricFamily) error {
	return m.gw.Put(group, fams)
}

// Gateway is what the Pushgateway must hold now (a deep copy).
func (m *Model) Gateway() Gateway { return m.gw.Content() }

// Counts are the points dropped or stale and the series removed so far, by
// reason.
func (m *Model) Counts() map[string]int {
	c := make(map[string]int, len(m.counts))
	for k, v := range m.counts {
		c[k] = v
	}
	return c
}

// Export is one batch arriving at exporter clock time now: it is translated,
// folded group by group (in the order groups first appear in the batch),
// and every group it touched is pushed with its whole state.
func (m *Model) Export(now time.Time, md pmetric.Metrics) {
	t := newTranslator(m.cfg)
	b := t.translate(md)
	for reason, n := range t.drops {
		m.counts[reason] += n
	}
	for _, key := range b.order {
		m.exportGroup(now, b.keys[key], b.points[key])
	}
}

// exportGroup folds one group's points of a batch, then expires its series
// (series_ttl), ends the target_info of writers a marker left without a
// series (C6), and pushes the group.
//
// Points are taken family by family, families in the order they first
// appear, each family's points in time order (stable: of two points with
// one time, the later one in the batch is taken later).
func (m *Model) exportGroup(now time.Time, gk groupKey, points []point) {
	g := m.groups[gk.key]
	isNew := g == nil
	if isNew {
		g = &group{key: gk, writers: map[string]*writer{}, lastSeriesCheck: now}
	}
	for _, p := range points {
		w := g.writers[p.writer]
		if w == nil {
			w = &writer{}
			g.writers[p.writer] = w
		}
		w.lastBatch = now
		if p.targetInfo {
			w.targetInfo = p.series
		}
	}

	var order []string
	byFamily := map[string][]point{}
	for _, p := range points {
		if _, ok := byFamily[p.family]; !ok {
			order = append(order, p.family)
		}
		byFamily[p.family] = append(byFamily[p.family], p)
	}
	ended := map[string]bool{} // writers whose part a marker ended
	for _, name := range order {
		pts := byFamily[name]
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].time < pts[j].time })
		for _, p := range pts {
			m.fold(now, g, p, ended)
		}
	}

	if !isNew {
		m.expireSeries(now, g)
	}
	m.endTargetInfo(g, ended)
	m.finish(g)
}

// fold takes one point into its group.
//
// A live point of a family the group does not hold, or holds with another
// type, needs the name (C2): it is dropped (name_conflict) when the family
// would break the gateway's consistency (see mayHold). A family that arrives
// with another type than the group holds under that name replaces the
// group's family whole, all its series, once its first point is taken.
// A marker never makes a family or a series.
//
// In mode sum, summaries carry only count and sum: a summary point taken
// without its quantiles is counted (summary_quantiles).
func (m *Model) fold(now time.Time, g *group, p point, ended map[string]bool) {
	fam := g.family(p.family)
	var s *series
	if fam != nil && fam.typ == p.typ {
		s = fam.series[p.series]
	}
	if p.marker {
		if s == nil {
			return
		}
		end, remove, reason := foldMarker(s, p)
		if reason != "" {
			m.counts[reason]++
		}
		if end {
			ended[p.writer] = true
			g.lastChange = now
		}
		if remove {
			delete(fam.series, p.series)
		}
		return
	}

	needsFamily := fam == nil || fam.typ != p.typ
	if needsFamily && !m.mayHold(g, p.family, p.typ) {
		m.counts["name_conflict"]++
		return
	}
	quantilesLeftOut := false
	if m.cfg.modeSum() && p.typ == dto.MetricType_SUMMARY && len(p.value.Quantiles) > 0 {
		p.value.Quantiles, quantilesLeftOut = nil, true
	}
	next, reason := m.foldLive(s, p)
	if reason != "" {
		m.counts[reason]++
		return
	}
	if quantilesLeftOut {
		m.counts["summary_quantiles"]++
	}
	if needsFamily {
		g.removeFamily(p.family)
		fam = &family{name: p.family, typ: p.typ, series: map[string]*series{}}
		g.families = append(g.families, fam)
		g.held = true
	}
	fam.help = p.help
	next.lastTaken = now
	fam.series[p.series] = next
	g.lastChange = now
}

// finish ends a step for a group. A group left with no family is deleted at
// the gateway (method put) and forgotten; with post it is only forgotten
// (the gateway keeps its families). A group that never held a family was
// never made: nothing happens. Any other group is pushed: its whole state
// (put) or all its families (post).
func (m *Model) finish(g *group) {
	var kept []*family
	for _, f := range g.families {
		if len(f.series) > 0 {
			kept = append(kept, f)
		}
	}
	g.families = kept
	if len(g.families) == 0 {
		if g.held && !m.cfg.post() {
			m.gw.Delete(g.key.key)
		}
		delete(m.groups, g.key.key)
		return
	}
	m.groups[g.key.key] = g
	m.push(g)
}

// push sends the group to the simulated gateway. The model's own pushes must
// never be refused: that would be a bug in the model.
func (m *Model) push(g *group) {
	var fams []*dto.MetricFamily
	for _, f := range g.families {
		mf := &dto.MetricFamily{Name: ptr(f.name), Help: ptr(f.help), Type: f.typ.Enum()}
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s := f.series[k]
			mf.Metric = append(mf.Metric, encodeMetric(f.typ, s.labels, m.shown(s)))
		}
		fams = append(fams, mf)
	}
	var err error
	if m.cfg.post() {
		err = m.gw.Post(g.key.key, fams)
	} else {
		err = m.gw.Put(g.key.key, fams)
	}
	if err != nil {
		panic(fmt.Sprintf("reference model: the gateway refused the model's own push: %v", err))
	}
}

// shown is a series' value as pushed: exponential histograms are held as
// native histograms and shown as classic buckets when ClassicExponential.
func (m *Model) shown(s *series) Value {
	v := s.show()
	if v.Native != nil && m.cfg.ClassicExponential {
		v.Buckets = classicFromNative(v.Native, v.Count)
		v.Native = nil
	}
	return v
}

func (g *group) family(name string) *family {
	for _, f := range g.families {
		if f.name == name {
			return f
		}
	}
	return nil
}

func (g *group) removeFamily(name string) {
	var kept []*family
	for _, f := range g.families {
		if f.name != name {
			kept = append(kept, f)
		}
	}
	g.families = kept
}
