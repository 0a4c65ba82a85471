#!/usr/bin/env bash
# Runs BenchmarkE2EFleet once per collector or gateway variant (the
# diagnosis of docs/notes/gateway-profile.md) and prints one table of all.
# Each variant runs both sides (hand-written and collector) side by side,
# so its ratios are comparable with the baseline's.
#
#   scripts/fleet-variants.sh [variant ...]     (default: all of them)
#
# FLEET_JOBS (default 500), FLEET_CHECK (default on) and BENCH_COUNT
# (default 3) apply to every variant. Needs the built collector
# (make build); raw output goes to $FLEET_VARIANTS_OUT/<variant>.txt
# (default _build/fleet-variants).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="${FLEET_VARIANTS_OUT:-$root/_build/fleet-variants}"
mkdir -p "$out"
export COLLECTOR_BIN="${COLLECTOR_BIN:-$root/_build/otelcol-pushgateway}"
export FLEET_JOBS="${FLEET_JOBS:-500}" FLEET_CHECK="${FLEET_CHECK:-on}"
count="${BENCH_COUNT:-3}"

# name: the FLEET_* settings of the variant.
declare -A variants=(
	[baseline]=""
	[no-scope-labels]="FLEET_EXPORTER=scope_labels: false"
	[no-target-info]="FLEET_EXPORTER=target_info: false"
	[neither]="FLEET_EXPORTER=scope_labels: false, target_info: false"
	[consumers-1]="FLEET_EXPORTER=sending_queue: {num_consumers: 1}"
	[batch-1s]="FLEET_BATCH_TIMEOUT=1s"
	[batch-50ms]="FLEET_BATCH_TIMEOUT=50ms"
	[batch-size-100]="FLEET_BATCH_SIZE=100"
	[flush-then-shutdown]="FLEET_FLUSH=1"
	[concurrency-16]="FLEET_CONCURRENCY=16"
	[persist-100ms]="FLEET_PERSISTENCE_INTERVAL=100ms"
)
order=(baseline no-scope-labels no-target-info neither consumers-1 batch-1s batch-50ms batch-size-100 flush-then-shutdown concurrency-16 persist-100ms)
if [ $# -gt 0 ]; then
	order=("$@")
fi

for name in "${order[@]}"; do
	if [ -z "${variants[$name]+set}" ]; then
		echo "unknown variant $name; known: ${!variants[*]}" >&2
		exit 1
	fi
	setting="${variants[$name]}"
	echo "== $name ${setting:+($setting)}" >&2
	(
		cd "$root/e2e"
		if [ -n "$setting" ]; then
			export "${setting%%=*}=${setting#*=}"
		fi
		go test -run '^$' -bench BenchmarkE2EFleet -benchtime=1x -count="$count" -timeout=60m .
	) > "$out/$name.txt" 2>&1 || { tail -30 "$out/$name.txt" >&2; exit 1; }
done

for name in "${order[@]}"; do
	sed "s|^BenchmarkE2EFleet/|BenchmarkE2EFleet/$name/|" "$out/$name.txt"
done | "$root/scripts/fleet-table.sh"
