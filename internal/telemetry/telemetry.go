// Package telemetry is the exporter's own telemetry: the generated
// instruments (internal/metadata) and the attribute that names the
// exporter, which every measurement carries.
package telemetry // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/telemetry"

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
)

// Telemetry is the exporter's instruments and the attribute that names
// the exporter: two pushgateway exporters of one collector (for a shared
// and a dedicated gateway, say) are told apart by it, as exporterhelper's
// metrics are by the same one.
type Telemetry struct {
	*metadata.TelemetryBuilder
	// Exporter is the exporter attribute, for every measurement.
	Exporter metric.MeasurementOption
}

// New returns the telemetry of the exporter id.
func New(set component.TelemetrySettings, id component.ID) (*Telemetry, error) {
	builder, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	return &Telemetry{
		TelemetryBuilder: builder,
		Exporter:         metric.WithAttributeSet(attribute.NewSet(attribute.String("exporter", id.String()))),
	}, nil
}
