// Command batchjob is the demo behind `make demo`: a short-lived batch job
// that records a few metrics with the OpenTelemetry Go SDK, sends them once
// over OTLP/HTTP to a collector running the pushgateway exporter, and then
// prints what the Pushgateway holds for the job's group
// (job="demo/nightly-etl", instance="worker-1").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// job is the Pushgateway job the exporter derives from the resource:
// service.namespace + "/" + service.name.
const job = "demo/nightly-etl"

func main() {
	endpoint := flag.String("otlp", "127.0.0.1:4318", "collector's OTLP/HTTP endpoint (host:port, plain HTTP)")
	gateway := flag.String("gateway", "http://127.0.0.1:9091", "Pushgateway base URL")
	wait := flag.Duration("wait", 15*time.Second, "how long to wait for the data to show up at the Pushgateway")
	rows := flag.Int("rows", 1200, "rows the job pretends to process")
	flag.Parse()

	if err := run(context.Background(), *endpoint, *gateway, *wait, int64(*rows)); err != nil {
		fmt.Fprintf(os.Stderr, "batchjob: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, endpoint, gateway string, wait time.Duration, rows int64) error {
	if rows <= 0 {
		return errors.New("-rows must be positive")
	}
	exporter, err := otlpmetrichttp.New(ctx,
		otlpmetrichttp.WithEndpoint(endpoint),
		otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{
			Enabled:         true,
			InitialInterval: 500 * time.Millisecond,
			MaxInterval:     2 * time.Second,
			MaxElapsedTime:  5 * time.Second,
		}))
	if err != nil {
		return fmt.Errorf("creating the otlp exporter: %w", err)
	}
	provider := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exporter)),
		sdkmetric.WithResource(resource.NewSchemaless(
			attribute.String("service.name", "nightly-etl"),
			attribute.String("service.namespace", "demo"),
			attribute.String("service.instance.id", "worker-1"),
		)))
	start := time.Now()
	if err := record(ctx, provider.Meter("nightly-etl"), rows); err != nil {
		return err
	}

	// Shutdown flushes: it collects once more and exports before returning.
	flushCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := provider.Shutdown(flushCtx); err != nil {
		return fmt.Errorf("exporting to %s: %w\nis the collector running? start it with make run", endpoint, err)
	}
	fmt.Printf("Sent the metrics to the collector at %s.\n\n", endpoint)
	return show(ctx, gateway, wait, float64(rows), start)
}

// record does the job's "work". All values are deterministic.
func record(ctx context.Context, meter metric.Meter, rows int64) error {
	processed, err1 := meter.Int64Counter("etl.rows.processed",
		metric.WithUnit("{row}"), metric.WithDescription("Rows the job processed."))
	inFlight, err2 := meter.Int64UpDownCounter("etl.batches.in_flight",
		metric.WithUnit("{batch}"), metric.WithDescription("Batches started and not yet finished."))
	memory, err3 := meter.Float64Gauge("etl.memory.usage",
		metric.WithUnit("By"), metric.WithDescription("Memory the job used at its peak."))
	duration, err4 := meter.Float64Histogram("etl.batch.duration",
		metric.WithUnit("s"), metric.WithDescription("Time to process one batch."),
		metric.WithExplicitBucketBoundaries(0.1, 0.5, 1, 2.5, 5))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("creating instruments: %w", err)
	}

	// Two thirds of the rows are orders, the rest customers, in steps of 500.
	process := func(table string, n int64) {
		for done := int64(0); done < n; done += 500 {
			processed.Add(ctx, min(500, n-done), metric.WithAttributes(attribute.String("table", table)))
		}
	}
	process("orders", rows*2/3)
	process("customers", rows-rows*2/3)
	inFlight.Add(ctx, 3)
	inFlight.Add(ctx, -1)
	memory.Record(ctx, 73400320)
	for _, d := range []float64{0.05, 0.3, 0.7, 0.9, 1.8, 3.2} {
		duration.Record(ctx, d)
	}
	return nil
}

// show polls the Pushgateway until the job's group was pushed after start
// and its etl_rows_processed_total adds up to rows (an earlier run's group
// could hold the same values), then prints the job's metric families.
func show(ctx context.Context, gateway string, wait time.Duration, rows float64, start time.Time) error {
	metricsURL, err := url.JoinPath(gateway, "metrics")
	if err != nil {
		return fmt.Errorf("bad -gateway: %w", err)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	timeout := time.After(wait)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		families, err := scrape(ctx, client, metricsURL)
		if err == nil && rowsProcessed(families) == rows && pushedSince(families, start) {
			fmt.Printf("Pushgateway %s holds, for job=%q:\n", gateway, job)
			printFamilies(families)
			return nil
		}
		select {
		case <-tick.C:
			continue
		case <-timeout:
		}
		if len(families) > 0 {
			fmt.Printf("Pushgateway %s holds only this, for job=%q:\n", gateway, job)
			printFamilies(families)
		}
		return errors.Join(fmt.Errorf("the job's %v rows did not show up at %s within %v", rows, gateway, wait), err)
	}
}

// scrape fetches the gateway's exposition and keeps the job's samples.
func scrape(ctx context.Context, client *http.Client, metricsURL string) ([]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", metricsURL, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	all, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", metricsURL, err)
	}
	var families []*dto.MetricFamily
	for _, name := range slices.Sorted(maps.Keys(all)) {
		mf := all[name]
		mf.Metric = slices.DeleteFunc(mf.Metric, func(m *dto.Metric) bool {
			return !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool {
				return l.GetName() == "job" && l.GetValue() == job
			})
		})
		if len(mf.Metric) > 0 {
			families = append(families, mf)
		}
	}
	return families, nil
}

// rowsProcessed sums etl_rows_processed_total over all its series, or
// returns -1 if the family is missing.
func rowsProcessed(families []*dto.MetricFamily) float64 {
	i := slices.IndexFunc(families, func(mf *dto.MetricFamily) bool {
		return mf.GetName() == "etl_rows_processed_total"
	})
	if i < 0 {
		return -1
	}
	var sum float64
	for _, m := range families[i].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum
}

// pushedSince reports whether the gateway's push_time_seconds for the job
// is not older than start (to the second: the gateway's clock is ours).
func pushedSince(families []*dto.MetricFamily, start time.Time) bool {
	for _, mf := range families {
		if mf.GetName() != "push_time_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetGauge().GetValue() >= float64(start.Unix()) {
				return true
			}
		}
	}
	return false
}

func printFamilies(families []*dto.MetricFamily) {
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(os.Stdout, mf); err != nil {
			fmt.Fprintf(os.Stderr, "batchjob: printing %s: %v\n", mf.GetName(), err)
		}
	}
}
