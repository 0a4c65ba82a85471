package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/otlptranslator"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Translator turns OTLP metrics into Prometheus families and resources
// into grouping keys. It is pure: no clock, no I/O, no logging.
type Translator struct {
	metricNamer otlptranslator.MetricNamer
	labelNamer  otlptranslator.LabelNamer
	grouping    Grouping
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
	// cache remembers translated label sets; names the family names made
	// by metricNamer.
	cache *labelCache
	names *nameCache
}

// Options say how a Translator names, labels and groups.
type Options struct {
	Grouping Grouping
	// Strategy and Namespace make the family names, as otlptranslator's
	// MetricNamer does.
	Strategy  otlptranslator.TranslationStrategyOption
	Namespace string
	// ScopeLabels adds otel_scope_name and otel_scope_version to every
	// series, TargetInfo a target_info family to every resource's group,
	// ResourceLabels every resource attribute to every series.
	ScopeLabels, TargetInfo, ResourceLabels bool
	// MaxLabelLength bounds, in bytes, every label name and value and every
	// grouping value; MaxLabels the labels of one series (0: no limit).
	MaxLabelLength, MaxLabels int
	// CacheSize bounds the label sets remembered (0: a default bound).
	CacheSize int
}

// New returns a Translator.
func New(opts Options) *Translator {
	strategy := opts.Strategy
	if strategy == "" {
		strategy = otlptranslator.UnderscoreEscapingWithSuffixes
	}
	grouping := opts.Grouping
	reserved := map[string]bool{prom.JobLabel: true}
	if len(grouping.InstanceAttributes) > 0 {
		reserved[prom.InstanceLabel] = true
	}
	for _, l := range grouping.Labels {
		reserved[l.Name] = true
	}
	identifying := map[string]bool{attrServiceName: true, attrServiceNamespace: true, attrServiceInstance: true}
	for _, attr := range grouping.InstanceAttributes {
		identifying[attr] = true
	}
	for _, l := range grouping.Labels {
		identifying[l.Attribute] = true
	}
	return &Translator{
		metricNamer:    otlptranslator.NewMetricNamer(opts.Namespace, strategy),
		labelNamer:     otlptranslator.LabelNamer{UTF8Allowed: !strategy.ShouldEscape()},
		grouping:       grouping,
		reserved:       reserved,
		identifying:    identifying,
		maxLabelLength: opts.MaxLabelLength,
		maxLabels:      opts.MaxLabels,
		scopeLabels:    opts.ScopeLabels,
		targetInfo:     opts.TargetInfo,
		resourceLabels: opts.ResourceLabels,
		cache:          newLabelCache(opts.CacheSize),
		names:          newNameCache(),
	}
}

// Resource translates every metric of one resource. Resource
// attributes are copied onto the series only with resourceLabels: the ones
// that identify the resource are in the grouping key, the others in
// target_info.
//
// The families and their points live in sc until the next call with it.
func (t *Translator) Resource(rm pmetric.ResourceMetrics, sc *Scratch) (fams []prom.Family, drops []prom.Drop) {
	sc.Reset()
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
			if len(fam.Points) > 0 {
				fams = append(fams, fam)
				for _, p := range fam.Points {
					latest = max(latest, p.Time)
					live = live || !p.Ended
				}
			}
			drops = append(drops, metricDrops...)
		}
	}
	if t.targetInfo && len(fams) > 0 {
		// A resource whose series all ended has ended too.
		if fam, d := t.targetInfoFamily(rm.Resource(), latest, !live); len(fam.Points) > 0 {
			fams = append(fams, fam)
		} else if d.Points > 0 {
			drops = append(drops, d)
		}
	}
	return fams, drops
}

// targetInfoFamily is a gauge of value 1 labelled with the resource
// attributes not in the grouping key, stamped with the newest point of the
// resource; none when there are no such attributes. ended marks it ended
// with the resource's series.
func (t *Translator) targetInfoFamily(res pcommon.Resource, at pcommon.Timestamp, ended bool) (prom.Family, prom.Drop) {
	attrs := pcommon.NewMap()
	for k, v := range res.Attributes().All() {
		if !t.identifying[k] {
			v.CopyTo(attrs.PutEmpty(k))
		}
	}
	fam := prom.Family{Name: prom.TargetInfoName, Help: "Target metadata", Type: dto.MetricType_GAUGE}
	labels, reason := t.labels(attrs, "", nil)
	if reason != "" {
		return fam, prom.Drop{Metric: prom.TargetInfoName, Reason: reason, Points: 1}
	}
	if len(labels) == 0 {
		return fam, prom.Drop{}
	}
	fam.Points = []prom.Point{{Time: at, Value: 1, Labels: prom.NewLabelSet(labels), Ended: ended}}
	return fam, prom.Drop{}
}

func (t *Translator) translateMetric(m pmetric.Metric, extra *scopeExtra, sc *Scratch) (prom.Family, []prom.Drop) {
	var (
		fam      prom.Family
		nameType otlptranslator.MetricType
		drops    dropCounter
	)
	switch m.Type() {
	case pmetric.MetricTypeGauge:
		fam.Type, nameType = dto.MetricType_GAUGE, otlptranslator.MetricTypeGauge
	case pmetric.MetricTypeSum:
		sum := m.Sum()
		if reason, ok := unsupportedTemporality(sum.AggregationTemporality()); ok {
			return fam, drops.all(m, reason)
		}
		fam.Delta = sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta
		fam.Type, nameType = dto.MetricType_GAUGE, otlptranslator.MetricTypeNonMonotonicCounter
		if sum.IsMonotonic() {
			fam.Type, nameType = dto.MetricType_COUNTER, otlptranslator.MetricTypeMonotonicCounter
		}
	case pmetric.MetricTypeHistogram:
		if reason, ok := unsupportedTemporality(m.Histogram().AggregationTemporality()); ok {
			return fam, drops.all(m, reason)
		}
		fam.Delta = m.Histogram().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		fam.Type, nameType = dto.MetricType_HISTOGRAM, otlptranslator.MetricTypeHistogram
	case pmetric.MetricTypeSummary:
		fam.Type, nameType = dto.MetricType_SUMMARY, otlptranslator.MetricTypeSummary
	case pmetric.MetricTypeExponentialHistogram:
		if reason, ok := unsupportedTemporality(m.ExponentialHistogram().AggregationTemporality()); ok {
			return fam, drops.all(m, reason)
		}
		fam.Delta = m.ExponentialHistogram().AggregationTemporality() == pmetric.AggregationTemporalityDelta
		fam.Type, nameType = dto.MetricType_HISTOGRAM, otlptranslator.MetricTypeExponentialHistogram
	default:
		return fam, drops.all(m, prom.DropUnknownType)
	}

	name, reason := t.familyName(m.Name(), m.Unit(), nameType)
	if reason != "" {
		return fam, drops.all(m, reason)
	}
	fam.Name, fam.Help = name, m.Description()
	defer t.cache.doneReading(sc)

	switch m.Type() {
	case pmetric.MetricTypeGauge:
		fam.Points = t.numberPoints(m, m.Gauge().DataPoints(), extra, &drops, sc)
	case pmetric.MetricTypeSum:
		fam.Points = t.numberPoints(m, m.Sum().DataPoints(), extra, &drops, sc)
	case pmetric.MetricTypeHistogram:
		fam.Points = t.histogramPoints(m, extra, &drops, sc)
	case pmetric.MetricTypeSummary:
		fam.Points = t.summaryPoints(m, extra, &drops, sc)
	case pmetric.MetricTypeExponentialHistogram:
		fam.Points = t.expHistogramPoints(m, extra, &drops, sc)
	}
	return fam, drops.list
}
