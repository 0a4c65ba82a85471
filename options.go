package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.uber.org/zap"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/state"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/telemetry"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// The configuration mapped onto each stage's own options: no stage sees
// Config.

func translatorOptions(cfg *Config) translate.Options {
	grouping := translate.Grouping{Job: cfg.Grouping.Job, InstanceAttributes: cfg.Grouping.InstanceAttribute}
	for _, l := range cfg.Grouping.Labels {
		grouping.Labels = append(grouping.Labels, translate.GroupingLabel{Name: l.Name, Attribute: l.Attribute})
	}
	return translate.Options{
		Grouping:       grouping,
		Strategy:       otlptranslator.TranslationStrategyOption(cfg.TranslationStrategy),
		Namespace:      cfg.Namespace,
		ScopeLabels:    cfg.ScopeLabels,
		TargetInfo:     cfg.TargetInfo,
		ResourceLabels: cfg.ResourceToTelemetryConversion.Enabled,
		MaxLabelLength: cfg.MaxLabelValueLength,
		MaxLabels:      cfg.MaxLabelsPerSeries,
		// A held series needs one cached label set.
		CacheSize: cfg.MaxSeries,
	}
}

func stateOptions(cfg *Config, clock gateway.Clock) state.Options {
	gauges := map[GaugeAggregation]state.GaugeCombination{
		GaugesLast: state.GaugesLast, GaugesSum: state.GaugesSum, GaugesMax: state.GaugesMax, GaugesMin: state.GaugesMin,
	}[cfg.Aggregation.Gauges]
	return state.Options{
		MaxSeries:         cfg.MaxSeries,
		MaxSeriesPerGroup: cfg.MaxSeriesPerGroup,
		Aggregation:       state.Aggregation{Sum: cfg.Aggregation.Mode == AggregationSum, Gauges: gauges},
		SeriesTTL:         cfg.SeriesTTL,
		KeepsFamilies:     cfg.Method == MethodPost,
		Now:               clock.Now,
	}
}

func encoderOf(cfg *Config) exposition.Encoder {
	format := exposition.Protobuf
	if cfg.Format == FormatText {
		format = exposition.Text
	}
	return exposition.Encoder{Format: format, Native: cfg.ExponentialHistograms == ExponentialHistogramsNative}
}

func publisherOptions(cfg *Config, clock gateway.Clock, tb *telemetry.Telemetry, logger *zap.Logger) gateway.Options {
	return gateway.Options{
		Clock:           clock,
		PushesPerSecond: cfg.RateLimit.PushesPerSecond,
		Burst:           cfg.RateLimit.Burst,
		Heartbeat:       cfg.Heartbeat,
		Deletes:         cfg.Method == MethodPut,
		PushesAtOnce:    pushesAtOnce(cfg),
		Telemetry:       tb,
		Logger:          logger,
	}
}

// pushesAtOnce is how many group pushes of batches may be under way at
// once: as many as the sending queue has consumers, so that no more pushes
// wait at the gateway than when each batch pushed its groups one after the
// other, while a single batch with many groups may use them all. Without
// the queue, the queue's default number of consumers.
func pushesAtOnce(cfg *Config) int {
	if cfg.QueueConfig.HasValue() {
		return max(1, cfg.QueueConfig.Get().NumConsumers)
	}
	return exporterhelper.NewDefaultQueueConfig().NumConsumers
}
