// Package testclock is a clock tests move by hand, and a way to wait for
// a change without sleeping.
package testclock // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/testclock"

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// Fake is a clock the test moves by hand. Waiting on it (After)
// registers a waiter, so a test can tell when the exporter waits.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	changed Signal // whenever waiters change
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a fake clock at a fixed time.
func NewFake() *Fake {
	return &Fake{now: time.Unix(1_800_000_000, 0), changed: NewSignal()}
}

// Now is the clock's time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After returns a channel that receives the time once the clock has
// been moved by d.
func (c *Fake) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	c.changed.NotifyLocked()
	return ch
}

// Advance moves the clock by d and wakes the waiters now due.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
	c.changed.NotifyLocked()
}

// WaitForWaiters blocks until n waiters wait on the clock: the exporter's
// loops and the requests held by the rate limit. It fails the test after a
// minute of real time, which only a broken exporter takes.
func (c *Fake) WaitForWaiters(t testing.TB, n int) {
	t.Helper()
	c.changed.WaitUntil(t, &c.mu, func() (bool, string) {
		return len(c.waiters) == n, fmt.Sprintf("%d waiters on the clock, want %d", len(c.waiters), n)
	})
}
