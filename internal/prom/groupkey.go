package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"

import (
	"strconv"
	"strings"
)

// The grouping labels every group may have besides the configured ones.
const (
	JobLabel      = "job"
	InstanceLabel = "instance"
)

// LabelPair is one label as text: a grouping label, or a resource
// attribute.
type LabelPair struct {
	Name, Value string
}

// GroupKey identifies one Pushgateway group: job first, then the other
// labels sorted by name. Its order is the push URL's order.
type GroupKey []LabelPair

// ID is the key under which the exporter holds the group's state.
func (k GroupKey) ID() string {
	var b strings.Builder
	for _, l := range k {
		b.WriteString(l.Name)
		b.WriteByte(0xff) // never part of valid UTF-8, so ids cannot collide
		b.WriteString(l.Value)
		b.WriteByte(0xff)
	}
	return b.String()
}

// String renders the key as a Prometheus label set, for errors and logs.
func (k GroupKey) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range k {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// Job is the key's job label.
func (k GroupKey) Job() string {
	if len(k) == 0 {
		return ""
	}
	return k[0].Value
}

// Label returns the value of the grouping label name.
func (k GroupKey) Label(name string) (string, bool) {
	for _, l := range k {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}
