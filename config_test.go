package pushgatewayexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
)

// loadConfig reads one pushgateway/<name> case of testdata/config.yaml over
// the default configuration.
func loadConfig(t *testing.T, name string) (*Config, error) {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	cfg := createDefaultConfig().(*Config)
	return cfg, sub.Unmarshal(cfg)
}

func TestLoadValidConfigs(t *testing.T) {
	t.Run("minimal keeps every default", func(t *testing.T) {
		cfg, err := loadConfig(t, "minimal")
		require.NoError(t, err)
		require.NoError(t, confmap.Validate(cfg))
		want := createDefaultConfig().(*Config)
		want.Endpoint = "http://127.0.0.1:9091"
		assert.Equal(t, want, cfg)
		assert.Equal(t, MethodPut, cfg.Method)
		assert.Equal(t, FormatProtobuf, cfg.Format)
		assert.Equal(t, TranslationStrategy("UnderscoreEscapingWithSuffixes"), cfg.TranslationStrategy)
		assert.Empty(t, cfg.Namespace)
		assert.Equal(t, ExponentialHistogramsNative, cfg.ExponentialHistograms)
		assert.True(t, cfg.ScopeLabels)
		assert.True(t, cfg.TargetInfo)
		assert.False(t, cfg.ResourceToTelemetryConversion.Enabled)
		assert.Equal(t, []string{"service.instance.id"}, cfg.Grouping.InstanceAttribute)
		assert.Equal(t, 100_000, cfg.MaxSeries)
		assert.Equal(t, 10_000, cfg.MaxSeriesPerGroup)
		assert.Equal(t, 4096, cfg.MaxLabelValueLength)
		assert.Equal(t, 128, cfg.MaxLabelsPerSeries)
		assert.Zero(t, cfg.GroupTTL)
		assert.Equal(t, time.Hour, cfg.StateTTL)
		assert.False(t, cfg.DeleteOnShutdown)
		assert.Zero(t, cfg.ResyncInterval)
		assert.Zero(t, cfg.SeriesTTL)
		assert.Equal(t, time.Minute, cfg.Heartbeat)
		assert.Equal(t, AggregationConfig{Mode: AggregationNone, Gauges: GaugesLast}, cfg.Aggregation)
		assert.Equal(t, RateLimitConfig{Burst: 10}, cfg.RateLimit)
		assert.True(t, cfg.QueueConfig.HasValue())
		assert.True(t, cfg.RetryConfig.Enabled)
	})

	t.Run("full", func(t *testing.T) {
		cfg, err := loadConfig(t, "full")
		require.NoError(t, err)
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, "https://pushgateway.example:9091/prefix", cfg.Endpoint)
		assert.Equal(t, 3*time.Second, cfg.Timeout)
		assert.Equal(t, configcompression.TypeGzip, cfg.Compression)
		v, ok := cfg.Headers.Get("X-Scope")
		assert.True(t, ok)
		assert.Equal(t, configopaque.String("batch"), v)
		assert.Equal(t, MethodPost, cfg.Method, "method is case-insensitive")
		assert.Equal(t, FormatText, cfg.Format)
		assert.Equal(t, TranslationStrategy("UnderscoreEscapingWithoutSuffixes"), cfg.TranslationStrategy)
		assert.Equal(t, "ci", cfg.Namespace)
		assert.Equal(t, ExponentialHistogramsClassic, cfg.ExponentialHistograms, "case-insensitive")
		assert.False(t, cfg.ScopeLabels)
		assert.False(t, cfg.TargetInfo)
		assert.True(t, cfg.ResourceToTelemetryConversion.Enabled)
		assert.Equal(t, 500, cfg.MaxSeries)
		assert.Equal(t, 50, cfg.MaxSeriesPerGroup)
		assert.Equal(t, 256, cfg.MaxLabelValueLength)
		assert.Equal(t, 16, cfg.MaxLabelsPerSeries)
		assert.Equal(t, time.Hour, cfg.GroupTTL)
		assert.Equal(t, 2*time.Hour, cfg.StateTTL)
		assert.True(t, cfg.DeleteOnShutdown)
		assert.Equal(t, 5*time.Minute, cfg.ResyncInterval)
		assert.Equal(t, 10*time.Minute, cfg.SeriesTTL)
		assert.Equal(t, 5*time.Minute, cfg.Heartbeat)
		assert.Equal(t, AggregationConfig{Mode: AggregationSum, Gauges: GaugesMax}, cfg.Aggregation, "case-insensitive")
		assert.Equal(t, RateLimitConfig{PushesPerSecond: 2.5, Burst: 3}, cfg.RateLimit)
		assert.Equal(t, GroupingConfig{
			Job:               "nightly",
			InstanceAttribute: []string{"host.name"},
			Labels: []GroupingLabel{
				{Name: "env", Attribute: "deployment.environment.name"},
				{Name: "cluster", Attribute: "k8s.cluster.name"},
			},
		}, cfg.Grouping)
		require.True(t, cfg.QueueConfig.HasValue())
		assert.Equal(t, 2, cfg.QueueConfig.Get().NumConsumers)
		assert.Equal(t, int64(50), cfg.QueueConfig.Get().QueueSize)
		assert.Equal(t, time.Second, cfg.RetryConfig.InitialInterval)
		assert.Equal(t, time.Minute, cfg.RetryConfig.MaxElapsedTime)
	})

	t.Run("instance may be an extra label when instance_attribute is off", func(t *testing.T) {
		cfg, err := loadConfig(t, "no_instance")
		require.NoError(t, err)
		require.NoError(t, confmap.Validate(cfg))
		assert.Empty(t, cfg.Grouping.InstanceAttribute)
	})

	t.Run("instance from the first of several attributes", func(t *testing.T) {
		cfg, err := loadConfig(t, "instance_list")
		require.NoError(t, err)
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, []string{"k8s.pod.name", "host.name"}, cfg.Grouping.InstanceAttribute)
	})

	t.Run("sum without an instance: one group per job", func(t *testing.T) {
		cfg, err := loadConfig(t, "sum_without_instance")
		require.NoError(t, err)
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, AggregationSum, cfg.Aggregation.Mode)
		assert.Equal(t, GaugesLast, cfg.Aggregation.Gauges, "the default kept")
		assert.Empty(t, cfg.Grouping.InstanceAttribute)
	})
}

func TestInvalidConfigs(t *testing.T) {
	tests := []struct {
		name string
		// errs are the messages expected, one per problem.
		errs []string
	}{
		{"missing_endpoint", []string{"endpoint: required: the Pushgateway's base URL, e.g. http://127.0.0.1:9091"}},
		{"bad_scheme", []string{`endpoint: scheme must be http or https, got "ftp"`}},
		{"endpoint_with_query", []string{"endpoint: must not have a query or fragment: the exporter appends /metrics/job/... to it"}},
		{"unparsable_endpoint_with_password", []string{`endpoint: not a URL: invalid port ":port" after host`}},
		{"negative_limits", []string{
			"timeout: must not be negative",
			"max_series: must not be negative, got -1 (0 means no limit)",
			"max_series_per_group: must not be negative, got -2 (0 means no limit)",
			"max_label_value_length: must not be negative, got -3 (0 means no limit)",
			"max_labels_per_series: must not be negative, got -4 (0 means no limit)",
			"group_ttl: must not be negative, got -1s (0 means off)",
			"state_ttl: must not be negative, got -3s (0 means off)",
			"series_ttl: must not be negative, got -4s (0 means off)",
			"heartbeat: must not be negative, got -5s (0 means off)",
			"resync_interval: must not be negative, got -2s (0 means off)",
			"rate_limit.pushes_per_second: must not be negative, got -1 (0 means no limit)",
		}},
		{"state_ttl_below_group_ttl", []string{"state_ttl: 1m0s is shorter than group_ttl 1h0m0s: groups would be forgotten before they could be deleted"}},
		{"rate_without_burst", []string{"rate_limit.burst: must be at least 1 when pushes_per_second is set, got 0"}},
		{"empty_instance_attribute", []string{`grouping.instance_attribute[1]: empty: name a resource attribute, or set instance_attribute to "" to have no instance label`}},
		{"bad_labels", []string{
			`grouping.labels[0].name: "job" is already a grouping label (the job label)`,
			`grouping.labels[1].name: "instance" is already a grouping label (grouping.instance_attribute)`,
			`grouping.labels[2].name: "1st" is not a valid label name (letters, digits and _, not starting with a digit or __)`,
			`grouping.labels[3].name: "__meta" is not a valid label name (letters, digits and _, not starting with a digit or __)`,
			`grouping.labels[5].name: "env" is already a grouping label (grouping.labels[4])`,
			`grouping.labels[6].attribute: required: the resource attribute that feeds label "region"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadConfig(t, tt.name)
			require.NoError(t, err)
			err = confmap.Validate(cfg)
			require.Error(t, err)
			for _, want := range tt.errs {
				assert.ErrorContains(t, err, want)
			}
			assert.Len(t, unwrapJoined(cfg.Validate()), len(tt.errs), "one error per problem: %v", err)
			assert.NotContains(t, err.Error(), "s3cret", "errors never show a password")
		})
	}

	for _, tt := range []struct{ name, key, msg string }{
		{"unknown_method", "method", `unknown method "patch": want put or post`},
		{"unknown_format", "format", `unknown format "json": want protobuf or text`},
		{"unknown_exponential_histograms", "exponential_histograms", `unknown mode "sparse": want native or classic`},
		{"unknown_translation_strategy", "translation_strategy", `unknown translation strategy "underscores"`},
		{"utf8_translation_strategy", "translation_strategy", `"NoTranslation" keeps UTF-8 names, which the Pushgateway's exposition formats as pushed here cannot carry: use UnderscoreEscapingWithSuffixes or UnderscoreEscapingWithoutSuffixes`},
		{"unknown_aggregation_mode", "aggregation.mode", `unknown mode "average": want none or sum`},
		{"unknown_gauge_aggregation", "aggregation.gauges", `unknown gauge aggregation "mean": want last, sum, max or min`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(t, tt.name)
			require.Error(t, err, "unknown enumeration values are refused when read")
			assert.ErrorContains(t, err, tt.key)
			assert.ErrorContains(t, err, tt.msg)
		})
	}

	t.Run("enumerations set in code are validated too", func(t *testing.T) {
		cfg := createDefaultConfig().(*Config)
		cfg.Endpoint = "http://127.0.0.1:9091"
		cfg.Method = "PATCH"
		cfg.Format = ""
		cfg.TranslationStrategy = "none"
		cfg.ExponentialHistograms = ""
		cfg.Aggregation = AggregationConfig{Mode: "avg", Gauges: "median"}
		err := cfg.Validate()
		assert.ErrorContains(t, err, `method: unknown method "PATCH"`)
		assert.ErrorContains(t, err, `format: unknown format ""`)
		assert.ErrorContains(t, err, `translation_strategy: unknown translation strategy "none"`)
		assert.ErrorContains(t, err, `exponential_histograms: unknown mode ""`)
		assert.ErrorContains(t, err, `aggregation.mode: unknown mode "avg"`)
		assert.ErrorContains(t, err, `aggregation.gauges: unknown gauge aggregation "median"`)
	})
}

func unwrapJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
