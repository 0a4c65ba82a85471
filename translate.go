package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/protobuf/proto"
)

// dropReason says why data points were not translated. It is the value of
// the reason attribute of the points-dropped counter.
type dropReason string

const (
	dropUnspecifiedTemporality dropReason = "unspecified_temporality"
	dropScaleTooLow            dropReason = "scale_too_low"
	dropUnknownType            dropReason = "unknown_type"
	dropNoValue                dropReason = "no_value"
	dropInvalidName            dropReason = "invalid_name"
	dropInvalidHistogram       dropReason = "invalid_histogram"
	dropLabelTooLong           dropReason = "label_too_long"
	dropTooManyLabels          dropReason = "too_many_labels"
	dropInvalidGroup           dropReason = "invalid_group"
	dropNameConflict           dropReason = "name_conflict"
	dropReservedName           dropReason = "reserved_name"
	dropBucketMismatch         dropReason = "bucket_mismatch"
	dropSummaryQuantiles       dropReason = "summary_quantiles"
	dropInvalidSummary         dropReason = "invalid_summary"
)

// drop records points of one metric that were not translated.
type drop struct {
	metric string
	reason dropReason
	points int
}

// family is the Prometheus metric family translated from one OTLP metric.
type family struct {
	name   string
	help   string
	typ    dto.MetricType
	points []point
	// delta says the points are deltas, to be added to what their series
	// holds (see groupStates.apply).
	delta bool
}

// point is one translated data point: its value (no timestamp: the
// gateway refuses timestamps), its labels, and the OTLP time that orders it
// against other points of the same series.
type point struct {
	time  pcommon.Timestamp
	value float64
	// agg is a classic histogram's or a summary's value; metric a native
	// histogram's. Both are nil for gauges and counters.
	agg    *aggregate
	metric *dto.Metric
	labels *labelSet
	// start is the OTLP start time; for a delta point, the start of the
	// interval it counts.
	start pcommon.Timestamp
	// ended says the point has no recorded value: its series has ended
	// (the OTel staleness marker), and it carries nothing else.
	ended bool
}

// gatewayReservedNames are the families the Pushgateway writes into every
// group itself (a pushed one would be silently overwritten), and those it
// exposes about itself (1.5.1), with the _count and _sum its summary owns:
// a pushed family of such a name is refused with 400 unless its type is
// the gateway's (and on a gateway without the consistency check breaks
// every scrape), so it is never pushed. Every pushgateway_* name is the
// gateway's too.
var gatewayReservedNames = map[string]bool{
	"push_time_seconds": true, "push_failure_time_seconds": true,
	"go_gc_duration_seconds": true, "go_gc_duration_seconds_count": true, "go_gc_duration_seconds_sum": true,
	"go_goroutines": true, "go_info": true, "go_threads": true,
	"go_memstats_alloc_bytes": true, "go_memstats_alloc_bytes_total": true,
	"go_memstats_buck_hash_sys_bytes": true, "go_memstats_frees_total": true,
	"go_memstats_gc_sys_bytes": true, "go_memstats_heap_alloc_bytes": true,
	"go_memstats_heap_idle_bytes": true, "go_memstats_heap_inuse_bytes": true,
	"go_memstats_heap_objects": true, "go_memstats_heap_released_bytes": true,
	"go_memstats_heap_sys_bytes": true, "go_memstats_last_gc_time_seconds": true,
	"go_memstats_lookups_total": true, "go_memstats_mallocs_total": true,
	"go_memstats_mcache_inuse_bytes": true, "go_memstats_mcache_sys_bytes": true,
	"go_memstats_mspan_inuse_bytes": true, "go_memstats_mspan_sys_bytes": true,
	"go_memstats_next_gc_bytes": true, "go_memstats_other_sys_bytes": true,
	"go_memstats_stack_inuse_bytes": true, "go_memstats_stack_sys_bytes": true,
	"go_memstats_sys_bytes":     true,
	"process_cpu_seconds_total": true, "process_max_fds": true, "process_open_fds": true,
	"process_resident_memory_bytes": true, "process_start_time_seconds": true,
	"process_virtual_memory_bytes": true, "process_virtual_memory_max_bytes": true,
}

func gatewayReserved(name string) bool {
	return gatewayReservedNames[name] || strings.HasPrefix(name, "pushgateway_")
}

// translator turns OTLP metrics into Prometheus families. It is pure: no
// clock, no I/O, no logging.
type translator struct {
	metricNamer otlptranslator.MetricNamer
	labelNamer  otlptranslator.LabelNamer
	// reserved holds the grouping label names. A metric label of the same
	// name would make the gateway refuse the push, so it is renamed
	// exported_<name>, as Prometheus does for clashing target labels.
	reserved map[string]bool
	// maxLabelLength and maxLabels bound one series' labels (0: no limit);
	// a point beyond them is dropped rather than cut, as a cut label could
	// merge distinct series.
	maxLabelLength int
	maxLabels      int
	// scopeLabels adds otel_scope_name and otel_scope_version to every
	// series; resourceLabels every resource attribute; targetInfo a
	// target_info family per resource with the attributes identifying
	// says are not already in the grouping key.
	scopeLabels, resourceLabels, targetInfo bool
	identifying                             map[string]bool
	// cache remembers translated label sets (nil: none); names the
	// family names made by metricNamer.
	cache *labelCache
	names *nameCache
}

func newTranslator(grouping GroupingConfig) *translator {
	strategy := otlptranslator.UnderscoreEscapingWithSuffixes
	reserved := map[string]bool{jobLabel: true}
	if len(grouping.InstanceAttribute) > 0 {
		reserved[instanceLabel] = true
	}
	for _, l := range grouping.Labels {
		reserved[l.Name] = true
	}
	identifying := map[string]bool{attrServiceName: true, attrServiceNamespace: true, attrServiceInstance: true}
	for _, attr := range grouping.InstanceAttribute {
		identifying[attr] = true
	}
	for _, l := range grouping.Labels {
		identifying[l.Attribute] = true
	}
	return &translator{
		metricNamer: otlptranslator.NewMetricNamer("", strategy),
		labelNamer:  otlptranslator.LabelNamer{UTF8Allowed: !strategy.ShouldEscape()},
		reserved:    reserved,
		identifying: identifying,
		cache:       newLabelCache(0),
		names:       newNameCache(),
	}
}

// withResourceLabels sets what of the scope and the resource the series
// carry (see Config.ScopeLabels, TargetInfo, ResourceToTelemetryConversion).
func (t *translator) withResourceLabels(scope, targetInfo, resource bool) *translator {
	t.scopeLabels, t.targetInfo, t.resourceLabels = scope, targetInfo, resource
	t.cache = newLabelCache(t.cache.max)
	return t
}

// withNaming sets the naming strategy and the metric name prefix.
func (t *translator) withNaming(strategy TranslationStrategy, namespace string) *translator {
	opt := otlptranslator.TranslationStrategyOption(strategy)
	t.metricNamer = otlptranslator.NewMetricNamer(namespace, opt)
	t.labelNamer = otlptranslator.LabelNamer{UTF8Allowed: !opt.ShouldEscape()}
	t.cache, t.names = newLabelCache(t.cache.max), newNameCache()
	return t
}

// withLabelLimits sets the bounds on one series' labels.
func (t *translator) withLabelLimits(maxLabelLength, maxLabels int) *translator {
	t.maxLabelLength, t.maxLabels = maxLabelLength, maxLabels
	t.cache = newLabelCache(t.cache.max)
	return t
}

// withCacheSize bounds the label cache (0: the default bound); the exporter
// sizes it to max_series, as a held series needs one cached label set.
func (t *translator) withCacheSize(max int) *translator {
	t.cache = newLabelCache(max)
	return t
}

// translateResource translates every metric of one resource. Resource
// attributes are copied onto the series only with resourceLabels: the ones
// that identify the resource are in the grouping key, the others in
// target_info.
//
// The families and their points live in sc until the next call with it.
func (t *translator) translateResource(rm pmetric.ResourceMetrics, sc *scratch) (fams []family, drops []drop) {
	sc.reset()
	fams = sc.fams
	defer func() { sc.fams = fams }()
	sms := rm.ScopeMetrics()
	var (
		latest pcommon.Timestamp
		live   bool // some point has a value
	)
	for i := 0; i < sms.Len(); i++ {
		extra := t.extraLabels(sms.At(i).Scope(), rm.Resource())
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			fam, metricDrops := t.translateMetric(ms.At(j), extra, sc)
			if len(fam.points) > 0 {
				fams = append(fams, fam)
				for _, p := range fam.points {
					latest = max(latest, p.time)
					live = live || !p.ended
				}
			}
			drops = append(drops, metricDrops...)
		}
	}
	if t.targetInfo && len(fams) > 0 {
		// A resource whose series all ended has ended too.
		if fam, d := t.targetInfoFamily(rm.Resource(), latest, !live); len(fam.points) > 0 {
			fams = append(fams, fam)
		} else if d.points > 0 {
			drops = append(drops, d)
		}
	}
	return fams, drops
}

// scratch holds what translating one resource makes and applying it
// consumes: reused from batch to batch, it spares an allocation per
// metric and per point.
type scratch struct {
	points []point
	fams   []family
	key    []byte // a label cache key being built
	// aggs, floats and uints hold the points' aggregates.
	aggs   []aggregate
	floats []float64
	uints  []uint64
	// reading says the label cache's read lock is held.
	reading bool
}

// reset empties sc, letting go of what the last resource referenced.
func (sc *scratch) reset() {
	clear(sc.points)
	clear(sc.fams)
	clear(sc.aggs)
	sc.points, sc.fams, sc.aggs = sc.points[:0], sc.fams[:0], sc.aggs[:0]
	sc.floats, sc.uints = sc.floats[:0], sc.uints[:0]
}

// targetInfoName is the family of a resource's non-identifying attributes.
const targetInfoName = "target_info"

// targetInfoFamily is a gauge of value 1 labelled with the resource
// attributes not in the grouping key, stamped with the newest point of the
// resource; none when there are no such attributes. ended marks it ended
// with the resource's series.
func (t *translator) targetInfoFamily(res pcommon.Resource, at pcommon.Timestamp, ended bool) (family, drop) {
	attrs := pcommon.NewMap()
	for k, v := range res.Attributes().All() {
		if !t.identifying[k] {
			v.CopyTo(attrs.PutEmpty(k))
		}
	}
	fam := family{name: targetInfoName, help: "Target metadata", typ: dto.MetricType_GAUGE}
	labels, reason := t.labels(attrs, "", nil)
	if reason != "" {
		return fam, drop{metric: targetInfoName, reason: reason, points: 1}
	}
	if len(labels) == 0 {
		return fam, drop{}
	}
	fam.points = []point{{time: at, value: 1, labels: labelSetOf(labels), ended: ended}}
	return fam, drop{}
}

// scope labels, as the OTel Prometheus compatibility rules name them.
const (
	scopeNameLabel    = "otel_scope_name"
	scopeVersionLabel = "otel_scope_version"
)

// scopeExtra are the labels every series of a scope gets besides its
// point's attributes, and their number in the label cache.
type scopeExtra struct {
	labels []attrLabel
	id     uint64
}

// extraLabels are the labels every series of a scope gets besides its
// point's attributes: the resource attributes (resourceLabels) and the
// scope's name and version (scopeLabels). A point attribute of the same
// name wins.
func (t *translator) extraLabels(scope pcommon.InstrumentationScope, res pcommon.Resource) *scopeExtra {
	var extra []attrLabel
	add := func(key, value string) {
		if value = toLabelValue(value); value == "" {
			return
		}
		if name, err := t.labelNamer.Build(key); err == nil {
			extra = append(extra, attrLabel{name: name, key: key, value: value})
		}
	}
	if t.resourceLabels {
		for k, v := range res.Attributes().All() {
			add(k, v.AsString())
		}
	}
	if t.scopeLabels {
		add(scopeNameLabel, scope.Name())
		add(scopeVersionLabel, scope.Version())
	}
	return &scopeExtra{labels: extra, id: t.cache.scopeID(extra)}
}

func (t *translator) translateMetric(m pmetric.Metric, extra *scopeExtra, sc *scratch) (family, []drop) {
	var (
		fam      family
		nameType otlptranslator.MetricType
		drops    dropCounter
	)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		fam.typ, nameType = dto.MetricType_GAUGE, otlptranslator.MetricTypeGauge
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if reason, ok := unsupportedTemporality(sum.AggregationTemporality()); ok {
			return fam, drops.all(m, reason)
		}
		fam.delta = sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		fam.typ, nameType = dto.MetricType_GAUGE, otlptranslator.MetricTypeNonMonotonicCounter
		if sum.IsMonotonic() {
			fam.typ, nameType = dto.MetricType_COUNTER, otlptranslator.MetricTypeMonotonicCounter
		}
	case pmetric.MetricTypeHistogram:
		if reason, ok := unsupportedTemporality(m.Histogram().AggregationTemporality()); ok {
			return fam, drops.all(m, reason)
		}
		fam.delta = m.Histogram().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		fam.typ, nameType = dto.MetricType_HISTOGRAM, otlptranslator.MetricTypeHistogram
	case pmetric.MetricTypeSummary:
		fam.typ, nameType = dto.MetricType_SUMMARY, otlptranslator.MetricTypeSummary
	case pmetric.MetricTypeExponentialHistogram:
		if reason, ok := unsupportedTemporality(m.ExponentialHistogram().AggregationTemporality()); ok {
			return fam, drops.all(m, reason)
		}
		fam.delta = m.ExponentialHistogram().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		fam.typ, nameType = dto.MetricType_HISTOGRAM, otlptranslator.MetricTypeExponentialHistogram
	default:
		return fam, drops.all(m, dropUnknownType)
	}

	name, reason := t.familyName(m.Name(), m.Unit(), nameType)
	if reason != "" {
		return fam, drops.all(m, reason)
	}
	fam.name, fam.help = name, m.Description()
	defer t.cache.doneReading(sc)

	switch m.Type() {
	case pmetric.MetricTypeGauge:
		fam.points = t.numberPoints(m, m.Gauge().DataPoints(), extra, &drops, sc)
	case pmetric.MetricTypeSum:
		fam.points = t.numberPoints(m, m.Sum().DataPoints(), extra, &drops, sc)
	case pmetric.MetricTypeHistogram:
		fam.points = t.histogramPoints(m, extra, &drops, sc)
	case pmetric.MetricTypeSummary:
		fam.points = t.summaryPoints(m, extra, &drops, sc)
	case pmetric.MetricTypeExponentialHistogram:
		fam.points = t.expHistogramPoints(m, extra, &drops, sc)
	}
	return fam, drops.list
}

// familyName is the Prometheus name of an OTLP metric, or why it has none,
// from the cache when the same metric was named before.
func (t *translator) familyName(name, unit string, typ otlptranslator.MetricType) (string, dropReason) {
	key := nameKey{name: name, unit: unit, typ: typ}
	t.names.mu.RLock()
	named, ok := t.names.names[key]
	t.names.mu.RUnlock()
	if ok {
		return named.name, named.reason
	}
	named.name, named.reason = t.buildFamilyName(name, unit, typ)
	// The key's strings may point into the batch: the cache keeps copies.
	key.name, key.unit = strings.Clone(name), strings.Clone(unit)
	t.names.mu.Lock()
	if len(t.names.names) >= maxCachedNames {
		clear(t.names.names)
	}
	t.names.names[key] = named
	t.names.mu.Unlock()
	return named.name, named.reason
}

// maxCachedNames bounds the family name cache; when full it starts afresh.
const maxCachedNames = 1 << 14

// nameCache remembers family names: otlptranslator allocates several
// strings for every name it builds.
type nameCache struct {
	mu    sync.RWMutex
	names map[nameKey]familyNamed
}

type nameKey struct {
	name, unit string
	typ        otlptranslator.MetricType
}

// familyNamed is a family's name, or why the metric has none.
type familyNamed struct {
	name   string
	reason dropReason
}

func newNameCache() *nameCache { return &nameCache{names: map[nameKey]familyNamed{}} }

func (t *translator) buildFamilyName(name, unit string, typ otlptranslator.MetricType) (string, dropReason) {
	if !hasNameCharacter(name) {
		// otlptranslator would name it after its suffixes alone
		// ("total", "seconds"), which is no name of the sender's.
		return "", dropInvalidName
	}
	built, err := t.metricNamer.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
	if err != nil || built == "" {
		return "", dropInvalidName
	}
	if gatewayReserved(built) {
		return "", dropReservedName
	}
	return built, ""
}

// hasNameCharacter says a metric name has a letter or a digit.
func hasNameCharacter(name string) bool {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// unsupportedTemporality refuses an unspecified temporality: neither adding
// nor replacing would be right.
func unsupportedTemporality(temp pmetric.AggregationTemporality) (dropReason, bool) {
	switch temp {
	case pmetric.AggregationTemporalityCumulative, pmetric.AggregationTemporalityDelta:
		return "", false
	default:
		return dropUnspecifiedTemporality, true
	}
}

// dataPoint is what every OTLP data point type has.
type dataPoint interface {
	Flags() pmetric.DataPointFlags
	Attributes() pcommon.Map
	Timestamp() pcommon.Timestamp
	StartTimestamp() pcommon.Timestamp
}

// translatePoints translates the points of one metric into sc's points,
// each labelled with typeLabel as the type's own label. value sets a
// point's value, or says why it has none; a point without a recorded
// value, a value or labels is dropped.
func translatePoints[DP dataPoint](t *translator, m pmetric.Metric, n int, at func(int) DP, typeLabel string,
	extra *scopeExtra, drops *dropCounter, sc *scratch, value func(DP, *point) dropReason,
) []point {
	from := len(sc.points)
	for i := 0; i < n; i++ {
		dp := at(i)
		// Made in place: a point handed to value would escape to the heap.
		sc.points = append(sc.points, point{time: dp.Timestamp(), start: dp.StartTimestamp()})
		p := &sc.points[len(sc.points)-1]
		var reason dropReason
		if p.ended = dp.Flags().NoRecordedValue(); !p.ended {
			reason = value(dp, p)
		}
		if reason == "" {
			p.labels = t.labelSetFor(dp.Attributes(), typeLabel, extra, sc)
			reason = p.labels.reason
		}
		if reason != "" {
			*p = point{}
			sc.points = sc.points[:len(sc.points)-1]
			drops.add(m, reason)
			continue
		}
		if p.metric != nil {
			p.metric.Label = p.labels.labels
		}
	}
	return sc.points[from:len(sc.points):len(sc.points)]
}

func (t *translator) numberPoints(m pmetric.Metric, dps pmetric.NumberDataPointSlice, extra *scopeExtra, drops *dropCounter, sc *scratch) []point {
	return translatePoints(t, m, dps.Len(), dps.At, "", extra, drops, sc, func(dp pmetric.NumberDataPoint, p *point) dropReason {
		switch dp.ValueType() {
		case pmetric.NumberDataPointValueTypeInt:
			p.value = float64(dp.IntValue())
		case pmetric.NumberDataPointValueTypeDouble:
			p.value = dp.DoubleValue()
		default:
			return dropNoValue
		}
		return ""
	})
}

func (t *translator) histogramPoints(m pmetric.Metric, extra *scopeExtra, drops *dropCounter, sc *scratch) []point {
	dps := m.Histogram().DataPoints()
	return translatePoints(t, m, dps.Len(), dps.At, "le", extra, drops, sc, func(dp pmetric.HistogramDataPoint, p *point) dropReason {
		bounds, counts := dp.ExplicitBounds(), dp.BucketCounts()
		// OTLP allows a histogram without buckets (count and sum only);
		// otherwise there is one more count than bounds, the last for +Inf.
		if (counts.Len() != 0 && counts.Len() != bounds.Len()+1) || !validBounds(bounds) {
			return dropInvalidHistogram
		}
		p.agg = sc.histogramAggregate(dp)
		return ""
	})
}

// expHistogramPoints translates exponential histogram points into native
// histograms (see nativeHistogram); encoding turns them into classic
// buckets where native ones cannot go.
func (t *translator) expHistogramPoints(m pmetric.Metric, extra *scopeExtra, drops *dropCounter, sc *scratch) []point {
	dps := m.ExponentialHistogram().DataPoints()
	return translatePoints(t, m, dps.Len(), dps.At, "le", extra, drops, sc, func(dp pmetric.ExponentialHistogramDataPoint, p *point) dropReason {
		h, reason := nativeHistogram(dp)
		if reason == "" {
			p.metric = &dto.Metric{Histogram: h}
		}
		return reason
	})
}

// validBounds accepts finite, strictly increasing bucket bounds: anything
// else gives duplicate or unordered le series, which Prometheus refuses.
func validBounds(bounds pcommon.Float64Slice) bool {
	for i := 0; i < bounds.Len(); i++ {
		b := bounds.At(i)
		if math.IsNaN(b) || math.IsInf(b, 0) || (i > 0 && b <= bounds.At(i-1)) {
			return false
		}
	}
	return true
}

func (t *translator) summaryPoints(m pmetric.Metric, extra *scopeExtra, drops *dropCounter, sc *scratch) []point {
	dps := m.Summary().DataPoints()
	return translatePoints(t, m, dps.Len(), dps.At, "quantile", extra, drops, sc, func(dp pmetric.SummaryDataPoint, p *point) dropReason {
		var ok bool
		if p.agg, ok = sc.summaryAggregate(dp); !ok {
			// One quantile twice is one sample twice at the gateway, which
			// neither it nor Prometheus can take.
			return dropInvalidSummary
		}
		return ""
	})
}

// attrLabel is an attribute on its way to a label.
type attrLabel struct{ name, key, value string }

// labels translates point attributes, and the extra labels of the point's
// scope, into sorted Prometheus labels. Names are sanitised; a name that
// would clash with a grouping label or with the type's own label (le,
// quantile) is prefixed exported_; attributes that end up with the same
// name are merged, their values joined with ";" in the order of the
// original keys; an extra label is left out when a point attribute has
// its name; empty values are dropped, as an empty label is no label in
// Prometheus. A non-empty reason says why the point cannot be pushed.
func (t *translator) labels(attrs pcommon.Map, typeLabel string, extra []attrLabel) (_ []*dto.LabelPair, reason dropReason) {
	if attrs.Len() == 0 && len(extra) == 0 {
		return nil, ""
	}
	if t.maxLabels > 0 && attrs.Len() > t.maxLabels {
		return nil, dropTooManyLabels
	}
	all := make([]attrLabel, 0, attrs.Len()+len(extra))
	for k, v := range attrs.All() {
		value := toLabelValue(v.AsString())
		if value == "" {
			continue
		}
		name, err := t.labelNamer.Build(k)
		if err != nil {
			continue
		}
		all = append(all, attrLabel{name: t.unreserved(name, typeLabel), key: k, value: value})
	}
	fromPoint := len(all)
	for _, e := range extra {
		e.name = t.unreserved(e.name, typeLabel)
		if !slices.ContainsFunc(all[:fromPoint], func(a attrLabel) bool { return a.name == e.name }) {
			all = append(all, e)
		}
	}
	if t.maxLabels > 0 && len(all) > t.maxLabels {
		return nil, dropTooManyLabels
	}

	slices.SortFunc(all, func(a, b attrLabel) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.key, b.key))
	})
	pairs := make([]*dto.LabelPair, 0, len(all))
	for i := 0; i < len(all); {
		if t.maxLabelLength > 0 && len(all[i].name) > t.maxLabelLength {
			return nil, dropLabelTooLong
		}
		j := i + 1
		value := all[i].value
		for ; j < len(all) && all[j].name == all[i].name; j++ {
			value += ";" + all[j].value
		}
		if t.maxLabelLength > 0 && len(value) > t.maxLabelLength {
			return nil, dropLabelTooLong
		}
		pairs = append(pairs, &dto.LabelPair{Name: proto.String(all[i].name), Value: proto.String(value)})
		i = j
	}
	return pairs, ""
}

// unreserved renames a label name the series cannot carry: a grouping
// label, the type's own label, or a name starting with "__", which
// Prometheus reserves for itself and the gateway refuses (the label namer
// keeps __x__ as it is).
func (t *translator) unreserved(name, typeLabel string) string {
	for t.reserved[name] || name == typeLabel || strings.HasPrefix(name, "__") {
		name = "exported_" + name
	}
	return name
}

// dropCounter gathers the drops of one metric, one entry per reason.
type dropCounter struct {
	list []drop
}

func (d *dropCounter) add(m pmetric.Metric, reason dropReason) {
	d.addN(m, reason, 1)
}

func (d *dropCounter) addN(m pmetric.Metric, reason dropReason, n int) {
	for i := range d.list {
		if d.list[i].reason == reason {
			d.list[i].points += n
			return
		}
	}
	d.list = append(d.list, drop{metric: m.Name(), reason: reason, points: n})
}

// all drops every point of a metric for one reason.
func (d *dropCounter) all(m pmetric.Metric, reason dropReason) []drop {
	d.addN(m, reason, max(dataPointCount(m), 1))
	return d.list
}

func dataPointCount(m pmetric.Metric) int {
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
	return 0
}
