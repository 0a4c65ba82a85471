#!/usr/bin/env bash
# Installs Debian's prometheus package, for promtool (checks and unit tests
# of the alerting rules) and the Prometheus server (the scrape test), when
# either is missing.
set -euo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "no promtool or prometheus on PATH and no apt-get: install Prometheus (2.42 or newer)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing prometheus (promtool) with apt-get"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends prometheus
# The package may enable a system service on :9090; the tests start their
# own Prometheus instead.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  echo "stopping and disabling the prometheus system service the package started"
  $sudo systemctl disable --now prometheus || true
fi
