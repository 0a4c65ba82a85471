package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Config is the configuration of the pushgateway exporter.
type Config struct {
	// ClientConfig holds endpoint, tls, headers, auth, compression and timeout.
	// endpoint is the Pushgateway's base URL, e.g. http://127.0.0.1:9091; a
	// path prefix (a reverse proxy's) is kept and /metrics/... is appended.
	// Required: an empty or non-http(s) endpoint is a validation error.
	confighttp.ClientConfig `mapstructure:",squash"`

	// QueueConfig is the collector's sending_queue. Default: enabled, 10
	// consumers, 1000 requests.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// RetryConfig is the collector's retry_on_failure. Default: enabled,
	// exponential backoff from 5s to 30s, giving up after 5m.
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// Method is the HTTP method of every push: put (default) replaces the
	// whole group, so the exporter owns its groups; post replaces only the
	// metric families the exporter sends, so other pushers can share a group.
	// Any other value is refused when the configuration is read.
	Method PushMethod `mapstructure:"method"`

	// Format is the body format: protobuf (default, length-delimited
	// io.prometheus.client.MetricFamily) or text (exposition format 0.0.4).
	// Any other value is refused when the configuration is read.
	Format PushFormat `mapstructure:"format"`

	// TranslationStrategy is how OTLP names become Prometheus names, as
	// github.com/prometheus/otlptranslator defines them:
	// UnderscoreEscapingWithSuffixes (default: invalid characters become _,
	// unit and _total suffixes added), UnderscoreEscapingWithoutSuffixes,
	// NoUTF8EscapingWithSuffixes or NoTranslation. The last two keep UTF-8
	// names, which the exposition formats pushed here cannot carry, and are
	// refused, as is any other value, when the configuration is read.
	TranslationStrategy TranslationStrategy `mapstructure:"translation_strategy"`

	// ExponentialHistograms is how OTLP exponential histograms are pushed:
	// native (default: Prometheus native histograms, protobuf only) or
	// classic (le buckets at the exponential bounds). With format text
	// they are always classic. Any other value is refused when read.
	ExponentialHistograms ExponentialHistogramMode `mapstructure:"exponential_histograms"`

	// Namespace, when set, prefixes every metric name (namespace_name).
	Namespace string `mapstructure:"namespace"`

	// ScopeLabels adds otel_scope_name and otel_scope_version (when not
	// empty) to every series, as the OTel Prometheus compatibility rules
	// say. Default true.
	ScopeLabels bool `mapstructure:"scope_labels"`

	// TargetInfo adds to each group a target_info gauge (value 1) labelled
	// with the resource attributes other than service.name,
	// service.namespace, service.instance.id and those used for grouping.
	// Default true.
	TargetInfo bool `mapstructure:"target_info"`

	// ResourceToTelemetryConversion, when enabled, copies every resource
	// attribute onto every series as a label. Default off.
	ResourceToTelemetryConversion ResourceToTelemetryConfig `mapstructure:"resource_to_telemetry_conversion"`

	// Grouping decides which Pushgateway group each resource's metrics go to.
	Grouping GroupingConfig `mapstructure:"grouping"`

	// MaxSeries bounds the series the exporter holds across all groups
	// (default 100000). A point that would create a series beyond it is
	// dropped and counted; series already held keep updating. 0 means no
	// limit; a negative value is a validation error.
	MaxSeries int `mapstructure:"max_series"`

	// GroupTTL, when positive, deletes a group from the Pushgateway (DELETE)
	// and forgets it once it has received no new data for that long.
	// Default 0: groups stay, as a finished batch job's last values should.
	// A negative value is a validation error.
	GroupTTL time.Duration `mapstructure:"group_ttl"`

	// StateTTL bounds how long the exporter remembers a group that receives
	// no new data (default 1h): it is then forgotten in memory but, unlike
	// group_ttl, left at the gateway, where a finished job's last values
	// belong. New data later starts the group afresh, and its next push
	// replaces the gateway's copy with what the exporter then holds. 0 keeps
	// groups in memory for ever (max_series still bounds them); a negative
	// value is a validation error. A state_ttl shorter than group_ttl would
	// forget groups before they could be deleted, and is refused.
	StateTTL time.Duration `mapstructure:"state_ttl"`

	// DeleteOnShutdown deletes every group the exporter pushed from the
	// Pushgateway when the collector shuts down. Default false.
	DeleteOnShutdown bool `mapstructure:"delete_on_shutdown"`

	// Heartbeat bounds how long the exporter leaves a group unpushed while
	// its pushes would be identical to the last one the gateway
	// acknowledged: such a push is skipped (the gateway holds those bytes
	// already, and re-checks everything it holds on every push) until that
	// push is older than heartbeat. So push_time_seconds of a group that
	// keeps receiving data is never older than heartbeat. Default 1m. 0
	// skips nothing. A negative value is a validation error.
	Heartbeat time.Duration `mapstructure:"heartbeat"`

	// ResyncInterval, when positive, re-pushes every held group that often,
	// so a gateway restarted without persistence gets its groups back
	// without waiting for new data. Default 0: off. A negative value is a
	// validation error.
	ResyncInterval time.Duration `mapstructure:"resync_interval"`

	// RateLimit throttles pushes to the gateway. A push over the limit
	// waits for its turn (bounded by the request's context); it is not
	// dropped.
	RateLimit RateLimitConfig `mapstructure:"rate_limit"`

	// SeriesTTL, when positive, removes a series from its group once the
	// group has gone on receiving points for this long without one for that
	// series: the next push no longer carries it, so label churn (or a new
	// target_info per process) cannot fill max_series_per_group for good.
	// A group that receives nothing keeps all its series: its last push is
	// what the gateway should keep. Default 0: off. A negative value is a
	// validation error.
	SeriesTTL time.Duration `mapstructure:"series_ttl"`

	// Aggregation says how the points of several writers (OTLP resources)
	// that land on one series combine.
	Aggregation AggregationConfig `mapstructure:"aggregation"`

	// MaxSeriesPerGroup bounds the series of one group (default 10000), so
	// one sender cannot take the whole of max_series. Beyond it, points of
	// new series in that group are dropped and counted. 0 means no limit; a
	// negative value is a validation error.
	MaxSeriesPerGroup int `mapstructure:"max_series_per_group"`

	// MaxLabelValueLength bounds, in bytes, every label value and label name
	// (default 4096). A data point with a longer label is dropped and
	// counted; a resource whose grouping label would be longer is refused
	// whole, as cutting it could address another group. 0 means no limit;
	// a negative value is a validation error.
	MaxLabelValueLength int `mapstructure:"max_label_value_length"`

	// MaxLabelsPerSeries bounds the labels of one series (default 128). A
	// data point with more attributes is dropped and counted. 0 means no
	// limit; a negative value is a validation error.
	MaxLabelsPerSeries int `mapstructure:"max_labels_per_series"`
}

// RateLimitConfig is a token bucket over all pushes to the gateway.
type RateLimitConfig struct {
	// PushesPerSecond is the sustained rate (default 0: no limit). A
	// negative value is a validation error.
	PushesPerSecond float64 `mapstructure:"pushes_per_second"`
	// Burst is how many pushes may go at once above the rate (default 10;
	// at least 1 when pushes_per_second is set).
	Burst int `mapstructure:"burst"`
}

// AggregationConfig says how the writers of one series combine.
type AggregationConfig struct {
	// Mode is none (default: cumulative points and gauges keep the newest
	// point, and a second writer of a series is reported) or sum (counters,
	// histograms and summaries' count and sum are summed across writers,
	// each writer's cumulative stream turned into increments). Deltas add
	// up in both modes. Any other value is refused when read.
	Mode AggregationMode `mapstructure:"mode"`
	// Gauges is how gauges combine in mode sum: last (default: the newest
	// point wins), sum, max or min over the writers currently known. Any
	// other value is refused when read.
	Gauges GaugeAggregation `mapstructure:"gauges"`
}

// AggregationMode is how the cumulative points of several writers of one
// series combine.
type AggregationMode string

const (
	// AggregationNone keeps the newest point of a series.
	AggregationNone AggregationMode = "none"
	// AggregationSum sums the writers' increments.
	AggregationSum AggregationMode = "sum"
)

// UnmarshalText accepts none or sum, in any case.
func (m *AggregationMode) UnmarshalText(text []byte) error {
	v := AggregationMode(strings.ToLower(string(text)))
	if err := v.validate(); err != nil {
		return err
	}
	*m = v
	return nil
}

func (m AggregationMode) validate() error {
	switch m {
	case AggregationNone, AggregationSum:
		return nil
	}
	return fmt.Errorf("unknown mode %q: want none or sum", string(m))
}

// GaugeAggregation is how the gauges of several writers of one series
// combine in mode sum.
type GaugeAggregation string

const (
	// GaugesLast keeps the newest point.
	GaugesLast GaugeAggregation = "last"
	// GaugesSum sums the writers' latest values.
	GaugesSum GaugeAggregation = "sum"
	// GaugesMax keeps the greatest of the writers' latest values.
	GaugesMax GaugeAggregation = "max"
	// GaugesMin keeps the least of the writers' latest values.
	GaugesMin GaugeAggregation = "min"
)

// UnmarshalText accepts last, sum, max or min, in any case.
func (g *GaugeAggregation) UnmarshalText(text []byte) error {
	v := GaugeAggregation(strings.ToLower(string(text)))
	if err := v.validate(); err != nil {
		return err
	}
	*g = v
	return nil
}

func (g GaugeAggregation) validate() error {
	switch g {
	case GaugesLast, GaugesSum, GaugesMax, GaugesMin:
		return nil
	}
	return fmt.Errorf("unknown gauge aggregation %q: want last, sum, max or min", string(g))
}

// GroupingConfig maps resource attributes to the Pushgateway grouping key.
type GroupingConfig struct {
	// Job, when set, is the job label of every group. Default empty: job is
	// service.namespace + "/" + service.name when the resource has a
	// namespace, else service.name, else "unknown_service".
	Job string `mapstructure:"job"`

	// InstanceAttribute names the resource attributes whose value becomes
	// the instance label, tried in order: the first one the resource has
	// with a non-empty value wins (default: service.instance.id). A single
	// name or a list; a resource with none of them gets no instance label;
	// an empty setting disables instance.
	InstanceAttribute []string `mapstructure:"instance_attribute"`

	// Labels adds grouping labels taken from resource attributes, in the
	// order the URL needs none of: the key is always sorted. A resource
	// without the attribute gets no such label. Default none.
	Labels []GroupingLabel `mapstructure:"labels"`
}

// GroupingLabel is one extra grouping label and the resource attribute that
// feeds it.
type GroupingLabel struct {
	// Name is the label name: a valid Prometheus label name, not starting
	// with "__", and neither "job" nor (while instance_attribute is set)
	// "instance".
	Name string `mapstructure:"name"`
	// Attribute is the resource attribute whose value becomes the label's
	// value. Required.
	Attribute string `mapstructure:"attribute"`
}

// PushMethod is the HTTP method used to push a group.
type PushMethod string

const (
	// MethodPut replaces the whole group at the gateway.
	MethodPut PushMethod = "put"
	// MethodPost replaces only the metric families contained in the push.
	MethodPost PushMethod = "post"
)

// UnmarshalText accepts put or post, in any case.
func (m *PushMethod) UnmarshalText(text []byte) error {
	v := PushMethod(strings.ToLower(string(text)))
	if err := v.validate(); err != nil {
		return err
	}
	*m = v
	return nil
}

func (m PushMethod) validate() error {
	switch m {
	case MethodPut, MethodPost:
		return nil
	}
	return fmt.Errorf("unknown method %q: want put or post", string(m))
}

// httpMethod is the method as HTTP spells it.
func (m PushMethod) httpMethod() string {
	return strings.ToUpper(string(m))
}

// PushFormat is the encoding of a push body.
type PushFormat string

const (
	// FormatProtobuf is length-delimited protobuf MetricFamily messages.
	FormatProtobuf PushFormat = "protobuf"
	// FormatText is the Prometheus text exposition format 0.0.4.
	FormatText PushFormat = "text"
)

// UnmarshalText accepts protobuf or text, in any case.
func (f *PushFormat) UnmarshalText(text []byte) error {
	v := PushFormat(strings.ToLower(string(text)))
	if err := v.validate(); err != nil {
		return err
	}
	*f = v
	return nil
}

func (f PushFormat) validate() error {
	switch f {
	case FormatProtobuf, FormatText:
		return nil
	}
	return fmt.Errorf("unknown format %q: want protobuf or text", string(f))
}

// ResourceToTelemetryConfig switches resource attributes as labels.
type ResourceToTelemetryConfig struct {
	Enabled bool `mapstructure:"enabled"`
}

// ExponentialHistogramMode is how exponential histograms are pushed.
type ExponentialHistogramMode string

const (
	// ExponentialHistogramsNative pushes Prometheus native histograms.
	ExponentialHistogramsNative ExponentialHistogramMode = "native"
	// ExponentialHistogramsClassic pushes classic le buckets.
	ExponentialHistogramsClassic ExponentialHistogramMode = "classic"
)

// UnmarshalText accepts native or classic, in any case.
func (e *ExponentialHistogramMode) UnmarshalText(text []byte) error {
	v := ExponentialHistogramMode(strings.ToLower(string(text)))
	if err := v.validate(); err != nil {
		return err
	}
	*e = v
	return nil
}

func (e ExponentialHistogramMode) validate() error {
	switch e {
	case ExponentialHistogramsNative, ExponentialHistogramsClassic:
		return nil
	}
	return fmt.Errorf("unknown mode %q: want native or classic", string(e))
}

// TranslationStrategy names one of otlptranslator's naming strategies.
type TranslationStrategy string

var translationStrategies = []otlptranslator.TranslationStrategyOption{
	otlptranslator.UnderscoreEscapingWithSuffixes,
	otlptranslator.UnderscoreEscapingWithoutSuffixes,
	otlptranslator.NoUTF8EscapingWithSuffixes,
	otlptranslator.NoTranslation,
}

// UnmarshalText accepts the otlptranslator strategy names, exactly.
func (s *TranslationStrategy) UnmarshalText(text []byte) error {
	v := TranslationStrategy(text)
	if err := v.validate(); err != nil {
		return err
	}
	*s = v
	return nil
}

func (s TranslationStrategy) validate() error {
	for _, known := range translationStrategies {
		if string(s) != string(known) {
			continue
		}
		if !known.ShouldEscape() {
			// The exposition formats the Pushgateway takes here carry only
			// legacy names: names escaped on the wire, after the exporter
			// checked them, could meet as one name of two types.
			return fmt.Errorf("%q keeps UTF-8 names, which the Pushgateway's exposition formats as pushed here cannot carry: use UnderscoreEscapingWithSuffixes or UnderscoreEscapingWithoutSuffixes", string(s))
		}
		return nil
	}
	return fmt.Errorf("unknown translation strategy %q: want one of %v", string(s), translationStrategies)
}

// Validate reports every problem of the configuration, each naming its key.
func (cfg *Config) Validate() error {
	var errs []error
	fieldErr := func(key string, err error) {
		errs = append(errs, fmt.Errorf("%s: %w", key, err))
	}
	if err := validateEndpoint(cfg.Endpoint); err != nil {
		fieldErr("endpoint", err)
	}
	if cfg.Timeout < 0 {
		fieldErr("timeout", errors.New("must not be negative"))
	}
	if err := cfg.Method.validate(); err != nil {
		fieldErr("method", err)
	}
	if err := cfg.Format.validate(); err != nil {
		fieldErr("format", err)
	}
	if err := cfg.ExponentialHistograms.validate(); err != nil {
		fieldErr("exponential_histograms", err)
	}
	if err := cfg.TranslationStrategy.validate(); err != nil {
		fieldErr("translation_strategy", err)
	}
	if err := cfg.Aggregation.Mode.validate(); err != nil {
		fieldErr("aggregation.mode", err)
	}
	if err := cfg.Aggregation.Gauges.validate(); err != nil {
		fieldErr("aggregation.gauges", err)
	}
	for _, d := range []struct {
		key   string
		value time.Duration
	}{
		{"group_ttl", cfg.GroupTTL},
		{"state_ttl", cfg.StateTTL},
		{"series_ttl", cfg.SeriesTTL},
		{"heartbeat", cfg.Heartbeat},
		{"resync_interval", cfg.ResyncInterval},
	} {
		if d.value < 0 {
			fieldErr(d.key, fmt.Errorf("must not be negative, got %s (0 means off)", d.value))
		}
	}
	if cfg.StateTTL > 0 && cfg.GroupTTL > 0 && cfg.StateTTL < cfg.GroupTTL {
		fieldErr("state_ttl", fmt.Errorf("%s is shorter than group_ttl %s: groups would be forgotten before they could be deleted", cfg.StateTTL, cfg.GroupTTL))
	}
	if cfg.RateLimit.PushesPerSecond < 0 {
		fieldErr("rate_limit.pushes_per_second", fmt.Errorf("must not be negative, got %g (0 means no limit)", cfg.RateLimit.PushesPerSecond))
	}
	if cfg.RateLimit.PushesPerSecond > 0 && cfg.RateLimit.Burst < 1 {
		fieldErr("rate_limit.burst", fmt.Errorf("must be at least 1 when pushes_per_second is set, got %d", cfg.RateLimit.Burst))
	}
	for _, limit := range []struct {
		key   string
		value int
	}{
		{"max_series", cfg.MaxSeries},
		{"max_series_per_group", cfg.MaxSeriesPerGroup},
		{"max_label_value_length", cfg.MaxLabelValueLength},
		{"max_labels_per_series", cfg.MaxLabelsPerSeries},
	} {
		if limit.value < 0 {
			fieldErr(limit.key, fmt.Errorf("must not be negative, got %d (0 means no limit)", limit.value))
		}
	}
	errs = append(errs, cfg.Grouping.validate()...)
	return errors.Join(errs...)
}

func validateEndpoint(endpoint string) error {
	if endpoint == "" {
		return errors.New("required: the Pushgateway's base URL, e.g. http://127.0.0.1:9091")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment: the exporter appends /metrics/job/... to it")
	}
	return nil
}

func (g GroupingConfig) validate() []error {
	var errs []error
	if g.Job != "" && !utf8.ValidString(g.Job) {
		errs = append(errs, errors.New("grouping.job: not valid UTF-8"))
	}
	seen := map[string]string{prom.JobLabel: "the job label"}
	if len(g.InstanceAttribute) > 0 {
		seen[prom.InstanceLabel] = "grouping.instance_attribute"
	}
	for i, name := range g.InstanceAttribute {
		if name == "" {
			errs = append(errs, fmt.Errorf("grouping.instance_attribute[%d]: empty: name a resource attribute, or set instance_attribute to \"\" to have no instance label", i))
		}
	}
	for i, l := range g.Labels {
		key := fmt.Sprintf("grouping.labels[%d]", i)
		switch {
		case !isValidGroupingLabelName(l.Name):
			errs = append(errs, fmt.Errorf("%s.name: %q is not a valid label name (letters, digits and _, not starting with a digit or __)", key, l.Name))
		case seen[l.Name] != "":
			errs = append(errs, fmt.Errorf("%s.name: %q is already a grouping label (%s)", key, l.Name, seen[l.Name]))
		default:
			seen[l.Name] = key
		}
		if l.Attribute == "" {
			errs = append(errs, fmt.Errorf("%s.attribute: required: the resource attribute that feeds label %q", key, l.Name))
		}
	}
	return errs
}

// isValidGroupingLabelName accepts legacy Prometheus label names that are
// not reserved (a leading "__" is the gateway's and Prometheus's own).
func isValidGroupingLabelName(name string) bool {
	if name == "" || strings.HasPrefix(name, "__") {
		return false
	}
	for i, c := range name {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		digit := c >= '0' && c <= '9'
		if !letter && (!digit || i == 0) {
			return false
		}
	}
	return true
}
