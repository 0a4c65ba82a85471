package testgateway

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
)

// checkExposition checks what the gateway serves for what Prometheus needs
// and the gateway's own scrape-time check (client_golang 1.14's
// Gatherers.Gather) does not look at: legacy metric and label names (a
// protobuf push is not validated, so a name like "a.b" is served as it
// is), no le label on a histogram's series and no quantile label on a
// summary's (client_golang checks only the latter), and no sample twice as
// Prometheus reads the exposition — where an empty label is no label, and
// a histogram's buckets and a summary's quantiles are samples of their own.
func checkExposition(fams []*dto.MetricFamily) error {
	var errs []error
	samples := map[string]string{} // sample -> its family
	addSample := func(family, name string, labels []*dto.LabelPair, extra ...string) {
		key := sampleKey(name, labels, extra...)
		if other, dup := samples[key]; dup {
			if other != "" {
				errs = append(errs, fmt.Errorf("sample %s appears twice (families %q and %q): Prometheus keeps one", key, other, family))
				samples[key] = "" // reported
			}
			return
		}
		samples[key] = family
	}
	for _, mf := range fams {
		name := mf.GetName()
		if !model.LegacyValidation.IsValidMetricName(name) {
			errs = append(errs, fmt.Errorf("family %q: not a valid metric name", name))
			continue
		}
		typ := mf.GetType()
		for _, m := range mf.GetMetric() {
			if err := checkSeries(mf, m); err != nil {
				errs = append(errs, err)
				continue
			}
			labels := m.GetLabel()
			switch typ {
			case dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
				addSample(name, name, labels)
			case dto.MetricType_SUMMARY:
				for _, q := range m.GetSummary().GetQuantile() {
					addSample(name, name, labels, model.QuantileLabel, formatBound(q.GetQuantile()))
				}
				addSample(name, name+"_sum", labels)
				addSample(name, name+"_count", labels)
			case dto.MetricType_HISTOGRAM:
				inf := false
				for _, b := range m.GetHistogram().GetBucket() {
					addSample(name, name+"_bucket", labels, model.BucketLabel, formatBound(b.GetUpperBound()))
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
				}
				if !inf { // the exposition writes it
					addSample(name, name+"_bucket", labels, model.BucketLabel, "+Inf")
				}
				addSample(name, name+"_sum", labels)
				addSample(name, name+"_count", labels)
			}
		}
		if len(errs) >= 5 {
			break
		}
	}
	return errors.Join(errs...)
}

// checkSeries checks one series of a family: a value of the family's type
// (one Prometheus' text exposition of the gateway's time can write), valid
// and unique label names, valid UTF-8 values, no label its type reserves.
func checkSeries(mf *dto.MetricFamily, m *dto.Metric) error {
	name := mf.GetName()
	var ok bool
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		ok = m.Counter != nil
	case dto.MetricType_GAUGE:
		ok = m.Gauge != nil
	case dto.MetricType_UNTYPED:
		ok = m.Untyped != nil
	case dto.MetricType_SUMMARY:
		ok = m.Summary != nil
	case dto.MetricType_HISTOGRAM:
		ok = m.Histogram != nil
	default:
		return fmt.Errorf("family %q: type %s, which the text exposition cannot write", name, mf.GetType())
	}
	if !ok {
		return fmt.Errorf("family %q: a series without a %s value: %v", name, mf.GetType(), m)
	}
	seen := map[string]bool{}
	for _, l := range m.GetLabel() {
		ln := l.GetName()
		switch {
		case !model.LegacyValidation.IsValidLabelName(ln) || strings.HasPrefix(ln, model.ReservedLabelPrefix):
			return fmt.Errorf("family %q: label name %q is not valid", name, ln)
		case seen[ln]:
			return fmt.Errorf("family %q: label %q twice in one series", name, ln)
		case !utf8.ValidString(l.GetValue()):
			return fmt.Errorf("family %q: label %q has a value that is not UTF-8", name, ln)
		case mf.GetType() == dto.MetricType_HISTOGRAM && ln == model.BucketLabel,
			mf.GetType() == dto.MetricType_SUMMARY && ln == model.QuantileLabel:
			return fmt.Errorf("family %q (%s): a series with its own %q label, which the exposition writes twice", name, mf.GetType(), ln)
		}
		seen[ln] = true
	}
	return nil
}

// sampleKey is a sample's identity as Prometheus sees it: its name and its
// labels with a value, sorted.
func sampleKey(name string, labels []*dto.LabelPair, extra ...string) string {
	pairs := make([]string, 0, len(labels)+1)
	for _, l := range labels {
		if l.GetValue() != "" {
			pairs = append(pairs, l.GetName()+"="+strconv.Quote(l.GetValue()))
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		pairs = append(pairs, extra[i]+"="+strconv.Quote(extra[i+1]))
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// formatBound writes a bucket bound or quantile as a float, so that bounds
// Prometheus reads as one number are one string.
func formatBound(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
