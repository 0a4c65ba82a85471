#!/usr/bin/env bash
# Builds Pushgateway VERSION from its release tree into OUT_DIR
# (OUT_DIR/prometheus-pushgateway), for the tests' version matrix (make
# pushgateway-release). The tree is not part of this repository: it is
# PUSHGATEWAY_SOURCE/VERSION, built by PUSHGATEWAY_SOURCE/build.sh (Go
# modules from the module proxy; the tree is only read).
#
#   PUSHGATEWAY_SOURCE=DIR scripts/build-pushgateway.sh VERSION OUT_DIR
set -euo pipefail

version=${1:?usage: PUSHGATEWAY_SOURCE=DIR $0 VERSION OUT_DIR}
out=${2:?usage: PUSHGATEWAY_SOURCE=DIR $0 VERSION OUT_DIR}
source_dir=${PUSHGATEWAY_SOURCE:-}

if [ -z "$source_dir" ]; then
  echo "PUSHGATEWAY_SOURCE is not set: set it to the folder holding the Pushgateway's build.sh and $version/ (make passes ../shared/pushgateway beside the checkout)" >&2
  exit 1
fi
if [ ! -f "$source_dir/build.sh" ] || [ ! -d "$source_dir/$version" ]; then
  echo "no Pushgateway $version release tree at PUSHGATEWAY_SOURCE=$source_dir (want build.sh and $version/ there): set PUSHGATEWAY_SOURCE, e.g. make test PUSHGATEWAY_SOURCE=/path/to/pushgateway" >&2
  exit 1
fi

echo "building Pushgateway $version from $source_dir/$version into $out"
bash "$source_dir/build.sh" "$out" "$version"
binary="$out/prometheus-pushgateway"
# What was built must be the version asked for: the matrix names it.
if ! "$binary" --version 2>&1 | grep -q "version $version "; then
  echo "$binary is not Pushgateway $version:" >&2
  "$binary" --version >&2 || true
  rm -f "$binary"
  exit 1
fi
