package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"time"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// prune removes the series no point changed since cutoff (series_ttl) and
// says whether it removed any.
func (f *folder) prune(cutoff int64) bool {
	pruned := false
	for name, fs := range f.g.families {
		for idx := int32(len(fs.folds)) - 1; idx >= 0; idx-- {
			if fs.folds[idx].seen <= cutoff {
				f.removeSeries(fs, idx)
				f.res.Expired++
				pruned = true
			}
		}
		if pruned {
			fs.recent = fs.recent[:0]
		}
		if len(fs.values) == 0 {
			f.removeFamily(name)
		}
	}
	return pruned
}

// ForgetWriters forgets, in every group, the writers that sent nothing
// since cutoff: a combined gauge no longer counts them (a series left
// without writers is removed), a total keeps what they added. It returns
// the groups whose pushed values changed, and the series removed.
func (s *Groups) ForgetWriters(cutoff time.Time) (changed []*Group, removed int) {
	for _, g := range s.All() {
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
func (s *Groups) forgetIn(g *Group, ids []writerID) (removed int, changed bool) {
	fo := folder{s: s, g: g, res: &ApplyResult{}}
	defer g.writers.settle()
	defer func() {
		if changed {
			g.version++
		}
		fo.leave()
	}()
	for name, fs := range g.families {
		fo.ruleFor(&prom.Family{Name: name, Type: fs.typ, Delta: fs.delta})
		for idx := int32(len(fs.folds)) - 1; idx >= 0; idx-- {
			for _, id := range ids {
				out := fo.forget(fs.at(idx), id)
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
		if len(fs.values) == 0 {
			fo.removeFamily(name)
		}
	}
	return removed, changed
}
