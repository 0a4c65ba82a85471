package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// Groups holds, per grouping key, the latest value of every series the
// exporter has received and what fed it. Every push sends a group's
// complete state, which makes pushes correct however the collector
// splits, merges or replays batches.
type Groups struct {
	maxSeries         int64 // 0: no limit
	maxSeriesPerGroup int   // 0: no limit
	aggregation       Aggregation
	seriesTTL         time.Duration // 0: off
	now               func() time.Time

	mu     sync.Mutex
	groups map[string]*Group

	// series counts the slots held across all groups: one per series, and
	// one more per writer of a series beyond its first.
	series atomic.Int64

	// names are the family names the gateway holds, with their types.
	names *gatewayNames
	// keepsFamilies says the gateway keeps a family the exporter no
	// longer pushes for a group it holds (method post).
	keepsFamilies bool
}

// Options say how Groups fold and bound what they hold.
type Options struct {
	// MaxSeries bounds the slots held across all groups, MaxSeriesPerGroup
	// those of one group: one per series, and one more per writer of a
	// series beyond its first (0: no limit).
	MaxSeries, MaxSeriesPerGroup int
	// Aggregation says how the writers of one series combine.
	Aggregation Aggregation
	// SeriesTTL, when positive, removes the series a group went on
	// without for that long.
	SeriesTTL time.Duration
	// KeepsFamilies says the gateway keeps a family the exporter stops
	// pushing for a group (the pushes are POSTs).
	KeepsFamilies bool
	// Now is the clock that stamps changes (default time.Now).
	Now func() time.Time
}

// Aggregation says how the points of several writers of one series
// combine.
type Aggregation struct {
	// Sum sums counters, histograms and summaries' count and sum across
	// writers; otherwise the newest point wins.
	Sum bool
	// Gauges is how gauges combine when Sum is set.
	Gauges GaugeCombination
}

// GaugeCombination is how the gauges of several writers combine.
type GaugeCombination uint8

// The ways gauges combine.
const (
	// GaugesLast keeps the newest point.
	GaugesLast GaugeCombination = iota
	// GaugesSum sums the writers' latest values.
	GaugesSum
	// GaugesMax keeps the greatest of the writers' latest values.
	GaugesMax
	// GaugesMin keeps the least of the writers' latest values.
	GaugesMin
)

// New returns empty Groups.
func New(opts Options) *Groups {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Groups{
		maxSeries:         int64(opts.MaxSeries),
		maxSeriesPerGroup: opts.MaxSeriesPerGroup,
		aggregation:       opts.Aggregation,
		seriesTTL:         opts.SeriesTTL,
		keepsFamilies:     opts.KeepsFamilies,
		now:               now,
		groups:            map[string]*Group{},
		names:             newGatewayNames(),
	}
}

// SeriesCount is the number of slots held across all groups.
func (s *Groups) SeriesCount() int64 { return s.series.Load() }

// GroupCount is the number of groups held.
func (s *Groups) GroupCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.groups)
}

// group returns the state of key's group, creating it unless the series
// limit is reached (a new group could hold nothing, so it is not made).
// created says this call made it.
func (s *Groups) group(key prom.GroupKey) (g *Group, created bool) {
	id := key.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if g = s.groups[id]; g == nil {
		if s.maxSeries > 0 && s.series.Load() >= s.maxSeries {
			return nil, false
		}
		g = &Group{key: key, families: map[string]*familyState{}}
		s.groups[id] = g
		created = true
	}
	return g, created
}

// reserveSeries counts one more held series, unless that would pass
// max_series.
func (s *Groups) reserveSeries() bool {
	if s.maxSeries <= 0 {
		s.series.Add(1)
		return true
	}
	for {
		n := s.series.Load()
		if n >= s.maxSeries {
			return false
		}
		if s.series.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// Expired returns the groups that no point has changed since cutoff.
func (s *Groups) Expired(cutoff time.Time) []*Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Group
	for _, g := range s.groups {
		g.mu.Lock()
		if !g.updated.After(cutoff) {
			out = append(out, g)
		}
		g.mu.Unlock()
	}
	return out
}

// All returns every group held.
func (s *Groups) All() []*Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Values(s.groups))
}

// Remove forgets g if no point has changed it since cutoff, and reports
// whether it did; kept says the gateway keeps the group. The caller makes
// sure no push of g runs meanwhile.
func (s *Groups) Remove(g *Group, cutoff time.Time, kept bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.updated.After(cutoff) || g.removed {
		return false
	}
	s.dropLocked(g, kept)
	return true
}

// RemoveEmpty forgets g if it holds no family, and reports whether it did.
func (s *Groups) RemoveEmpty(g *Group) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.families) > 0 || g.removed {
		return false
	}
	s.dropLocked(g, false)
	return true
}

// dropLocked forgets g: its names (kept says the gateway keeps the
// group), its slots and its place. The caller holds s.mu and g.mu.
func (s *Groups) dropLocked(g *Group, kept bool) {
	for name := range g.families {
		s.names.release(name, kept)
	}
	s.releaseLeaving(g, kept)
	s.series.Add(-int64(g.series))
	g.families, g.names, g.series, g.writers, g.removed = nil, nil, 0, writerTable{}, true
	delete(s.groups, g.key.ID())
}

// LearnFamily records a family the gateway holds in a group the exporter
// does not (read from the gateway at start), so that no family the
// exporter pushes conflicts with it. It returns the type already known
// when the gateway holds the name with two types.
func (s *Groups) LearnFamily(name string, typ dto.MetricType) (known dto.MetricType, conflict bool) {
	return s.names.learn(name, typ)
}
