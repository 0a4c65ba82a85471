#!/usr/bin/env bash
# Builds the collector's container image from the binary `make build` made,
# with buildah and deploy/Dockerfile's `prebuilt` path: no base image, no
# pull. The context is staged in CONTEXT_DIR: the binary, the host's CA
# bundle and deploy/otelcol.yaml.
#
#   IMAGE        the image's name (localhost/otelcol-pushgateway:dev)
#   CONTEXT_DIR  where to stage the context (_build/image)
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-localhost/otelcol-pushgateway:dev}
context=${CONTEXT_DIR:-_build/image}
binary=_build/otelcol-pushgateway
ca_bundle=/etc/ssl/certs/ca-certificates.crt

if ! command -v buildah >/dev/null; then
  echo "no buildah on PATH: run scripts/install-container-tools.sh (make tools does)" >&2
  exit 1
fi
if [ ! -x "$binary" ]; then
  echo "$binary is missing: run make build" >&2
  exit 1
fi
if [ ! -s "$ca_bundle" ]; then
  echo "no CA bundle at $ca_bundle: install the ca-certificates package" >&2
  exit 1
fi

mkdir -p "$context"
cp "$binary" "$context/otelcol-pushgateway"
cp "$ca_bundle" "$context/ca-certificates.crt"
cp deploy/otelcol.yaml "$context/config.yaml"
previous=$(buildah images --quiet --no-trunc "$image" 2>/dev/null || true)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --pull=never: the build must not reach for a registry; scratch needs none.
buildah build --pull=never --layers=false -f deploy/Dockerfile \
  --build-arg BINARY_FROM=prebuilt -t "$image" "$context" 2>&1 | tee "$log"
# buildah 1.28 keeps the stage the final one copies from, as an untagged
# image and a working container; remove both, or every build would leave
# them behind.
for id in $(sed -nE 's/.*STEP 1\/1: FROM ([0-9a-f]{64}) AS binary$/\1/p' "$log"); do
  for container in $(buildah containers --quiet --filter "ancestor=$id" 2>/dev/null); do
    buildah rm "$container" >/dev/null 2>&1 || true
  done
  buildah rmi "$id" >/dev/null 2>&1 || true
done
# The image this tag named before, now untagged.
if [ -n "$previous" ]; then
  buildah rmi "$previous" >/dev/null 2>&1 || true
fi
