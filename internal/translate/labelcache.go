package translate // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"

import (
	"encoding/binary"
	"math"
	"strconv"
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// defaultCachedLabelSets bounds the label cache when max_series does not;
// when the cache is full it starts afresh, so hostile attribute sets cost
// memory only up to the bound.
const defaultCachedLabelSets = 1 << 18

// maxCacheKeyBytes keeps points with long attributes out of the cache: a
// hostile sender's megabyte values would otherwise be held as keys. Such
// points are translated every time instead (and mostly refused by
// max_label_value_length).
const maxCacheKeyBytes = 2048

// labelCache remembers the label sets of points by their raw attributes, so that a series
// seen before costs a map lookup instead of sanitising, sorting and
// allocating its labels again: a batch job or SDK sends the same series
// on every export.
type labelCache struct {
	mu   sync.RWMutex
	sets map[string]cachedLabels
	max  int
	// scopes numbers the extra labels of scopes (see scopeExtra), so that
	// a key carries eight bytes for them rather than the labels.
	// Numbers are never reused: a scope numbered before the cache
	// started afresh only misses.
	scopes    map[string]uint64
	lastScope uint64
}

func newLabelCache(max int) *labelCache {
	if max <= 0 {
		max = defaultCachedLabelSets
	}
	return &labelCache{sets: map[string]cachedLabels{}, scopes: map[string]uint64{}, max: max}
}

// scopeID numbers the extra labels of a scope; 0 says they are too long
// to be remembered, and so are the label sets of the scope's points.
func (c *labelCache) scopeID(extra []attrLabel) uint64 {
	var b []byte
	for _, e := range extra {
		b = append(b, e.name...)
		b = append(b, 0xfe)
		b = append(b, e.value...)
		b = append(b, 0xfe)
	}
	if len(b) > maxCacheKeyBytes {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.scopes[string(b)]
	if !ok {
		if len(c.scopes) >= c.max {
			clear(c.scopes)
		}
		c.lastScope++
		id = c.lastScope
		c.scopes[string(b)] = id
	}
	return id
}

// appendAttrsKey appends an exact rendering of attrs, in their order, to
// key. Two maps with the same rendering translate to the same labels.
func appendAttrsKey(key []byte, attrs pcommon.Map) []byte {
	for k, v := range attrs.All() {
		typ := v.Type()
		key = append(key, k...)
		key = append(key, 0xff, byte(typ))
		switch typ {
		case pcommon.ValueTypeStr:
			key = append(key, v.Str()...)
		case pcommon.ValueTypeInt:
			key = strconv.AppendInt(key, v.Int(), 10)
		case pcommon.ValueTypeDouble:
			key = strconv.AppendUint(key, math.Float64bits(v.Double()), 16)
		case pcommon.ValueTypeBool:
			key = strconv.AppendBool(key, v.Bool())
		default:
			key = append(key, v.AsString()...)
		}
		key = append(key, 0xff)
	}
	return key
}

// doneReading releases the cache's read lock, if sc holds it. A metric's
// points are looked up under one read lock rather than one each.
func (c *labelCache) doneReading(sc *Scratch) {
	if sc.reading {
		c.mu.RUnlock()
		sc.reading = false
	}
}

// labelSetFor returns the labels of a point with attrs, from the cache when
// the same attributes were translated before. sc holds the key buffer, and
// the cache's read lock from the first lookup until doneReading.
func (t *Translator) labelSetFor(attrs pcommon.Map, typeLabel string, extra *scopeExtra, sc *Scratch) cachedLabels {
	if t.cache == nil || (extra != nil && extra.id == 0) {
		return t.newLabelSet(attrs, typeLabel, extra)
	}
	key := append(sc.key[:0], typeLabel...)
	key = append(key, 0xfd)
	if extra != nil {
		key = binary.LittleEndian.AppendUint64(key, extra.id)
	}
	key = append(key, 0xfd)
	key = appendAttrsKey(key, attrs)
	if cap(key) <= 4*maxCacheKeyBytes { // a huge one goes back to the heap
		sc.key = key
	}
	if len(key) > maxCacheKeyBytes {
		return t.newLabelSet(attrs, typeLabel, extra)
	}

	if !sc.reading {
		t.cache.mu.RLock() // held for the rest of the metric (see doneReading)
		sc.reading = true
	}
	set, ok := t.cache.sets[string(key)] // no allocation for the lookup
	if !ok {
		t.cache.doneReading(sc)
		set = t.newLabelSet(attrs, typeLabel, extra)
		t.cache.mu.Lock()
		if len(t.cache.sets) >= t.cache.max {
			clear(t.cache.sets)
			clear(t.cache.scopes)
		}
		t.cache.sets[string(key)] = set
		t.cache.mu.Unlock()
	}
	return set
}

func (t *Translator) newLabelSet(attrs pcommon.Map, typeLabel string, extra *scopeExtra) cachedLabels {
	var extraLabels []attrLabel
	if extra != nil {
		extraLabels = extra.labels
	}
	pairs, reason := t.labels(attrs, typeLabel, extraLabels)
	if reason != "" {
		return cachedLabels{reason: reason}
	}
	return cachedLabels{set: prom.NewLabelSet(pairs)}
}

// cachedLabels is the label set of a point's attributes, or why the point
// cannot be pushed.
type cachedLabels struct {
	set    *prom.LabelSet
	reason prom.DropReason
}
