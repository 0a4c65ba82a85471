package reference

import (
	"sort"
	"time"
)

// expireSeries (series_ttl, SeriesTTL > 0): when a batch is folded into a
// group at now and at least SeriesTTL/4 has passed since the group's last
// such check (the first batch of a new group sets the check time), series
// whose last taken point was folded at or before now-SeriesTTL are removed
// (series_ttl). A group that receives nothing keeps everything.
func (m *Model) expireSeries(now time.Time, g *group) {
	if m.cfg.SeriesTTL <= 0 || now.Sub(g.lastSeriesCheck) < m.cfg.SeriesTTL/4 {
		return
	}
	g.lastSeriesCheck = now
	cutoff := now.Add(-m.cfg.SeriesTTL)
	for _, f := range g.families {
		for key, s := range f.series {
			if !s.lastTaken.After(cutoff) {
				delete(f.series, key)
				m.counts["series_ttl"]++
			}
		}
	}
}

// Tick is time passing to now, with the background expiry:
//
//   - group_ttl (GroupTTL > 0), first: groups whose last change (a step that
//     took a point) is at or before now-GroupTTL are deleted at the gateway
//     and forgotten.
//   - state_ttl (StateTTL > 0), cutoff = now-StateTTL: first every group
//     whose last change is at or before the cutoff is forgotten — the
//     gateway keeps what it holds; then in every other group every writer
//     whose last batch is at or before the cutoff is forgotten
//     (forgetWriter), and the group is pushed (or, left with no family,
//     deleted under put and forgotten).
func (m *Model) Tick(now time.Time) {
	if m.cfg.GroupTTL > 0 {
		cutoff := now.Add(-m.cfg.GroupTTL)
		for _, key := range m.groupKeys() {
			if !m.groups[key].lastChange.After(cutoff) {
				m.gw.Delete(key)
				delete(m.groups, key)
			}
		}
	}
	if m.cfg.StateTTL > 0 {
		cutoff := now.Add(-m.cfg.StateTTL)
		for _, key := range m.groupKeys() {
			if !m.groups[key].lastChange.After(cutoff) {
				delete(m.groups, key)
			}
		}
		for _, key := range m.groupKeys() {
			g := m.groups[key]
			forgot := false
			for _, w := range sortedKeys(g.writers) {
				if !g.writers[w].lastBatch.After(cutoff) {
					m.forgetWriter(g, w)
					forgot = true
				}
			}
			if forgot {
				m.finish(g)
			}
		}
	}
}

func (m *Model) groupKeys() []string {
	keys := make([]string, 0, len(m.groups))
	for k := range m.groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
