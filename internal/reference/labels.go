package reference

import (
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

// attr is one attribute: its key as sent and its value as text.
type attr struct{ key, value string }

// attrsOf lists a map's attributes, values rendered with AsString (text as
// is, numbers and booleans as text, JSON for slices and maps, base64 for
// bytes, "" for an empty value).
func attrsOf(m pcommon.Map) []attr {
	var attrs []attr
	for k, v := range m.All() {
		attrs = append(attrs, attr{k, v.AsString()})
	}
	return attrs
}

// labelNamer names labels the way the exporter does.
type labelNamer struct {
	namer    otlptranslator.LabelNamer
	grouping map[string]bool // names a series label may not take: the gateway would overwrite it
}

func newLabelNamer(cfg Config) labelNamer {
	ln := labelNamer{
		namer:    otlptranslator.LabelNamer{UTF8Allowed: !cfg.Strategy.ShouldEscape()},
		grouping: map[string]bool{"job": true},
	}
	if len(cfg.InstanceAttributes) > 0 {
		ln.grouping["instance"] = true
	}
	for _, l := range cfg.Labels {
		ln.grouping[l.Name] = true
	}
	return ln
}

// unreserved prefixes "exported_" (repeatedly, until none of these holds) to
// a name that is a grouping label name (job; instance while
// InstanceAttributes is non-empty; each grouping label), the type's own label
// (le for histograms, quantile for summaries), or starts with "__".
func (ln labelNamer) unreserved(name string, typ dto.MetricType) string {
	for ln.grouping[name] || strings.HasPrefix(name, "__") ||
		(typ == dto.MetricType_HISTOGRAM && name == "le") ||
		(typ == dto.MetricType_SUMMARY && name == "quantile") {
		name = "exported_" + name
	}
	return name
}

// labels turns attributes into labels of a series of type typ:
//
//   - each key is named by otlptranslator's LabelNamer, then unreserved;
//   - a key the LabelNamer refuses ("", ".", "__", only underscores) makes
//     labels return ok=false when strict (a point's attribute: the point is
//     dropped, never merged into another) and is skipped otherwise (resource
//     and scope metadata);
//   - values are repaired to valid UTF-8 (each run of invalid bytes becomes
//     U+FFFD); an empty value is no label;
//   - attributes that end up with one name are merged: values joined with
//     ";" in the byte order of their original keys.
func (ln labelNamer) labels(attrs []attr, typ dto.MetricType, strict bool) (map[string]string, bool) {
	sorted := append([]attr{}, attrs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].key < sorted[j].key })
	labels := map[string]string{}
	for _, a := range sorted {
		name, err := ln.namer.Build(a.key)
		if err != nil {
			if strict {
				return nil, false
			}
			continue
		}
		v := repairUTF8(a.value)
		if v == "" {
			continue
		}
		name = ln.unreserved(name, typ)
		if prev, ok := labels[name]; ok {
			v = prev + ";" + v
		}
		labels[name] = v
	}
	return labels, true
}

// repairUTF8 replaces each run of invalid UTF-8 bytes with U+FFFD.
func repairUTF8(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// seriesLabels are a point's final labels: its attributes' labels, then the
// extra labels (ResourceToTelemetry: the resource's attributes; ScopeLabels:
// otel_scope_name and otel_scope_version) under names no attribute took —
// a point attribute of the same final name wins. Extra labels of one final
// name merge among themselves like attributes. ok=false: a point attribute
// has no label name (invalid_label_name).
func (ln labelNamer) seriesLabels(point, extra []attr, typ dto.MetricType) (map[string]string, bool) {
	labels, ok := ln.labels(point, typ, true)
	if !ok {
		return nil, false
	}
	extraLabels, _ := ln.labels(extra, typ, false)
	for n, v := range extraLabels {
		if _, taken := labels[n]; !taken {
			labels[n] = v
		}
	}
	return labels, true
}

// limitReason is why a series' final labels break the limits, or "":
// more than MaxLabelsPerSeries labels (C8: counted after empty values are
// left out and equal names merged, extra labels included): too_many_labels;
// a name or value longer than MaxLabelValueLength bytes: label_too_long.
func limitReason(cfg Config, labels map[string]string) string {
	if cfg.MaxLabelsPerSeries > 0 && len(labels) > cfg.MaxLabelsPerSeries {
		return "too_many_labels"
	}
	for n, v := range labels {
		if cfg.tooLong(n) || cfg.tooLong(v) {
			return "label_too_long"
		}
	}
	return ""
}
