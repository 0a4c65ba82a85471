package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"math"
	"strconv"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/pdata/pcommon"
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

// labelSet is the translation of one point's attributes (with its scope's
// extra labels and the type's own label): the sorted labels, their
// signature in the state, or why the point cannot be pushed. Its labels
// are shared by every metric that carries them and never modified.
type labelSet struct {
	labels []*dto.LabelPair
	sig    string
	enc    []byte // labels as appendLabelsField writes them
	reason dropReason
}

// labelCache remembers labelSets by the raw attributes, so that a series
// seen before costs a map lookup instead of sanitising, sorting and
// allocating its labels again: a batch job or SDK sends the same series
// on every export.
type labelCache struct {
	mu   sync.RWMutex
	sets map[string]*labelSet
	max  int
}

func newLabelCache(max int) *labelCache {
	if max <= 0 {
		max = defaultCachedLabelSets
	}
	return &labelCache{sets: map[string]*labelSet{}, max: max}
}

// scopeKey identifies the extra labels of a scope within a cache key.
func scopeKey(extra []attrLabel) string {
	if len(extra) == 0 {
		return ""
	}
	var b []byte
	for _, e := range extra {
		b = append(b, e.name...)
		b = append(b, 0xfe)
		b = append(b, e.value...)
		b = append(b, 0xfe)
	}
	return string(b)
}

// appendAttrsKey appends an exact rendering of attrs, in their order, to
// key. Two maps with the same rendering translate to the same labels.
func appendAttrsKey(key []byte, attrs pcommon.Map) []byte {
	for k, v := range attrs.All() {
		key = append(key, k...)
		key = append(key, 0xff, byte(v.Type()))
		switch v.Type() {
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

var keyPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// labelSetFor returns the labels of a point with attrs, from the cache when
// the same attributes were translated before.
func (t *translator) labelSetFor(attrs pcommon.Map, typeLabel string, extra *scopeExtra) *labelSet {
	if t.cache == nil {
		return t.newLabelSet(attrs, typeLabel, extra)
	}
	kp := keyPool.Get().(*[]byte)
	key := append((*kp)[:0], typeLabel...)
	key = append(key, 0xfd)
	if extra != nil {
		key = append(key, extra.key...)
	}
	key = append(key, 0xfd)
	key = appendAttrsKey(key, attrs)
	if len(key) > maxCacheKeyBytes {
		if cap(key) <= 4*maxCacheKeyBytes { // a huge one goes back to the heap
			*kp = key
			keyPool.Put(kp)
		}
		return t.newLabelSet(attrs, typeLabel, extra)
	}

	t.cache.mu.RLock()
	set := t.cache.sets[string(key)] // no allocation for the lookup
	t.cache.mu.RUnlock()
	if set == nil {
		set = t.newLabelSet(attrs, typeLabel, extra)
		t.cache.mu.Lock()
		if len(t.cache.sets) >= t.cache.max {
			clear(t.cache.sets)
		}
		t.cache.sets[string(key)] = set
		t.cache.mu.Unlock()
	}
	*kp = key
	keyPool.Put(kp)
	return set
}

func (t *translator) newLabelSet(attrs pcommon.Map, typeLabel string, extra *scopeExtra) *labelSet {
	var extraLabels []attrLabel
	if extra != nil {
		extraLabels = extra.labels
	}
	labels, reason := t.labels(attrs, typeLabel, extraLabels)
	if reason != "" {
		return &labelSet{reason: reason}
	}
	return &labelSet{labels: labels, sig: labelSignature(labels), enc: appendLabelsField(nil, labels)}
}
