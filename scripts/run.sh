#!/usr/bin/env bash
# Starts a Pushgateway on 127.0.0.1:9091 and the collector built by ocb with
# config/otelcol.yaml, in the foreground. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

collector=_build/otelcol-pushgateway
config=${CONFIG:-config/otelcol.yaml}
pushgateway=$(command -v prometheus-pushgateway || command -v pushgateway || true)
if [ -z "$pushgateway" ]; then
  echo "no Pushgateway on PATH: run make tools" >&2
  exit 1
fi
if [ ! -x "$collector" ]; then
  echo "$collector is missing: run make build" >&2
  exit 1
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in 9091 4317 4318 8888 13133; do
  if listening "$port"; then
    echo "127.0.0.1:$port is already in use (an earlier make run, or a system service?); stop it first" >&2
    exit 1
  fi
done

pids=()
stop() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$pushgateway" --web.listen-address=127.0.0.1:9091 \
  --persistence.file=_build/pushgateway.data --persistence.interval=5s \
  >_build/pushgateway.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  listening 9091 && break
  sleep 0.1
done
listening 9091 || { echo "the Pushgateway did not start; see _build/pushgateway.log" >&2; exit 1; }

cat <<MSG
Pushgateway   http://127.0.0.1:9091   (UI; what Prometheus scrapes: /metrics)
              log: _build/pushgateway.log, persistence: _build/pushgateway.data
Collector     OTLP gRPC 127.0.0.1:4317, OTLP HTTP http://127.0.0.1:4318
              its own metrics: http://127.0.0.1:8888/metrics, config: $config
              health check: http://127.0.0.1:13133/
Send data     OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 with any OTel SDK, or: make demo
Stop          Ctrl-C
MSG

"$collector" --config "$config" &
pids+=($!)
wait -n "${pids[@]}"
