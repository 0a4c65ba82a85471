package gateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"

import "time"

// Clock is where the publisher and its background work read the time and
// wait for it: the TTLs, the heartbeat of unchanged groups and the rate
// limit. Tests set one they move by hand.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
