package pushgatewayexporter

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/state"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// The fuzz targets of this file drive the exporter's pure parts with what an
// untrusted OTLP sender could send:
//
//   - FuzzTranslate builds a batch from the fuzzer's bytes (a small
//     deterministic decoder, not protobuf), folds it into the group states as
//     the exporter does, encodes every group in both push formats and parses
//     the bodies back, checking that what would be pushed is what the
//     Pushgateway accepts and stores.
//
// The stages' own fuzz targets check the rest: FuzzFold (internal/state)
// the state's invariants, FuzzEncode (internal/exposition) the direct
// writers' bytes against expfmt's, FuzzGroupKeyURL (internal/gateway) that
// the push URL of any grouping key addresses exactly that group.
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
	for _, b := range testbatch.FuzzSeeds() {
		f.Add(b.Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		batch := testbatch.DecodeFuzzBatch(data)
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

// fuzzConfig is the configuration a batch picks: the fuzz grouping, its
// limits and its aggregation; no scope labels or target_info.
func fuzzConfig(t *testing.T, limits uint8) *Config {
	cfg := createDefaultConfig().(*Config)
	lim := fuzzLimits[int(limits)%len(fuzzLimits)]
	if limits%uint8(len(fuzzLimits)) == 0 {
		require.Equal(t, lim.maxLabelLength, cfg.MaxLabelValueLength)
		require.Equal(t, lim.maxLabels, cfg.MaxLabelsPerSeries)
		require.Equal(t, lim.maxSeries, cfg.MaxSeries)
		require.Equal(t, lim.maxSeriesPerGroup, cfg.MaxSeriesPerGroup)
	}
	cfg.Grouping = fuzzGrouping()
	cfg.ScopeLabels, cfg.TargetInfo = false, false
	cfg.MaxLabelValueLength, cfg.MaxLabelsPerSeries = lim.maxLabelLength, lim.maxLabels
	cfg.MaxSeries, cfg.MaxSeriesPerGroup = lim.maxSeries, lim.maxSeriesPerGroup
	cfg.Aggregation = fuzzAggregation(limits)
	return cfg
}

// fuzzAggregation is the aggregation a batch picks with the bits of its
// limits byte above those that pick the limits.
func fuzzAggregation(limits uint8) AggregationConfig {
	bits := limits / uint8(len(fuzzLimits))
	cfg := AggregationConfig{Mode: AggregationNone, Gauges: GaugesLast}
	if bits&1 == 1 {
		cfg.Mode = AggregationSum
	}
	cfg.Gauges = []GaugeAggregation{GaugesLast, GaugesSum, GaugesMax, GaugesMin}[(bits>>1)%4]
	return cfg
}

// fuzzCheckFold runs a batch through the exporter's stages as a batch goes
// (grouping key, translation, fold), then checks every group's families and
// its encoding in both push formats. The state's own invariants (writers,
// index, slots) are checked by its fuzz target, FuzzFold; the direct
// writers' bytes against expfmt's by exposition's, FuzzEncode.
func fuzzCheckFold(t *testing.T, batch testbatch.FuzzBatch) {
	md := batch.Metrics()
	cfg := fuzzConfig(t, batch.Limits)
	tr := translate.New(translatorOptions(cfg))
	states := state.New(stateOptions(cfg, gateway.SystemClock{}))

	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		key, keyErr := tr.GroupKey(rm.Resource())
		fuzzCheckGroupKey(t, key, cfg.Grouping)

		fuzzCheckPointAccounting(t, tr, rm)
		fams, drops := tr.Resource(rm, new(translate.Scratch))
		for _, d := range drops {
			require.Positive(t, d.Points, "drop %+v", d)
			require.NotEmpty(t, d.Reason, "drop %+v", d)
			require.Contains(t, fuzzDropReasons, d.Reason, "drop %+v", d)
		}
		for _, fam := range fams {
			require.NotEmpty(t, fam.Points, "family %q", fam.Name)
		}

		if keyErr != nil {
			continue // fold refuses the resource whole
		}
		res := states.Apply(key, state.WriterOf(rm.Resource()), fams)
		if res.Emptied != nil {
			require.True(t, states.RemoveEmpty(res.Emptied), "a group left without families is forgotten")
		}
		require.GreaterOrEqual(t, res.Refused, 0)
		require.GreaterOrEqual(t, res.RefusedInGroup, 0)
		if cfg.MaxSeries == 0 {
			require.Zero(t, res.Refused, "no max_series, nothing refused for it")
		}
		if cfg.MaxSeriesPerGroup == 0 {
			require.Zero(t, res.RefusedInGroup, "no max_series_per_group, nothing refused for it")
		}
	}

	var total int
	all := map[string]dto.MetricType{} // every family of every group
	for _, g := range states.All() {
		var snap []*dto.MetricFamily
		require.NoError(t, g.Read(func(fams []prom.FamilyView) error {
			snap = exposition.Snapshot(fams)
			fuzzCheckGroupEncoding(t, g.Key(), fams, snap)
			return nil
		}))
		for _, mf := range snap {
			// The gateway checks every push against all groups it holds:
			// one name, one type, whatever the group.
			if typ, ok := all[mf.GetName()]; ok {
				require.Equal(t, typ, mf.GetType(), "family %q has two types in two groups", mf.GetName())
			}
			all[mf.GetName()] = mf.GetType()
		}
		require.NotEmpty(t, snap, "group %s: a group held has families", g.Key())
		var series int
		for _, mf := range snap {
			series += len(mf.GetMetric())
		}
		if cfg.MaxSeriesPerGroup > 0 {
			require.LessOrEqual(t, series, cfg.MaxSeriesPerGroup, "group %s", g.Key())
		}
		total += series
		fuzzCheckSnapshot(t, g.Key(), snap)
	}
	require.LessOrEqual(t, int64(total), states.SeriesCount(), "every series takes a slot")
	require.NoError(t, fuzzSuffixCollision(all), "across groups")
	if cfg.MaxSeries > 0 {
		require.LessOrEqual(t, states.SeriesCount(), int64(cfg.MaxSeries))
	}
}

// fuzzCheckGroupEncoding checks that a group's body is, byte for byte,
// what expfmt writes for its snapshot: in protobuf with native histograms
// and with classic ones, in the text format (classic ones only).
func fuzzCheckGroupEncoding(t *testing.T, key prom.GroupKey, fams []prom.FamilyView, snap []*dto.MetricFamily) {
	t.Helper()
	for _, enc := range []exposition.Encoder{{Format: exposition.Text}, {Format: exposition.Protobuf, Native: true}, {Format: exposition.Protobuf}} {
		var expected, got bytes.Buffer
		require.NoError(t, enc.EncodeFamilies(&expected, snap))
		require.NoError(t, enc.Encode(&got, fams))
		require.Equal(t, expected.Bytes(), got.Bytes(), "group %s (%s, native %v): written from the state vs expfmt", key, enc.Format, enc.Native)
	}
}

var fuzzDropReasons = []prom.DropReason{
	prom.DropUnspecifiedTemporality, prom.DropScaleTooLow, prom.DropUnknownType, prom.DropInvalidSummary,
	prom.DropNoValue, prom.DropInvalidName, prom.DropInvalidHistogram, prom.DropLabelTooLong,
	prom.DropTooManyLabels, prom.DropInvalidGroup,
}

// fuzzCheckPointAccounting checks that no point is lost silently: every point of
// a metric is either translated or counted as dropped. Each metric is
// translated alone, in a resource and scope like its own.
func fuzzCheckPointAccounting(t *testing.T, tr *translate.Translator, rm pmetric.ResourceMetrics) {
	t.Helper()
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			m := ms.At(j)
			alone := pmetric.NewResourceMetrics()
			rm.Resource().CopyTo(alone.Resource())
			sm := alone.ScopeMetrics().AppendEmpty()
			sms.At(i).Scope().CopyTo(sm.Scope())
			m.CopyTo(sm.Metrics().AppendEmpty())
			fams, drops := tr.Resource(alone, new(translate.Scratch))
			require.LessOrEqual(t, len(fams), 1)
			translated, dropped := 0, 0
			for _, fam := range fams {
				translated += len(fam.Points)
			}
			for _, d := range drops {
				require.Positive(t, d.Points, "drop %+v", d)
				require.Equal(t, m.Name(), d.Metric)
				dropped += d.Points
			}
			if n := fuzzPointCount(m); n > 0 {
				require.Equal(t, n, translated+dropped, "metric %q: %d points, %d translated, drops %+v", m.Name(), n, translated, drops)
			} else {
				require.Zero(t, translated)
				require.LessOrEqual(t, dropped, 1, "metric %q without points", m.Name())
			}
		}
	}
}

// fuzzPointCount is the number of data points of m.
func fuzzPointCount(m pmetric.Metric) int {
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

// fuzzCheckGroupKey checks a key's labels; that its push URL addresses it
// is FuzzGroupKeyURL's to check.
func fuzzCheckGroupKey(t *testing.T, key prom.GroupKey, grouping GroupingConfig) {
	t.Helper()
	require.NotEmpty(t, key)
	require.Equal(t, prom.JobLabel, key[0].Name)
	require.NotEmpty(t, key[0].Value, "job")
	names := map[string]bool{prom.JobLabel: true, prom.InstanceLabel: len(grouping.InstanceAttribute) > 0}
	for _, l := range grouping.Labels {
		names[l.Name] = true
	}
	for i, l := range key {
		if i > 1 {
			require.Less(t, key[i-1].Name, l.Name, "key %s: labels after job sorted, unique", key)
		}
		if i > 0 {
			require.True(t, isValidGroupingLabelName(l.Name), "key %s: label %q", key, l.Name)
			require.True(t, names[l.Name], "key %s: label %q is not configured", key, l.Name)
			require.NotEmpty(t, l.Value, "key %s: label %q", key, l.Name)
		}
		require.True(t, utf8.ValidString(l.Value), "key %s: label %q", key, l.Name)
	}
}

// fuzzCheckSnapshot checks what a push of the group would send: families and
// labels the Pushgateway accepts, and bodies that parse back in both formats
// to the same families.
func fuzzCheckSnapshot(t *testing.T, key prom.GroupKey, snap []*dto.MetricFamily) {
	t.Helper()
	grouping := map[string]bool{}
	for _, l := range key {
		grouping[l.Name] = true
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
			sig := fuzzSignature(labels)
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
	require.NoError(t, exposition.Encoder{Format: exposition.Protobuf, Native: true}.EncodeFamilies(&buf, snap))
	fuzzCheckParsed(t, snap, fuzzDecodeProtobuf(t, buf.Bytes()), FormatProtobuf)

	// The classic form: what a protobuf push without native histograms
	// carries, and what the text format can.
	buf.Reset()
	require.NoError(t, exposition.Encoder{Format: exposition.Protobuf}.EncodeFamilies(&buf, snap))
	classic := fuzzDecodeProtobuf(t, buf.Bytes())
	for _, mf := range classic {
		for _, m := range mf.GetMetric() {
			require.False(t, prom.IsNative(m), "family %q: classic only", mf.GetName())
			fuzzCheckMetricValue(t, mf, m)
		}
	}

	buf.Reset()
	require.NoError(t, exposition.Encoder{Format: exposition.Text}.EncodeFamilies(&buf, snap))
	body := buf.String()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	parsed, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "text body:\n%s", body)
	var textFams []*dto.MetricFamily
	for _, name := range slices.Sorted(maps.Keys(parsed)) {
		textFams = append(textFams, parsed[name])
	}
	fuzzCheckParsed(t, classic, textFams, FormatText)
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
		if prom.IsNative(m) {
			fuzzCheckNative(t, mf.GetName(), m.Histogram)
			return
		}
		buckets := m.Histogram.GetBucket()
		require.NotEmpty(t, buckets, "family %q", mf.GetName())
		last := buckets[len(buckets)-1]
		require.True(t, math.IsInf(last.GetUpperBound(), 1), "family %q: the +Inf bucket is written out", mf.GetName())
		require.Equal(t, m.Histogram.GetSampleCount(), last.GetCumulativeCount(), "family %q: +Inf bucket counts all", mf.GetName())
	case dto.MetricType_SUMMARY:
		require.NotNil(t, m.Summary, "family %q", mf.GetName())
		qs := m.Summary.GetQuantile()
		for i := 1; i < len(qs); i++ {
			// One quantile twice is one sample twice at the gateway.
			require.Negative(t, cmp.Compare(qs[i-1].GetQuantile(), qs[i].GetQuantile()), "family %q: quantiles ascending, none twice", mf.GetName())
		}
	default:
		require.Failf(t, "unexpected family type", "family %q: %s", mf.GetName(), mf.GetType())
	}
}

// fuzzCheckNative checks a native histogram: a schema Prometheus knows, and
// buckets that decode to non-negative counts adding up to the count.
func fuzzCheckNative(t *testing.T, name string, h *dto.Histogram) {
	t.Helper()
	require.GreaterOrEqual(t, h.GetSchema(), int32(prom.MinNativeSchema), "family %q", name)
	require.LessOrEqual(t, h.GetSchema(), int32(prom.MaxNativeSchema), "family %q", name)
	require.Empty(t, h.Bucket, "family %q: native only", name)
	total := h.GetZeroCount()
	for _, side := range []struct {
		spans  []*dto.BucketSpan
		deltas []int64
	}{{h.PositiveSpan, h.PositiveDelta}, {h.NegativeSpan, h.NegativeDelta}} {
		var length uint32
		for _, sp := range side.spans {
			length += sp.GetLength()
		}
		require.Len(t, side.deltas, int(length), "family %q: one delta per bucket", name)
		var count int64
		for _, d := range side.deltas {
			count += d
			require.GreaterOrEqual(t, count, int64(0), "family %q: bucket counts", name)
			total += uint64(count)
		}
	}
	require.Equal(t, h.GetSampleCount(), total, "family %q: buckets add up to the count", name)
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
			gotBySig[fuzzSignature(labels)] = m
		}
		for _, wm := range want.GetMetric() {
			gm := gotBySig[fuzzSignature(wm.GetLabel())]
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
		if wh.Schema != nil {
			require.Equal(t, FormatProtobuf, format, "family %q: native histograms only in protobuf", name)
			require.Equal(t, wh.GetSchema(), gh.GetSchema())
			sameFloat("zero threshold", wh.GetZeroThreshold(), gh.GetZeroThreshold())
			require.Equal(t, wh.GetZeroCount(), gh.GetZeroCount())
			require.Equal(t, spansOf(wh.PositiveSpan), spansOf(gh.PositiveSpan))
			require.Equal(t, wh.PositiveDelta, gh.PositiveDelta)
			require.Equal(t, spansOf(wh.NegativeSpan), spansOf(gh.NegativeSpan))
			require.Equal(t, wh.NegativeDelta, gh.NegativeDelta)
			return
		}
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

// fuzzSignature identifies a series by its labels, sorted by name.
func fuzzSignature(labels []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range labels {
		b.WriteString(l.GetName())
		b.WriteByte(0xff)
		b.WriteString(l.GetValue())
		b.WriteByte(0xff)
	}
	return b.String()
}
