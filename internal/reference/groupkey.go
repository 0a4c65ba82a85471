package reference

import (
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// groupKey is a resource's Pushgateway group.
type groupKey struct {
	key    string            // rendered by GroupKey
	labels map[string]string // job, instance, extra grouping labels
	used   map[string]bool   // resource attributes the key is made of (not on target_info)
}

// groupKeyOf derives a resource's group, or ok=false when the resource is
// refused (invalid_group).
//
//   - job = Config.Job if set; else service.namespace + "/" + service.name
//     when a non-empty namespace exists, else service.name, else
//     "unknown_service".
//   - instance = the value of the first of InstanceAttributes the resource
//     has with a non-empty value; none: no instance label; an empty list:
//     never.
//   - each GroupingLabel: the attribute's value; missing or empty: no label.
//   - Values are AsString(); an empty value is no label.
//   - Refused: invalid UTF-8 in an attribute the key reads (service.name and
//     service.namespace when the job is not fixed, every instance attribute,
//     every grouping label attribute), or a grouping value longer than
//     MaxLabelValueLength bytes: repairing or cutting it could address
//     another resource's group.
func groupKeyOf(cfg Config, res pcommon.Map) (groupKey, bool) {
	value := func(attr string) (string, bool) {
		v, ok := res.Get(attr)
		if !ok {
			return "", false
		}
		return v.AsString(), true
	}
	gk := groupKey{labels: map[string]string{}, used: map[string]bool{}}
	var read []string

	if cfg.Job != "" {
		gk.labels["job"] = cfg.Job
	} else {
		read = append(read, "service.name", "service.namespace")
		name, _ := value("service.name")
		namespace, _ := value("service.namespace")
		switch {
		case namespace != "":
			gk.labels["job"] = namespace + "/" + name
		case name != "":
			gk.labels["job"] = name
		default:
			gk.labels["job"] = "unknown_service"
		}
		gk.used["service.name"], gk.used["service.namespace"] = true, true
	}

	for _, attr := range cfg.InstanceAttributes {
		read = append(read, attr)
		if _, chosen := gk.labels["instance"]; chosen {
			continue
		}
		if v, _ := value(attr); v != "" {
			gk.labels["instance"] = v
			gk.used[attr] = true
		}
	}

	for _, l := range cfg.Labels {
		read = append(read, l.Attribute)
		if v, _ := value(l.Attribute); v != "" {
			gk.labels[l.Name] = v
			gk.used[l.Attribute] = true
		}
	}

	for _, attr := range read {
		if v, ok := value(attr); ok && !utf8.ValidString(v) {
			return groupKey{}, false
		}
	}
	for _, v := range gk.labels {
		if cfg.tooLong(v) {
			return groupKey{}, false
		}
	}
	gk.key = GroupKey(gk.labels)
	return gk, true
}
