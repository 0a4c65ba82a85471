package gateway // import "github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"

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

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/telemetry"
)

// Group is a group the publisher delivers, as the state holds it.
type Group interface {
	comparable
	Key() prom.GroupKey
	// Status returns the group's version, which grows with every change,
	// whether it holds any family, and whether it was removed.
	Status() (version uint64, held, removed bool)
}

// Store is the state whose groups the publisher delivers: it decides what
// each group holds; the publisher makes the gateway hold it.
type Store[G Group] interface {
	// Acknowledged records that the gateway holds g as of version.
	Acknowledged(g G, version uint64)
	// RemoveEmpty forgets g if it holds no family.
	RemoveEmpty(g G) bool
	// Remove forgets g if nothing changed it since cutoff; kept says the
	// gateway keeps it.
	Remove(g G, cutoff time.Time, kept bool) bool
	// Expired returns the groups nothing changed since cutoff.
	Expired(cutoff time.Time) []G
	// All returns every group.
	All() []G
	// ForgetWriters forgets the writers silent since cutoff, and returns
	// the groups whose pushed values that changed.
	ForgetWriters(cutoff time.Time) (changed []G, removed int)
	// LearnFamily records a family the gateway holds in a group the store
	// does not.
	LearnFamily(name string, typ dto.MetricType) (known dto.MetricType, conflict bool)
}

// Change is a group a batch changed, and the group's version after it.
type Change[G Group] struct {
	Group   G
	Version uint64
}

// Options say how a Publisher paces and skips its requests.
type Options struct {
	Clock Clock
	// PushesPerSecond and Burst are a token bucket over every request
	// (0 pushes per second: no limit).
	PushesPerSecond float64
	Burst           int
	// Heartbeat is how long a push identical to the last acknowledged one
	// is skipped (0: never).
	Heartbeat time.Duration
	// Deletes says an empty group may be deleted at the gateway (the
	// pushes are PUTs: a POST cannot remove a family).
	Deletes bool
	// PushesAtOnce bounds the pushes of batches under way at once.
	PushesAtOnce int
	Telemetry    *telemetry.Telemetry
	Logger       *zap.Logger
}

// Publisher is the one way to the gateway: every push, delete, resync and
// expiry of a group goes through it. Per group it serialises the requests
// (an older state never follows a newer one), waits for the rate limit,
// skips a push the gateway already holds byte for byte, and lets one push
// carry every batch that reached the group while another push of it was
// under way.
type Publisher[G Group] struct {
	client    *Client
	store     Store[G]
	encode    func(*bytes.Buffer, G) error
	clock     Clock
	limiter   *rate.Limiter // nil: no limit
	heartbeat time.Duration // 0: never skip an unchanged push
	deletes   bool          // an empty group may be deleted (method put)
	telemetry *telemetry.Telemetry
	logger    *zap.Logger
	bufPool   sync.Pool
	// slots bounds the pushes of batches under way at once (see PushAll).
	slots chan struct{}

	recordsMu sync.Mutex
	records   map[G]*record

	learning
}

// NewPublisher returns a Publisher of store's groups through client;
// encode writes a group's body.
func NewPublisher[G Group](client *Client, store Store[G], encode func(*bytes.Buffer, G) error, opts Options) *Publisher[G] {
	var limiter *rate.Limiter
	if opts.PushesPerSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(opts.PushesPerSecond), opts.Burst)
	}
	return &Publisher[G]{
		client:    client,
		store:     store,
		encode:    encode,
		clock:     opts.Clock,
		limiter:   limiter,
		heartbeat: opts.Heartbeat,
		deletes:   opts.Deletes,
		telemetry: opts.Telemetry,
		logger:    opts.Logger,
		bufPool:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
		slots:     make(chan struct{}, max(1, opts.PushesAtOnce)),
		records:   map[G]*record{},
	}
}

// Close lets go of the publisher's idle connections, which would outlive
// the exporter otherwise.
func (p *Publisher[G]) Close() {
	p.client.client.CloseIdleConnections()
}

// record is what the publisher remembers of a group's pushes.
type record struct {
	// mu serialises the requests of the group to the gateway. A push
	// encodes its body while holding it, so a body that reaches the
	// gateway is never older than one that reached it before.
	mu sync.Mutex
	publishing // guarded by mu
}

// publishing is what the gateway acknowledged of a group.
type publishing struct {
	// pushed says the gateway holds a push of the group: one was
	// acknowledged since the group was made or last deleted there.
	pushed bool
	// acked is the newest version the gateway holds, ackedHash the hash
	// of that push's body and ackedAt when it was acknowledged.
	acked     uint64
	ackedHash uint64
	ackedAt   time.Time
}

// lock returns g's record, locked.
func (p *Publisher[G]) lock(g G) *record {
	p.recordsMu.Lock()
	rec := p.records[g]
	if rec == nil {
		rec = &record{}
		p.records[g] = rec
	}
	p.recordsMu.Unlock()
	rec.mu.Lock()
	return rec
}

// forgetRecord drops the record of a group the store forgot.
func (p *Publisher[G]) forgetRecord(g G) {
	p.recordsMu.Lock()
	delete(p.records, g)
	p.recordsMu.Unlock()
}

// learning says whether the publisher read the families the gateway held
// when it started: learned is set, under learnMu, once it did.
type learning struct {
	learnMu sync.Mutex
	learned atomic.Bool
}

// Learn reads, once, the families the gateway holds in groups the exporter
// does not (pushed before the collector started, by it or by others), so
// that no family the exporter pushes conflicts with them. It runs before
// the first batch is folded; until it succeeds every batch fails, as a
// retryable error (the gateway is not reachable then, so no push could
// succeed either). A gateway that refuses the request (a proxy that lets
// only pushes through) is not asked again: the exporter then knows only
// its own groups.
func (p *Publisher[G]) Learn(ctx context.Context) error {
	if p.learned.Load() {
		return nil // every batch but the first few: no lock taken
	}
	p.learnMu.Lock()
	defer p.learnMu.Unlock()
	if p.learned.Load() {
		return nil
	}
	families, err := p.client.Families(ctx)
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
		if known, conflict := p.store.LearnFamily(name, typ); conflict {
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

// bodySeed keys the hashes of pushed bodies; they never leave the process.
var bodySeed = maphash.MakeSeed()

// push makes the gateway hold the group's state as of version or newer. It
// returns at once when a push made after that version was acknowledged
// while this one waited for the group: that push carried its data.
func (p *Publisher[G]) push(ctx context.Context, g G, version uint64) error {
	rec := p.lock(g)
	defer rec.mu.Unlock()
	if rec.acked >= version && rec.pushed {
		p.telemetry.ExporterPushgatewayPushesSkipped.Add(ctx, 1, p.telemetry.Exporter, metric.WithAttributes(attribute.String("reason", "included")))
		return nil
	}
	return p.pushLocked(ctx, g, rec, false)
}

// PushAll pushes each changed group as push does, as many at once as the
// publisher has slots, and returns each group's error at its index. The
// slots are shared by every batch: the gateway applies pushes one at a
// time, so a few in flight keep it busy (while it applies one, the next
// are on the wire and parsed) and more would only wait there with their
// timeouts running. A group whose context ends before it gets a slot gets
// the context's error.
func (p *Publisher[G]) PushAll(ctx context.Context, changes []Change[G]) []error {
	errs := make([]error, len(changes))
	var wg sync.WaitGroup
	for i, c := range changes {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			errs[i] = fmt.Errorf("pushing group %s: %w", c.Group.Key(), ctx.Err())
			continue
		}
		if len(changes) == 1 {
			errs[i] = p.push(ctx, c.Group, c.Version)
			<-p.slots
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-p.slots; wg.Done() }()
			errs[i] = p.push(ctx, c.Group, c.Version)
		}()
	}
	wg.Wait()
	return errs
}

// pushLocked pushes the group's state; the caller holds rec.mu. Unless
// force is set, a body identical to the last one the gateway acknowledged
// is not sent while that push is younger than the heartbeat. A group left
// without families is never pushed: it is deleted at the gateway, if it was
// pushed there and may be deleted, and forgotten.
func (p *Publisher[G]) pushLocked(ctx context.Context, g G, rec *record, force bool) error {
	version, held, removed := g.Status()
	switch {
	case removed:
		p.forgetRecord(g) // expired or forgotten: nothing to push
		return nil
	case !held:
		return p.retireLocked(ctx, g, rec)
	}
	buf := p.bufPool.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		p.bufPool.Put(buf)
	}()
	// The version is read before the body is made: the body holds that
	// state or a newer one, never an older one.
	if err := p.encode(buf, g); err != nil {
		return consumererror.NewPermanent(fmt.Errorf("pushing group %s: %w", g.Key(), err))
	}
	var hash uint64
	if p.heartbeat > 0 {
		hash = maphash.Bytes(bodySeed, buf.Bytes())
	}
	if !force && p.heartbeat > 0 && rec.pushed && hash == rec.ackedHash && p.clock.Now().Sub(rec.ackedAt) < p.heartbeat {
		// The gateway holds this very body: what left before it is gone.
		rec.acked = max(rec.acked, version)
		p.store.Acknowledged(g, version)
		p.telemetry.ExporterPushgatewayPushesSkipped.Add(ctx, 1, p.telemetry.Exporter, metric.WithAttributes(attribute.String("reason", "unchanged")))
		return nil
	}
	if err := p.waitTurn(ctx); err != nil {
		return fmt.Errorf("pushing group %s: %w", g.Key(), err)
	}
	start := p.clock.Now()
	status, err := p.client.Push(ctx, g.Key(), buf.Bytes())
	took := p.clock.Now().Sub(start)
	p.recordPush(ctx, buf.Len(), took, status, err)
	if p.logger.Core().Enabled(zap.DebugLevel) {
		p.logger.Debug("Pushed group",
			zap.Stringer("group", g.Key()),
			zap.Int("bytes", buf.Len()),
			zap.Duration("duration", took),
			zap.Error(err))
	}
	if err != nil {
		return err
	}
	rec.publishing = publishing{pushed: true, acked: max(rec.acked, version), ackedHash: hash, ackedAt: p.clock.Now()}
	p.store.Acknowledged(g, version)
	return nil
}

// retireLocked deletes a group left without families at the gateway (if it
// was pushed there and may be deleted) and forgets it; the caller holds
// rec.mu.
func (p *Publisher[G]) retireLocked(ctx context.Context, g G, rec *record) error {
	if rec.pushed && p.deletes {
		if err := p.deleteLocked(ctx, g, rec); err != nil {
			return err
		}
	}
	if p.store.RemoveEmpty(g) {
		p.forgetRecord(g)
	}
	return nil
}

// deleteLocked deletes the group at the gateway; the caller holds rec.mu.
func (p *Publisher[G]) deleteLocked(ctx context.Context, g G, rec *record) error {
	if err := p.waitTurn(ctx); err != nil {
		return fmt.Errorf("deleting group %s: %w", g.Key(), err)
	}
	if err := p.client.Delete(ctx, g.Key()); err != nil {
		return err
	}
	rec.publishing = publishing{}
	return nil
}

// Expire deletes from the gateway, and forgets, every group no point has
// changed since cutoff (group_ttl). A group that new data reaches while its
// delete is under way is pushed back.
func (p *Publisher[G]) Expire(ctx context.Context, cutoff time.Time) {
	for _, g := range p.store.Expired(cutoff) {
		p.expireGroup(ctx, g, cutoff)
	}
}

func (p *Publisher[G]) expireGroup(ctx context.Context, g G, cutoff time.Time) {
	rec := p.lock(g)
	defer rec.mu.Unlock()
	if err := p.deleteLocked(ctx, g, rec); err != nil {
		p.logger.Warn("Could not delete an expired group; will try again", zap.Error(err))
		return
	}
	if p.store.Remove(g, cutoff, false) {
		p.forgetRecord(g)
		p.telemetry.ExporterPushgatewayGroupsExpired.Add(ctx, 1, p.telemetry.Exporter, metric.WithAttributes(attribute.String("action", "deleted")))
		p.logger.Debug("Deleted an expired group", zap.Stringer("group", g.Key()))
		return
	}
	if err := p.pushLocked(ctx, g, rec, true); err != nil {
		p.logger.Warn("Could not push a group back after deleting it", zap.Error(err))
	}
}

// Forget drops from memory, and leaves at the gateway, every group no
// point has changed since cutoff (state_ttl); in the other groups it
// forgets the writers silent since cutoff, and pushes the groups whose
// values that changed (a combined gauge no longer counts a forgotten
// writer).
func (p *Publisher[G]) Forget(ctx context.Context, cutoff time.Time) {
	for _, g := range p.store.Expired(cutoff) {
		rec := p.lock(g)
		if p.store.Remove(g, cutoff, true) {
			p.forgetRecord(g)
			p.telemetry.ExporterPushgatewayGroupsExpired.Add(ctx, 1, p.telemetry.Exporter, metric.WithAttributes(attribute.String("action", "forgotten")))
			p.logger.Debug("Forgot an idle group; the gateway keeps it", zap.Stringer("group", g.Key()))
		}
		rec.mu.Unlock()
	}
	changed, removed := p.store.ForgetWriters(cutoff)
	if removed > 0 {
		p.telemetry.ExporterPushgatewaySeriesRemoved.Add(ctx, int64(removed), p.telemetry.Exporter, metric.WithAttributes(attribute.String("reason", "writer_forgotten")))
	}
	for _, g := range changed {
		rec := p.lock(g)
		err := p.pushLocked(ctx, g, rec, false)
		rec.mu.Unlock()
		if err != nil {
			p.logger.Warn("Could not push a group after forgetting its silent writers; new data or a resync will", zap.Error(err))
		}
	}
}

// Resync re-pushes every held group, unchanged or not: the gateway may have
// lost it.
func (p *Publisher[G]) Resync(ctx context.Context) {
	for _, g := range p.store.All() {
		rec := p.lock(g)
		err := p.pushLocked(ctx, g, rec, true)
		rec.mu.Unlock()
		if err != nil {
			p.logger.Warn("Resync of a group failed; the next resync or new data will try again", zap.Error(err))
		}
	}
}

// DeleteAll deletes every held group from the gateway.
func (p *Publisher[G]) DeleteAll(ctx context.Context) error {
	var errs []error
	for _, g := range p.store.All() {
		rec := p.lock(g)
		errs = append(errs, p.deleteLocked(ctx, g, rec))
		rec.mu.Unlock()
	}
	return errors.Join(errs...)
}

// errRateLimitDeadline says the rate limit would make a request wait past
// its context's deadline.
var errRateLimitDeadline = errors.New("waiting for rate_limit would pass the request's deadline")

// waitTurn waits for the rate limit, if any: a request over the limit is
// delayed, not dropped, for as long as its context allows.
func (p *Publisher[G]) waitTurn(ctx context.Context) error {
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
func (p *Publisher[G]) recordPush(ctx context.Context, size int, took time.Duration, status int, err error) {
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
	t := p.telemetry
	t.ExporterPushgatewayPushBytes.Add(ctx, int64(size), t.Exporter)
	t.ExporterPushgatewayPushDuration.Record(ctx, took.Seconds(), t.Exporter,
		metric.WithAttributes(attribute.String("outcome", outcome)))
	t.ExporterPushgatewayPushes.Add(ctx, 1, t.Exporter,
		metric.WithAttributes(attribute.String("outcome", outcome), attribute.String("status_class", class)))
}
