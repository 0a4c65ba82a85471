// Package translate turns OTLP metrics into Prometheus metric families and
// resources into Pushgateway grouping keys: names and units per
// otlptranslator, label sets (sanitised, merged, bounded and cached),
// target_info, and exponential histograms as native histograms.
//
// It is pure: pdata in, families and grouping keys out; no clock, no I/O,
// no logging. It uses only the shared Prometheus data (internal/prom).
package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
