package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

const (
	jobLabel      = "job"
	instanceLabel = "instance"

	// unknownServiceJob is the job of a resource that has neither a
	// configured job nor service.name: the SDKs' own default service name.
	unknownServiceJob = "unknown_service"

	attrServiceName      = "service.name"
	attrServiceNamespace = "service.namespace"
	attrServiceInstance  = "service.instance.id"
)

// labelPair is one grouping label.
type labelPair struct {
	name, value string
}

// groupKey identifies one Pushgateway group: job first, then the other
// labels sorted by name. Its order is the URL's order.
type groupKey []labelPair

// groupKeyFor derives the grouping key of a resource. Attributes that are
// missing or empty add no label.
func groupKeyFor(res pcommon.Resource, cfg GroupingConfig) groupKey {
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

	key := groupKey{{name: jobLabel, value: toLabelValue(job)}}
	for _, attr := range cfg.InstanceAttribute {
		if v, ok := lookup(attr); ok {
			key = append(key, labelPair{name: instanceLabel, value: v})
			break
		}
	}
	for _, l := range cfg.Labels {
		if v, ok := lookup(l.Attribute); ok {
			key = append(key, labelPair{name: l.Name, value: v})
		}
	}
	slices.SortFunc(key[1:], func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	return key
}

// validateGroupKey refuses a resource whose grouping key would not be its
// own: a value that had invalid UTF-8 (two such values could meet in one
// group once repaired) or is longer than maxLength bytes (0: no limit).
func validateGroupKey(res pcommon.Resource, cfg GroupingConfig, key groupKey, maxLength int) error {
	attrs := slices.Clone(cfg.InstanceAttribute)
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
		if maxLength > 0 && len(l.value) > maxLength {
			return fmt.Errorf("grouping label %s has %d bytes, more than max_label_value_length=%d", l.name, len(l.value), maxLength)
		}
	}
	return nil
}

// toLabelValue makes any string a valid Prometheus label value: invalid
// UTF-8 bytes become U+FFFD, as the gateway refuses them.
func toLabelValue(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// id is the key under which the exporter holds the group's state.
func (k groupKey) id() string {
	var b strings.Builder
	for _, l := range k {
		b.WriteString(l.name)
		b.WriteByte(0xff) // never part of valid UTF-8, so ids cannot collide
		b.WriteString(l.value)
		b.WriteByte(0xff)
	}
	return b.String()
}

// String renders the key as a Prometheus label set, for errors and logs.
func (k groupKey) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range k {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.value))
	}
	b.WriteByte('}')
	return b.String()
}

// urlPath is the part of the push URL after /metrics/: name/value pairs,
// each value either path-escaped or, when it cannot travel literally as one
// path segment, base64url-encoded behind a name@base64 segment.
func (k groupKey) urlPath() string {
	var b strings.Builder
	for i, l := range k {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(l.name)
		if needsBase64(l.value) {
			b.WriteString("@base64/")
			if l.value == "" {
				// The gateway reads "=" as the empty value; an empty
				// segment would be a malformed path.
				b.WriteByte('=')
			} else {
				b.WriteString(base64.RawURLEncoding.EncodeToString([]byte(l.value)))
			}
			continue
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(l.value))
	}
	return b.String()
}

// needsBase64 reports whether a value cannot be one literal path segment:
// empty, containing a slash, or a dot segment that path cleaning (in the
// gateway's router or any proxy in front of it) would resolve away.
func needsBase64(v string) bool {
	return v == "" || v == "." || v == ".." || strings.ContainsRune(v, '/') || !utf8.ValidString(v)
}
