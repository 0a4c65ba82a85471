package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"cmp"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"go.opentelemetry.io/collector/pdata/pcommon" // scope labels, as the OTel Prometheus compatibility rules name them.
	"google.golang.org/protobuf/proto"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

const (
	scopeNameLabel    = "otel_scope_name"
	scopeVersionLabel = "otel_scope_version"
)

// scopeExtra are the labels every series of a scope gets besides its
// point's attributes, and their number in the label cache.
type scopeExtra struct {
	labels []attrLabel
	id     uint64
}

// extraLabels are the labels every series of a scope gets besides its
// point's attributes: the resource attributes (resourceLabels) and the
// scope's name and version (scopeLabels). A point attribute of the same
// name wins.
func (t *Translator) extraLabels(scope pcommon.InstrumentationScope, res pcommon.Resource) *scopeExtra {
	var extra []attrLabel
	add := func(key, value string) {
		if value = toLabelValue(value); value == "" {
			return
		}
		if name, err := t.labelNamer.Build(key); err == nil {
			extra = append(extra, attrLabel{name: name, key: key, value: value})
		}
	}
	if t.resourceLabels {
		for k, v := range res.Attributes().All() {
			add(k, v.AsString())
		}
	}
	if t.scopeLabels {
		add(scopeNameLabel, scope.Name())
		add(scopeVersionLabel, scope.Version())
	}
	return &scopeExtra{labels: extra, id: t.cache.scopeID(extra)}
}

// attrLabel is an attribute on its way to a label.
type attrLabel struct{ name, key, value string }

// labels translates point attributes, and the extra labels of the point's
// scope, into sorted Prometheus labels. Names are sanitised; a name that
// would clash with a grouping label or with the type's own label (le,
// quantile) is prefixed exported_; attributes that end up with the same
// name are merged, their values joined with ";" in the order of the
// original keys; an extra label is left out when a point attribute has
// its name; empty values are dropped, as an empty label is no label in
// Prometheus. A non-empty reason says why the point cannot be pushed.
func (t *Translator) labels(attrs pcommon.Map, typeLabel string, extra []attrLabel) (_ []*dto.LabelPair, reason prom.DropReason) {
	if attrs.Len() == 0 && len(extra) == 0 {
		return nil, ""
	}
	if t.maxLabels > 0 && attrs.Len() > t.maxLabels {
		return nil, prom.DropTooManyLabels
	}
	all := make([]attrLabel, 0, attrs.Len()+len(extra))
	for k, v := range attrs.All() {
		value := toLabelValue(v.AsString())
		if value == "" {
			continue
		}
		name, err := t.labelNamer.Build(k)
		if err != nil {
			continue
		}
		all = append(all, attrLabel{name: t.unreserved(name, typeLabel), key: k, value: value})
	}
	fromPoint := len(all)
	for _, e := range extra {
		e.name = t.unreserved(e.name, typeLabel)
		if !slices.ContainsFunc(all[:fromPoint], func(a attrLabel) bool { return a.name == e.name }) {
			all = append(all, e)
		}
	}
	if t.maxLabels > 0 && len(all) > t.maxLabels {
		return nil, prom.DropTooManyLabels
	}

	slices.SortFunc(all, func(a, b attrLabel) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.key, b.key))
	})
	pairs := make([]*dto.LabelPair, 0, len(all))
	for i := 0; i < len(all); {
		if t.maxLabelLength > 0 && len(all[i].name) > t.maxLabelLength {
			return nil, prom.DropLabelTooLong
		}
		j := i + 1
		value := all[i].value
		for ; j < len(all) && all[j].name == all[i].name; j++ {
			value += ";" + all[j].value
		}
		if t.maxLabelLength > 0 && len(value) > t.maxLabelLength {
			return nil, prom.DropLabelTooLong
		}
		pairs = append(pairs, &dto.LabelPair{Name: proto.String(all[i].name), Value: proto.String(value)})
		i = j
	}
	return pairs, ""
}

// unreserved renames a label name the series cannot carry: a grouping
// label, the type's own label, or a name starting with "__", which
// Prometheus reserves for itself and the gateway refuses (the label namer
// keeps __x__ as it is).
func (t *Translator) unreserved(name, typeLabel string) string {
	for t.reserved[name] || name == typeLabel || strings.HasPrefix(name, "__") {
		name = "exported_" + name
	}
	return name
}
