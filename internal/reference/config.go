package reference

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/otlptranslator"
)

// GroupingLabel is an extra grouping label: Name takes the value of the
// resource attribute Attribute.
type GroupingLabel struct{ Name, Attribute string }

// Config is the part of the exporter's configuration that decides what the
// gateway holds. Empty strings take the exporter's defaults (put, none, last,
// UnderscoreEscapingWithSuffixes).
type Config struct {
	Job                string   // a fixed job; empty: from service.namespace and service.name
	InstanceAttributes []string // tried in order for instance; empty: no instance label
	Labels             []GroupingLabel
	Method             string // "put" or "post"
	Mode               string // "none" or "sum"
	Gauges             string // "last", "sum", "max", "min" (mode sum)
	Strategy           otlptranslator.TranslationStrategyOption
	Namespace          string

	ScopeLabels, TargetInfo, ResourceToTelemetry bool

	ClassicExponential bool // exponential histograms as classic buckets

	MaxLabelValueLength, MaxLabelsPerSeries int // 0: no limit

	StateTTL, SeriesTTL, GroupTTL time.Duration // 0: off
}

func (c Config) withDefaults() Config {
	c.Method = strings.ToLower(c.Method)
	c.Mode = strings.ToLower(c.Mode)
	c.Gauges = strings.ToLower(c.Gauges)
	if c.Method == "" {
		c.Method = "put"
	}
	if c.Mode == "" {
		c.Mode = "none"
	}
	if c.Gauges == "" {
		c.Gauges = "last"
	}
	if c.Strategy == "" {
		c.Strategy = otlptranslator.UnderscoreEscapingWithSuffixes
	}
	return c
}

// check panics on a value the exporter refuses when it reads its
// configuration: the model has no rule for it.
func (c Config) check() {
	valid := map[string][]string{"method": {"put", "post"}, "mode": {"none", "sum"}, "gauges": {"last", "sum", "max", "min"}}
	for key, v := range map[string]string{"method": c.Method, "mode": c.Mode, "gauges": c.Gauges} {
		if !slices.Contains(valid[key], v) {
			panic(fmt.Sprintf("reference: %s %q is not one of %v", key, v, valid[key]))
		}
	}
}

func (c Config) post() bool    { return c.Method == "post" }
func (c Config) modeSum() bool { return c.Mode == "sum" }

// tooLong reports a label name or value beyond MaxLabelValueLength bytes.
func (c Config) tooLong(s string) bool {
	return c.MaxLabelValueLength > 0 && len(s) > c.MaxLabelValueLength
}
