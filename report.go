package pushgatewayexporter // import "github.com/pushgatewayexporter/pushgatewayexporter"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/pushgatewayexporter/pushgatewayexporter/internal/prom"
	"github.com/pushgatewayexporter/pushgatewayexporter/internal/state"
)

// What the exporter tells the operator besides pushing: its own telemetry
// and its warnings, each about one group, metric or limit.

// Drop warnings are rate-limited: one per metric and reason every
// warnEvery, and at most warnBurst at once then one per second overall, so
// a sender of many bad metrics cannot flood the log. maxWarnedMetrics
// bounds the metrics remembered; beyond it the memory starts afresh.
const (
	warnEvery        = 10 * time.Minute
	warnBurst        = 10
	maxWarnedMetrics = 10000
)

// reportApplied reports what folding one resource into its group did
// besides changing values.
func (e *pushgatewayExporter) reportApplied(ctx context.Context, key prom.GroupKey, res *state.ApplyResult) {
	e.reportDrops(ctx, res.Drops)
	e.reportStale(ctx, key, res.Stale)
	e.reportWriterConflicts(ctx, key, res.WriterConflicts)
	for _, removed := range []struct {
		reason string
		n      int
	}{{"no_recorded_value", res.Ended}, {"series_ttl", res.Expired}} {
		if removed.n > 0 {
			e.telemetry.ExporterPushgatewaySeriesRemoved.Add(ctx, int64(removed.n), e.telemetry.Exporter,
				metric.WithAttributes(attribute.String("reason", removed.reason)))
		}
	}
	if res.QuantilesDropped > 0 {
		e.telemetry.ExporterPushgatewayPointsDropped.Add(ctx, int64(res.QuantilesDropped), e.telemetry.Exporter,
			metric.WithAttributes(attribute.String("reason", string(prom.DropSummaryQuantiles))))
	}
	if res.Group != nil {
		if streak := e.churn.Observe(key, res.First, res.Last, res.Created); streak > 0 {
			e.reportChurn(ctx, key, streak)
		}
	}
}

// reportWriterConflicts counts the points a second live writer took over
// and warns, rate-limited per group and metric, naming what differs
// between the writers.
func (e *pushgatewayExporter) reportWriterConflicts(ctx context.Context, key prom.GroupKey, conflicts []state.WriterConflict) {
	if len(conflicts) == 0 {
		return
	}
	e.telemetry.ExporterPushgatewayWriterConflicts.Add(ctx, int64(len(conflicts)), e.telemetry.Exporter)
	for _, c := range conflicts {
		if !e.shouldWarn("writer_conflict/"+key.ID()+"/"+c.Metric, e.clock.Now()) {
			continue
		}
		e.logger.Warn("Several writers feed one series; the newest point wins, so its value flips between them. "+
			"Give each writer its own group (service.instance.id, grouping.instance_attribute or grouping.labels), "+
			"or set aggregation.mode: sum to add them up",
			zap.Stringer("group", key),
			zap.String("metric", c.Metric),
			zap.String("series", c.Series),
			zap.String("differing_attribute", c.Attribute))
	}
}

// reportChurn counts one more run of a job that came with a new instance
// and warns, once per job every warnEvery, once it happened churnWarnAfter
// times in a row.
func (e *pushgatewayExporter) reportChurn(ctx context.Context, key prom.GroupKey, streak int) {
	e.telemetry.ExporterPushgatewayInstanceChurn.Add(ctx, 1, e.telemetry.Exporter)
	if streak < state.ChurnWarnAfter || !e.shouldWarn("instance_churn/"+key.Job(), e.clock.Now()) {
		return
	}
	instance, _ := key.Label(prom.InstanceLabel)
	e.logger.Warn("Every run of this job comes with a new instance, so each is a new group that the Pushgateway keeps for ever "+
		"(an SDK that makes a random service.instance.id per process does this). "+
		"Set grouping.instance_attribute to a stable attribute (e.g. [k8s.pod.name, host.name]), "+
		"or to \"\" with aggregation.mode: sum (one group per job), or set group_ttl",
		zap.String("job", key.Job()),
		zap.String("instance", instance),
		zap.Int("runs_in_a_row", streak+1))
}

// reportStale counts points older than what their series held, naming
// each series at Debug.
func (e *pushgatewayExporter) reportStale(ctx context.Context, key prom.GroupKey, stale []string) {
	if len(stale) == 0 {
		return
	}
	e.telemetry.ExporterPushgatewayStalePoints.Add(ctx, int64(len(stale)), e.telemetry.Exporter)
	if e.logger.Core().Enabled(zap.DebugLevel) {
		for _, series := range stale {
			e.logger.Debug("Ignoring a point older than the one held for its series",
				zap.Stringer("group", key), zap.String("series", series))
		}
	}
}

// reportRefusedSeries counts the points the series limits refused and
// returns one permanent error per limit that was hit.
func (e *pushgatewayExporter) reportRefusedSeries(ctx context.Context, res state.ApplyResult) []error {
	var errs []error
	for _, limit := range []struct {
		key     string
		value   int
		refused int
	}{
		{"max_series", e.cfg.MaxSeries, res.Refused},
		{"max_series_per_group", e.cfg.MaxSeriesPerGroup, res.RefusedInGroup},
	} {
		if limit.refused == 0 {
			continue
		}
		e.telemetry.ExporterPushgatewaySeriesLimitReached.Add(ctx, int64(limit.refused), e.telemetry.Exporter,
			metric.WithAttributes(attribute.String("limit", limit.key)))
		errs = append(errs, consumererror.NewPermanent(fmt.Errorf(
			"%s=%d reached: %d points of new series were dropped; raise %s or reduce series cardinality",
			limit.key, limit.value, limit.refused, limit.key)))
	}
	return errs
}

// reportDrops counts dropped points and warns, rate-limited, naming the
// metric and the reason.
func (e *pushgatewayExporter) reportDrops(ctx context.Context, drops []prom.Drop) {
	for _, d := range drops {
		e.telemetry.ExporterPushgatewayPointsDropped.Add(ctx, int64(d.Points), e.telemetry.Exporter,
			metric.WithAttributes(attribute.String("reason", string(d.Reason))))
		if e.shouldWarn(string(d.Reason)+"/"+d.Metric, e.clock.Now()) {
			e.logger.Warn("Dropping data points that cannot be pushed",
				zap.String("metric", d.Metric),
				zap.String("reason", string(d.Reason)),
				zap.Int("points", d.Points))
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
