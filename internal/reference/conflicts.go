package reference

import dto "github.com/prometheus/client_model/go"

// Name conflicts (C2). The gateway checks every push against everything it
// holds and refuses the whole push when one family breaks its consistency
// (see SimulatedGateway), so the exporter drops such a family instead
// (name_conflict): one whose name or type would break consistency against
// what the gateway holds in other groups — the exporter's own, those it
// forgot, and what the gateway held before — and, with post, against the
// group's own families at the gateway that its push does not carry; never
// against the group's own previous content under put. Within one group,
// families are considered in the order they first arrived: a later family
// that conflicts with an earlier one is dropped.

// mayHold reports whether group g may take a family named name of type typ:
// whether the gateway would stay consistent were g's next push to carry it
// (replacing g's family of that name, if any) along with g's other families.
func (m *Model) mayHold(g *group, name string, typ dto.MetricType) bool {
	types := typesOf(m.gw.groups)
	next := map[string]dto.MetricType{}
	if m.cfg.post() {
		for n, t := range types[g.key.key] {
			next[n] = t
		}
	}
	for _, f := range g.families {
		if len(f.series) > 0 { // a family left without series is not pushed
			next[f.name] = f.typ
		}
	}
	next[name] = typ
	types[g.key.key] = next
	return checkConsistency(types) == nil
}
