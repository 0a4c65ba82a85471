package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"strings"
	"sync"
	"unicode"

	"github.com/prometheus/otlptranslator"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
) // familyName is the Prometheus name of an OTLP metric, or why it has none,
// from the cache when the same metric was named before.
func (t *Translator) familyName(name, unit string, typ otlptranslator.MetricType) (string, prom.DropReason) {
	key := nameKey{name: name, unit: unit, typ: typ}
	t.names.mu.RLock()
	named, ok := t.names.names[key]
	t.names.mu.RUnlock()
	if ok {
		return named.name, named.reason
	}
	named.name, named.reason = t.buildFamilyName(name, unit, typ)
	// The key's strings may point into the batch: the cache keeps copies.
	key.name, key.unit = strings.Clone(name), strings.Clone(unit)
	t.names.mu.Lock()
	if len(t.names.names) >= maxCachedNames {
		clear(t.names.names)
	}
	t.names.names[key] = named
	t.names.mu.Unlock()
	return named.name, named.reason
}

// maxCachedNames bounds the family name cache; when full it starts afresh.
const maxCachedNames = 1 << 14

// nameCache remembers family names: otlptranslator allocates several
// strings for every name it builds.
type nameCache struct {
	mu    sync.RWMutex
	names map[nameKey]familyNamed
}

type nameKey struct {
	name, unit string
	typ        otlptranslator.MetricType
}

// familyNamed is a family's name, or why the metric has none.
type familyNamed struct {
	name   string
	reason prom.DropReason
}

func newNameCache() *nameCache { return &nameCache{names: map[nameKey]familyNamed{}} }

func (t *Translator) buildFamilyName(name, unit string, typ otlptranslator.MetricType) (string, prom.DropReason) {
	if !hasNameCharacter(name) {
		// otlptranslator would name it after its suffixes alone
		// ("total", "seconds"), which is no name of the sender's.
		return "", prom.DropInvalidName
	}
	built, err := t.metricNamer.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
	if err != nil || built == "" {
		return "", prom.DropInvalidName
	}
	if prom.GatewayReserved(built) {
		return "", prom.DropReservedName
	}
	return built, ""
}

// hasNameCharacter says a metric name has a letter or a digit.
func hasNameCharacter(name string) bool {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
