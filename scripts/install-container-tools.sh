#!/usr/bin/env bash
# Installs Debian's buildah (builds the image), podman (runs it) and runc
# when any is missing. runc, not podman's default crun: crun refuses hosts
# whose cgroup v2 hierarchy holds controllers beside cgroup v1 ("cgroups in
# hybrid mode not supported"), and runc runs there.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

missing=()
for tool in buildah podman runc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
apt_install "${missing[@]}"
