package testbatch // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/testbatch"

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
)

// The fuzzers' batch format: FuzzTranslate decodes its input with it.
//
// A batch is decoded from bytes by a fixed grammar, read one byte per
// choice; an exhausted input reads as zeros, so every input is a (small)
// batch. FuzzBatch.Encode is the inverse, for writing seeds:
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

var fuzzWellKnown = [4]string{"service.name", "service.namespace", "service.instance.id", "deployment.environment.name"}

type FuzzBatch struct {
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
	Offset    int8 // exponential: the offset of both bucket sides
	Bounds    []float64
	Counts    []uint64
	Quantiles [][2]float64
}

// String renders the batch compactly, strings quoted, for failure logs.
func (b FuzzBatch) String() string {
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
			s += fmt.Sprintf(" count=%d sum=%v scale=%d offset=%d counts=%v", p.Count, p.Sum, p.Scale, p.Offset, p.Counts)
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

func DecodeFuzzBatch(data []byte) FuzzBatch {
	r := &fzReader{data: data}
	b := FuzzBatch{Limits: r.byte()}
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
			p.Count, p.Sum, p.Scale, p.Offset = r.u64(), r.f64(), int8(r.byte()), int8(r.byte())
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
func (b FuzzBatch) Metrics() pmetric.Metrics {
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
			// The first third of the counts is the negative side; a count
			// of 0 is the sum of the buckets, so that most points are valid.
			neg, pos := p.Counts[:len(p.Counts)/3], p.Counts[len(p.Counts)/3:]
			dp.Negative().SetOffset(int32(p.Offset))
			dp.Negative().BucketCounts().FromRaw(neg)
			dp.Positive().SetOffset(int32(p.Offset))
			dp.Positive().BucketCounts().FromRaw(pos)
			if p.Count == 0 {
				var n uint64
				for _, c := range p.Counts {
					n += c
				}
				dp.SetCount(n)
			}
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

func (b FuzzBatch) Encode() []byte {
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
			w.byte(uint8(p.Offset))
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

func FuzzSeeds() []FuzzBatch {
	const cumulative, delta, unspecified = 0, 1 << 1, 2 << 1
	nan, inf := math.NaN(), math.Inf(1)
	one := func(res fzResource) FuzzBatch { return FuzzBatch{Resources: []fzResource{res}} }
	return []FuzzBatch{
		// Every metric type, with ordinary values.
		one(fzResource{
			WellKnown: fzService(fzS("etl"), fzS("batch"), fzS("w-1"), fzS("prod")),
			Scopes: [][]fzMetric{{
				fzGaugeOf("queue.size", 3, "queue", "a"),
				{Kind: fzSum, Flags: 1 | cumulative, Name: "rows", Unit: "1", Points: []fzPoint{{ValueKind: 0, Int: 42, Time: 2}}},
				{Kind: fzSum, Flags: cumulative, Name: "temp", Unit: "Cel", Points: []fzPoint{{ValueKind: 1, Dbl: -3.5}}},
			}, {
				{Kind: fzHistogram, Name: "duration", Unit: "s", Desc: "Time \"spent\"\nin C:\\jobs\\", Points: []fzPoint{{Count: 3, Sum: 1.5, Bounds: []float64{0.1, 1}, Counts: []uint64{1, 1, 1}}}},
				{Kind: fzSummary, Name: "latency", Unit: "ms", Desc: "Latency.", Points: []fzPoint{{Count: 2, Sum: 10, Quantiles: [][2]float64{{0.5, 4}, {0.99, 6}}}}},
			}},
		}),
		// Delta exponential histograms, above scale 8 and rescaled.
		one(fzResource{
			WellKnown: fzService(fzS("exp"), nil, nil, nil),
			Scopes: [][]fzMetric{{
				{Kind: fzExpHistogram, Flags: delta, Name: "x", Points: []fzPoint{
					{Time: 1, Scale: 12, Offset: -7, Counts: []uint64{1, 2, 3, 4, 5, 6}},
					{Time: 2, Scale: 3, Offset: 100, Counts: []uint64{9}},
				}},
			}},
		}),
		// What cannot be pushed (unspecified temporality, an exponential
		// scale below -4, empty, no value) next to a delta sum, which is
		// accumulated.
		one(fzResource{
			WellKnown: fzService(fzS("drops"), nil, nil, nil),
			Scopes: [][]fzMetric{{
				{Kind: fzSum, Flags: 1 | delta, Name: "d", Points: []fzPoint{{ValueKind: 0, Int: 1}, {ValueKind: 0, Int: 2}}},
				{Kind: fzHistogram, Flags: unspecified, Name: "u", Points: []fzPoint{{Count: 1}}},
				{Kind: fzExpHistogram, Name: "e", Points: []fzPoint{{Count: 2, Scale: -5, Counts: []uint64{1, 1}}}},
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
					{Count: 2, Sum: 1, Quantiles: [][2]float64{{0.5, 1}, {0.9, 2}, {0.5, 3}}, Attrs: fzA("k", "dup-quantiles")},
					{Count: 2, Sum: 1, Quantiles: [][2]float64{{nan, 1}, {nan, 2}}, Attrs: fzA("k", "dup-nan-quantiles")},
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
