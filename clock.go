package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import "time"

// clock is where the exporter reads the time and waits for it: the TTLs,
// the heartbeat of unchanged groups and the rate limit. Tests set one they
// move by hand.
type clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// systemClock is the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
