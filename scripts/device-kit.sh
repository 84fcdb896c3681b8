#!/usr/bin/env bash
# Packs what a lent GPU machine needs to run this repository's GPU checks into .dev/ and .gl/ (both git-ignored).
# That machine is x86-64, has no network and gets only the working tree plus the paths a `device` run carries
# (64 MiB in all), so everything travels from here:
#   .dev/node.xz               this machine's Node binary, stripped
#   .dev/node_modules.tar.xz   node_modules without other platforms' native builds and build-only packages
#   .dev/shared.tar.xz         ../shared/fixtures/tiny-cosyvoice3 (the tests read ../shared)
#   .gl/*.deb                  the Vulkan loader and GL dispatch libraries (amd64), unpacked at / there
#   kernels/wasm/build         the WASM kernels (npm run build:wasm; the HiFT F0 tests need them)
# Then: device run with carry [".dev", ".gl", "kernels/wasm/build"] and command `bash bench/card-run.sh`.
# Run after `npm ci` (scripts/setup-debian.sh), as root (apt-get download).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || { echo "device-kit: run npm ci first" >&2; exit 1; }
rm -rf .dev .gl
mkdir -p .dev .gl

strip -o .dev/node "$(command -v node)"
xz -T0 -9e .dev/node

ORT=node_modules/onnxruntime-node/bin/napi-v6
tar -c \
  --exclude="$ORT/darwin" --exclude="$ORT/win32" --exclude="$ORT/linux/arm64" \
  --exclude='node_modules/webgpu/dist/win32-*' --exclude='node_modules/webgpu/dist/darwin-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/binaryen' --exclude='node_modules/assemblyscript' --exclude='node_modules/typescript' \
  --exclude='node_modules/playwright-core' --exclude='node_modules/@types' --exclude='node_modules/protobufjs/cli' \
  --exclude='*.map' --exclude='*.d.ts' --exclude='*.md' \
  node_modules | xz -T0 -9e > .dev/node_modules.tar.xz

# The card's tests read the tiny model; the torch RNG fixtures are for CPU tests.
tar -C .. -c --exclude=shared/fixtures/torch-rng shared/fixtures | xz -T0 -9e > .dev/shared.tar.xz

npm run --silent build:wasm

o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
# shellcheck disable=SC2086
apt-get $o -qq update
# shellcheck disable=SC2086
(cd .gl && apt-get $o -qq download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)

du -sh .dev .gl kernels/wasm/build
total=$(du -cb .dev .gl kernels/wasm/build | tail -1 | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
echo "device-kit: carried $((total / 1048576)) MiB + tracked files $((tree / 1048576)) MiB (the limit is 64 MiB)"
