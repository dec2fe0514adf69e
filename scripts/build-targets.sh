#!/usr/bin/env bash
# Builds the four Linux binaries with cargo-zigbuild and zig (installed by scripts/targets-setup.sh
# into .targets/), one after another, each into npm/<platform>/, then checks each with readelf
# (scripts/check-elf.js). Release profile unless `--profile NAME` is given (CI uses a profile that
# compiles faster; published binaries are always built by the release workflow in release mode).
#   npm run build:targets [-- --profile ci-targets] [-- linux-x64-gnu ...]
set -euo pipefail
cd "$(dirname "$0")/.."
T=$PWD/.targets
# The build tools (Rust targets, zig venv); quick when they are there already.
bash scripts/targets-setup.sh --build-only
export PATH="$T/venv/bin:$PATH"

profile=(--release)
only=()
while [ $# -gt 0 ]; do
  case $1 in
    --profile) profile=(--profile "$2"); shift 2 ;;
    *) only+=("$1"); shift ;;
  esac
done

# platform dir -> Rust target (with the glibc version zig links against, for gnu)
declare -A triple=(
  [linux-x64-gnu]=x86_64-unknown-linux-gnu.2.17
  [linux-arm64-gnu]=aarch64-unknown-linux-gnu.2.17
  [linux-x64-musl]=x86_64-unknown-linux-musl
  [linux-arm64-musl]=aarch64-unknown-linux-musl
)
platforms=(linux-x64-gnu linux-arm64-gnu linux-x64-musl linux-arm64-musl)
[ ${#only[@]} -gt 0 ] && platforms=("${only[@]}")

for p in "${platforms[@]}"; do
  t=${triple[$p]:?unknown platform $p}
  start=$SECONDS
  out="$T/out/$p"
  rm -rf "$out"
  # A target dir of its own, so these builds never invalidate the host build in target/.
  npx napi build --platform "${profile[@]}" --target "$t" -x --target-dir target/zig \
    --output-dir "$out" --no-js --dts "$out/binding.d.ts" >"$T/build-$p.log" 2>&1 \
    || { tail -40 "$T/build-$p.log" >&2; exit 1; }
  mv "$out/mcp-auth-native.$p.node" "npm/$p/"
  printf '%-17s built in %4ss  ' "$p" "$((SECONDS - start))"
  node scripts/check-elf.js "$p" "npm/$p/mcp-auth-native.$p.node"
done
