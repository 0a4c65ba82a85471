package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"context"
	"sync"
	"time"
)

// lifecycle runs the exporter's background work on its groups, each on
// its own schedule, through the publisher: deleting those idle for
// group_ttl, forgetting those (and the writers) idle for state_ttl, and
// re-pushing all of them every resync_interval.
type lifecycle struct {
	done chan struct{}
	wg   sync.WaitGroup
}

// startLifecycle starts the loops the configuration asks for; nil when none.
func startLifecycle(cfg *Config, p *publisher, c clock) *lifecycle {
	if cfg.GroupTTL <= 0 && cfg.StateTTL <= 0 && cfg.ResyncInterval <= 0 {
		return nil
	}
	l := &lifecycle{done: make(chan struct{})}
	// Checking four times per TTL acts on a group at most a quarter TTL
	// late.
	if ttl := cfg.GroupTTL; ttl > 0 {
		l.every(c, max(ttl/4, 10*time.Millisecond), func(ctx context.Context) { p.expire(ctx, c.Now().Add(-ttl)) })
	}
	if ttl := cfg.StateTTL; ttl > 0 {
		l.every(c, max(ttl/4, 10*time.Millisecond), func(ctx context.Context) { p.forget(ctx, c.Now().Add(-ttl)) })
	}
	if cfg.ResyncInterval > 0 {
		l.every(c, cfg.ResyncInterval, p.resync)
	}
	return l
}

// every runs run each interval on c until stop.
func (l *lifecycle) every(c clock, interval time.Duration, run func(context.Context)) {
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

func (l *lifecycle) stop() {
	close(l.done)
	l.wg.Wait()
}
