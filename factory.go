package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"context"
	"time"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
)

// NewFactory returns the factory of the pushgateway exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithMetrics(createMetricsExporter, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	clientCfg := confighttp.NewDefaultClientConfig()
	// A push is one small request; a gateway that has not answered in 10s
	// is better retried than waited for.
	clientCfg.Timeout = 10 * time.Second

	return &Config{
		ClientConfig:          clientCfg,
		QueueConfig:           configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		RetryConfig:           configretry.NewDefaultBackOffConfig(),
		Method:                MethodPut,
		Format:                FormatProtobuf,
		ExponentialHistograms: ExponentialHistogramsNative,
		ScopeLabels:           true,
		TargetInfo:            true,
		// Pushgateway 1.5 refuses UTF-8 names: escape them, Prometheus style.
		TranslationStrategy: TranslationStrategy(otlptranslator.UnderscoreEscapingWithSuffixes),
		Grouping: GroupingConfig{
			// The OTel resource attribute that identifies one process.
			InstanceAttribute: []string{"service.instance.id"},
		},
		// Enough for any sane Pushgateway (which holds everything in memory
		// and serves it on every scrape); a runaway cardinality stops here.
		MaxSeries: 100_000,
		// One group is one job instance; ten thousand series is already far
		// beyond what a batch job should push.
		MaxSeriesPerGroup: 10_000,
		// Longer labels are bugs (a payload in an attribute), and a grouping
		// value this long would not fit in a request line anyway.
		MaxLabelValueLength: 4096,
		MaxLabelsPerSeries:  128,
		// No limit unless asked for; the burst then lets a batch's groups
		// go out together.
		RateLimit: RateLimitConfig{Burst: 10},
		// Several writers of one series are a misconfiguration until the
		// user asks for their sum.
		Aggregation: AggregationConfig{Mode: AggregationNone, Gauges: GaugesLast},
		// The SDKs' shutdown re-export, and exports of values that did not
		// move, cost the gateway a full check each; a minute keeps
		// push_time_seconds fresh enough for liveness alerts.
		Heartbeat: time.Minute,
		// A job silent for an hour has finished; its values stay at the
		// gateway, the exporter's memory is freed.
		StateTTL: time.Hour,
	}
}

func createMetricsExporter(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	exp, err := newExporter(c, set, gateway.SystemClock{})
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, exp.pushMetrics,
		exporterhelper.WithStart(exp.start),
		exporterhelper.WithShutdown(exp.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// The HTTP client's timeout bounds each push; the helper adds none.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.RetryConfig),
	)
}
