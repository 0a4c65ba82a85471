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
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/exposition"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/gateway"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/state"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/telemetry"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/translate"
)

// pushgatewayExporter wires the stages a batch goes through: translate
// (OTLP → families, resources → grouping keys), state (fold the families
// into their groups), exposition (a group's body) and gateway (push it).
type pushgatewayExporter struct {
	cfg        *Config
	settings   component.TelemetrySettings
	logger     *zap.Logger
	telemetry  *telemetry.Telemetry
	translator *translate.Translator
	states     *state.Groups
	encoder    exposition.Encoder
	publisher  *gateway.Publisher[*state.Group] // built in start
	lifecycle  *gateway.Lifecycle               // background expiry and resync; nil when off

	// clock is the clock of everything that waits or expires.
	clock gateway.Clock
	churn *state.InstanceChurn

	warnMu      sync.Mutex
	warned      map[string]time.Time // "<reason>/<metric>" → last logged
	warnLimiter *rate.Limiter
}

// newExporter builds the exporter's stages from cfg; clock is the clock of
// everything that waits or expires.
func newExporter(cfg *Config, set exporter.Settings, clock gateway.Clock) (*pushgatewayExporter, error) {
	tb, err := telemetry.New(set.TelemetrySettings, set.ID)
	if err != nil {
		return nil, err
	}
	states := state.New(stateOptions(cfg, clock))
	err = errors.Join(
		tb.RegisterExporterPushgatewaySeriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(states.SeriesCount(), tb.Exporter)
			return nil
		}),
		tb.RegisterExporterPushgatewayGroupsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(states.GroupCount()), tb.Exporter)
			return nil
		}),
	)
	if err != nil {
		return nil, err
	}
	return &pushgatewayExporter{
		cfg:         cfg,
		settings:    set.TelemetrySettings,
		logger:      set.Logger,
		telemetry:   tb,
		translator:  translate.New(translatorOptions(cfg)),
		states:      states,
		encoder:     encoderOf(cfg),
		clock:       clock,
		churn:       state.NewInstanceChurn(),
		warned:      map[string]time.Time{},
		warnLimiter: rate.NewLimiter(1, warnBurst),
	}, nil
}

func (e *pushgatewayExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ToClient(ctx, host.GetExtensions(), e.settings)
	if err != nil {
		return fmt.Errorf("building the HTTP client for %s: %w", gateway.RedactEndpoint(e.cfg.Endpoint), err)
	}
	gw := gateway.NewClient(client, e.cfg.Endpoint, e.cfg.Method.httpMethod(), e.encoder.Format.ContentType())
	e.publisher = gateway.NewPublisher(gw, e.states, e.encode, publisherOptions(e.cfg, e.clock, e.telemetry, e.logger))
	e.lifecycle = gateway.StartLifecycle(e.publisher, gateway.Schedule{
		GroupTTL:       e.cfg.GroupTTL,
		StateTTL:       e.cfg.StateTTL,
		ResyncInterval: e.cfg.ResyncInterval,
	})
	return nil
}

// encode writes the group's body as of its current version.
func (e *pushgatewayExporter) encode(buf *bytes.Buffer, g *state.Group) error {
	return g.Read(func(fams []prom.FamilyView) error { return e.encoder.Encode(buf, fams) })
}

func (e *pushgatewayExporter) shutdown(ctx context.Context) error {
	var err error
	if e.lifecycle != nil {
		e.lifecycle.Stop()
	}
	if e.publisher != nil {
		if e.cfg.DeleteOnShutdown {
			err = e.publisher.DeleteAll(ctx)
		}
		e.publisher.Close()
	}
	e.telemetry.Shutdown()
	return err
}

// touchedGroup is a group a batch updated, the group's version after the
// update, and the batch's resources that went to it (kept for a retry of
// just this group).
type touchedGroup struct {
	group     *state.Group
	version   uint64
	resources []int
}

// pushMetrics folds the batch into the per-group state, then pushes each
// group the batch touched, once, with its complete state. A group the
// gateway refuses does not stop the others. When some groups can be
// retried, only their part of the batch is returned for retry; refusals that
// cannot succeed are logged, counted and dropped.
func (e *pushgatewayExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	if err := e.publisher.Learn(ctx); err != nil {
		return err
	}
	touched, permanent := e.fold(ctx, md)

	changes := make([]gateway.Change[*state.Group], len(touched))
	for i, tg := range touched {
		changes[i] = gateway.Change[*state.Group]{Group: tg.group, Version: tg.version}
	}
	var (
		retryable []error
		retry     = pmetric.NewMetrics()
	)
	for i, err := range e.publisher.PushAll(ctx, changes) {
		tg := touched[i]
		switch {
		case err == nil:
		case consumererror.IsPermanent(err):
			permanent = append(permanent, err)
			e.telemetry.ExporterPushgatewayGroupsRejected.Add(ctx, 1, e.telemetry.Exporter)
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
		byGroup   = map[*state.Group]*touchedGroup{}
		permanent []error
		refused   state.ApplyResult
	)
	sc := scratchPool.Get().(*translate.Scratch)
	defer func() {
		sc.Reset()
		scratchPool.Put(sc)
	}()
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		key, err := e.translator.GroupKey(rm.Resource())
		if err != nil {
			drops, points := translate.DropResource(rm, prom.DropInvalidGroup)
			e.reportDrops(ctx, drops)
			permanent = append(permanent, consumererror.NewPermanent(fmt.Errorf("refusing a resource's %d points: %w", points, err)))
			continue
		}
		fams, drops := e.translator.Resource(rm, sc)
		e.reportDrops(ctx, drops)
		res := e.states.Apply(key, state.WriterOf(rm.Resource()), fams)
		e.reportApplied(ctx, key, &res)
		refused.Refused += res.Refused
		refused.RefusedInGroup += res.RefusedInGroup
		g := res.Group
		if g == nil {
			g = res.Emptied // to be forgotten, and deleted if it was pushed
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
		tg.version = max(tg.version, res.Version)
		tg.resources = append(tg.resources, i)
	}
	return touched, append(permanent, e.reportRefusedSeries(ctx, refused)...)
}

// scratchPool holds the translation buffers of batches being folded.
var scratchPool = sync.Pool{New: func() any { return new(translate.Scratch) }}
