package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
)

// maxParkedNames bounds the names gatewayNames keeps for groups it no
// longer holds; beyond it a forgotten group's names are let go (and a
// later family of such a name with another type is no longer refused).
const maxParkedNames = 1 << 14

// gatewayNames are the metric family names the gateway holds, with their
// types: those of the exporter's groups, counted per group, and those of
// groups the gateway keeps but the exporter does not hold (parked): groups
// forgotten after state_ttl, families a post left behind, and what the
// gateway held when the exporter started (see learn).
//
// The gateway checks every push against all the groups it holds: one name
// has one type, and a histogram or summary owns its name's _count and _sum
// (a histogram also _bucket). A group that broke either would be refused on
// every push from then on; on a gateway that does not check
// (--push.disable-consistency-check), every scrape of the gateway would
// fail instead. So a family that would break either is never pushed.
type gatewayNames struct {
	mu     sync.Mutex
	names  map[string]*nameUse
	parked int
}

// nameUse is one family name the gateway holds.
type nameUse struct {
	typ dto.MetricType
	// groups counts the exporter's groups that hold the name; parked says
	// groups the exporter does not hold may hold it too.
	groups int
	parked bool
	// retyping says a group changed the family's type and the gateway may
	// still hold the old one: no other group may claim the name meanwhile.
	retyping bool
}

func newGatewayNames() *gatewayNames {
	return &gatewayNames{names: map[string]*nameUse{}}
}

// claim records that a group holds a family of this name and type, unless
// that conflicts with a family the gateway holds. retype says the group
// holds the name already with another type, to be replaced.
func (n *gatewayNames) claim(name string, typ dto.MetricType, retype bool) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.names[name]
	if u != nil && (u.retyping || u.typ != typ && (!retype || u.groups > 1 || u.parked)) {
		return false
	}
	if collidesWithHeld(name, typ, n.names) {
		return false
	}
	switch {
	case u == nil:
		n.names[name] = &nameUse{typ: typ, groups: 1}
	case retype:
		u.typ, u.retyping = typ, true
	default:
		u.groups++
	}
	return true
}

// release records that a group no longer holds a family of this name;
// kept says the gateway keeps it nonetheless.
func (n *gatewayNames) release(name string, kept bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	u := n.names[name]
	if u == nil {
		return
	}
	u.groups--
	if kept && !u.parked && n.parked < maxParkedNames {
		u.parked = true
		n.parked++
	}
	if u.groups <= 0 && !u.parked {
		delete(n.names, name)
	}
}

// retyped records that the gateway acknowledged a push with the name's
// new type: other groups may claim it again.
func (n *gatewayNames) retyped(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if u := n.names[name]; u != nil {
		u.retyping = false
	}
}

// learn records a family the gateway holds in a group the exporter does
// not; it returns the type already known when the gateway holds the name
// with two types.
func (n *gatewayNames) learn(name string, typ dto.MetricType) (known dto.MetricType, conflict bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if u := n.names[name]; u != nil {
		return u.typ, u.typ != typ
	}
	if n.parked < maxParkedNames {
		n.names[name] = &nameUse{typ: typ, parked: true}
		n.parked++
	}
	return typ, false
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
