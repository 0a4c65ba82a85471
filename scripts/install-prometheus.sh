#!/usr/bin/env bash
# Installs Debian's prometheus package, for promtool (checks and unit tests
# of the alerting rules) and the Prometheus server (the scrape test), when
# either is missing.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  exit 0
fi
apt_install prometheus
# The package may enable a system service on :9090.
stop_service prometheus
