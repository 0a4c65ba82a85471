package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// lifecycle runs the exporter's background work on its groups: deleting
// those idle for group_ttl, and re-pushing all of them every
// resync_interval.
type lifecycle struct {
	done chan struct{}
	wg   sync.WaitGroup
}

// startLifecycle starts the loops the configuration asks for; nil when none.
func startLifecycle(e *pushgatewayExporter) *lifecycle {
	if e.cfg.GroupTTL <= 0 && e.cfg.StateTTL <= 0 && e.cfg.ResyncInterval <= 0 {
		return nil
	}
	l := &lifecycle{done: make(chan struct{})}
	// Checking four times per TTL acts on a group at most a quarter TTL
	// late.
	if ttl := e.cfg.GroupTTL; ttl > 0 {
		l.every(max(ttl/4, 10*time.Millisecond), func(ctx context.Context) { e.expireGroups(ctx, ttl) })
	}
	if ttl := e.cfg.StateTTL; ttl > 0 {
		l.every(max(ttl/4, 10*time.Millisecond), func(ctx context.Context) { e.forgetGroups(ctx, ttl) })
	}
	if e.cfg.ResyncInterval > 0 {
		l.every(e.cfg.ResyncInterval, e.resync)
	}
	return l
}

func (l *lifecycle) every(interval time.Duration, run func(context.Context)) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-l.done
			cancel()
		}()
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-ticker.C:
				run(ctx)
			}
		}
	}()
}

func (l *lifecycle) stop() {
	close(l.done)
	l.wg.Wait()
}

// expireGroups deletes from the gateway, and forgets, every group no point
// has changed for ttl. A group that new data reaches meanwhile stays.
func (e *pushgatewayExporter) expireGroups(ctx context.Context, ttl time.Duration) {
	cutoff := e.now().Add(-ttl)
	for _, g := range e.states.expired(cutoff) {
		e.expireGroup(ctx, g, cutoff)
	}
}

func (e *pushgatewayExporter) expireGroup(ctx context.Context, g *groupState, cutoff time.Time) {
	g.pushMu.Lock()
	defer g.pushMu.Unlock()
	if err := e.waitTurn(ctx); err != nil {
		return
	}
	if err := e.gateway.delete(ctx, g.key); err != nil {
		e.logger.Warn("Could not delete an expired group; will try again", zap.Error(err))
		return
	}
	if e.states.remove(g, cutoff) {
		e.telemetry.ExporterPushgatewayGroupsExpired.Add(ctx, 1, metric.WithAttributes(attribute.String("action", "deleted")))
		e.logger.Debug("Deleted an expired group", zap.Stringer("group", g.key))
		return
	}
	// New data arrived while the delete was under way: push it back.
	if err := e.pushGroupLocked(ctx, g); err != nil {
		e.logger.Warn("Could not push a group back after deleting it", zap.Error(err))
	}
}

// forgetGroups drops from memory, and leaves at the gateway, every group no
// point has changed for ttl; in the other groups it forgets the writers
// silent for ttl, and pushes the groups whose values that changed (a
// combined gauge no longer counts a forgotten writer).
func (e *pushgatewayExporter) forgetGroups(ctx context.Context, ttl time.Duration) {
	cutoff := e.now().Add(-ttl)
	for _, g := range e.states.expired(cutoff) {
		g.pushMu.Lock()
		if e.states.remove(g, cutoff) {
			e.telemetry.ExporterPushgatewayGroupsExpired.Add(ctx, 1, metric.WithAttributes(attribute.String("action", "forgotten")))
			e.logger.Debug("Forgot an idle group; the gateway keeps it", zap.Stringer("group", g.key))
		}
		g.pushMu.Unlock()
	}
	changed, removed := e.states.forgetWriters(cutoff)
	if removed > 0 {
		e.telemetry.ExporterPushgatewaySeriesRemoved.Add(ctx, int64(removed), metric.WithAttributes(attribute.String("reason", "writer_forgotten")))
	}
	for _, g := range changed {
		if err := e.pushGroup(ctx, g); err != nil {
			e.logger.Warn("Could not push a group after forgetting its silent writers; new data or a resync will", zap.Error(err))
		}
	}
}

// resync re-pushes every held group.
func (e *pushgatewayExporter) resync(ctx context.Context) {
	for _, g := range e.states.all() {
		if err := e.pushGroup(ctx, g); err != nil {
			e.logger.Warn("Resync of a group failed; the next resync or new data will try again", zap.Error(err))
		}
	}
}

// deleteAll deletes every held group from the gateway.
func (e *pushgatewayExporter) deleteAll(ctx context.Context) error {
	var errs []error
	for _, g := range e.states.all() {
		g.pushMu.Lock()
		err := e.gateway.delete(ctx, g.key)
		g.pushMu.Unlock()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
