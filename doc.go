// Package pushgatewayexporter is an OpenTelemetry Collector exporter that
// pushes metrics to a Prometheus Pushgateway.
//
// It translates OTLP metrics into Prometheus metric families, maps resource
// attributes to Pushgateway grouping keys (job, instance and configured extra
// labels), keeps the latest point of every series per group, and pushes each
// touched group's complete state with the collector's queue, retry and TLS
// settings.
package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

//go:generate mdatagen metadata.yaml
