#!/usr/bin/env bash
# Summarises BenchmarkE2EFleet output (go test -bench, any -count) as one
# table row per sub-benchmark: the median of its runs for every figure.
# Ratios are the medians of each run's own ratio (both sides of a run ran
# side by side), not ratios of medians.
#
#   scripts/fleet-table.sh bench-fleet.txt      or      ... | scripts/fleet-table.sh
set -euo pipefail

awk '
function median(key,    n, i, j, v, tmp) {
	n = count[key]
	if (n == 0) return "-"
	for (i = 1; i <= n; i++) v[i] = vals[key, i]
	for (i = 2; i <= n; i++) {            # insertion sort: a handful of runs
		tmp = v[i]
		for (j = i - 1; j >= 1 && v[j] > tmp; j--) v[j + 1] = v[j]
		v[j + 1] = tmp
	}
	if (n % 2) return v[(n + 1) / 2]
	return (v[n / 2] + v[n / 2 + 1]) / 2
}
function worst(key,    i, m) {
	if (count[key] == 0) return "-"
	m = vals[key, 1]
	for (i = 2; i <= count[key]; i++) if (vals[key, i] > m) m = vals[key, i]
	return sprintf("%.2f", m)
}
function cell(name, unit, fmt,    m) {
	m = median(name SUBSEP unit)
	return m == "-" ? m : sprintf(fmt, m)
}
/^BenchmarkE2EFleet\// {
	name = $1
	sub(/^BenchmarkE2EFleet\//, "", name)
	sub(/-[0-9]+$/, "", name)             # the GOMAXPROCS suffix
	if (!(name in runs)) order[++names] = name
	runs[name]++
	for (i = 3; i < NF; i += 2) {
		key = name SUBSEP $(i + 1)
		vals[key, ++count[key]] = $i
	}
}
END {
	if (names == 0) { print "no BenchmarkE2EFleet results" > "/dev/stderr"; exit 1 }
	printf "| %-34s | %4s | %17s | %19s | %7s | %7s | %22s | %7s | %7s | %9s | %7s |\n",
		"fleet", "runs", "pushes h/o/s", "wall s h/o/s", "o/h", "o/s",
		"gateway CPU s h/o/s", "o/h", "o/s", "coll. CPU s", "stall s"
	printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"
	for (k = 1; k <= names; k++) {
		n = order[k]
		printf "| %-34s | %4d | %17s | %19s | %7s | %7s | %22s | %7s | %7s | %9s | %7s |\n", n, runs[n],
			cell(n, "hand-pushes", "%.0f") " / " cell(n, "otel-pushes", "%.0f") " / " cell(n, "same-pushes", "%.0f"),
			cell(n, "hand-wall-s", "%.2f") " / " cell(n, "otel-wall-s", "%.2f") " / " cell(n, "same-wall-s", "%.2f"),
			cell(n, "wall-ratio", "%.2f"), cell(n, "same-wall-ratio", "%.2f"),
			cell(n, "hand-gw-cpu-s", "%.2f") " / " cell(n, "otel-gw-cpu-s", "%.2f") " / " cell(n, "same-gw-cpu-s", "%.2f"),
			cell(n, "gw-cpu-ratio", "%.2f"), cell(n, "same-gw-cpu-ratio", "%.2f"),
			cell(n, "collector-cpu-s", "%.2f"), worst(n SUBSEP "stall-s")
	}
	print ""
	print "h = hand-written (client_golang push); o = OTel SDK → collector → exporter; s = hand-written carrying what o carries"
	print "(the scope labels on every series, a target_info series); o/h and o/s: the median of each run'"'"'s own ratio;"
	print "stall: the longest the harness went unscheduled in any run (above 0.5 s, that run'"'"'s times are suspect)."
}
' "${1:--}"
