// Package exposition writes a group's families as a Pushgateway push body:
// length-delimited protobuf MetricFamily messages or the text format
// 0.0.4, straight from the state's values (byte for byte what expfmt
// writes for the same families), and with expfmt for what the direct
// writers leave to it.
//
// It reads groups through prom.FamilyView and uses only the shared
// Prometheus data (internal/prom).
package exposition // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"
