package gateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"

import (
	"context"
	"sync"
	"time"
)

// Lifecycle runs the publisher's background work on its groups, each on
// its own schedule: deleting those idle for group_ttl, forgetting those
// (and the writers) idle for state_ttl, and re-pushing all of them every
// resync_interval.
type Lifecycle struct {
	done chan struct{}
	wg   sync.WaitGroup
}

// Schedule says how often the background work runs (0: never).
type Schedule struct {
	GroupTTL, StateTTL, ResyncInterval time.Duration
}

// StartLifecycle starts the loops the schedule asks for; nil when none.
func StartLifecycle[G Group](p *Publisher[G], s Schedule) *Lifecycle {
	if s.GroupTTL <= 0 && s.StateTTL <= 0 && s.ResyncInterval <= 0 {
		return nil
	}
	c := p.clock
	l := &Lifecycle{done: make(chan struct{})}
	// Checking four times per TTL acts on a group at most a quarter TTL
	// late.
	if ttl := s.GroupTTL; ttl > 0 {
		l.every(c, max(ttl/4, 10*time.Millisecond), func(ctx context.Context) { p.Expire(ctx, c.Now().Add(-ttl)) })
	}
	if ttl := s.StateTTL; ttl > 0 {
		l.every(c, max(ttl/4, 10*time.Millisecond), func(ctx context.Context) { p.Forget(ctx, c.Now().Add(-ttl)) })
	}
	if s.ResyncInterval > 0 {
		l.every(c, s.ResyncInterval, p.Resync)
	}
	return l
}

// every runs run each interval on c until Stop.
func (l *Lifecycle) every(c Clock, interval time.Duration, run func(context.Context)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-l.done
			cancel()
		}()
		for {
			select {
			case <-l.done:
				return
			case <-c.After(interval):
				run(ctx)
			}
		}
	}()
}

// Stop ends the loops and waits for them.
func (l *Lifecycle) Stop() {
	close(l.done)
	l.wg.Wait()
}
