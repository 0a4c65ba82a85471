package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// The resource attributes that identify a service, as the OTel semantic
// conventions name them.
const (
	attrServiceName      = "service.name"
	attrServiceNamespace = "service.namespace"
	attrServiceInstance  = "service.instance.id"
)

// unknownServiceJob is the job of a resource that has neither a configured
// job nor service.name: the SDKs' own default service name.
const unknownServiceJob = "unknown_service"

// Grouping says which resource attributes make a group's key.
type Grouping struct {
	// Job, when set, is every group's job; otherwise service.namespace/
	// service.name, service.name, or unknown_service.
	Job string
	// InstanceAttributes are tried in order: the first one a resource has
	// with a non-empty value is its instance. None: no instance label.
	InstanceAttributes []string
	// Labels are further grouping labels, each fed by an attribute.
	Labels []GroupingLabel
}

// GroupingLabel is one further grouping label and the resource attribute
// that feeds it.
type GroupingLabel struct {
	Name, Attribute string
}

// GroupKey derives the grouping key of a resource; attributes that are
// missing or empty add no label. An error refuses the resource: its key
// would not be its own (a value that had invalid UTF-8, as two such values
// could meet in one group once repaired, or one longer than the label
// length limit, as a cut one could).
func (t *Translator) GroupKey(res pcommon.Resource) (prom.GroupKey, error) {
	key := groupKeyFor(res, t.grouping)
	return key, validateGroupKey(res, t.grouping, key, t.maxLabelLength)
}

// groupKeyFor derives the grouping key of a resource.
func groupKeyFor(res pcommon.Resource, cfg Grouping) prom.GroupKey {
	attrs := res.Attributes()
	// An empty value is no label, as in Prometheus. The gateway agrees: it
	// refuses a group that differs from another only by an empty label.
	lookup := func(name string) (string, bool) {
		v, ok := attrs.Get(name)
		if !ok {
			return "", false
		}
		s := toLabelValue(v.AsString())
		return s, s != ""
	}

	job := cfg.Job
	if job == "" {
		name, _ := lookup(attrServiceName)
		if name == "" {
			name = unknownServiceJob
		}
		job = name
		if ns, _ := lookup(attrServiceNamespace); ns != "" {
			job = ns + "/" + name
		}
	}

	key := prom.GroupKey{{Name: prom.JobLabel, Value: toLabelValue(job)}}
	for _, attr := range cfg.InstanceAttributes {
		if v, ok := lookup(attr); ok {
			key = append(key, prom.LabelPair{Name: prom.InstanceLabel, Value: v})
			break
		}
	}
	for _, l := range cfg.Labels {
		if v, ok := lookup(l.Attribute); ok {
			key = append(key, prom.LabelPair{Name: l.Name, Value: v})
		}
	}
	slices.SortFunc(key[1:], func(a, b prom.LabelPair) int { return strings.Compare(a.Name, b.Name) })
	return key
}

// validateGroupKey refuses a resource whose grouping key would not be its
// own: a value that had invalid UTF-8 or is longer than maxLength bytes
// (0: no limit).
func validateGroupKey(res pcommon.Resource, cfg Grouping, key prom.GroupKey, maxLength int) error {
	attrs := slices.Clone(cfg.InstanceAttributes)
	if cfg.Job == "" {
		attrs = append(attrs, attrServiceName, attrServiceNamespace)
	}
	for _, l := range cfg.Labels {
		attrs = append(attrs, l.Attribute)
	}
	for _, name := range attrs {
		if v, ok := res.Attributes().Get(name); ok && !utf8.ValidString(v.AsString()) {
			return fmt.Errorf("resource attribute %q is not valid UTF-8", name)
		}
	}
	for _, l := range key {
		if maxLength > 0 && len(l.Value) > maxLength {
			return fmt.Errorf("grouping label %s has %d bytes, more than max_label_value_length=%d", l.Name, len(l.Value), maxLength)
		}
	}
	return nil
}

// toLabelValue makes any string a valid Prometheus label value: invalid
// UTF-8 bytes become U+FFFD, as the gateway refuses them.
func toLabelValue(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}
