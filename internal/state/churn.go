package state // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/state"

import (
	"sync"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
)

// maxChurnJobs bounds the jobs InstanceChurn remembers; beyond it the
// memory starts afresh.
const maxChurnJobs = 10000

// ChurnWarnAfter is how many runs in a row must each come with a new
// instance before the job is reported.
const ChurnWarnAfter = 2

// InstanceChurn notices jobs whose every run comes with a new instance
// value: SDKs that make a random service.instance.id per process (as the
// semantic conventions now recommend) turn each run of a batch job into a
// new group, which the gateway keeps for ever. A run is one more such
// instance when its group is new, its instance differs from the one of
// the job's newest group, and its data starts after that group's data
// ended: one run took over from the other, rather than both running.
type InstanceChurn struct {
	mu   sync.Mutex
	jobs map[string]*jobRuns
}

// jobRuns is what InstanceChurn remembers of one job.
type jobRuns struct {
	instance string            // of the job's newest group
	last     pcommon.Timestamp // newest point of that group
	streak   int               // runs in a row that each came with a new instance
}

func NewInstanceChurn() *InstanceChurn {
	return &InstanceChurn{jobs: map[string]*jobRuns{}}
}

// Observe records that the group of key received points spanning
// first..last; created says the group is new. It returns the job's streak
// when this group is one more run with a new instance, else 0.
func (c *InstanceChurn) Observe(key prom.GroupKey, first, last pcommon.Timestamp, created bool) int {
	instance, ok := key.Label(prom.InstanceLabel)
	if !ok {
		return 0
	}
	job := key.Job()
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.jobs[job]
	switch {
	case r == nil:
		if len(c.jobs) >= maxChurnJobs {
			clear(c.jobs)
		}
		c.jobs[job] = &jobRuns{instance: instance, last: last}
		return 0
	case instance == r.instance:
		r.last = max(r.last, last)
		if created {
			r.streak = 0 // a run with the instance of the last one: stable ids
		}
		return 0
	case !created:
		return 0 // another instance already known: several run at once
	}
	if first > r.last {
		r.streak++
	} else {
		r.streak = 0
	}
	r.instance, r.last = instance, last
	return r.streak
}
