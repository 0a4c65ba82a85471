#!/usr/bin/env bash
# Installs Prometheus 3 (VERSION, e.g. 3.16.0) into OUT_DIR with go
# install, for the deploy tests' end to end check with Prometheus 3
# (deploy/prometheus3_test.go); Debian's prometheus package is 2.42.
# Prometheus 3.X.Y is the Go module version v0.3XX.Y; the version is
# stamped into the binary, as a release's is, so the test can check it.
#
#   scripts/install-prometheus3.sh VERSION OUT_DIR
set -euo pipefail

version=${1:?usage: $0 VERSION OUT_DIR}
out=${2:?usage: $0 VERSION OUT_DIR}
IFS=. read -r major minor patch <<<"$version"
if [ "$major" != 3 ] || ! [[ "$minor" =~ ^[0-9]+$ && "$patch" =~ ^[0-9]+$ ]]; then
  echo "Prometheus $version: want 3.MINOR.PATCH" >&2
  exit 1
fi
module_version=$(printf 'v0.%d%02d.%d' "$major" "$minor" "$patch")

mkdir -p "$out"
out=$(cd "$out" && pwd)
echo "installing Prometheus $version (github.com/prometheus/prometheus $module_version) into $out"
GOBIN="$out" go install \
  -ldflags "-X github.com/prometheus/common/version.Version=$version" \
  "github.com/prometheus/prometheus/cmd/prometheus@$module_version"
"$out/prometheus" --version | head -1
