#!/usr/bin/env bash
# Installs Debian's prometheus-pushgateway when no Pushgateway is on PATH.
set -euo pipefail

if command -v prometheus-pushgateway >/dev/null || command -v pushgateway >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "no Pushgateway on PATH and no apt-get: install a Pushgateway (1.5 or newer) and put it on PATH" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing prometheus-pushgateway with apt-get"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends prometheus-pushgateway
# The package enables a system service on :9091 with its own persistence
# file; the tests and `make run` start their own gateways instead.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus-pushgateway 2>/dev/null; then
  echo "stopping and disabling the prometheus-pushgateway system service the package started"
  $sudo systemctl disable --now prometheus-pushgateway || true
fi
