package translate

import (
	"fmt"
	"testing"

	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

func TestFamilyNameCache(t *testing.T) {
	tr := defaultTranslator()
	name, reason := tr.familyName("http.duration", "s", otlptranslator.MetricTypeHistogram)
	assert.Equal(t, "http_duration_seconds", name)
	assert.Empty(t, reason)
	assert.Len(t, tr.names.names, 1)
	again, _ := tr.familyName("http.duration", "s", otlptranslator.MetricTypeHistogram)
	assert.Equal(t, name, again)
	assert.Len(t, tr.names.names, 1, "named once")

	// Refusals are remembered too.
	_, reason = tr.familyName("go.goroutines", "", otlptranslator.MetricTypeGauge)
	assert.Equal(t, prom.DropReservedName, reason)
	_, reason = tr.familyName("...", "", otlptranslator.MetricTypeGauge)
	assert.Equal(t, prom.DropInvalidName, reason)

	// Another naming strategy starts another cache.
	tr = New(Options{Grouping: defaultGrouping(), Strategy: otlptranslator.NoTranslation})
	name, _ = tr.familyName("http.duration", "s", otlptranslator.MetricTypeHistogram)
	assert.Equal(t, "http.duration", name)

	// The bound holds: beyond it the cache starts afresh.
	for i := range maxCachedNames + 10 {
		tr.familyName(fmt.Sprint("m", i), "", otlptranslator.MetricTypeGauge)
	}
	assert.LessOrEqual(t, len(tr.names.names), maxCachedNames)
}
