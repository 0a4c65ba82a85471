// Package reference is a reference model of the exporter: a second,
// independent statement of what the Pushgateway must hold after a sequence
// of batches and the passing of time — small, slow and meant to be obviously
// right — for a differential test to compare with the exporter after every
// step. It is written from the rules (README.md, docs/MAPPING.md, the OTel
// metrics data model and the corrections C1–C12), never from the exporter's
// code, and recomputes everything with maps and sorting.
//
// A differential test feeds both the same steps:
//
//	m := reference.New(reference.Config{Mode: "sum", TargetInfo: true})
//	var got reference.SimulatedGateway // the exporter's pushes go here
//	m.Export(now, md)                  // and the exporter exports md at now
//	if d := reference.Diff(m.Gateway(), got.Content()); d != "" { t.Fatal(d) }
//
// The rules are stated as doc comments next to the code that implements
// them, in the order data passes through:
//
//   - config.go: the configuration the rules depend on.
//   - groupkey.go: a resource's group (job, instance, grouping labels),
//     and when a resource is refused (invalid_group).
//   - translate.go: metric names (otlptranslator's MetricNamer), types,
//     help, the gateway's own names, and each point type's value and why
//     it may be dropped; target_info (C12).
//   - labels.go: label names (otlptranslator's LabelNamer, C9), values,
//     exported_, merging, extra labels, the limits (C8).
//   - fold.go: writers, streams and series (C4); the latest rule, the delta
//     rule (C7), mode sum's increments (C3) and combined gauges; markers
//     (C1).
//   - native.go, arithmetic.go: adding and subtracting values, native
//     schemas (C5), the classic form of exponential histograms.
//   - model.go: one Export step: groups and families in order, points in
//     time order, name conflicts at a family's birth, the push or delete
//     that ends a step.
//   - conflicts.go: which families the gateway would refuse (C2).
//   - writers.go: target_info of writers a marker ended (C6); forgetting a
//     writer (state_ttl).
//   - expiry.go: series_ttl, and Tick: group_ttl, then state_ttl.
//   - gateway.go: the Pushgateway's semantics (PUT, POST, DELETE, its
//     consistency check), decoding pushed families, the keys.
//   - diff.go: comparing two gateways.
//
// Out of scope (the harness configures them off): max_series and
// max_series_per_group, heartbeat skipping (invisible in content), rate
// limits, retries, delete_on_shutdown, resync. Timestamps are never pushed;
// they only order points.
//
// # Decisions
//
// Where the rules were silent or ambiguous, the model decides so:
//
//   - Empty Method, Mode, Gauges, Strategy take the exporter's defaults (put, none, last, UnderscoreEscapingWithSuffixes); New panics on other unknown values.
//   - A non-empty service.namespace without service.name gives job "namespace/" (the rule read literally); an empty service.name is no service.name.
//   - Every attribute of InstanceAttributes is checked for UTF-8, also those after the one chosen; the length limit applies to every grouping value, a fixed job included.
//   - invalid_group counts each metric's data points (a metric without data as one), markers included.
//   - A metric is checked in the order unknown_type, unspecified_temporality, invalid_name, reserved_name; such a drop counts all its points, markers included.
//   - A non-monotonic Sum is named as a gauge (MetricTypeGauge): unit "1" adds _ratio; a MetricNamer error is invalid_name.
//   - The gateway's own go_* and process_* names are those of client_golang's default Go (memstats) and process collectors, listed in translate.go.
//   - A point is checked in the order invalid_label_name, too_many_labels, label_too_long, then (live points) its value.
//   - A key the LabelNamer refuses drops the point even when its value is empty.
//   - Invalid UTF-8 in a label value: each run of invalid bytes becomes one U+FFFD (strings.ToValidUTF8).
//   - Extra labels (resource attributes, otel_scope_name, otel_scope_version) get exported_ like attributes and merge among themselves in key byte order.
//   - A histogram's bounds are checked even when its counts are empty; an absent sum is 0.
//   - An exponential histogram is checked in the order scale_too_low, zero threshold, count total, bucket index beyond int32 (invalid_histogram).
//   - Exponential histograms are folded as native histograms and turned into classic buckets only when pushed (ClassicExponential): one bucket per non-empty native bucket, the zero bucket always, bounds sorted.
//   - C5's span limit applies to sums only (a single point keeps its schema); a span is last-first+1 buckets; reduction stops at schema -4.
//   - Histogram layouts differ when classic meets native, bounds differ, or zero thresholds differ; a delta of another layout restarts the total in mode none, and in mode sum follows mode sum's rule (bucket_mismatch when other streams have parts).
//   - A restart replaces the value only: every stream keeps its part (end, last point).
//   - "Restarts the total" in mode sum: the total becomes the stream's whole point.
//   - In mode sum a native histogram's reset is a zero threshold changed or any count (zero count, bucket at the coarser schema, count) gone down; a sum going down is no reset.
//   - A delta point of a stream with no part in the series is added whatever its start.
//   - A total's held time, against which a cumulative point may replace it, is its newest point time.
//   - Combined gauges: per stream the latest rule (older: stale; same time: replaces); summed in stream order; NaN passes through max and min (math.Max, math.Min).
//   - target_info is combined with max in mode sum whatever Gauges says, follows the latest rule in mode none, and counts stale and name_conflict like any point.
//   - target_info obeys the label limits: one that breaks them is not emitted, not counted; its name gets no namespace; its time is the newest live point translated for the resource.
//   - "A live point that was translated" (for target_info) means one that survived translation, whatever the fold then did with it.
//   - A marker never makes a family or series; a marker of another type than the family held is ignored; markers are checked by time alone (older than the stream's last point: stale).
//   - A group's last change (group_ttl, state_ttl) is the last step that took a live point or in which a marker ended a part; series_ttl's "taken" counts live points only.
//   - A writer's last batch is the last batch with any translated point of it for the group, stale points and markers included.
//   - A target_info removed by C6 counts as no_recorded_value; the heir writer takes it over.
//   - A combined series removed by state_ttl counts as writer_forgotten (the README's reason); a total forgets the writer's streams (they count whole when they come back); a latest series keeps its holder.
//   - Groups are folded and pushed in the order they first appear in the batch; a group's families are taken in the order they first appear; so the first group of a batch wins a name.
//   - Name conflicts are decided point by point, when a live point would make a family (or change its type): counted per point; the test is the gateway's whole consistency check on the group's next push.
//   - A family changes type only when the new type's point is taken; the new family arrives last (for later conflicts).
//   - A family's help is the description of the last live point taken into it.
//   - A group in which nothing was ever taken is never made (no push, no delete); a group left with no family is deleted (put) even in its first batch.
//   - The series_ttl check runs after the batch is folded; any batch with a translated point for the group counts as folded into it.
//   - A stale point counts as stale, not invalid_point; summary_quantiles counts summary points taken (with at least one quantile).
//   - Tick pushes a group in which it forgot a writer.
//   - Stream identity leaves out scope attributes and the metric's type and unit; attribute sets are compared with their values' types.
//   - Running totals are uint64 and float64: overflow wraps.
//   - The simulated gateway applies the suffix check within a group too (as the Pushgateway's gather does), lets the last family of a name win within a push, treats a pushed family without series as absent (POST: it removes the group's family), and refuses families it cannot read (no name, untyped, a series without its type's value, a label or series twice, native buckets that do not decode, float native counts).
//   - Series keys are the labels as pushed; the grouping labels the gateway adds to each series are not in them.
//
// # Where the written rules disagree
//
//   - The draft names corrections C1–C13; there is no C13.
//   - "The exact go_*/process_* names listed in MAPPING.md": MAPPING.md gives only examples.
//   - The gateway's consistency check says no family of another group may have an owned name, but C2 drops a family that conflicts with an earlier one of its own group (and the Pushgateway refuses both).
//   - The delta rule restarts a total on other bounds "in any mode"; mode sum drops the point (bucket_mismatch) while other streams have parts.
//   - README leaves service.instance.id off target_info always; C12 keeps it when it is not the instance chosen (C12 wins).
package reference
