#!/usr/bin/env bash
# Runs the example batch job against the collector and shows what the
# Pushgateway stored. Starts the stack of `make run` for the demo when it
# is not running already.
set -euo pipefail
cd "$(dirname "$0")/.."

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! listening 4318; then
  echo "no collector on 127.0.0.1:4318: starting the stack of make run for this demo (log: _build/demo-stack.log)"
  scripts/run.sh >_build/demo-stack.log 2>&1 &
  stack=$!
  trap 'kill $stack 2>/dev/null; wait $stack 2>/dev/null || true' EXIT
  for _ in $(seq 200); do
    if listening 4318 && listening 9091; then break; fi
    if ! kill -0 "$stack" 2>/dev/null; then
      cat _build/demo-stack.log >&2
      exit 1
    fi
    sleep 0.1
  done
fi

cd examples/batchjob
go run . -otlp 127.0.0.1:4318 -gateway http://127.0.0.1:9091
