package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/metadata"
)

// Drop warnings are rate-limited: one per metric and reason every
// warnEvery, and at most warnBurst at once then one per second overall, so
// a sender of many bad metrics cannot flood the log. maxWarnedMetrics
// bounds the metrics remembered; beyond it the memory starts afresh.
const (
	warnEvery        = 10 * time.Minute
	warnBurst        = 10
	maxWarnedMetrics = 10000
)

type pushgatewayExporter struct {
	cfg        *Config
	settings   component.TelemetrySettings
	logger     *zap.Logger
	telemetry  *selfTelemetry
	translator *translator
	states     *groupStates
	publisher  *publisher // built in start
	lifecycle  *lifecycle // background expiry and resync; nil when off

	// clock is the clock of everything that waits or expires.
	clock clock
	churn *instanceChurn

	warnMu      sync.Mutex
	warned      map[string]time.Time // "<reason>/<metric>" → last logged
	warnLimiter *rate.Limiter
}

// selfTelemetry is the exporter's own telemetry and the attribute that
// names the exporter, which every measurement carries: two pushgateway
// exporters of one collector (for a shared and a dedicated gateway, say)
// are told apart by it, as exporterhelper's metrics are by the same one.
type selfTelemetry struct {
	*metadata.TelemetryBuilder
	exporter metric.MeasurementOption
}

func newExporter(cfg *Config, set exporter.Settings) (*pushgatewayExporter, error) {
	builder, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	tb := &selfTelemetry{
		TelemetryBuilder: builder,
		exporter:         metric.WithAttributeSet(attribute.NewSet(attribute.String("exporter", set.ID.String()))),
	}
	states := newGroupStates(cfg.MaxSeries, cfg.MaxSeriesPerGroup).
		withAggregation(cfg.Aggregation).
		withSeriesTTL(cfg.SeriesTTL).
		withKeptFamilies(cfg.Method == MethodPost)
	err = errors.Join(
		tb.RegisterExporterPushgatewaySeriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(states.series.Load(), tb.exporter)
			return nil
		}),
		tb.RegisterExporterPushgatewayGroupsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(states.groupCount()), tb.exporter)
			return nil
		}),
	)
	if err != nil {
		return nil, err
	}
	return &pushgatewayExporter{
		cfg:       cfg,
		settings:  set.TelemetrySettings,
		logger:    set.Logger,
		telemetry: tb,
		translator: newTranslator(cfg.Grouping).
			withNaming(cfg.TranslationStrategy, cfg.Namespace).
			withResourceLabels(cfg.ScopeLabels, cfg.TargetInfo, cfg.ResourceToTelemetryConversion.Enabled).
			withLabelLimits(cfg.MaxLabelValueLength, cfg.MaxLabelsPerSeries).
			withCacheSize(cfg.MaxSeries),
		states:      states,
		clock:       systemClock{},
		churn:       newInstanceChurn(),
		warned:      map[string]time.Time{},
		warnLimiter: rate.NewLimiter(1, warnBurst),
	}, nil
}

// withClock makes the exporter and its state read and wait for time on c.
// Set before start.
func (e *pushgatewayExporter) withClock(c clock) *pushgatewayExporter {
	e.clock = c
	e.states.withClock(c.Now)
	return e
}

func (e *pushgatewayExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ToClient(ctx, host.GetExtensions(), e.settings)
	if err != nil {
		return fmt.Errorf("building the HTTP client for %s: %w", redactEndpoint(e.cfg.Endpoint), err)
	}
	var limiter *rate.Limiter
	if e.cfg.RateLimit.PushesPerSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(e.cfg.RateLimit.PushesPerSecond), e.cfg.RateLimit.Burst)
	}
	native := e.cfg.ExponentialHistograms == ExponentialHistogramsNative
	e.publisher = &publisher{
		slots:     make(chan struct{}, pushesAtOnce(e.cfg)),
		gateway:   newGatewayClient(client, e.cfg.Endpoint, e.cfg.Method, e.cfg.Format),
		states:    e.states,
		clock:     e.clock,
		limiter:   limiter,
		heartbeat: e.cfg.Heartbeat,
		deletes:   e.cfg.Method == MethodPut,
		encode: func(buf *bytes.Buffer, g *groupState) error {
			return encodeGroup(buf, g, e.cfg.Format, native)
		},
		telemetry: e.telemetry,
		logger:    e.logger,
		bufPool:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
	e.lifecycle = startLifecycle(e.cfg, e.publisher, e.clock)
	return nil
}

// pushesAtOnce is how many group pushes of batches may be under way at
// once: as many as the sending queue has consumers, so that no more pushes
// wait at the gateway than when each batch pushed its groups one after the
// other, while a single batch with many groups may use them all. Without
// the queue, the queue's default number of consumers.
func pushesAtOnce(cfg *Config) int {
	if cfg.QueueConfig.HasValue() {
		return max(1, cfg.QueueConfig.Get().NumConsumers)
	}
	return exporterhelper.NewDefaultQueueConfig().NumConsumers
}

func (e *pushgatewayExporter) shutdown(ctx context.Context) error {
	var err error
	if e.lifecycle != nil {
		e.lifecycle.stop()
	}
	if e.publisher != nil {
		if e.cfg.DeleteOnShutdown {
			err = e.publisher.deleteAll(ctx)
		}
		// Keep-alive connections would outlive the exporter otherwise.
		e.publisher.gateway.client.CloseIdleConnections()
	}
	e.telemetry.Shutdown()
	return err
}

// touchedGroup is a group a batch updated, the group's version after the
// update, and the batch's resources that went to it (kept for a retry of
// just this group).
type touchedGroup struct {
	group     *groupState
	version   uint64
	resources []int
}

// pushMetrics folds the batch into the per-group state, then pushes each
// group the batch touched, once, with its complete state. A group the
// gateway refuses does not stop the others. When some groups can be
// retried, only their part of the batch is returned for retry; refusals that
// cannot succeed are logged, counted and dropped.
func (e *pushgatewayExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	if err := e.publisher.learn(ctx); err != nil {
		return err
	}
	touched, permanent := e.fold(ctx, md)

	var (
		retryable []error
		retry     = pmetric.NewMetrics()
	)
	for i, err := range e.publisher.pushAll(ctx, touched) {
		tg := touched[i]
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permanent = append(permanent, err)
			e.telemetry.ExporterPushgatewayGroupsRejected.Add(ctx, 1, e.telemetry.exporter)
		default:
			retryable = append(retryable, err)
			for _, i := range tg.resources {
				md.ResourceMetrics().At(i).CopyTo(retry.ResourceMetrics().AppendEmpty())
			}
		}
	}
	if len(retryable) > 0 {
		// A permanent error anywhere in the result would stop the retry
		// of the groups that can still succeed, so those are reported here.
		for _, err := range permanent {
			e.logger.Error("Dropping data the Pushgateway will not accept", zap.Error(err))
		}
		return consumererror.NewMetrics(errors.Join(retryable...), retry)
	}
	return errors.Join(permanent...)
}

// fold translates the batch into the per-group state and returns the groups
// it touched, in batch order, and the permanent errors of what it refused.
func (e *pushgatewayExporter) fold(ctx context.Context, md pmetric.Metrics) ([]*touchedGroup, []error) {
	var (
		touched   []*touchedGroup
		byGroup   = map[*groupState]*touchedGroup{}
		permanent []error
		refused   applyResult
	)
	sc := scratchPool.Get().(*scratch)
	defer func() {
		sc.reset()
		scratchPool.Put(sc)
	}()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		key := groupKeyFor(rm.Resource(), e.cfg.Grouping)
		if err := validateGroupKey(rm.Resource(), e.cfg.Grouping, key, e.cfg.MaxLabelValueLength); err != nil {
			points := e.dropResource(ctx, rm)
			permanent = append(permanent, consumererror.NewPermanent(fmt.Errorf("refusing a resource's %d points: %w", points, err)))
			continue
		}
		fams, drops := e.translator.translateResource(rm, sc)
		e.reportDrops(ctx, drops)
		res := e.states.apply(key, writerOf(rm.Resource()), fams)
		e.reportApplied(ctx, key, &res)
		refused.refused += res.refused
		refused.refusedInGroup += res.refusedInGroup
		g := res.group
		if g == nil {
			g = res.emptied // to be forgotten, and deleted if it was pushed
		}
		if g == nil {
			continue
		}
		tg := byGroup[g]
		if tg == nil {
			tg = &touchedGroup{group: g}
			byGroup[g] = tg
			touched = append(touched, tg)
		}
		tg.version = max(tg.version, res.version)
		tg.resources = append(tg.resources, i)
	}
	return touched, append(permanent, e.reportRefusedSeries(ctx, refused)...)
}

// scratchPool holds the translation buffers of batches being folded.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// reportApplied reports what folding one resource into its group did
// besides changing values.
func (e *pushgatewayExporter) reportApplied(ctx context.Context, key groupKey, res *applyResult) {
	e.reportDrops(ctx, res.drops)
	e.reportStale(ctx, key, res.stale)
	e.reportWriterConflicts(ctx, key, res.writerConflicts)
	for _, removed := range []struct {
		reason string
		n      int
	}{{"no_recorded_value", res.ended}, {"series_ttl", res.expired}} {
		if removed.n > 0 {
			e.telemetry.ExporterPushgatewaySeriesRemoved.Add(ctx, int64(removed.n), e.telemetry.exporter,
				metric.WithAttributes(attribute.String("reason", removed.reason)))
		}
	}
	if res.quantilesDropped > 0 {
		e.telemetry.ExporterPushgatewayPointsDropped.Add(ctx, int64(res.quantilesDropped), e.telemetry.exporter,
			metric.WithAttributes(attribute.String("reason", string(dropSummaryQuantiles))))
	}
	if res.group != nil {
		if streak := e.churn.observe(key, res.first, res.last, res.created); streak > 0 {
			e.reportChurn(ctx, key, streak)
		}
	}
}

// reportWriterConflicts counts the points a second live writer took over
// and warns, rate-limited per group and metric, naming what differs
// between the writers.
func (e *pushgatewayExporter) reportWriterConflicts(ctx context.Context, key groupKey, conflicts []writerConflict) {
	if len(conflicts) == 0 {
		return
	}
	e.telemetry.ExporterPushgatewayWriterConflicts.Add(ctx, int64(len(conflicts)), e.telemetry.exporter)
	for _, c := range conflicts {
		if !e.shouldWarn("writer_conflict/"+key.id()+"/"+c.metric, e.clock.Now()) {
			continue
		}
		e.logger.Warn("Several writers feed one series; the newest point wins, so its value flips between them. "+
			"Give each writer its own group (service.instance.id, grouping.instance_attribute or grouping.labels), "+
			"or set aggregation.mode: sum to add them up",
			zap.Stringer("group", key),
			zap.String("metric", c.metric),
			zap.String("series", c.series),
			zap.String("differing_attribute", c.attribute))
	}
}

// reportChurn counts one more run of a job that came with a new instance
// and warns, once per job every warnEvery, once it happened churnWarnAfter
// times in a row.
func (e *pushgatewayExporter) reportChurn(ctx context.Context, key groupKey, streak int) {
	e.telemetry.ExporterPushgatewayInstanceChurn.Add(ctx, 1, e.telemetry.exporter)
	if streak < churnWarnAfter || !e.shouldWarn("instance_churn/"+key[0].value, e.clock.Now()) {
		return
	}
	instance, _ := key.label(instanceLabel)
	e.logger.Warn("Every run of this job comes with a new instance, so each is a new group that the Pushgateway keeps for ever "+
		"(an SDK that makes a random service.instance.id per process does this). "+
		"Set grouping.instance_attribute to a stable attribute (e.g. [k8s.pod.name, host.name]), "+
		"or to \"\" with aggregation.mode: sum (one group per job), or set group_ttl",
		zap.String("job", key[0].value),
		zap.String("instance", instance),
		zap.Int("runs_in_a_row", streak+1))
}

// reportStale counts points older than what their series held, naming
// each series at Debug.
func (e *pushgatewayExporter) reportStale(ctx context.Context, key groupKey, stale []string) {
	if len(stale) == 0 {
		return
	}
	e.telemetry.ExporterPushgatewayStalePoints.Add(ctx, int64(len(stale)), e.telemetry.exporter)
	if e.logger.Core().Enabled(zap.DebugLevel) {
		for _, series := range stale {
			e.logger.Debug("Ignoring a point older than the one held for its series",
				zap.Stringer("group", key), zap.String("series", series))
		}
	}
}

// dropResource counts and reports every point of a refused resource and
// returns how many there were.
func (e *pushgatewayExporter) dropResource(ctx context.Context, rm pmetric.ResourceMetrics) int {
	var (
		drops  []drop
		points int
	)
	sms := rm.ScopeMetrics()
	for i := 0; i < sms.Len(); i++ {
		ms := sms.At(i).Metrics()
		for j := 0; j < ms.Len(); j++ {
			var dc dropCounter
			d := dc.all(ms.At(j), dropInvalidGroup)
			drops = append(drops, d...)
			points += d[0].points
		}
	}
	e.reportDrops(ctx, drops)
	return points
}

// reportRefusedSeries counts the points the series limits refused and
// returns one permanent error per limit that was hit.
func (e *pushgatewayExporter) reportRefusedSeries(ctx context.Context, res applyResult) []error {
	var errs []error
	for _, limit := range []struct {
		key     string
		value   int
		refused int
	}{
		{"max_series", e.cfg.MaxSeries, res.refused},
		{"max_series_per_group", e.cfg.MaxSeriesPerGroup, res.refusedInGroup},
	} {
		if limit.refused == 0 {
			continue
		}
		e.telemetry.ExporterPushgatewaySeriesLimitReached.Add(ctx, int64(limit.refused), e.telemetry.exporter,
			metric.WithAttributes(attribute.String("limit", limit.key)))
		errs = append(errs, consumererror.NewPermanent(fmt.Errorf(
			"%s=%d reached: %d points of new series were dropped; raise %s or reduce series cardinality",
			limit.key, limit.value, limit.refused, limit.key)))
	}
	return errs
}

// reportDrops counts dropped points and warns, rate-limited, naming the
// metric and the reason.
func (e *pushgatewayExporter) reportDrops(ctx context.Context, drops []drop) {
	for _, d := range drops {
		e.telemetry.ExporterPushgatewayPointsDropped.Add(ctx, int64(d.points), e.telemetry.exporter,
			metric.WithAttributes(attribute.String("reason", string(d.reason))))
		if e.shouldWarn(string(d.reason)+"/"+d.metric, e.clock.Now()) {
			e.logger.Warn("Dropping data points that cannot be pushed",
				zap.String("metric", d.metric),
				zap.String("reason", string(d.reason)),
				zap.Int("points", d.points))
		}
	}
}

func (e *pushgatewayExporter) shouldWarn(id string, now time.Time) bool {
	e.warnMu.Lock()
	defer e.warnMu.Unlock()
	if last, ok := e.warned[id]; ok && now.Sub(last) < warnEvery {
		return false
	}
	if !e.warnLimiter.AllowN(now, 1) {
		return false
	}
	if len(e.warned) >= maxWarnedMetrics {
		clear(e.warned)
	}
	e.warned[id] = now
	return true
}
