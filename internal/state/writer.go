package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"hash/maphash"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// A Writer is one OTLP resource, identified by its full attribute set:
// one process of an SDK, or one scrape target of a receiver. Two writers
// meet in one series when their grouping key and point attributes agree.
type Writer struct {
	fp  uint64
	res pcommon.Resource // its attributes, while the batch lives
}

// writerSeed keys the fingerprints; they never leave the process.
var writerSeed = maphash.MakeSeed()

// WriterOf fingerprints a resource by all its attributes, in any order:
// each attribute is hashed alone and the hashes are summed, which spares a
// sort.
func WriterOf(res pcommon.Resource) Writer {
	var fp uint64
	for k, v := range res.Attributes().All() {
		var h maphash.Hash
		h.SetSeed(writerSeed)
		h.WriteString(k)
		h.WriteByte(0xff)
		h.WriteString(v.AsString())
		fp += h.Sum64()
	}
	return Writer{fp: fp | 1, res: res} // never 0, which says "no writer"
}

// writerID numbers a writer within its group's table; 0 is no writer.
type writerID uint32

// writerEntry is what a group remembers of one of its writers.
type writerEntry struct {
	fp uint64
	// attrs are the writer's resource attributes as text, sorted by name,
	// to name what differs between two writers.
	attrs []prom.LabelPair
	// first and last span the writer's data: the earliest start (or time)
	// and the latest time of its points. Two writers whose spans overlap
	// were alive at the same time.
	first, last pcommon.Timestamp
	// seen is when (clock, unix nanoseconds) the writer last sent a point.
	seen int64
	// refs counts the series that hold the writer: as their last writer,
	// or as one of their feeds. A writer no series holds is forgotten.
	refs int32
}

// writerTable holds the writers of one group. It is bounded by the
// group's series: a writer is kept only while a series holds it (and the
// series limits count every writer of a series beyond its first).
type writerTable struct {
	ids     map[uint64]writerID
	entries []writerEntry // by id-1
	free    []writerID
	// idle are the writers no series held at some point since the last
	// settle: settled (forgotten, unless held again) once the group's
	// change is complete, so a writer let go of and taken again within one
	// change keeps its id.
	idle []writerID
}

// enter finds or adds the writer and records that it sent data spanning
// first..last at now. The caller settles the table once the batch is
// folded.
func (t *writerTable) enter(w Writer, first, last pcommon.Timestamp, now int64) writerID {
	if t.ids == nil {
		t.ids = map[uint64]writerID{}
	}
	id, ok := t.ids[w.fp]
	if !ok {
		e := writerEntry{fp: w.fp, attrs: attributesOf(w.res), first: first, last: last}
		if n := len(t.free); n > 0 {
			id, t.free = t.free[n-1], t.free[:n-1]
			t.entries[id-1] = e
		} else {
			t.entries = append(t.entries, e)
			id = writerID(len(t.entries))
		}
		t.ids[w.fp] = id
	}
	e := &t.entries[id-1]
	if e.refs == 0 {
		t.idle = append(t.idle, id)
	}
	if first != 0 && (e.first == 0 || first < e.first) {
		e.first = first
	}
	e.last = max(e.last, last)
	e.seen = now
	return id
}

// entry returns the writer's entry.
func (t *writerTable) entry(id writerID) *writerEntry { return &t.entries[id-1] }

func (t *writerTable) ref(id writerID) {
	if id != 0 {
		t.entries[id-1].refs++
	}
}

// unref drops one series' hold on the writer.
func (t *writerTable) unref(id writerID) {
	if id == 0 {
		return
	}
	if t.entries[id-1].refs--; t.entries[id-1].refs == 0 {
		t.idle = append(t.idle, id)
	}
}

// settle forgets the writers no series holds.
func (t *writerTable) settle() {
	for _, id := range t.idle {
		if e := &t.entries[id-1]; e.fp != 0 && e.refs == 0 {
			delete(t.ids, e.fp)
			*e = writerEntry{}
			t.free = append(t.free, id)
		}
	}
	t.idle = t.idle[:0]
}

// overlap says two writers sent data spanning a common time: they were
// alive together, rather than one taking over from the other.
func (t *writerTable) overlap(a, b writerID) bool {
	ea, eb := t.entry(a), t.entry(b)
	return ea.first <= eb.last && eb.first <= ea.last
}

// silent returns the writers that sent nothing after cutoff.
func (t *writerTable) silent(cutoff int64) []writerID {
	var ids []writerID
	for i, e := range t.entries {
		if e.fp != 0 && e.seen <= cutoff {
			ids = append(ids, writerID(i+1))
		}
	}
	return ids
}

// difference names the first resource attribute, by name, whose value
// differs between two writers (or that only one of them has).
func (t *writerTable) difference(a, b writerID) string {
	x, y := t.entry(a).attrs, t.entry(b).attrs
	for len(x) > 0 || len(y) > 0 {
		switch {
		case len(y) == 0 || (len(x) > 0 && x[0].Name < y[0].Name):
			return x[0].Name
		case len(x) == 0 || y[0].Name < x[0].Name:
			return y[0].Name
		case x[0].Value != y[0].Value:
			return x[0].Name
		}
		x, y = x[1:], y[1:]
	}
	return ""
}

// attributesOf is a resource's attributes as text, sorted by name.
func attributesOf(res pcommon.Resource) []prom.LabelPair {
	attrs := make([]prom.LabelPair, 0, res.Attributes().Len())
	for k, v := range res.Attributes().All() {
		attrs = append(attrs, prom.LabelPair{Name: k, Value: v.AsString()})
	}
	slices.SortFunc(attrs, func(a, b prom.LabelPair) int { return strings.Compare(a.Name, b.Name) })
	return attrs
}
