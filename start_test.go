package pushgatewayexporter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/attribute"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
)

// startExporter starts the exporter against endpoint without a queue and
// without retries, so ConsumeMetrics returns what a push returned.
func startExporter(t *testing.T, endpoint string, mutate func(*Config)) exporter.Metrics {
	t.Helper()
	exp, _ := startExporterWithSettings(t, endpoint, mutate, exportertest.NewNopSettings(metadata.Type))
	return exp
}

// telemetrySettings gives exporter settings whose own telemetry the test
// can read back, for an exporter configured as "pushgateway".
func telemetrySettings(t *testing.T) (*componenttest.Telemetry, exporter.Settings) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := exportertest.NewNopSettings(metadata.Type)
	set.ID = component.NewID(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	return tel, set
}

func startExporterWithSettings(t *testing.T, endpoint string, mutate func(*Config), set exporter.Settings) (exporter.Metrics, *Config) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Endpoint = endpoint
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	if mutate != nil {
		mutate(cfg)
	}
	exp := startConfigured(t, cfg, set)
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return exp, cfg
}

// startConfigured validates cfg and starts an exporter with it; the caller
// shuts it down.
func startConfigured(t *testing.T, cfg *Config, set exporter.Settings) exporter.Metrics {
	t.Helper()
	require.NoError(t, cfg.Validate())
	exp, err := NewFactory().CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	return exp
}

// exporterAttrs is the attribute set of a measurement of the exporter's
// own telemetry, for an exporter of telemetrySettings: its ID and kvs.
func exporterAttrs(kvs ...attribute.KeyValue) attribute.Set {
	return attribute.NewSet(append([]attribute.KeyValue{attribute.String("exporter", metadata.Type.String())}, kvs...)...)
}
