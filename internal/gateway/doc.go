// Package gateway is the exporter's one way to the Pushgateway: the HTTP
// client (push URLs, the classification of refusals as retryable or
// permanent), and the publisher, which makes the gateway hold what the
// state holds: one group's requests at a time, rate-limited, skipping what
// the gateway holds already, and the background work of expiry and resync.
//
// It knows nothing of OTLP, and reaches the state only through the Store
// and Group interfaces it defines; it uses the shared Prometheus data
// (internal/prom) and the exporter's telemetry.
package gateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
