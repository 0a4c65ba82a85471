// Package prom is the Prometheus data the exporter's stages hand to each
// other: a series' label set (with its two wire forms, made once), a
// group's key, the families translation makes and the state folds, the
// values the state holds (numbers, classic histogram and summary
// aggregates, native histograms) with their arithmetic, the view of a
// group the encoders write, and why points are dropped.
//
// It is the bottom of the exporter: it imports none of its stages, and
// knows neither OTLP nor HTTP.
package prom // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
