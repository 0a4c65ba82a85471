package reference

import (
	"math"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Folding: how a series takes the points of its streams.
//
// A writer is one resource (its full attribute set). A stream is (writer,
// scope name, scope version, metric name as sent, point attributes as sent).
// A series is (group, family name, final label set). (C4) Several streams
// can land on one series, even from one writer; their contributions combine
// by the rules below as separate streams.

// seriesKind is how a series holds its value.
type seriesKind int

const (
	// latest holds the newest point (mode none; gauges=last in mode sum).
	latest seriesKind = iota
	// total holds a running total of its streams' parts (deltas in any
	// mode; counters, histograms and summaries in mode sum).
	total
	// combined holds every stream's latest value and shows their sum, max
	// or min (gauges in mode sum with gauges=sum|max|min; target_info in
	// mode sum, with max).
	combined
)

// part is one stream's part in a total or combined series.
type part struct {
	writer      string
	time, start uint64 // the stream's last point taken: its time (a delta's end) and start
	last        Value  // that point (increments in mode sum)
	delta       bool   // that point was a delta
}

// series is one series' state.
type series struct {
	labels map[string]string
	kind   seriesKind
	value  Value  // latest and total
	time   uint64 // the newest point time taken
	holder string // latest: the stream whose point is held
	owner  string // latest: that stream's writer
	parts  map[string]*part
	how    string // combined: "sum", "max" or "min"

	lastTaken time.Time // exporter clock of the last live point taken (series_ttl)
}

func (s *series) clone() *series {
	c := *s
	c.value = s.value.clone()
	c.parts = make(map[string]*part, len(s.parts))
	for k, p := range s.parts {
		cp := *p
		cp.last = p.last.clone()
		c.parts[k] = &cp
	}
	return &c
}

// show is what the series holds for the gateway.
func (s *series) show() Value {
	if s.kind != combined {
		return s.value.clone()
	}
	streams := make([]string, 0, len(s.parts))
	for k := range s.parts {
		streams = append(streams, k)
	}
	sort.Strings(streams)
	var v float64
	for i, k := range streams {
		x := s.parts[k].last.Number
		switch {
		case i == 0:
			v = x
		case s.how == "sum":
			v += x
		case s.how == "max":
			v = math.Max(v, x)
		case s.how == "min":
			v = math.Min(v, x)
		}
	}
	return Value{Number: v}
}

// othersHaveParts reports parts of streams other than stream.
func (s *series) othersHaveParts(stream string) bool {
	for k := range s.parts {
		if k != stream {
			return true
		}
	}
	return false
}

// foldLive folds a live point into s (nil: no series yet). It returns the
// series' new state, or the reason the point is not taken ("stale",
// "invalid_point", "bucket_mismatch"); s itself is never changed.
func (m *Model) foldLive(s *series, p point) (*series, string) {
	switch {
	case p.delta:
		return m.deltaRule(s, p)
	case p.targetInfo && m.cfg.modeSum():
		return combinedRule(s, p, "max")
	case !m.cfg.modeSum():
		return latestRule(s, p)
	case p.typ == dto.MetricType_GAUGE && m.cfg.Gauges == "last":
		return latestRule(s, p)
	case p.typ == dto.MetricType_GAUGE:
		return combinedRule(s, p, m.cfg.Gauges)
	default:
		return m.incrementRule(s, p)
	}
}

// latestRule (mode none, cumulative points and gauges; gauges=last in mode
// sum): a point older than the series' held point time is stale; otherwise
// it replaces the value (at the same time, the later one in the batch wins).
// On a total this is how a cumulative point replaces a delta total.
// Latest values may be NaN.
func latestRule(s *series, p point) (*series, string) {
	if s != nil && p.time < s.time {
		return nil, "stale"
	}
	return &series{labels: p.labels, kind: latest, value: p.value.clone(), time: p.time, holder: p.stream, owner: p.writer}, ""
}

// deltaRule (deltas, any mode): each stream keeps the end of the last
// interval it added. A point is added when time > end and (start == 0 or
// start >= end); otherwise it is stale. A gap is not a reset. The series
// holds the sum of everything added since it started or restarted. (C7) A
// point whose value is not finite is never added: invalid_point, and the
// stream's end does not move.
//
// A delta point on a series that holds no total (a latest value, a
// combined gauge) starts a new total from that point. A classic histogram
// whose bounds differ from the total's, a native one whose zero threshold
// differs, or one of the other form, restarts the total from that point —
// in mode sum only when no other stream has a part, else bucket_mismatch.
func (m *Model) deltaRule(s *series, p point) (*series, string) {
	if s == nil || s.kind != total {
		if !finite(p.value) {
			return nil, "invalid_point"
		}
		return newTotal(p, p.value), ""
	}
	c := s.clone()
	if rec := c.parts[p.stream]; rec != nil && !(p.time > rec.time && (p.start == 0 || p.start >= rec.time)) {
		return nil, "stale"
	}
	if !finite(p.value) {
		return nil, "invalid_point"
	}
	if !sameLayout(c.value, p.value) {
		if m.cfg.modeSum() && c.othersHaveParts(p.stream) {
			return nil, "bucket_mismatch"
		}
		c.value = p.value.clone()
	} else {
		c.value = add(c.value, p.value)
	}
	c.took(p)
	return c, ""
}

// incrementRule (mode sum: cumulative counters, histograms, summaries): the
// series sums the increments of every stream. A stream's first point, a
// point after its reset, and (C3) a cumulative point after the stream's
// deltas count whole; otherwise the increment is the difference to the
// stream's last point. A reset: the start time changed (both non-zero), a
// count or value went down, or a histogram's buckets changed or went down.
// A point at or before the stream's last time is stale. (C7) A point whose
// value is not finite is invalid_point and the stream does not move.
//
// An increment whose buckets differ from the total's (classic bounds, native
// zero threshold, classic against native) is dropped (bucket_mismatch) when
// other streams have parts; when the stream is the only one, its point
// restarts the total.
func (m *Model) incrementRule(s *series, p point) (*series, string) {
	var c *series
	var rec *part
	if s != nil && s.kind == total {
		c = s.clone()
		rec = c.parts[p.stream]
	}
	if rec != nil && p.time <= rec.time {
		return nil, "stale"
	}
	if !finite(p.value) {
		return nil, "invalid_point"
	}
	inc := p.value
	if rec != nil && !rec.delta && !(rec.start != 0 && p.start != 0 && rec.start != p.start) && sameLayout(rec.last, p.value) {
		if d, down := sub(p.value, rec.last); !down {
			inc = d
		}
	}
	if c == nil {
		return newTotal(p, inc), ""
	}
	if !sameLayout(c.value, inc) {
		if c.othersHaveParts(p.stream) {
			return nil, "bucket_mismatch"
		}
		c.value = p.value.clone()
	} else {
		c.value = add(c.value, inc)
	}
	c.took(p)
	return c, ""
}

// combinedRule (gauges in mode sum with gauges=sum|max|min, and target_info
// in mode sum with max): the series shows the combination of the latest
// value of every stream currently known. Per stream, a point older than the
// stream's last is stale; at the same time the later one wins. A point on a
// series that is not combined starts it afresh.
func combinedRule(s *series, p point, how string) (*series, string) {
	var c *series
	if s != nil && s.kind == combined {
		c = s.clone()
		if rec := c.parts[p.stream]; rec != nil && p.time < rec.time {
			return nil, "stale"
		}
	} else {
		c = &series{labels: p.labels, kind: combined, how: how, parts: map[string]*part{}}
	}
	c.took(p)
	return c, ""
}

func newTotal(p point, v Value) *series {
	s := &series{labels: p.labels, kind: total, value: v.clone(), parts: map[string]*part{}}
	s.took(p)
	return s
}

// took records p as its stream's last point in the series.
func (s *series) took(p point) {
	s.parts[p.stream] = &part{writer: p.writer, time: p.time, start: p.start, last: p.value.clone(), delta: p.delta}
	s.time = max(s.time, p.time)
}

// foldMarker folds a marker (a point flagged NoRecordedValue). (C1) A marker
// ends its own stream's part in the series: if the stream has no part (in a
// latest series: the held point did not come from that stream) it is
// ignored, nothing counted; a marker older than its stream's last point is
// stale; if no stream is left with a part, the series is removed
// (no_recorded_value). A total keeps what an ended stream added while other
// streams remain. It returns whether the marker ended a part, and whether
// the series is to be removed.
func foldMarker(s *series, p point) (ended, remove bool, reason string) {
	switch s.kind {
	case latest:
		if s.holder != p.stream {
			return false, false, ""
		}
		if p.time < s.time {
			return false, false, "stale"
		}
		return true, true, "no_recorded_value"
	default:
		rec := s.parts[p.stream]
		if rec == nil {
			return false, false, ""
		}
		if p.time < rec.time {
			return false, false, "stale"
		}
		delete(s.parts, p.stream)
		if len(s.parts) == 0 {
			return true, true, "no_recorded_value"
		}
		return true, false, ""
	}
}

// hasPart reports whether writer has a part in s: in a latest series, the
// held point is its; otherwise one of its streams has a part.
func (s *series) hasPart(writer string) bool {
	if s.kind == latest {
		return s.owner == writer
	}
	for _, p := range s.parts {
		if p.writer == writer {
			return true
		}
	}
	return false
}

// dropWriter removes writer's parts from s. It returns whether s is left
// without a part (a latest series: whether its point was the writer's).
func (s *series) dropWriter(writer string) bool {
	if s.kind == latest {
		return s.owner == writer
	}
	for k, p := range s.parts {
		if p.writer == writer {
			delete(s.parts, k)
		}
	}
	return len(s.parts) == 0
}
