package reference

import "sort"

// Writers: target_info and forgetting.

// endTargetInfo (C6): the target_info of a writer stays while the writer
// feeds at least one other series of the group. When a marker ended the
// writer's last other series, its part in target_info is removed, and a
// target_info series left without one is removed (no_recorded_value) —
// unless another writer with the same target_info labels still feeds a
// series, which then holds it.
func (m *Model) endTargetInfo(g *group, ended map[string]bool) {
	ti := g.family("target_info")
	if ti == nil {
		return
	}
	for _, w := range sortedKeys(ended) {
		if g.feeds(w) {
			continue
		}
		for _, key := range sortedKeys(ti.series) {
			s := ti.series[key]
			if !s.hasPart(w) || !s.dropWriter(w) {
				continue
			}
			if heir := g.heir(w, key); heir != "" {
				if s.kind == latest {
					s.holder, s.owner = heir+"\x00target_info", heir
				} else {
					s.parts[heir+"\x00target_info"] = &part{writer: heir, time: s.time, last: Value{Number: 1}}
				}
				continue
			}
			delete(ti.series, key)
			m.counts["no_recorded_value"]++
		}
	}
}

// feeds reports whether writer has a part in a series of the group other
// than target_info.
func (g *group) feeds(writer string) bool {
	for _, f := range g.families {
		if f.name == "target_info" {
			continue
		}
		for _, s := range f.series {
			if s.hasPart(writer) {
				return true
			}
		}
	}
	return false
}

// heir is another writer whose target_info is the series key and who still
// feeds a series, or "".
func (g *group) heir(writer, key string) string {
	names := make([]string, 0, len(g.writers))
	for w := range g.writers {
		names = append(names, w)
	}
	sort.Strings(names)
	for _, w := range names {
		if w != writer && g.writers[w].targetInfo == key && g.feeds(w) {
			return w
		}
	}
	return ""
}

// forgetWriter forgets a writer in a group (state_ttl): combined gauges drop
// its streams' values, and a combined series left without streams is removed
// (writer_forgotten); totals keep what it added but forget its streams (a
// stream that comes back counts whole again); latest values stay.
func (m *Model) forgetWriter(g *group, writer string) {
	for _, f := range g.families {
		for key, s := range f.series {
			switch s.kind {
			case total:
				s.dropWriter(writer)
			case combined:
				if s.dropWriter(writer) {
					delete(f.series, key)
					m.counts["writer_forgotten"]++
				}
			}
		}
	}
	delete(g.writers, writer)
}
