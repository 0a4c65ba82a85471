package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// publisher is the one way to the gateway: every push, delete, resync and
// expiry of a group goes through it. Per group it serialises the requests
// (an older state never follows a newer one), waits for the rate limit,
// skips a push the gateway already holds byte for byte, and lets one push
// carry every batch that reached the group while another push of it was
// under way.
type publisher struct {
	gateway   *gatewayClient
	states    *groupStates
	clock     clock
	limiter   *rate.Limiter // nil: no limit
	heartbeat time.Duration // 0: never skip an unchanged push
	deletes   bool          // an empty group may be deleted (method put)
	encode    func(*bytes.Buffer, *groupState) error
	telemetry *selfTelemetry
	logger    *zap.Logger
	bufPool   sync.Pool
	// slots bounds the pushes of batches under way at once (see pushAll).
	slots chan struct{}
	learning
}

// learning says whether the publisher read the families the gateway held
// when it started: learned is set, under learnMu, once it did.
type learning struct {
	learnMu sync.Mutex
	learned atomic.Bool
}

// learn reads, once, the families the gateway holds in groups the exporter
// does not (pushed before the collector started, by it or by others), so
// that no family the exporter pushes conflicts with them. It runs before
// the first batch is folded; until it succeeds every batch fails, as a
// retryable error (the gateway is not reachable then, so no push could
// succeed either). A gateway that refuses the request (a proxy that lets
// only pushes through) is not asked again: the exporter then knows only
// its own groups.
func (p *publisher) learn(ctx context.Context) error {
	if p.learned.Load() {
		return nil // every batch but the first few: no lock taken
	}
	p.learnMu.Lock()
	defer p.learnMu.Unlock()
	if p.learned.Load() {
		return nil
	}
	families, err := p.gateway.families(ctx)
	var refused *apiError
	switch {
	case errors.As(err, &refused) && refused.status >= 400 && refused.status < 500:
		p.logger.Warn("The Pushgateway's API is not reachable: families pushed before the collector started are unknown, "+
			"and a family of another type under one of their names would be refused by the gateway", zap.Error(err))
	case err != nil:
		return err
	}
	var conflicts []string
	for name, typ := range families {
		if known, conflict := p.states.names.learn(name, typ); conflict {
			conflicts = append(conflicts, name+" ("+known.String()+", "+typ.String()+")")
		}
	}
	if len(conflicts) > 0 {
		p.logger.Warn("The Pushgateway holds families whose names clash with the exporter's; those families are not pushed",
			zap.Strings("families", conflicts))
	}
	p.learned.Store(true)
	return nil
}

// publishing is what the publisher remembers of a group's pushes. It is
// guarded by the group's pushMu.
type publishing struct {
	// pushed says the gateway holds a push of the group: one was
	// acknowledged since the group was made or last deleted there.
	pushed bool
	// acked is the newest state (groupState.version) the gateway holds,
	// ackedHash the hash of that push's body and ackedAt when it was
	// acknowledged.
	acked     uint64
	ackedHash uint64
	ackedAt   time.Time
}

// bodySeed keys the hashes of pushed bodies; they never leave the process.
var bodySeed = maphash.MakeSeed()

// push makes the gateway hold the group's state as of version or newer. It
// returns at once when a push made after that version was acknowledged
// while this one waited for the group: that push carried its data.
func (p *publisher) push(ctx context.Context, g *groupState, version uint64) error {
	g.pushMu.Lock()
	defer g.pushMu.Unlock()
	if g.pub.acked >= version && g.pub.pushed {
		p.telemetry.ExporterPushgatewayPushesSkipped.Add(ctx, 1, p.telemetry.exporter, metric.WithAttributes(attribute.String("reason", "included")))
		return nil
	}
	return p.pushLocked(ctx, g, false)
}

// pushAll pushes each touched group as push does, as many at once as the
// publisher has slots, and returns each group's error at its index. The
// slots are shared by every batch: the gateway applies pushes one at a
// time, so a few in flight keep it busy (while it applies one, the next
// are on the wire and parsed) and more would only wait there with their
// timeouts running. A group whose context ends before it gets a slot gets
// the context's error.
func (p *publisher) pushAll(ctx context.Context, touched []*touchedGroup) []error {
	errs := make([]error, len(touched))
	var wg sync.WaitGroup
	for i, tg := range touched {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			errs[i] = fmt.Errorf("pushing group %s: %w", tg.group.key, ctx.Err())
			continue
		}
		if len(touched) == 1 {
			errs[i] = p.push(ctx, tg.group, tg.version)
			<-p.slots
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-p.slots; wg.Done() }()
			errs[i] = p.push(ctx, tg.group, tg.version)
		}()
	}
	wg.Wait()
	return errs
}

// pushLocked pushes the group's state; the caller holds g.pushMu. Unless
// force is set, a body identical to the last one the gateway acknowledged
// is not sent while that push is younger than the heartbeat. A group left
// without families is never pushed: it is deleted at the gateway, if it was
// pushed there and may be deleted, and forgotten.
func (p *publisher) pushLocked(ctx context.Context, g *groupState, force bool) error {
	version, held, removed := g.status()
	switch {
	case removed:
		return nil // expired and deleted at the gateway: nothing to push
	case !held:
		return p.retireLocked(ctx, g)
	}
	buf := p.bufPool.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		p.bufPool.Put(buf)
	}()
	// The version is read before the body is made: the body holds that
	// state or a newer one, never an older one.
	if err := p.encode(buf, g); err != nil {
		return consumererror.NewPermanent(fmt.Errorf("pushing group %s: %w", g.key, err))
	}
	var hash uint64
	if p.heartbeat > 0 {
		hash = maphash.Bytes(bodySeed, buf.Bytes())
	}
	if !force && p.heartbeat > 0 && g.pub.pushed && hash == g.pub.ackedHash && p.clock.Now().Sub(g.pub.ackedAt) < p.heartbeat {
		// The gateway holds this very body: what left before it is gone.
		g.pub.acked = max(g.pub.acked, version)
		p.states.acknowledged(g, version)
		p.telemetry.ExporterPushgatewayPushesSkipped.Add(ctx, 1, p.telemetry.exporter, metric.WithAttributes(attribute.String("reason", "unchanged")))
		return nil
	}
	if err := p.waitTurn(ctx); err != nil {
		return fmt.Errorf("pushing group %s: %w", g.key, err)
	}
	start := p.clock.Now()
	status, err := p.gateway.push(ctx, g.key, buf.Bytes())
	took := p.clock.Now().Sub(start)
	p.recordPush(ctx, buf.Len(), took, status, err)
	if p.logger.Core().Enabled(zap.DebugLevel) {
		p.logger.Debug("Pushed group",
			zap.Stringer("group", g.key),
			zap.Int("bytes", buf.Len()),
			zap.Duration("duration", took),
			zap.Error(err))
	}
	if err != nil {
		return err
	}
	g.pub = publishing{pushed: true, acked: max(g.pub.acked, version), ackedHash: hash, ackedAt: p.clock.Now()}
	p.states.acknowledged(g, version)
	return nil
}

// retireLocked deletes a group left without families at the gateway (if it
// was pushed there and may be deleted) and forgets it; the caller holds
// g.pushMu.
func (p *publisher) retireLocked(ctx context.Context, g *groupState) error {
	if g.pub.pushed && p.deletes {
		if err := p.deleteLocked(ctx, g); err != nil {
			return err
		}
	}
	p.states.removeEmpty(g)
	return nil
}

// deleteLocked deletes the group at the gateway; the caller holds
// g.pushMu.
func (p *publisher) deleteLocked(ctx context.Context, g *groupState) error {
	if err := p.waitTurn(ctx); err != nil {
		return fmt.Errorf("deleting group %s: %w", g.key, err)
	}
	if err := p.gateway.delete(ctx, g.key); err != nil {
		return err
	}
	g.pub = publishing{}
	return nil
}

// expire deletes from the gateway, and forgets, every group no point has
// changed since cutoff (group_ttl). A group that new data reaches while its
// delete is under way is pushed back.
func (p *publisher) expire(ctx context.Context, cutoff time.Time) {
	for _, g := range p.states.expired(cutoff) {
		p.expireGroup(ctx, g, cutoff)
	}
}

func (p *publisher) expireGroup(ctx context.Context, g *groupState, cutoff time.Time) {
	g.pushMu.Lock()
	defer g.pushMu.Unlock()
	if err := p.deleteLocked(ctx, g); err != nil {
		p.logger.Warn("Could not delete an expired group; will try again", zap.Error(err))
		return
	}
	if p.states.remove(g, cutoff, false) {
		p.telemetry.ExporterPushgatewayGroupsExpired.Add(ctx, 1, p.telemetry.exporter, metric.WithAttributes(attribute.String("action", "deleted")))
		p.logger.Debug("Deleted an expired group", zap.Stringer("group", g.key))
		return
	}
	if err := p.pushLocked(ctx, g, true); err != nil {
		p.logger.Warn("Could not push a group back after deleting it", zap.Error(err))
	}
}

// forget drops from memory, and leaves at the gateway, every group no
// point has changed since cutoff (state_ttl); in the other groups it
// forgets the writers silent since cutoff, and pushes the groups whose
// values that changed (a combined gauge no longer counts a forgotten
// writer).
func (p *publisher) forget(ctx context.Context, cutoff time.Time) {
	for _, g := range p.states.expired(cutoff) {
		g.pushMu.Lock()
		if p.states.remove(g, cutoff, true) {
			p.telemetry.ExporterPushgatewayGroupsExpired.Add(ctx, 1, p.telemetry.exporter, metric.WithAttributes(attribute.String("action", "forgotten")))
			p.logger.Debug("Forgot an idle group; the gateway keeps it", zap.Stringer("group", g.key))
		}
		g.pushMu.Unlock()
	}
	changed, removed := p.states.forgetWriters(cutoff)
	if removed > 0 {
		p.telemetry.ExporterPushgatewaySeriesRemoved.Add(ctx, int64(removed), p.telemetry.exporter, metric.WithAttributes(attribute.String("reason", "writer_forgotten")))
	}
	for _, g := range changed {
		g.pushMu.Lock()
		err := p.pushLocked(ctx, g, false)
		g.pushMu.Unlock()
		if err != nil {
			p.logger.Warn("Could not push a group after forgetting its silent writers; new data or a resync will", zap.Error(err))
		}
	}
}

// resync re-pushes every held group, unchanged or not: the gateway may have
// lost it.
func (p *publisher) resync(ctx context.Context) {
	for _, g := range p.states.all() {
		g.pushMu.Lock()
		err := p.pushLocked(ctx, g, true)
		g.pushMu.Unlock()
		if err != nil {
			p.logger.Warn("Resync of a group failed; the next resync or new data will try again", zap.Error(err))
		}
	}
}

// deleteAll deletes every held group from the gateway.
func (p *publisher) deleteAll(ctx context.Context) error {
	var errs []error
	for _, g := range p.states.all() {
		g.pushMu.Lock()
		errs = append(errs, p.deleteLocked(ctx, g))
		g.pushMu.Unlock()
	}
	return errors.Join(errs...)
}

// errRateLimitDeadline says the rate limit would make a request wait past
// its context's deadline.
var errRateLimitDeadline = errors.New("waiting for rate_limit would pass the request's deadline")

// waitTurn waits for the rate limit, if any: a request over the limit is
// delayed, not dropped, for as long as its context allows.
func (p *publisher) waitTurn(ctx context.Context) error {
	if p.limiter == nil {
		return nil
	}
	now := p.clock.Now()
	r := p.limiter.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(now.Add(delay)) {
		r.CancelAt(now)
		return errRateLimitDeadline
	}
	select {
	case <-p.clock.After(delay):
		return nil
	case <-ctx.Done():
		r.CancelAt(p.clock.Now())
		return fmt.Errorf("waiting for rate_limit: %w", ctx.Err())
	}
}

// recordPush counts one push by outcome and status class.
func (p *publisher) recordPush(ctx context.Context, size int, took time.Duration, status int, err error) {
	outcome := "success"
	switch {
	case err == nil:
	case consumererror.IsPermanent(err):
		outcome = "permanent"
	default:
		outcome = "retryable"
	}
	class := "none"
	if status > 0 {
		class = strconv.Itoa(status/100) + "xx"
	}
	p.telemetry.ExporterPushgatewayPushBytes.Add(ctx, int64(size), p.telemetry.exporter)
	p.telemetry.ExporterPushgatewayPushDuration.Record(ctx, took.Seconds(), p.telemetry.exporter,
		metric.WithAttributes(attribute.String("outcome", outcome)))
	p.telemetry.ExporterPushgatewayPushes.Add(ctx, 1, p.telemetry.exporter,
		metric.WithAttributes(attribute.String("outcome", outcome), attribute.String("status_class", class)))
}
