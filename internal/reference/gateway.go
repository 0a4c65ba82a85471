package reference

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// Gateway is what a Pushgateway holds: group key → group.
//
// A group key is rendered as {job="x",instance="y",...}: job first, then the
// other grouping labels sorted by name, values strconv.Quote'd (GroupKey).
type Gateway map[string]Group

// Group is one group's families by name.
type Group map[string]Family

// Family is one metric family as the gateway holds it. Series are keyed by
// their labels rendered like a group key but all sorted by name:
// {a="1",b="2"}, "{}" for none (SeriesKey). The grouping labels the gateway
// adds to every series are not part of the key.
type Family struct {
	Type   dto.MetricType
	Help   string
	Series map[string]Value
}

// GroupKey renders a grouping key: job first, then the other labels sorted by
// name, values quoted with strconv.Quote.
func GroupKey(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		if n != "job" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if _, ok := labels["job"]; ok {
		names = append([]string{"job"}, names...)
	}
	return renderLabels(names, labels)
}

// SeriesKey renders a series' labels, sorted by name, values quoted with
// strconv.Quote; "{}" for none.
func SeriesKey(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	return renderLabels(names, labels)
}

func renderLabels(names []string, labels map[string]string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strconv.Quote(labels[n])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// SimulatedGateway holds what a Pushgateway would hold after a sequence of
// pushes and deletes, by the Pushgateway's rules:
//
//   - PUT of group G replaces G's families whole; POST replaces only the
//     families named in the push (a pushed family without series removes
//     G's family of that name: the gateway never exposes an empty family);
//     DELETE removes G.
//   - Consistency, checked on the state after the push across every group
//     it holds: one family name has one type across all groups; a histogram
//     named x owns x_bucket, x_count and x_sum, a summary named x owns x_count
//     and x_sum, and no family (of any group, its own included) may have an
//     owned name. A push that breaks it is refused (the gateway's 400) and
//     changes nothing.
//   - A push is refused as well when a family cannot be read: no name, a type
//     other than counter, gauge, summary or histogram, a series without the
//     value of its family's type, a label name twice in a series, a series
//     twice in a family, or native buckets that do not decode. Within one
//     push, the last family of a name wins (the gateway's protobuf reading).
//
// The zero value is an empty gateway.
type SimulatedGateway struct {
	groups Gateway
}

// Put applies a PUT of group with the given families.
func (g *SimulatedGateway) Put(group string, fams []*dto.MetricFamily) error {
	return g.push(group, fams, false)
}

// Post applies a POST of group with the given families.
func (g *SimulatedGateway) Post(group string, fams []*dto.MetricFamily) error {
	return g.push(group, fams, true)
}

// Delete removes group.
func (g *SimulatedGateway) Delete(group string) {
	delete(g.groups, group)
}

// Content is a deep copy of what the gateway holds.
func (g *SimulatedGateway) Content() Gateway {
	c := make(Gateway, len(g.groups))
	for k, grp := range g.groups {
		c[k] = cloneGroup(grp)
	}
	return c
}

func (g *SimulatedGateway) push(group string, fams []*dto.MetricFamily, post bool) error {
	method := "PUT"
	if post {
		method = "POST"
	}
	next := Group{}
	if post {
		next = cloneGroup(g.groups[group])
	}
	for _, mf := range fams {
		f, err := DecodeFamily(mf)
		if err != nil {
			return fmt.Errorf("%s of group %s refused: %w", method, group, err)
		}
		if len(f.Series) == 0 {
			delete(next, mf.GetName())
			continue
		}
		next[mf.GetName()] = f
	}
	after := make(Gateway, len(g.groups)+1)
	for k, grp := range g.groups {
		after[k] = grp
	}
	after[group] = next
	if err := checkConsistency(typesOf(after)); err != nil {
		return fmt.Errorf("%s of group %s refused: %w", method, group, err)
	}
	if g.groups == nil {
		g.groups = Gateway{}
	}
	g.groups[group] = next
	return nil
}

// typesOf is every family's type, by group and name.
func typesOf(gw Gateway) map[string]map[string]dto.MetricType {
	types := make(map[string]map[string]dto.MetricType, len(gw))
	for k, grp := range gw {
		types[k] = make(map[string]dto.MetricType, len(grp))
		for name, f := range grp {
			types[k][name] = f.Type
		}
	}
	return types
}

// checkConsistency is the gateway's consistency check over group → family
// name → type: one type per name across all groups, and no family named
// like a name a histogram or summary owns.
func checkConsistency(types map[string]map[string]dto.MetricType) error {
	groups := make([]string, 0, len(types))
	for k := range types {
		groups = append(groups, k)
	}
	sort.Strings(groups)
	type holder struct {
		group string
		typ   dto.MetricType
	}
	byName := map[string]holder{}
	var errs []error
	for _, k := range groups {
		names := make([]string, 0, len(types[k]))
		for n := range types[k] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t := types[k][n]
			if h, ok := byName[n]; ok && h.typ != t {
				errs = append(errs, fmt.Errorf("family %s is a %s in group %s and a %s in group %s", n, h.typ, h.group, t, k))
				continue
			}
			if _, ok := byName[n]; !ok {
				byName[n] = holder{k, t}
			}
		}
	}
	for _, k := range groups {
		for n, t := range types[k] {
			for _, owned := range ownedNames(n, t) {
				if h, ok := byName[owned]; ok {
					errs = append(errs, fmt.Errorf("%s %s in group %s owns the name %s, which group %s holds", t, n, k, owned, h.group))
				}
			}
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return errors.Join(errs...)
	}
	return nil
}

// ownedNames are the names a family of type t named n owns.
func ownedNames(n string, t dto.MetricType) []string {
	switch t {
	case dto.MetricType_HISTOGRAM:
		return []string{n + "_bucket", n + "_count", n + "_sum"}
	case dto.MetricType_SUMMARY:
		return []string{n + "_count", n + "_sum"}
	}
	return nil
}

// DecodeFamily reads a pushed family the way the gateway holds it. A
// histogram with Schema set is native: its spans and deltas are decoded into
// absolute native bucket indexes, zero counts dropped; otherwise it is
// classic, its buckets kept as pushed.
func DecodeFamily(mf *dto.MetricFamily) (Family, error) {
	name := mf.GetName()
	if name == "" {
		return Family{}, errors.New("a family without a name")
	}
	f := Family{Type: mf.GetType(), Help: mf.GetHelp(), Series: map[string]Value{}}
	switch f.Type {
	case dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM:
	default:
		return Family{}, fmt.Errorf("family %s: type %s is not pushed here", name, f.Type)
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			if _, dup := labels[lp.GetName()]; dup {
				return Family{}, fmt.Errorf("family %s: label %s twice in one series", name, lp.GetName())
			}
			labels[lp.GetName()] = lp.GetValue()
		}
		key := SeriesKey(labels)
		if _, dup := f.Series[key]; dup {
			return Family{}, fmt.Errorf("family %s: series %s twice", name, key)
		}
		v, err := decodeValue(f.Type, m)
		if err != nil {
			return Family{}, fmt.Errorf("family %s series %s: %w", name, key, err)
		}
		f.Series[key] = v
	}
	return f, nil
}

func decodeValue(t dto.MetricType, m *dto.Metric) (Value, error) {
	switch t {
	case dto.MetricType_COUNTER:
		if m.Counter == nil {
			return Value{}, errors.New("no counter value")
		}
		return Value{Number: m.Counter.GetValue()}, nil
	case dto.MetricType_GAUGE:
		if m.Gauge == nil {
			return Value{}, errors.New("no gauge value")
		}
		return Value{Number: m.Gauge.GetValue()}, nil
	case dto.MetricType_SUMMARY:
		s := m.Summary
		if s == nil {
			return Value{}, errors.New("no summary value")
		}
		v := Value{Count: s.GetSampleCount(), Sum: s.GetSampleSum()}
		for _, q := range s.GetQuantile() {
			v.Quantiles = append(v.Quantiles, Quantile{q.GetQuantile(), q.GetValue()})
		}
		return v, nil
	default: // histogram
		h := m.Histogram
		if h == nil {
			return Value{}, errors.New("no histogram value")
		}
		v := Value{Count: h.GetSampleCount(), Sum: h.GetSampleSum()}
		if h.Schema == nil {
			for _, b := range h.GetBucket() {
				v.Buckets = append(v.Buckets, Bucket{b.GetUpperBound(), b.GetCumulativeCount()})
			}
			return v, nil
		}
		if len(h.GetPositiveCount()) > 0 || len(h.GetNegativeCount()) > 0 || h.GetZeroCountFloat() != 0 {
			return Value{}, errors.New("a native histogram with float counts")
		}
		pos, err := decodeSpans(h.GetPositiveSpan(), h.GetPositiveDelta())
		if err != nil {
			return Value{}, fmt.Errorf("positive buckets: %w", err)
		}
		neg, err := decodeSpans(h.GetNegativeSpan(), h.GetNegativeDelta())
		if err != nil {
			return Value{}, fmt.Errorf("negative buckets: %w", err)
		}
		v.Native = &Native{Schema: h.GetSchema(), ZeroThreshold: h.GetZeroThreshold(), ZeroCount: h.GetZeroCount(), Positive: pos, Negative: neg}
		return v, nil
	}
}

// decodeSpans turns spans and deltas into absolute bucket indexes: the first
// span's offset is the first index, a later span's offset the gap after the
// previous span; the first delta is a count, each later one the difference
// to the bucket before.
func decodeSpans(spans []*dto.BucketSpan, deltas []int64) (map[int32]uint64, error) {
	counts := map[int32]uint64{}
	var idx, count int64
	k := 0
	for i, s := range spans {
		if i == 0 {
			idx = int64(s.GetOffset())
		} else {
			idx += int64(s.GetOffset())
		}
		for j := uint32(0); j < s.GetLength(); j++ {
			if k >= len(deltas) {
				return nil, errors.New("fewer deltas than the spans hold")
			}
			count += deltas[k]
			k++
			if count < 0 {
				return nil, errors.New("a negative bucket count")
			}
			if idx < math.MinInt32 || idx > math.MaxInt32 {
				return nil, errors.New("a bucket index beyond int32")
			}
			if count != 0 {
				counts[int32(idx)] = uint64(count)
			}
			idx++
		}
	}
	if k != len(deltas) {
		return nil, errors.New("more deltas than the spans hold")
	}
	return counts, nil
}

// encodeSpans is decodeSpans' inverse: one span per run of consecutive
// indexes.
func encodeSpans(counts map[int32]uint64) ([]*dto.BucketSpan, []int64) {
	var spans []*dto.BucketSpan
	var deltas []int64
	var prevIdx, prevCount int64
	for i, k := range sortedIndexes(counts) {
		idx := int64(k)
		switch {
		case i == 0:
			spans = append(spans, &dto.BucketSpan{Offset: ptr(k), Length: ptr(uint32(1))})
		case idx == prevIdx+1:
			*spans[len(spans)-1].Length++
		default:
			spans = append(spans, &dto.BucketSpan{Offset: ptr(int32(idx - prevIdx - 1)), Length: ptr(uint32(1))})
		}
		deltas = append(deltas, int64(counts[k])-prevCount)
		prevIdx, prevCount = idx, int64(counts[k])
	}
	return spans, deltas
}

// encodeMetric writes one series as the model pushes it.
func encodeMetric(t dto.MetricType, labels map[string]string, v Value) *dto.Metric {
	m := &dto.Metric{}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m.Label = append(m.Label, &dto.LabelPair{Name: ptr(n), Value: ptr(labels[n])})
	}
	switch t {
	case dto.MetricType_COUNTER:
		m.Counter = &dto.Counter{Value: ptr(v.Number)}
	case dto.MetricType_GAUGE:
		m.Gauge = &dto.Gauge{Value: ptr(v.Number)}
	case dto.MetricType_SUMMARY:
		m.Summary = &dto.Summary{SampleCount: ptr(v.Count), SampleSum: ptr(v.Sum)}
		for _, q := range v.Quantiles {
			m.Summary.Quantile = append(m.Summary.Quantile, &dto.Quantile{Quantile: ptr(q.Quantile), Value: ptr(q.Value)})
		}
	case dto.MetricType_HISTOGRAM:
		h := &dto.Histogram{SampleCount: ptr(v.Count), SampleSum: ptr(v.Sum)}
		for _, b := range v.Buckets {
			h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: ptr(b.UpperBound), CumulativeCount: ptr(b.CumulativeCount)})
		}
		if n := v.Native; n != nil {
			h.Schema = ptr(n.Schema)
			h.ZeroThreshold = ptr(n.ZeroThreshold)
			h.ZeroCount = ptr(n.ZeroCount)
			h.PositiveSpan, h.PositiveDelta = encodeSpans(n.Positive)
			h.NegativeSpan, h.NegativeDelta = encodeSpans(n.Negative)
		}
		m.Histogram = h
	}
	return m
}

func cloneGroup(g Group) Group {
	c := make(Group, len(g))
	for name, f := range g {
		c[name] = cloneFamily(f)
	}
	return c
}

func cloneFamily(f Family) Family {
	c := Family{Type: f.Type, Help: f.Help, Series: make(map[string]Value, len(f.Series))}
	for k, v := range f.Series {
		c.Series[k] = v.clone()
	}
	return c
}

// ptr is the address of a copy of v, for dto's optional fields.
func ptr[T any](v T) *T { return &v }
