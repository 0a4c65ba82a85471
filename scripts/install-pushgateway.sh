#!/usr/bin/env bash
# Installs Debian's prometheus-pushgateway when no Pushgateway is on PATH.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

if command -v prometheus-pushgateway >/dev/null || command -v pushgateway >/dev/null; then
  exit 0
fi
apt_install prometheus-pushgateway
# The package enables a system service on :9091 with its own persistence
# file.
stop_service prometheus-pushgateway
