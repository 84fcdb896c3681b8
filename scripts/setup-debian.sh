#!/usr/bin/env bash
# Installs what a fresh Debian 12 (bookworm) machine lacks to run cosyvoice-webgpu and its tests:
#  - Mesa's lavapipe Vulkan driver from bookworm-backports (Dawn rejects bookworm's stock Mesa 22.3),
#  - Debian's Chromium for the browser tests (never a downloaded browser),
# then the npm dependencies (ONNX Runtime's optional binary download skipped: its CPU and WebGPU providers ship
# inside the npm package). Safe to run twice.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

if ! apt-cache policy 2>/dev/null | grep -q bookworm-backports; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers
$SUDO apt-get install -y -q chromium

ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
