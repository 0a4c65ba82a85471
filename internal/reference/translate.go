package reference

import (
	"math"
	"math/bits"
	"sort"
	"strconv"
	"strings"
	"unicode"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// point is one translated OTLP data point, ready to fold into its series.
type point struct {
	writer string // the resource's full attribute set
	stream string // writer, scope name and version, metric name as sent, attributes as sent

	family string
	typ    dto.MetricType
	help   string
	labels map[string]string
	series string // SeriesKey(labels)

	delta       bool // delta temporality: an increment over (start, time]
	start, time uint64
	marker      bool // NoRecordedValue: carries no value
	value       Value
	targetInfo  bool
}

// batch is one Export's points by group, groups in the order they first
// appear.
type batch struct {
	order  []string
	keys   map[string]groupKey
	points map[string][]point
}

func (b *batch) add(gk groupKey, p point) {
	if _, ok := b.points[gk.key]; !ok {
		b.order = append(b.order, gk.key)
		b.keys[gk.key] = gk
	}
	b.points[gk.key] = append(b.points[gk.key], p)
}

// translator turns OTLP into points, counting what it drops by reason.
type translator struct {
	cfg    Config
	names  otlptranslator.MetricNamer
	labels labelNamer
	drops  map[string]int
}

func newTranslator(cfg Config) *translator {
	return &translator{
		cfg:    cfg,
		names:  otlptranslator.NewMetricNamer(cfg.Namespace, cfg.Strategy),
		labels: newLabelNamer(cfg),
		drops:  map[string]int{},
	}
}

// translate is one batch, resource by resource, scope by scope, metric by
// metric, point by point.
func (t *translator) translate(md pmetric.Metrics) *batch {
	b := &batch{keys: map[string]groupKey{}, points: map[string][]point{}}
	for _, rm := range md.ResourceMetrics().All() {
		t.resource(b, rm)
	}
	return b
}

func (t *translator) resource(b *batch, rm pmetric.ResourceMetrics) {
	res := rm.Resource().Attributes()
	gk, ok := groupKeyOf(t.cfg, res)
	if !ok {
		for _, sm := range rm.ScopeMetrics().All() {
			for _, m := range sm.Metrics().All() {
				t.drops["invalid_group"] += pointCount(m)
			}
		}
		return
	}
	writer := canonicalAttrs(res)
	var resourceExtra []attr
	if t.cfg.ResourceToTelemetry {
		resourceExtra = attrsOf(res)
	}
	var newest uint64
	live := false
	for _, sm := range rm.ScopeMetrics().All() {
		scope := sm.Scope()
		extra := append([]attr{}, resourceExtra...)
		if t.cfg.ScopeLabels {
			extra = append(extra, attr{"otel_scope_name", scope.Name()}, attr{"otel_scope_version", scope.Version()})
		}
		streamPrefix := writer + "\x00" + strconv.Quote(scope.Name()) + "\x00" + strconv.Quote(scope.Version()) + "\x00"
		for _, m := range sm.Metrics().All() {
			for _, p := range t.metric(m, extra) {
				p.writer = writer
				p.stream = streamPrefix + strconv.Quote(m.Name()) + "\x00" + p.stream
				b.add(gk, p)
				if !p.marker {
					live = true
					newest = max(newest, p.time)
				}
			}
		}
	}
	if t.cfg.TargetInfo && live {
		if p, ok := t.targetInfo(gk, res, newest); ok {
			p.writer = writer
			p.stream = writer + "\x00target_info"
			b.add(gk, p)
		}
	}
}

// targetInfo is the resource's target_info point: a gauge of value 1, help
// "Target metadata", labelled with (C12) every resource attribute the group
// key does not use — service.name and service.namespace only when the job
// came from them, the one instance attribute chosen, the grouping label
// attributes that made a label — named like extra labels (names the
// LabelNamer refuses skipped). No labels: no target_info. Its time is the
// resource's newest point time. It is emitted only for a resource that has a
// live point translated in this batch.
func (t *translator) targetInfo(gk groupKey, res pcommon.Map, newest uint64) (point, bool) {
	var attrs []attr
	for _, a := range attrsOf(res) {
		if !gk.used[a.key] {
			attrs = append(attrs, a)
		}
	}
	labels, _ := t.labels.labels(attrs, dto.MetricType_GAUGE, false)
	if len(labels) == 0 || limitReason(t.cfg, labels) != "" {
		return point{}, false
	}
	return point{
		family: "target_info", typ: dto.MetricType_GAUGE, help: "Target metadata",
		labels: labels, series: SeriesKey(labels),
		time: newest, value: Value{Number: 1}, targetInfo: true,
	}, true
}

// pointCount is how many points a dropped metric counts: its data points; a
// metric without data counts as one.
func pointCount(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		return m.Gauge().DataPoints().Len()
	case pmetric.MetricTypeSum:
		return m.Sum().DataPoints().Len()
	case pmetric.MetricTypeHistogram:
		return m.Histogram().DataPoints().Len()
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 1
}

// metric translates one metric's points. In order, a metric is dropped whole:
//
//   - of type Empty: unknown_type (counted as one point);
//   - a Sum, Histogram or ExponentialHistogram with unspecified temporality:
//     unspecified_temporality;
//   - a name without a letter or digit (unicode), or one the MetricNamer
//     cannot build or builds empty: invalid_name;
//   - a built name that is the gateway's own: reserved_name.
//
// Types: Gauge → gauge; Sum monotonic → counter (the namer adds _total); Sum
// non-monotonic → gauge (named as a gauge, so unit "1" adds _ratio);
// Histogram → histogram; ExponentialHistogram → histogram (native, or
// classic buckets when ClassicExponential, rendered from the native form);
// Summary → summary. Help is the description.
func (t *translator) metric(m pmetric.Metric, extra []attr) []point {
	var (
		typ      dto.MetricType
		nameType otlptranslator.MetricType
		temp     pmetric.AggregationTemporality = pmetric.AggregationTemporalityCumulative
	)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		typ, nameType = dto.MetricType_GAUGE, otlptranslator.MetricTypeGauge
	case pmetric.MetricTypeSum:
		temp = m.Sum().AggregationTemporality()
		if m.Sum().IsMonotonic() {
			typ, nameType = dto.MetricType_COUNTER, otlptranslator.MetricTypeMonotonicCounter
		} else {
			typ, nameType = dto.MetricType_GAUGE, otlptranslator.MetricTypeGauge
		}
	case pmetric.MetricTypeHistogram:
		temp = m.Histogram().AggregationTemporality()
		typ, nameType = dto.MetricType_HISTOGRAM, otlptranslator.MetricTypeHistogram
	case pmetric.MetricTypeExponentialHistogram:
		temp = m.ExponentialHistogram().AggregationTemporality()
		typ, nameType = dto.MetricType_HISTOGRAM, otlptranslator.MetricTypeExponentialHistogram
	case pmetric.MetricTypeSummary:
		typ, nameType = dto.MetricType_SUMMARY, otlptranslator.MetricTypeSummary
	default:
		t.drops["unknown_type"] += pointCount(m)
		return nil
	}
	if temp == pmetric.AggregationTemporalityUnspecified {
		t.drops["unspecified_temporality"] += pointCount(m)
		return nil
	}
	name, reason := t.familyName(m.Name(), m.Unit(), nameType)
	if reason != "" {
		t.drops[reason] += pointCount(m)
		return nil
	}

	base := point{family: name, typ: typ, help: m.Description(), delta: temp == pmetric.AggregationTemporalityDelta}
	var points []point
	// each translates one data point: its labels first (these apply to
	// markers too), then, for a live point, its value. A point flagged
	// NoRecordedValue is a marker: it carries no value and is never dropped
	// for value reasons.
	each := func(attrs pcommon.Map, start, ts pcommon.Timestamp, flags pmetric.DataPointFlags, value func() (Value, string)) {
		labels, ok := t.labels.seriesLabels(attrsOf(attrs), extra, typ)
		if !ok {
			t.drops["invalid_label_name"]++
			return
		}
		if r := limitReason(t.cfg, labels); r != "" {
			t.drops[r]++
			return
		}
		p := base
		p.labels, p.series = labels, SeriesKey(labels)
		p.stream = canonicalAttrs(attrs)
		p.start, p.time = uint64(start), uint64(ts)
		p.marker = flags.NoRecordedValue()
		if !p.marker {
			v, reason := value()
			if reason != "" {
				t.drops[reason]++
				return
			}
			p.value = v
		}
		points = append(points, p)
	}

	switch m.Type() {
	case pmetric.MetricTypeGauge:
		for _, dp := range m.Gauge().DataPoints().All() {
			each(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), dp.Flags(), func() (Value, string) { return numberValue(dp) })
		}
	case pmetric.MetricTypeSum:
		for _, dp := range m.Sum().DataPoints().All() {
			each(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), dp.Flags(), func() (Value, string) { return numberValue(dp) })
		}
	case pmetric.MetricTypeHistogram:
		for _, dp := range m.Histogram().DataPoints().All() {
			each(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), dp.Flags(), func() (Value, string) { return histogramValue(dp) })
		}
	case pmetric.MetricTypeExponentialHistogram:
		for _, dp := range m.ExponentialHistogram().DataPoints().All() {
			each(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), dp.Flags(), func() (Value, string) { return exponentialValue(dp) })
		}
	case pmetric.MetricTypeSummary:
		for _, dp := range m.Summary().DataPoints().All() {
			each(dp.Attributes(), dp.StartTimestamp(), dp.Timestamp(), dp.Flags(), func() (Value, string) { return summaryValue(dp) })
		}
	}
	return points
}

// familyName builds a metric's Prometheus name with otlptranslator's
// MetricNamer, or says why the metric is dropped.
func (t *translator) familyName(name, unit string, typ otlptranslator.MetricType) (string, string) {
	if !strings.ContainsFunc(name, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return "", "invalid_name"
	}
	built, err := t.names.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
	if err != nil || built == "" {
		return "", "invalid_name"
	}
	if gatewayOwnName(built) {
		return "", "reserved_name"
	}
	return built, ""
}

// gatewayOwnName reports the names of the families a Pushgateway holds itself:
// push_time_seconds and push_failure_time_seconds (in every group), every
// pushgateway_*, and the go_* and process_* families its Go and process
// collectors expose, by exact name — including the _count and _sum of its
// summary go_gc_duration_seconds.
func gatewayOwnName(name string) bool {
	return strings.HasPrefix(name, "pushgateway_") || gatewayOwnNames[name]
}

var gatewayOwnNames = func() map[string]bool {
	m := map[string]bool{}
	for _, n := range []string{
		"push_time_seconds", "push_failure_time_seconds",
		"go_gc_duration_seconds", "go_gc_duration_seconds_count", "go_gc_duration_seconds_sum",
		"go_goroutines", "go_info", "go_threads",
		"go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_buck_hash_sys_bytes",
		"go_memstats_frees_total", "go_memstats_gc_sys_bytes", "go_memstats_heap_alloc_bytes",
		"go_memstats_heap_idle_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_objects",
		"go_memstats_heap_released_bytes", "go_memstats_heap_sys_bytes", "go_memstats_last_gc_time_seconds",
		"go_memstats_lookups_total", "go_memstats_mallocs_total", "go_memstats_mcache_inuse_bytes",
		"go_memstats_mcache_sys_bytes", "go_memstats_mspan_inuse_bytes", "go_memstats_mspan_sys_bytes",
		"go_memstats_next_gc_bytes", "go_memstats_other_sys_bytes", "go_memstats_stack_inuse_bytes",
		"go_memstats_stack_sys_bytes", "go_memstats_sys_bytes",
		"process_cpu_seconds_total", "process_max_fds", "process_open_fds", "process_resident_memory_bytes",
		"process_start_time_seconds", "process_virtual_memory_bytes", "process_virtual_memory_max_bytes",
	} {
		m[n] = true
	}
	return m
}()

// numberValue: an Int becomes a float64; a point without a value type is
// dropped (no_value).
func numberValue(dp pmetric.NumberDataPoint) (Value, string) {
	switch dp.ValueType() {
	case pmetric.NumberDataPointValueTypeInt:
		return Value{Number: float64(dp.IntValue())}, ""
	case pmetric.NumberDataPointValueTypeDouble:
		return Value{Number: dp.DoubleValue()}, ""
	}
	return Value{}, "no_value"
}

// histogramValue is a classic histogram point in classic form: cumulative
// counts per bound, then le=+Inf = count; the sum (0 when absent). Dropped
// (invalid_histogram) unless the bounds are finite and strictly increasing
// and the counts are either empty (count and sum only: then only the +Inf
// bucket) or one more than the bounds; (C10) and unless the bucket counts
// add up to at most the count (else the +Inf bucket would be below a lower
// one).
func histogramValue(dp pmetric.HistogramDataPoint) (Value, string) {
	bounds, counts := dp.ExplicitBounds().AsRaw(), dp.BucketCounts().AsRaw()
	for i, b := range bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= bounds[i-1]) {
			return Value{}, "invalid_histogram"
		}
	}
	v := Value{Count: dp.Count(), Sum: dp.Sum()}
	if len(counts) == 0 {
		v.Buckets = []Bucket{{math.Inf(1), dp.Count()}}
		return v, ""
	}
	if len(counts) != len(bounds)+1 {
		return Value{}, "invalid_histogram"
	}
	var cumulative uint64
	for i, c := range counts {
		var carry uint64
		cumulative, carry = bits.Add64(cumulative, c, 0)
		if carry != 0 || cumulative > dp.Count() {
			return Value{}, "invalid_histogram"
		}
		if i < len(bounds) {
			v.Buckets = append(v.Buckets, Bucket{bounds[i], cumulative})
		}
	}
	v.Buckets = append(v.Buckets, Bucket{math.Inf(1), dp.Count()})
	return v, ""
}

// summaryValue: count, sum and the quantiles sorted ascending. Dropped
// (invalid_summary) when a quantile is there twice, or (C11) is NaN or
// outside [0, 1].
func summaryValue(dp pmetric.SummaryDataPoint) (Value, string) {
	v := Value{Count: dp.Count(), Sum: dp.Sum()}
	for _, q := range dp.QuantileValues().All() {
		if math.IsNaN(q.Quantile()) || q.Quantile() < 0 || q.Quantile() > 1 {
			return Value{}, "invalid_summary"
		}
		v.Quantiles = append(v.Quantiles, Quantile{q.Quantile(), q.Value()})
	}
	sort.SliceStable(v.Quantiles, func(i, j int) bool { return v.Quantiles[i].Quantile < v.Quantiles[j].Quantile })
	for i := 1; i < len(v.Quantiles); i++ {
		if v.Quantiles[i].Quantile == v.Quantiles[i-1].Quantile {
			return Value{}, "invalid_summary"
		}
	}
	return v, ""
}

// exponentialValue is an exponential histogram point in native form. In
// order: a scale below -4 is dropped (scale_too_low); a zero threshold NaN,
// negative or infinite, bucket counts and zero count that do not add up to
// the count (or overflow), or a bucket index beyond int32, are dropped
// (invalid_histogram). A scale above 8 is reduced to 8 by merging buckets
// (OTLP index i → i >> (scale-8)). Native index = OTLP index + 1; zero
// counts are left out.
func exponentialValue(dp pmetric.ExponentialHistogramDataPoint) (Value, string) {
	scale := dp.Scale()
	if scale < minSchema {
		return Value{}, "scale_too_low"
	}
	zt := dp.ZeroThreshold()
	if math.IsNaN(zt) || zt < 0 || math.IsInf(zt, 0) {
		return Value{}, "invalid_histogram"
	}
	total := dp.ZeroCount()
	for _, side := range []pmetric.ExponentialHistogramDataPointBuckets{dp.Positive(), dp.Negative()} {
		for _, c := range side.BucketCounts().All() {
			var carry uint64
			total, carry = bits.Add64(total, c, 0)
			if carry != 0 {
				return Value{}, "invalid_histogram"
			}
		}
	}
	if total != dp.Count() {
		return Value{}, "invalid_histogram"
	}
	n := &Native{Schema: min(scale, 8), ZeroThreshold: zt, ZeroCount: dp.ZeroCount()}
	var ok bool
	if n.Positive, ok = nativeBuckets(dp.Positive(), scale); !ok {
		return Value{}, "invalid_histogram"
	}
	if n.Negative, ok = nativeBuckets(dp.Negative(), scale); !ok {
		return Value{}, "invalid_histogram"
	}
	return Value{Count: dp.Count(), Sum: dp.Sum(), Native: n}, ""
}

func nativeBuckets(b pmetric.ExponentialHistogramDataPointBuckets, scale int32) (map[int32]uint64, bool) {
	counts := map[int32]uint64{}
	for k, c := range b.BucketCounts().All() {
		if c == 0 {
			continue
		}
		i := int64(b.Offset()) + int64(k)
		if scale > 8 {
			i >>= uint(scale - 8)
		}
		i++
		if i < math.MinInt32 || i > math.MaxInt32 {
			return nil, false
		}
		counts[int32(i)] += c
	}
	return counts, true
}

// canonicalAttrs identifies an attribute set as sent: every key with its
// value's type and text, in key order.
func canonicalAttrs(m pcommon.Map) string {
	var parts []string
	for k, v := range m.All() {
		parts = append(parts, strconv.Quote(k)+"="+v.Type().String()+":"+strconv.Quote(v.AsString()))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}
