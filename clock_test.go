package pushgatewayexporter

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand. Waiting on it (After)
// registers a waiter, so a test can tell when the exporter waits.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	changed changeSignal // whenever waiters change
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_800_000_000, 0), changed: newChangeSignal()}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	c.changed.notifyLocked()
	return ch
}

// Advance moves the clock by d and wakes the waiters now due.
func (c *fakeClock) Advance(d time.Duration) {
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
	c.changed.notifyLocked()
}

// WaitForWaiters blocks until n waiters wait on the clock: the exporter's
// loops and the requests held by the rate limit. It fails the test after a
// minute of real time, which only a broken exporter takes.
func (c *fakeClock) WaitForWaiters(t *testing.T, n int) {
	t.Helper()
	c.changed.waitUntil(t, &c.mu, func() (bool, string) {
		return len(c.waiters) == n, fmt.Sprintf("%d waiters on the clock, want %d", len(c.waiters), n)
	})
}
