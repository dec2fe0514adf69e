'use strict';
// Checks one built binary with readelf: a 64-bit shared object for the platform's machine, no
// dynamic dependency outside the platform's C runtime, and for glibc no symbol version newer than
// the one the package promises. Prints one line; exits 1 with the reason when a check fails.
//   node scripts/check-elf.js <platform> <file.node>
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const [platform, file] = process.argv.slice(2);
const expected = {
  'linux-x64-gnu': { machine: 'Advanced Micro Devices X86-64', glibc: '2.17', libs: ['ld-linux-x86-64.so.2'] },
  'linux-arm64-gnu': { machine: 'AArch64', glibc: '2.17', libs: ['ld-linux-aarch64.so.1'] },
  'linux-x64-musl': { machine: 'Advanced Micro Devices X86-64', glibc: null, libs: [] },
  'linux-arm64-musl': { machine: 'AArch64', glibc: null, libs: [] },
}[platform];
if (!expected || !file) {
  console.error('usage: check-elf.js <linux-{x64,arm64}-{gnu,musl}> <file.node>');
  process.exit(2);
}
// glibc's own libraries (split before 2.34, merged into libc after) and the GCC unwinder; musl
// has everything in its libc.so.
const allowed = new Set(
  expected.glibc
    ? ['libc.so.6', 'libm.so.6', 'libpthread.so.0', 'libdl.so.2', 'librt.so.1', 'libgcc_s.so.1', ...expected.libs]
    : ['libc.so', 'libgcc_s.so.1'],
);

const readelf = (...args) => execFileSync('readelf', [...args, '--wide', file], { encoding: 'utf8' });
const header = readelf('-h');
const field = (name) => (header.match(new RegExp(`^\\s*${name}:\\s*(.+)$`, 'm')) || [])[1]?.trim();
const needed = [...readelf('-d').matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
const versions = [...new Set([...readelf('-V').matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]))];
const cmp = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  return 0;
};
const maxGlibc = versions.sort(cmp).at(-1) || null;

const problems = [];
if (field('Class') !== 'ELF64') problems.push(`class ${field('Class')}`);
if (!/^DYN/.test(field('Type') || '')) problems.push(`type ${field('Type')}`);
if (field('Machine') !== expected.machine) problems.push(`machine ${field('Machine')}, expected ${expected.machine}`);
const extra = needed.filter((lib) => !allowed.has(lib));
if (extra.length) problems.push(`unexpected dynamic dependencies: ${extra.join(', ')}`);
if (expected.glibc && (!maxGlibc || cmp(maxGlibc, expected.glibc) > 0)) problems.push(`needs GLIBC_${maxGlibc}, promised ${expected.glibc}`);
if (!expected.glibc && maxGlibc) problems.push(`musl binary has glibc symbol versions (GLIBC_${maxGlibc})`);

const size = fs.statSync(file).size;
console.log(
  `${platform}: ${field('Machine')}, ${(size / 1048576).toFixed(2)} MiB, needs ${needed.join(' ')}` +
    (expected.glibc ? `, GLIBC_${maxGlibc} at most` : ', no glibc symbols') +
    (problems.length ? `\n  FAILED: ${problems.join('; ')}` : ', ok'),
);
process.exit(problems.length ? 1 : 0);
