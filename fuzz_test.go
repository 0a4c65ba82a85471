package pushgatewayexporter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The fuzz targets of this file drive the exporter's pure parts with what an
// untrusted OTLP sender could send:
//
//   - FuzzTranslate builds a batch from the fuzzer's bytes (a small
//     deterministic decoder, not protobuf), folds it into the group states as
//     the exporter does, encodes every group in both push formats and parses
//     the bodies back, checking that what would be pushed is what the
//     Pushgateway accepts and stores.
//   - FuzzGroupKeyURL checks that the push URL of any grouping key addresses
//     exactly that group at the gateway.
//
// Short runs (CI):  make fuzz-short   (go test -run='^$' -fuzz='^FuzzX$' -fuzztime=10s .)
// Long runs:        make fuzz [FUZZTIME=10m]
// Seed and corpus inputs (testdata/fuzz/<target>) also run as unit tests.

// fuzzGrouping is the grouping the fuzz targets use: the defaults plus one
// extra label, so that all three kinds of grouping label are exercised.
func fuzzGrouping() GroupingConfig {
	g := createDefaultConfig().(*Config).Grouping
	g.Labels = []GroupingLabel{{Name: "env", Attribute: "deployment.environment.name"}}
	return g
}

// ---------------------------------------------------------------------------
// FuzzTranslate

func FuzzTranslate(f *testing.F) {
	for _, b := range fuzzTranslateSeeds() {
		f.Add(b.encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		batch := decodeFuzzBatch(data)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("batch: %s", batch)
			}
		})
		fuzzCheckFold(t, batch)
	})
}

// fuzzLimits are the limit profiles a batch can pick: the defaults, none,
// and limits tight enough for a small batch to hit them.
var fuzzLimits = []struct {
	maxLabelLength, maxLabels, maxSeries, maxSeriesPerGroup int
}{
	{4096, 128, 100_000, 10_000}, // createDefaultConfig, checked in fuzzCheckFold
	{0, 0, 0, 0},
	{8, 2, 6, 4},
	{4096, 128, 100_000, 10_000},
}

// fuzzCheckFold runs a batch through the exporter's fold (groupKeyFor,
// validateGroupKey, translateResource, apply), then checks every group's
// snapshot and its encoding in both push formats.
func fuzzCheckFold(t *testing.T, batch fzBatch) {
	md := batch.metrics()
	grouping := fuzzGrouping()
	lim := fuzzLimits[int(batch.Limits)%len(fuzzLimits)]
	if batch.Limits%uint8(len(fuzzLimits)) == 0 {
		def := createDefaultConfig().(*Config)
		require.Equal(t, lim.maxLabelLength, def.MaxLabelValueLength)
		require.Equal(t, lim.maxLabels, def.MaxLabelsPerSeries)
		require.Equal(t, lim.maxSeries, def.MaxSeries)
		require.Equal(t, lim.maxSeriesPerGroup, def.MaxSeriesPerGroup)
	}
	tr := newTranslator(grouping).withLabelLimits(lim.maxLabelLength, lim.maxLabels)
	states := newGroupStates(lim.maxSeries, lim.maxSeriesPerGroup)

	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		key := groupKeyFor(rm.Resource(), grouping)
		fuzzCheckGroupKey(t, key, grouping)

		fuzzCheckPointAccounting(t, tr, rm)
		fams, drops := tr.translateResource(rm)
		for _, d := range drops {
			require.Positive(t, d.points, "drop %+v", d)
			require.NotEmpty(t, d.reason, "drop %+v", d)
			require.Contains(t, fuzzDropReasons, d.reason, "drop %+v", d)
		}
		for _, fam := range fams {
			require.NotEmpty(t, fam.points, "family %q", fam.name)
		}

		if validateGroupKey(rm.Resource(), grouping, key, lim.maxLabelLength) != nil {
			continue // fold refuses the resource whole
		}
		res := states.apply(key, fams)
		require.GreaterOrEqual(t, res.refused, 0)
		require.GreaterOrEqual(t, res.refusedInGroup, 0)
		if lim.maxSeries == 0 {
			require.Zero(t, res.refused, "no max_series, nothing refused for it")
		}
		if lim.maxSeriesPerGroup == 0 {
			require.Zero(t, res.refusedInGroup, "no max_series_per_group, nothing refused for it")
		}
	}

	var total int
	all := map[string]dto.MetricType{} // every family of every group
	for _, g := range states.groups {
		snap := g.snapshot()
		for _, mf := range snap {
			// The gateway checks every push against all groups it holds:
			// one name, one type, whatever the group.
			if typ, ok := all[mf.GetName()]; ok {
				require.Equal(t, typ, mf.GetType(), "family %q has two types in two groups", mf.GetName())
			}
			all[mf.GetName()] = mf.GetType()
		}
		var series int
		for _, mf := range snap {
			series += len(mf.GetMetric())
		}
		require.Equal(t, g.series, series, "group %s: series count held vs series in the snapshot", g.key)
		if lim.maxSeriesPerGroup > 0 {
			require.LessOrEqual(t, series, lim.maxSeriesPerGroup, "group %s", g.key)
		}
		total += series
		fuzzCheckSnapshot(t, g.key, snap)
	}
	require.Equal(t, int64(total), states.series.Load(), "series count held vs series in all snapshots")
	require.NoError(t, fuzzSuffixCollision(all), "across groups")
	if lim.maxSeries > 0 {
		require.LessOrEqual(t, total, lim.maxSeries)
	}
}

var fuzzDropReasons = []dropReason{
	dropDeltaTemporality, dropUnspecifiedTemporality, dropExponentialHistogram, dropUnknownType,
	dropNoRecordedValue, dropNoValue, dropInvalidName, dropInvalidHistogram, dropLabelTooLong,
	dropTooManyLabels, dropInvalidGroup,
}

// fuzzCheckPointAccounting checks that no point is lost silently: every point of
// a metric is either translated or counted as dropped.
func fuzzCheckPointAccounting(t *testing.T, tr *translator, rm pmetric.ResourceMetrics) {
	t.Helper()
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			fam, drops := tr.translateMetric(m)
			dropped := 0
			for _, d := range drops {
				require.Positive(t, d.points, "drop %+v", d)
				require.Equal(t, m.Name(), d.metric)
				dropped += d.points
			}
			if n := dataPointCount(m); n > 0 {
				require.Equal(t, n, len(fam.points)+dropped, "metric %q: %d points, %d translated, drops %+v", m.Name(), n, len(fam.points), drops)
			} else {
				require.Empty(t, fam.points)
				require.LessOrEqual(t, dropped, 1, "metric %q without points", m.Name())
			}
		}
	}
}

// fuzzCheckGroupKey checks a key's labels and that its push URL addresses it.
func fuzzCheckGroupKey(t *testing.T, key groupKey, grouping GroupingConfig) {
	t.Helper()
	require.NotEmpty(t, key)
	require.Equal(t, jobLabel, key[0].name)
	require.NotEmpty(t, key[0].value, "job")
	names := map[string]bool{jobLabel: true, instanceLabel: grouping.InstanceAttribute != ""}
	for _, l := range grouping.Labels {
		names[l.Name] = true
	}
	want := map[string]string{}
	for i, l := range key {
		if i > 1 {
			require.Less(t, key[i-1].name, l.name, "key %s: labels after job sorted, unique", key)
		}
		if i > 0 {
			require.True(t, isValidGroupingLabelName(l.name), "key %s: label %q", key, l.name)
			require.True(t, names[l.name], "key %s: label %q is not configured", key, l.name)
			require.NotEmpty(t, l.value, "key %s: label %q", key, l.name)
		}
		require.True(t, utf8.ValidString(l.value), "key %s: label %q", key, l.name)
		want[l.name] = l.value
	}
	rawURL := "http://127.0.0.1:9091/metrics/" + key.urlPath()
	_, err := url.Parse(rawURL)
	require.NoError(t, err)
	require.NotContains(t, strings.ToUpper(rawURL), "%2F", "an encoded slash: proxies and routers treat it differently")
	require.Equal(t, want, gatewayDecode(t, rawURL), "URL %s", rawURL)
}

// fuzzCheckSnapshot checks what a push of the group would send: families and
// labels the Pushgateway accepts, and bodies that parse back in both formats
// to the same families.
func fuzzCheckSnapshot(t *testing.T, key groupKey, snap []*dto.MetricFamily) {
	t.Helper()
	grouping := map[string]bool{}
	for _, l := range key {
		grouping[l.name] = true
	}
	byName := map[string]*dto.MetricFamily{}
	for i, mf := range snap {
		name := mf.GetName()
		if i > 0 {
			require.Less(t, snap[i-1].GetName(), name, "families sorted by name, unique")
		}
		byName[name] = mf
		require.True(t, model.LegacyValidation.IsValidMetricName(name), "metric name %q", name)
		require.NotEmpty(t, mf.GetMetric(), "family %q", name)
		sigs := map[string]bool{}
		for _, m := range mf.GetMetric() {
			require.Nil(t, m.TimestampMs, "family %q: the gateway refuses timestamps", name)
			fuzzCheckMetricValue(t, mf, m)
			labels := m.GetLabel()
			for j, l := range labels {
				ln, lv := l.GetName(), l.GetValue()
				if j > 0 {
					require.Less(t, labels[j-1].GetName(), ln, "family %q: labels sorted, unique", name)
				}
				require.True(t, model.LegacyValidation.IsValidLabelName(ln), "family %q: label name %q", name, ln)
				// client_golang's checkLabelName, which the gateway runs on
				// every push: "__" is reserved.
				require.False(t, strings.HasPrefix(ln, model.ReservedLabelPrefix), "family %q: label name %q is reserved", name, ln)
				require.False(t, grouping[ln], "family %q: label %q clashes with the grouping key %s", name, ln, key)
				require.False(t, mf.GetType() == dto.MetricType_HISTOGRAM && ln == model.BucketLabel, "family %q: label le", name)
				require.False(t, mf.GetType() == dto.MetricType_SUMMARY && ln == model.QuantileLabel, "family %q: label quantile", name)
				require.NotEmpty(t, lv, "family %q: label %q has an empty value", name, ln)
				require.True(t, utf8.ValidString(lv), "family %q: label %q=%q", name, ln, lv)
			}
			sig := labelSignature(labels)
			require.False(t, sigs[sig], "family %q: two series with labels %v", name, labels)
			sigs[sig] = true
		}
	}
	types := map[string]dto.MetricType{}
	for name, mf := range byName {
		types[name] = mf.GetType()
	}
	require.NoError(t, fuzzSuffixCollision(types), "in group %s", key)

	var buf bytes.Buffer
	require.NoError(t, encodeFamilies(&buf, snap, FormatProtobuf))
	fuzzCheckParsed(t, snap, fuzzDecodeProtobuf(t, buf.Bytes()), FormatProtobuf)

	buf.Reset()
	require.NoError(t, encodeFamilies(&buf, snap, FormatText))
	body := buf.String()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "text body:\n%s", body)
	var textFams []*dto.MetricFamily
	for _, name := range slices.Sorted(maps.Keys(parsed)) {
		textFams = append(textFams, parsed[name])
	}
	fuzzCheckParsed(t, snap, textFams, FormatText)
}

// fuzzSuffixCollision is client_golang's checkSuffixCollisions, which the
// gateway runs over all its groups on every push: a histogram or summary
// owns its name's _count and _sum (and a histogram its _bucket).
func fuzzSuffixCollision(types map[string]dto.MetricType) error {
	for _, name := range slices.Sorted(maps.Keys(types)) {
		for _, suffix := range []string{"_count", "_sum", "_bucket"} {
			base, ok := strings.CutSuffix(name, suffix)
			if !ok {
				continue
			}
			typ, held := types[base]
			if held && (typ == dto.MetricType_HISTOGRAM || (typ == dto.MetricType_SUMMARY && suffix != "_bucket")) {
				return fmt.Errorf("family %q (%s) collides with %s %q", name, types[name], typ, base)
			}
		}
	}
	return nil
}

// fuzzCheckMetricValue checks that a metric carries exactly the value of its
// family's type.
func fuzzCheckMetricValue(t *testing.T, mf *dto.MetricFamily, m *dto.Metric) {
	t.Helper()
	set := 0
	for _, present := range []bool{m.Counter != nil, m.Gauge != nil, m.Histogram != nil, m.Summary != nil, m.Untyped != nil} {
		if present {
			set++
		}
	}
	require.Equal(t, 1, set, "family %q: one value per metric", mf.GetName())
	switch mf.GetType() {
	case dto.MetricType_COUNTER:
		require.NotNil(t, m.Counter, "family %q", mf.GetName())
	case dto.MetricType_GAUGE:
		require.NotNil(t, m.Gauge, "family %q", mf.GetName())
	case dto.MetricType_HISTOGRAM:
		require.NotNil(t, m.Histogram, "family %q", mf.GetName())
		buckets := m.Histogram.GetBucket()
		require.NotEmpty(t, buckets, "family %q", mf.GetName())
		last := buckets[len(buckets)-1]
		require.True(t, math.IsInf(last.GetUpperBound(), 1), "family %q: the +Inf bucket is written out", mf.GetName())
		require.Equal(t, m.Histogram.GetSampleCount(), last.GetCumulativeCount(), "family %q: +Inf bucket counts all", mf.GetName())
	case dto.MetricType_SUMMARY:
		require.NotNil(t, m.Summary, "family %q", mf.GetName())
	default:
		require.Failf(t, "unexpected family type", "family %q: %s", mf.GetName(), mf.GetType())
	}
}

func fuzzDecodeProtobuf(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err, "protobuf body, family %d", len(out))
		out = append(out, mf)
	}
}

// fuzzCheckParsed compares what a body parsed back to with the snapshot
// it was encoded from: same families, types, help, series (by labels) and
// values. The text format loses only what it cannot carry: a bucket or
// quantile whose bound is NaN, the sign of -0, blanks that start a help, precision of counts above 2^53
// and counts from 2^63 on.
func fuzzCheckParsed(t *testing.T, snap, parsed []*dto.MetricFamily, format PushFormat) {
	t.Helper()
	require.Len(t, parsed, len(snap), "%s: families", format)
	for i, want := range snap {
		got := parsed[i]
		name := want.GetName()
		require.Equal(t, name, got.GetName(), "%s: family %d", format, i)
		require.Equal(t, want.GetType(), got.GetType(), "%s: family %q type", format, name)
		wantHelp := want.GetHelp()
		if format == FormatText {
			wantHelp = strings.TrimLeft(wantHelp, " \t") // the parser skips blanks before the docstring
		}
		require.Equal(t, wantHelp, got.GetHelp(), "%s: family %q help", format, name)
		require.Len(t, got.GetMetric(), len(want.GetMetric()), "%s: family %q series", format, name)
		gotBySig := map[string]*dto.Metric{}
		for _, m := range got.GetMetric() {
			require.Nil(t, m.TimestampMs, "%s: family %q: timestamp", format, name)
			labels := slices.Clone(m.GetLabel())
			slices.SortFunc(labels, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
			gotBySig[labelSignature(labels)] = m
		}
		for _, wm := range want.GetMetric() {
			gm := gotBySig[labelSignature(wm.GetLabel())]
			require.NotNil(t, gm, "%s: family %q: series %v missing", format, name, wm.GetLabel())
			fuzzCheckSameValue(t, format, name, wm, gm)
		}
	}
}

func fuzzCheckSameValue(t *testing.T, format PushFormat, name string, want, got *dto.Metric) {
	t.Helper()
	sameFloat := func(what string, a, b float64) {
		t.Helper()
		// The text format writes -0 as 0.
		ok := a == b && (math.Signbit(a) == math.Signbit(b) || format == FormatText) || math.IsNaN(a) && math.IsNaN(b)
		require.True(t, ok, "%s: family %q %v: %s %v, parsed back %v", format, name, want.GetLabel(), what, a, b)
	}
	sameCount := func(what string, a uint64, b *dto.Histogram, bucket *dto.Bucket) {
		t.Helper()
		var v float64
		switch {
		case bucket != nil && bucket.CumulativeCountFloat != nil:
			v = bucket.GetCumulativeCountFloat()
		case bucket != nil:
			v = float64(bucket.GetCumulativeCount())
		case b.SampleCountFloat != nil:
			v = b.GetSampleCountFloat()
		default:
			v = float64(b.GetSampleCount())
		}
		if format == FormatProtobuf {
			require.Nil(t, b.SampleCountFloat, "%s: family %q", format, name)
			if bucket != nil {
				require.Equal(t, a, bucket.GetCumulativeCount(), "%s: family %q %s", format, name, what)
			} else {
				require.Equal(t, a, b.GetSampleCount(), "%s: family %q %s", format, name, what)
			}
			return
		}
		if float64(a) >= 1<<63 {
			return // the text parser converts counts from float64 to uint64 (or int) unchecked
		}
		sameFloat(what, float64(a), v)
	}
	switch {
	case want.Counter != nil:
		require.NotNil(t, got.Counter)
		sameFloat("value", want.Counter.GetValue(), got.Counter.GetValue())
	case want.Gauge != nil:
		require.NotNil(t, got.Gauge)
		sameFloat("value", want.Gauge.GetValue(), got.Gauge.GetValue())
	case want.Histogram != nil:
		wh, gh := want.Histogram, got.Histogram
		require.NotNil(t, gh)
		sameCount("count", wh.GetSampleCount(), gh, nil)
		sameFloat("sum", wh.GetSampleSum(), gh.GetSampleSum())
		var wb []*dto.Bucket
		for _, b := range wh.GetBucket() {
			if format == FormatProtobuf || !math.IsNaN(b.GetUpperBound()) {
				wb = append(wb, b)
			}
		}
		require.Len(t, gh.GetBucket(), len(wb), "%s: family %q buckets", format, name)
		for i, b := range wb {
			sameFloat("bucket bound", b.GetUpperBound(), gh.GetBucket()[i].GetUpperBound())
			sameCount("bucket count", b.GetCumulativeCount(), gh, gh.GetBucket()[i])
		}
	case want.Summary != nil:
		ws, gs := want.Summary, got.Summary
		require.NotNil(t, gs)
		if format == FormatProtobuf || ws.GetSampleCount() < 1<<63 {
			require.Equal(t, float64(ws.GetSampleCount()), float64(gs.GetSampleCount()), "%s: family %q count", format, name)
		}
		sameFloat("sum", ws.GetSampleSum(), gs.GetSampleSum())
		var wq []*dto.Quantile
		for _, q := range ws.GetQuantile() {
			if format == FormatProtobuf || !math.IsNaN(q.GetQuantile()) {
				wq = append(wq, q)
			}
		}
		require.Len(t, gs.GetQuantile(), len(wq), "%s: family %q quantiles", format, name)
		for i, q := range wq {
			sameFloat("quantile", q.GetQuantile(), gs.GetQuantile()[i].GetQuantile())
			sameFloat("quantile value", q.GetValue(), gs.GetQuantile()[i].GetValue())
		}
	}
}

// ---------------------------------------------------------------------------
// FuzzGroupKeyURL

func FuzzGroupKeyURL(f *testing.F) {
	const all = 0b1111
	for _, s := range []struct {
		name, ns, instance, env string
		present                 uint8
	}{
		{"etl", "", "", "", 0b0001},
		{"etl", "batch", "w-1", "prod", all},
		{"", "", "", "", 0},
		{"", "", "", "", all},
		{"", "batch", "", "", all},
		{"../", "..", ".", "./", all},
		{"..", "../..", "x/../../metrics/job/other", "/", all},
		{"%2F", "%2f", "%252F", "a%zz", all},
		{"a@base64", "job@base64", "@base64", "=", all},
		{"\xff", "a\xffb", "\xc3", "\xed\xa0\x80", all},
		{"José 🚀", "日本", "\u202e", "é", all},
		{"a/b", "/", "//", "a//b", all},
		{"a b+c", "?q=1", "#frag", ";,", all},
		{"\x00", "\t\n", "\\", "~", all},
		{"job", "instance", "env", "__name__", all},
		{"etl", "batch", "w-1", "prod", 0b1010},
	} {
		f.Add(s.name, s.ns, s.instance, s.env, s.present)
	}
	f.Fuzz(func(t *testing.T, name, ns, instance, env string, present uint8) {
		grouping := fuzzGrouping()
		res := pcommon.NewResource()
		attrs := res.Attributes()
		for i, kv := range []struct{ key, value string }{
			{attrServiceName, name},
			{attrServiceNamespace, ns},
			{attrServiceInstance, instance},
			{"deployment.environment.name", env},
		} {
			if present&(1<<i) != 0 {
				attrs.PutStr(kv.key, kv.value)
			}
		}
		key := groupKeyFor(res, grouping)

		// What the key must be, from the inputs alone.
		value := func(bit int, s string) string {
			if present&(1<<bit) == 0 {
				return ""
			}
			return strings.ToValidUTF8(s, "\uFFFD")
		}
		job := value(0, name)
		if job == "" {
			job = unknownServiceJob
		}
		if v := value(1, ns); v != "" {
			job = v + "/" + job
		}
		want := map[string]string{jobLabel: job}
		if v := value(2, instance); v != "" {
			want[instanceLabel] = v
		}
		if v := value(3, env); v != "" {
			want["env"] = v
		}
		got := map[string]string{}
		for _, l := range key {
			got[l.name] = l.value
		}
		require.Equal(t, want, got, "key %s", key)

		fuzzCheckGroupKey(t, key, grouping)

		// validateGroupKey refuses exactly the keys a repair changed.
		invalid := false
		for i, s := range []string{name, ns, instance, env} {
			if present&(1<<i) != 0 && !utf8.ValidString(s) {
				invalid = true
			}
		}
		err := validateGroupKey(res, grouping, key, 0)
		assert.Equal(t, invalid, err != nil, "validateGroupKey: %v", err)
	})
}

// ---------------------------------------------------------------------------
// The batch decoder.
//
// A batch is decoded from bytes by a fixed grammar, read one byte per
// choice; an exhausted input reads as zeros, so every input is a (small)
// batch. fzBatch.encode is the inverse, for writing seeds:
//
//	batch    = limits:byte nres:byte%5 resource*
//	resource = (present:byte%2 [value]){service.name, service.namespace,
//	           service.instance.id, deployment.environment.name}
//	           nextra:byte%4 (string value)* nscopes:1+byte%2 scope*
//	scope    = nmetrics:byte%5 metric*
//	metric   = kind:byte%6 flags:byte name:string unit:string desc:string
//	           [npoints:byte%9 point*]                (none for kind empty)
//	point    = flags:byte time:byte nattrs:byte%9 (string value)* body
//	body     = number: vkind:byte%3 [i64 | f64]
//	         | histogram: count:u64 sum:f64 nbounds:byte%17 f64*
//	                      ncounts:byte (<0x80: nbounds+1, else (b&0x7f)%18) u64*
//	         | exponential histogram: count:u64 sum:f64 scale:byte ncounts:byte%9 u64*
//	         | summary: count:u64 sum:f64 nquantiles:byte%9 (f64 f64)*
//	string   = b<0x80: fuzzStrings[b%len] | b>=0x80: b&0x7f raw bytes
//	value    = kind:byte%8 (%4 when nested twice) ...
//	f64, i64, u64 = a selector byte: a special value, or 8 raw bytes follow

// Metric kinds.
const (
	fzEmpty = iota
	fzGauge
	fzSum
	fzHistogram
	fzExpHistogram
	fzSummary
	fzKinds
)

// Value kinds.
const (
	fzStr = iota
	fzInt
	fzBool
	fzDouble
	fzSlice
	fzMap
	fzEmptyValue
	fzBytes
	fzValueKinds
)

// fuzzStrings are the strings a single byte selects: names, units, keys and
// values that are known to be tricky. Fewer than 128.
var fuzzStrings = []string{
	"", "a", "b", "x", "foo", "foo_count", "foo_sum", "foo_bucket", "foo_total", "foo.count",
	"http.server.request.duration", "a.b", "a_b", "a-b", "a/b", "../", "..", ".", "/", "%2F",
	"a@base64", "@base64", "=", "9lives", "0", "__name__", "__foo", "_foo", "__", "_",
	"le", "quantile", "job", "instance", "env", "exported_job", "exported_le", "José 🚀", "\xff", "a\xffb",
	"\xc3", "é", "日本", "\u202e", "\x00", "a\nb", "a\"b\\c", "\t", " ", ";",
	"{", "}", "s", "ms", "By", "1", "%", "{requests}", "m/s", "/s",
	"1/s", "By/s", "ratio", "total", "count", "service.name", "service.namespace", "service.instance.id",
	"deployment.environment.name", "prod",
	"w-1", "batch", "etl", "NaN", "+Inf", "-Inf", "bucket", "sum", "foo:bar", "Foo",
}

var fuzzFloats = []float64{
	0, 1, -1, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64,
	math.SmallestNonzeroFloat64, math.Copysign(0, -1), 1e300, 0.5,
}

const fuzzFloatRaw = 12 // selector of 8 raw bytes; 12..15 all mean raw

var fuzzInts = []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1<<53 + 1}

const fuzzIntRaw = 6 // 6..7

var fuzzUints = []uint64{0, 1, 2, 3, 10, math.MaxUint64, 1<<53 + 1}

const fuzzUintRaw = 7

var fuzzWellKnown = [4]string{attrServiceName, attrServiceNamespace, attrServiceInstance, "deployment.environment.name"}

type fzBatch struct {
	Limits    uint8
	Resources []fzResource
}

type fzResource struct {
	WellKnown [4]*fzValue // nil: missing
	Extra     []fzAttr
	Scopes    [][]fzMetric
}

type fzAttr struct {
	Key   string
	Value fzValue
}

type fzValue struct {
	Kind  uint8
	Str   string // also bytes
	Int   int64
	Bool  bool
	Dbl   float64
	Items []fzValue
	Map   []fzAttr
}

type fzMetric struct {
	Kind             uint8
	Flags            uint8 // bit 0 monotonic, bits 1-2 temporality (1 delta, 2 unspecified, else cumulative)
	Name, Unit, Desc string
	Points           []fzPoint
}

type fzPoint struct {
	Flags     uint8 // low two bits both set: NoRecordedValue
	Time      uint8
	Attrs     []fzAttr
	ValueKind uint8 // numbers: 0 int, 1 double, 2 none
	Int       int64
	Dbl       float64 // numbers
	Count     uint64
	Sum       float64
	Scale     int8
	Bounds    []float64
	Counts    []uint64
	Quantiles [][2]float64
}

// String renders the batch compactly, strings quoted, for failure logs.
func (b fzBatch) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "limits=%d", b.Limits)
	for i, res := range b.Resources {
		fmt.Fprintf(&s, "\nresource %d:", i)
		for j, v := range res.WellKnown {
			if v != nil {
				fmt.Fprintf(&s, " %s=%s", fuzzWellKnown[j], v)
			}
		}
		if len(res.Extra) > 0 {
			fmt.Fprintf(&s, " %s", fzAttrsString(res.Extra))
		}
		for j, scope := range res.Scopes {
			for _, m := range scope {
				fmt.Fprintf(&s, "\n  scope %d: %s", j, m)
			}
		}
	}
	return s.String()
}

func (m fzMetric) String() string {
	kinds := [...]string{"empty", "gauge", "sum", "histogram", "exphistogram", "summary"}
	s := fmt.Sprintf("%s flags=%#x name=%q unit=%q desc=%q", kinds[m.Kind%fzKinds], m.Flags, m.Name, m.Unit, m.Desc)
	for _, p := range m.Points {
		s += fmt.Sprintf("\n    point flags=%#x time=%d %s", p.Flags, p.Time, fzAttrsString(p.Attrs))
		switch m.Kind {
		case fzGauge, fzSum:
			s += [...]string{fmt.Sprintf(" int=%d", p.Int), fmt.Sprintf(" double=%v", p.Dbl), " no value"}[p.ValueKind%3]
		case fzHistogram:
			s += fmt.Sprintf(" count=%d sum=%v bounds=%v counts=%v", p.Count, p.Sum, p.Bounds, p.Counts)
		case fzExpHistogram:
			s += fmt.Sprintf(" count=%d sum=%v scale=%d counts=%v", p.Count, p.Sum, p.Scale, p.Counts)
		case fzSummary:
			s += fmt.Sprintf(" count=%d sum=%v quantiles=%v", p.Count, p.Sum, p.Quantiles)
		}
	}
	return s
}

func fzAttrsString(attrs []fzAttr) string {
	parts := make([]string, 0, len(attrs))
	for _, a := range attrs {
		parts = append(parts, fmt.Sprintf("%q:%s", a.Key, a.Value))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (v fzValue) String() string {
	switch v.Kind {
	case fzStr:
		return fmt.Sprintf("%q", v.Str)
	case fzInt:
		return fmt.Sprint(v.Int)
	case fzBool:
		return fmt.Sprint(v.Bool)
	case fzDouble:
		return fmt.Sprintf("double(%v)", v.Dbl)
	case fzSlice:
		parts := make([]string, 0, len(v.Items))
		for _, item := range v.Items {
			parts = append(parts, item.String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case fzMap:
		return fzAttrsString(v.Map)
	case fzEmptyValue:
		return "empty"
	case fzBytes:
		return fmt.Sprintf("bytes(%q)", v.Str)
	}
	return fmt.Sprintf("kind%d", v.Kind)
}

func (m fzMetric) temporality() pmetric.AggregationTemporality {
	switch (m.Flags >> 1) & 3 {
	case 1:
		return pmetric.AggregationTemporalityDelta
	case 2:
		return pmetric.AggregationTemporalityUnspecified
	}
	return pmetric.AggregationTemporalityCumulative
}

type fzReader struct{ data []byte }

func (r *fzReader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fzReader) intn(n int) int { return int(r.byte()) % n }

func (r *fzReader) raw8() uint64 {
	var b [8]byte
	for i := range b {
		b[i] = r.byte()
	}
	return binary.LittleEndian.Uint64(b[:])
}

func (r *fzReader) str() string {
	b := r.byte()
	if b < 0x80 {
		return fuzzStrings[int(b)%len(fuzzStrings)]
	}
	n := min(int(b&0x7f), len(r.data))
	s := string(r.data[:n])
	r.data = r.data[n:]
	return s
}

func (r *fzReader) f64() float64 {
	if s := r.intn(16); s < fuzzFloatRaw {
		return fuzzFloats[s]
	}
	return math.Float64frombits(r.raw8())
}

func (r *fzReader) i64() int64 {
	if s := r.intn(8); s < fuzzIntRaw {
		return fuzzInts[s]
	}
	return int64(r.raw8())
}

func (r *fzReader) u64() uint64 {
	if s := r.intn(8); s < fuzzUintRaw {
		return fuzzUints[s]
	}
	return r.raw8()
}

func (r *fzReader) value(depth int) fzValue {
	kinds := fzValueKinds
	if depth >= 2 {
		kinds = fzSlice
	}
	v := fzValue{Kind: uint8(r.intn(kinds))}
	switch v.Kind {
	case fzStr, fzBytes:
		v.Str = r.str()
	case fzInt:
		v.Int = r.i64()
	case fzBool:
		v.Bool = r.byte()&1 == 1
	case fzDouble:
		v.Dbl = r.f64()
	case fzSlice:
		for range r.intn(4) {
			v.Items = append(v.Items, r.value(depth+1))
		}
	case fzMap:
		for range r.intn(4) {
			v.Map = append(v.Map, fzAttr{Key: r.str(), Value: r.value(depth + 1)})
		}
	}
	return v
}

func (r *fzReader) attrs(n int) []fzAttr {
	var out []fzAttr
	for range n {
		out = append(out, fzAttr{Key: r.str(), Value: r.value(0)})
	}
	return out
}

func decodeFuzzBatch(data []byte) fzBatch {
	r := &fzReader{data: data}
	b := fzBatch{Limits: r.byte()}
	for range r.intn(5) {
		var res fzResource
		for i := range res.WellKnown {
			if r.intn(2) == 1 {
				v := r.value(0)
				res.WellKnown[i] = &v
			}
		}
		res.Extra = r.attrs(r.intn(4))
		for range 1 + r.intn(2) {
			var scope []fzMetric
			for range r.intn(5) {
				scope = append(scope, r.metric())
			}
			res.Scopes = append(res.Scopes, scope)
		}
		b.Resources = append(b.Resources, res)
	}
	return b
}

func (r *fzReader) metric() fzMetric {
	m := fzMetric{Kind: uint8(r.intn(fzKinds)), Flags: r.byte(), Name: r.str(), Unit: r.str(), Desc: r.str()}
	if m.Kind == fzEmpty {
		return m
	}
	for range r.intn(9) {
		p := fzPoint{Flags: r.byte(), Time: r.byte()}
		p.Attrs = r.attrs(r.intn(9))
		switch m.Kind {
		case fzGauge, fzSum:
			p.ValueKind = uint8(r.intn(3))
			switch p.ValueKind {
			case 0:
				p.Int = r.i64()
			case 1:
				p.Dbl = r.f64()
			}
		case fzHistogram:
			p.Count, p.Sum = r.u64(), r.f64()
			for range r.intn(17) {
				p.Bounds = append(p.Bounds, r.f64())
			}
			n := len(p.Bounds) + 1
			if c := r.byte(); c >= 0x80 {
				n = int(c&0x7f) % 18
			}
			for range n {
				p.Counts = append(p.Counts, r.u64())
			}
		case fzExpHistogram:
			p.Count, p.Sum, p.Scale = r.u64(), r.f64(), int8(r.byte())
			for range r.intn(9) {
				p.Counts = append(p.Counts, r.u64())
			}
		case fzSummary:
			p.Count, p.Sum = r.u64(), r.f64()
			for range r.intn(9) {
				p.Quantiles = append(p.Quantiles, [2]float64{r.f64(), r.f64()})
			}
		}
		m.Points = append(m.Points, p)
	}
	return m
}

// metrics builds the pdata batch.
func (b fzBatch) metrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	for _, res := range b.Resources {
		rm := md.ResourceMetrics().AppendEmpty()
		attrs := rm.Resource().Attributes()
		for i, v := range res.WellKnown {
			if v != nil {
				v.put(attrs.PutEmpty(fuzzWellKnown[i]))
			}
		}
		fzPutAttrs(attrs, res.Extra)
		for _, scope := range res.Scopes {
			ms := rm.ScopeMetrics().AppendEmpty().Metrics()
			for _, fm := range scope {
				fm.appendTo(ms)
			}
		}
	}
	return md
}

func fzPutAttrs(m pcommon.Map, attrs []fzAttr) {
	for _, a := range attrs {
		a.Value.put(m.PutEmpty(a.Key))
	}
}

func (v fzValue) put(dst pcommon.Value) {
	switch v.Kind {
	case fzStr:
		dst.SetStr(v.Str)
	case fzInt:
		dst.SetInt(v.Int)
	case fzBool:
		dst.SetBool(v.Bool)
	case fzDouble:
		dst.SetDouble(v.Dbl)
	case fzSlice:
		s := dst.SetEmptySlice()
		for _, item := range v.Items {
			item.put(s.AppendEmpty())
		}
	case fzMap:
		fzPutAttrs(dst.SetEmptyMap(), v.Map)
	case fzBytes:
		dst.SetEmptyBytes().FromRaw([]byte(v.Str))
	}
	// fzEmptyValue: left empty.
}

func (fm fzMetric) appendTo(ms pmetric.MetricSlice) {
	m := ms.AppendEmpty()
	m.SetName(fm.Name)
	m.SetUnit(fm.Unit)
	m.SetDescription(fm.Desc)
	flags := func(p fzPoint) pmetric.DataPointFlags {
		return pmetric.DefaultDataPointFlags.WithNoRecordedValue(p.Flags&3 == 3)
	}
	numbers := func(dps pmetric.NumberDataPointSlice) {
		for _, p := range fm.Points {
			dp := dps.AppendEmpty()
			dp.SetFlags(flags(p))
			dp.SetTimestamp(pcommon.Timestamp(p.Time))
			fzPutAttrs(dp.Attributes(), p.Attrs)
			switch p.ValueKind {
			case 0:
				dp.SetIntValue(p.Int)
			case 1:
				dp.SetDoubleValue(p.Dbl)
			}
		}
	}
	switch fm.Kind {
	case fzGauge:
		numbers(m.SetEmptyGauge().DataPoints())
	case fzSum:
		sum := m.SetEmptySum()
		sum.SetIsMonotonic(fm.Flags&1 == 1)
		sum.SetAggregationTemporality(fm.temporality())
		numbers(sum.DataPoints())
	case fzHistogram:
		h := m.SetEmptyHistogram()
		h.SetAggregationTemporality(fm.temporality())
		for _, p := range fm.Points {
			dp := h.DataPoints().AppendEmpty()
			dp.SetFlags(flags(p))
			dp.SetTimestamp(pcommon.Timestamp(p.Time))
			fzPutAttrs(dp.Attributes(), p.Attrs)
			dp.SetCount(p.Count)
			dp.SetSum(p.Sum)
			dp.ExplicitBounds().FromRaw(p.Bounds)
			dp.BucketCounts().FromRaw(p.Counts)
		}
	case fzExpHistogram:
		h := m.SetEmptyExponentialHistogram()
		h.SetAggregationTemporality(fm.temporality())
		for _, p := range fm.Points {
			dp := h.DataPoints().AppendEmpty()
			dp.SetFlags(flags(p))
			dp.SetTimestamp(pcommon.Timestamp(p.Time))
			fzPutAttrs(dp.Attributes(), p.Attrs)
			dp.SetCount(p.Count)
			dp.SetSum(p.Sum)
			dp.SetScale(int32(p.Scale))
			dp.Positive().BucketCounts().FromRaw(p.Counts)
		}
	case fzSummary:
		s := m.SetEmptySummary()
		for _, p := range fm.Points {
			dp := s.DataPoints().AppendEmpty()
			dp.SetFlags(flags(p))
			dp.SetTimestamp(pcommon.Timestamp(p.Time))
			fzPutAttrs(dp.Attributes(), p.Attrs)
			dp.SetCount(p.Count)
			dp.SetSum(p.Sum)
			for _, q := range p.Quantiles {
				qv := dp.QuantileValues().AppendEmpty()
				qv.SetQuantile(q[0])
				qv.SetValue(q[1])
			}
		}
	}
	// fzEmpty: a metric without data.
}

// ---------------------------------------------------------------------------
// The batch encoder, the decoder's inverse, for seeds.

type fzWriter struct{ buf []byte }

// n writes a count the decoder reads as byte%mod.
func (w *fzWriter) n(n, mod int, what string) {
	if n >= mod {
		panic(fmt.Sprintf("seed has %d %s: at most %d", n, what, mod-1))
	}
	w.byte(uint8(n))
}

func (w *fzWriter) byte(b uint8) { w.buf = append(w.buf, b) }

func (w *fzWriter) raw8(v uint64) { w.buf = binary.LittleEndian.AppendUint64(w.buf, v) }

func (w *fzWriter) str(s string) {
	if i := slices.Index(fuzzStrings, s); i >= 0 {
		w.byte(uint8(i))
		return
	}
	if len(s) > 0x7f {
		panic(fmt.Sprintf("seed string of %d bytes: at most 127", len(s)))
	}
	w.byte(0x80 | uint8(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *fzWriter) f64(v float64) {
	if i := slices.IndexFunc(fuzzFloats, func(f float64) bool { return math.Float64bits(f) == math.Float64bits(v) }); i >= 0 {
		w.byte(uint8(i))
		return
	}
	w.byte(fuzzFloatRaw)
	w.raw8(math.Float64bits(v))
}

func (w *fzWriter) i64(v int64) {
	if i := slices.Index(fuzzInts, v); i >= 0 {
		w.byte(uint8(i))
		return
	}
	w.byte(fuzzIntRaw)
	w.raw8(uint64(v))
}

func (w *fzWriter) u64(v uint64) {
	if i := slices.Index(fuzzUints, v); i >= 0 {
		w.byte(uint8(i))
		return
	}
	w.byte(fuzzUintRaw)
	w.raw8(v)
}

func (w *fzWriter) value(v fzValue, depth int) {
	if depth >= 2 && v.Kind >= fzSlice {
		panic(fmt.Sprintf("seed value nested %d deep: only a string, int, bool or double", depth))
	}
	w.byte(v.Kind)
	switch v.Kind {
	case fzStr, fzBytes:
		w.str(v.Str)
	case fzInt:
		w.i64(v.Int)
	case fzBool:
		if v.Bool {
			w.byte(1)
		} else {
			w.byte(0)
		}
	case fzDouble:
		w.f64(v.Dbl)
	case fzSlice:
		w.n(len(v.Items), 4, "slice items")
		for _, item := range v.Items {
			w.value(item, depth+1)
		}
	case fzMap:
		w.n(len(v.Map), 4, "map entries")
		w.attrs(v.Map, depth+1)
	}
}

func (w *fzWriter) attrs(attrs []fzAttr, depth int) {
	for _, a := range attrs {
		w.str(a.Key)
		w.value(a.Value, depth)
	}
}

func (b fzBatch) encode() []byte {
	w := &fzWriter{}
	w.byte(b.Limits)
	w.n(len(b.Resources), 5, "resources")
	for _, res := range b.Resources {
		for _, v := range res.WellKnown {
			if v == nil {
				w.byte(0)
				continue
			}
			w.byte(1)
			w.value(*v, 0)
		}
		w.n(len(res.Extra), 4, "extra resource attributes")
		w.attrs(res.Extra, 0)
		w.n(len(res.Scopes)-1, 2, "scopes beyond the first")
		for _, scope := range res.Scopes {
			w.n(len(scope), 5, "metrics in a scope")
			for _, m := range scope {
				w.metric(m)
			}
		}
	}
	return w.buf
}

func (w *fzWriter) metric(m fzMetric) {
	w.byte(m.Kind)
	w.byte(m.Flags)
	w.str(m.Name)
	w.str(m.Unit)
	w.str(m.Desc)
	if m.Kind == fzEmpty {
		return
	}
	w.n(len(m.Points), 9, "points")
	for _, p := range m.Points {
		w.byte(p.Flags)
		w.byte(p.Time)
		w.n(len(p.Attrs), 9, "point attributes")
		w.attrs(p.Attrs, 0)
		switch m.Kind {
		case fzGauge, fzSum:
			w.byte(p.ValueKind)
			switch p.ValueKind {
			case 0:
				w.i64(p.Int)
			case 1:
				w.f64(p.Dbl)
			}
		case fzHistogram:
			w.u64(p.Count)
			w.f64(p.Sum)
			w.n(len(p.Bounds), 17, "bounds")
			for _, v := range p.Bounds {
				w.f64(v)
			}
			if len(p.Counts) == len(p.Bounds)+1 {
				w.byte(0)
			} else {
				w.n(len(p.Counts), 18, "bucket counts")
				w.buf[len(w.buf)-1] |= 0x80
			}
			for _, c := range p.Counts {
				w.u64(c)
			}
		case fzExpHistogram:
			w.u64(p.Count)
			w.f64(p.Sum)
			w.byte(uint8(p.Scale))
			w.n(len(p.Counts), 9, "exponential buckets")
			for _, c := range p.Counts {
				w.u64(c)
			}
		case fzSummary:
			w.u64(p.Count)
			w.f64(p.Sum)
			w.n(len(p.Quantiles), 9, "quantiles")
			for _, q := range p.Quantiles {
				w.f64(q[0])
				w.f64(q[1])
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Seeds.

func fzS(s string) *fzValue { return &fzValue{Kind: fzStr, Str: s} }

func fzA(kvs ...string) []fzAttr {
	var out []fzAttr
	for i := 0; i+1 < len(kvs); i += 2 {
		out = append(out, fzAttr{Key: kvs[i], Value: fzValue{Kind: fzStr, Str: kvs[i+1]}})
	}
	return out
}

func fzService(name, ns, instance, env *fzValue) [4]*fzValue {
	return [4]*fzValue{name, ns, instance, env}
}

func fzGaugeOf(name string, v float64, attrs ...string) fzMetric {
	return fzMetric{Kind: fzGauge, Name: name, Points: []fzPoint{{ValueKind: 1, Dbl: v, Time: 1, Attrs: fzA(attrs...)}}}
}

func fuzzTranslateSeeds() []fzBatch {
	const cumulative, delta, unspecified = 0, 1 << 1, 2 << 1
	nan, inf := math.NaN(), math.Inf(1)
	one := func(res fzResource) fzBatch { return fzBatch{Resources: []fzResource{res}} }
	return []fzBatch{
		// Every metric type, with ordinary values.
		one(fzResource{
			WellKnown: fzService(fzS("etl"), fzS("batch"), fzS("w-1"), fzS("prod")),
			Scopes: [][]fzMetric{{
				fzGaugeOf("queue.size", 3, "queue", "a"),
				{Kind: fzSum, Flags: 1 | cumulative, Name: "rows", Unit: "1", Points: []fzPoint{{ValueKind: 0, Int: 42, Time: 2}}},
				{Kind: fzSum, Flags: cumulative, Name: "temp", Unit: "Cel", Points: []fzPoint{{ValueKind: 1, Dbl: -3.5}}},
			}, {
				{Kind: fzHistogram, Name: "duration", Unit: "s", Points: []fzPoint{{Count: 3, Sum: 1.5, Bounds: []float64{0.1, 1}, Counts: []uint64{1, 1, 1}}}},
				{Kind: fzSummary, Name: "latency", Unit: "ms", Points: []fzPoint{{Count: 2, Sum: 10, Quantiles: [][2]float64{{0.5, 4}, {0.99, 6}}}}},
			}},
		}),
		// What cannot be pushed: delta, unspecified, exponential, empty, no value.
		one(fzResource{
			WellKnown: fzService(fzS("drops"), nil, nil, nil),
			Scopes: [][]fzMetric{{
				{Kind: fzSum, Flags: 1 | delta, Name: "d", Points: []fzPoint{{ValueKind: 0, Int: 1}, {ValueKind: 0, Int: 2}}},
				{Kind: fzHistogram, Flags: unspecified, Name: "u", Points: []fzPoint{{Count: 1}}},
				{Kind: fzExpHistogram, Name: "e", Points: []fzPoint{{Count: 2, Scale: -3, Counts: []uint64{1, 1}}}},
				{Kind: fzEmpty, Name: "empty"},
			}, {
				{Kind: fzGauge, Name: "none", Points: []fzPoint{{ValueKind: 2}, {Flags: 3, ValueKind: 1, Dbl: 1}}},
				{Kind: fzGauge, Name: "no_points"},
				{Kind: fzGauge, Name: "", Points: []fzPoint{{ValueKind: 1, Dbl: 1}}},
				{Kind: fzGauge, Name: "__", Points: []fzPoint{{ValueKind: 1, Dbl: 1}}},
			}},
		}),
		// Hostile names, units and label keys.
		one(fzResource{
			WellKnown: fzService(fzS("José 🚀"), fzS("a/b"), fzS("../"), fzS("%2F")),
			Scopes: [][]fzMetric{{
				fzGaugeOf("9lives", 1, "le", "x", "job", "j", "instance", "i", "env", "e", "exported_job", "ej"),
				fzGaugeOf("a.b/c", 2, "a.b", "1", "a_b", "2", "a-b", "3", "9x", "4", "José", "5"),
				fzGaugeOf("José 🚀", 3, "\xff", "bad-key", "k", "\xff\xfe", "empty", ""),
			}, {
				fzGaugeOf("\xff", 4),
				fzGaugeOf("..", 5, "_foo", "u", "__", "only-underscores"),
				fzGaugeOf("foo:bar", 6, "k", "a\nb", "q", "a\"b\\c"),
			}},
		}),
		// Reserved label names: the gateway refuses any label starting "__".
		one(fzResource{
			WellKnown: fzService(fzS("reserved"), nil, nil, nil),
			Scopes:    [][]fzMetric{{fzGaugeOf("g", 1, "__foo", "x")}},
		}),
		// Special values everywhere.
		one(fzResource{
			WellKnown: fzService(fzS("values"), nil, fzS(""), fzS("")),
			Scopes: [][]fzMetric{{
				{Kind: fzGauge, Name: "g", Points: []fzPoint{
					{ValueKind: 1, Dbl: nan, Attrs: fzA("k", "nan")},
					{ValueKind: 1, Dbl: inf, Attrs: fzA("k", "inf")},
					{ValueKind: 1, Dbl: math.Inf(-1), Attrs: fzA("k", "-inf")},
					{ValueKind: 1, Dbl: math.Copysign(0, -1), Attrs: fzA("k", "-0")},
					{ValueKind: 1, Dbl: math.MaxFloat64, Attrs: fzA("k", "max")},
					{ValueKind: 0, Int: math.MinInt64, Attrs: fzA("k", "minint")},
					{ValueKind: 1, Dbl: math.Float64frombits(0x7ff0000000000001), Attrs: fzA("k", "snan")},
				}},
				{Kind: fzSum, Flags: 1, Name: "c", Unit: "By", Points: []fzPoint{{ValueKind: 1, Dbl: -1}}},
				{Kind: fzHistogram, Name: "h", Points: []fzPoint{
					{Count: math.MaxUint64, Sum: nan, Bounds: []float64{inf, 1, nan, -inf}, Counts: []uint64{math.MaxUint64, 1, 2, 3, 4}, Attrs: fzA("k", "odd-bounds")},
					{Count: 1<<53 + 1, Sum: -1, Attrs: fzA("k", "no-buckets")},
					{Count: 5, Bounds: []float64{1, 2}, Counts: []uint64{1}, Attrs: fzA("k", "mismatch")},
					{Count: 5, Bounds: []float64{1, 1, 1}, Counts: []uint64{1, 2, 3, 4}, Attrs: fzA("k", "dup-bounds")},
				}},
				{Kind: fzSummary, Name: "s", Points: []fzPoint{
					{Count: math.MaxUint64, Sum: inf, Quantiles: [][2]float64{{nan, 1}, {2, nan}, {-1, inf}}, Attrs: fzA("quantile", "q")},
				}},
			}},
		}),
		// Non-string attribute values, in the key and on points.
		one(fzResource{
			WellKnown: fzService(
				&fzValue{Kind: fzInt, Int: 42},
				&fzValue{Kind: fzBool, Bool: true},
				&fzValue{Kind: fzSlice, Items: []fzValue{{Kind: fzStr, Str: "a/b"}, {Kind: fzDouble, Dbl: 1.5}}},
				&fzValue{Kind: fzMap, Map: fzA("k", "v")},
			),
			Extra: []fzAttr{{Key: "host.name", Value: fzValue{Kind: fzBytes, Str: "\x00\xff"}}},
			Scopes: [][]fzMetric{{{Kind: fzGauge, Name: "g", Points: []fzPoint{{ValueKind: 0, Int: 1, Attrs: []fzAttr{
				{Key: "i", Value: fzValue{Kind: fzInt, Int: -1}},
				{Key: "b", Value: fzValue{Kind: fzBool}},
				{Key: "d", Value: fzValue{Kind: fzDouble, Dbl: nan}},
				{Key: "s", Value: fzValue{Kind: fzSlice}},
				{Key: "m", Value: fzValue{Kind: fzMap, Map: []fzAttr{{Key: "n", Value: fzValue{Kind: fzSlice, Items: []fzValue{{Kind: fzBool, Bool: true}}}}}}},
				{Key: "e", Value: fzValue{Kind: fzEmptyValue}},
				{Key: "n", Value: fzValue{Kind: fzSlice, Items: []fzValue{{Kind: fzEmptyValue}, {Kind: fzBytes, Str: "b"}}}},
				{Key: "y", Value: fzValue{Kind: fzBytes}},
			}}}}}},
		}),
		// Families that meet: names that map to one family, a type change
		// between resources of one group, older and same-time points.
		{Resources: []fzResource{
			{
				WellKnown: fzService(fzS("meet"), nil, nil, nil),
				Scopes: [][]fzMetric{{
					fzGaugeOf("a.b", 1, "k", "v"),
					fzGaugeOf("a_b", 2, "k", "v"),
					{Kind: fzGauge, Name: "t", Points: []fzPoint{{ValueKind: 1, Dbl: 1, Time: 5}, {ValueKind: 1, Dbl: 2, Time: 3}, {ValueKind: 1, Dbl: 3, Time: 5}}},
				}},
			},
			{
				WellKnown: fzService(fzS("meet"), nil, nil, nil),
				Scopes: [][]fzMetric{{
					{Kind: fzSum, Flags: 0, Name: "a_b", Points: []fzPoint{{ValueKind: 1, Dbl: 9}}},
				}},
			},
			{
				WellKnown: fzService(nil, fzS("ns"), fzS("w-1"), nil),
				Scopes:    [][]fzMetric{{fzGaugeOf("a_b", 3)}},
			},
		}},
		// Tight limits: too many labels, too long, series limits.
		{Limits: 2, Resources: []fzResource{
			{
				WellKnown: fzService(fzS("tight"), nil, nil, nil),
				Scopes: [][]fzMetric{{
					fzGaugeOf("g", 1, "a", "1", "b", "2", "c", "3"),
					fzGaugeOf("g", 1, "a_very_long_name", "1"),
					fzGaugeOf("g", 1, "a", "a very long value"),
					{Kind: fzGauge, Name: "many", Points: []fzPoint{
						{ValueKind: 0, Int: 1, Attrs: fzA("k", "1")}, {ValueKind: 0, Int: 2, Attrs: fzA("k", "2")},
						{ValueKind: 0, Int: 3, Attrs: fzA("k", "3")}, {ValueKind: 0, Int: 4, Attrs: fzA("k", "4")},
						{ValueKind: 0, Int: 5, Attrs: fzA("k", "5")},
					}},
				}},
			},
			{
				WellKnown: fzService(fzS("tight"), nil, fzS("a-long-instance-id"), nil),
				Scopes:    [][]fzMetric{{fzGaugeOf("g", 1)}},
			},
			{
				WellKnown: fzService(fzS("other"), nil, nil, nil),
				Scopes:    [][]fzMetric{{fzGaugeOf("g", 1, "k", "1"), fzGaugeOf("g", 1, "k", "2"), fzGaugeOf("g", 1, "k", "3")}},
			},
		}},
		// Invalid UTF-8 in the grouping attributes: the resource is refused.
		one(fzResource{
			WellKnown: fzService(fzS("\xff"), fzS("a\xffb"), fzS("\xc3"), fzS("\xed\xa0\x80")),
			Scopes:    [][]fzMetric{{fzGaugeOf("g", 1)}},
		}),
	}
}

// TestFuzzBatchEncoding checks that the seed encoder is the decoder's
// inverse, so that the seeds are the batches they say.
func TestFuzzBatchEncoding(t *testing.T) {
	for i, b := range fuzzTranslateSeeds() {
		got := decodeFuzzBatch(b.encode())
		// NaN != NaN: compare the printed forms, which show NaN as NaN.
		require.Equal(t, b.String(), got.String(), "seed %d", i)
		require.Equal(t, b.encode(), got.encode(), "seed %d", i)
	}
}
