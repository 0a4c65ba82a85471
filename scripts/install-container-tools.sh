#!/usr/bin/env bash
# Installs Debian's buildah (builds the image), podman (runs it) and runc
# when any is missing. runc, not podman's default crun: crun refuses hosts
# whose cgroup v2 hierarchy holds controllers beside cgroup v1 ("cgroups in
# hybrid mode not supported"), and runc runs there.
set -euo pipefail

missing=()
for tool in buildah podman runc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "missing ${missing[*]} and no apt-get: install them from your distribution" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "installing ${missing[*]} with apt-get"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
