'use strict';
// `npm run test:targets`: tests the four Linux binaries that `npm run build:targets` left in
// npm/<platform>/, each with a real Node of its own platform (scripts/targets.js says how), then
// the packaging path end to end (scripts/registry-e2e.js).
//   1. readelf checks (scripts/check-elf.js);
//   2. the loader picks that binary: a copy of the package's JS with only that `.node` beside
//      binding.js, loaded by that platform's Node;
//   3. jest suites in that copy (jest runs in band). On x64 (native speed): the nine suites that
//      spawn no process: JWT verification against local issuers, custom verifiers, the metadata
//      router, attacks, faults, Express 4, the MCP SDK. Under qemu (arm64) that takes 7+ minutes
//      a target, so by default a defined subset runs there: jwt, custom and resource-metadata
//      (JWT verification against the local issuers, custom verifiers, the metadata router);
//      `--all-suites` runs all nine there too. One test of custom.test.js spawns
//      `process.execPath` and is left out: a Node started by qemu or by the musl loader cannot be
//      spawned by path here (no binfmt).
//   node scripts/test-targets.js [platform ...] [--all-suites] [--no-suites] [--no-packaging]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, T, PLATFORMS, nodeCommand } = require('./targets');

const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const platforms = only.length ? only : PLATFORMS;

const SUITES = ['attacks', 'custom', 'express4', 'faults', 'glue', 'introspection', 'jwt', 'mcp', 'resource-metadata'];
const QEMU_SUITES = ['jwt', 'custom', 'resource-metadata'];
const suitesFor = (platform) => (platform.includes('arm64') && !args.includes('--all-suites') ? QEMU_SUITES : SUITES);
const SPAWNING_TEST = 'an error class imported from the ESM entry is the CJS class';
// The package's files a test of the JS surface needs (what `files` ships, plus tests and examples).
const COPY = ['package.json', 'index.js', 'index.mjs', 'index.d.ts', 'lib', 'server-config.js', 'binding.js', 'binding.d.ts', 'bin', '__test__', 'examples', 'fixtures'];

function run(cmd, opts = {}) {
  const started = Date.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { ...r, seconds: Math.round((Date.now() - started) / 1000) };
}

function fail(message, output) {
  if (output) console.error(output.slice(-6000));
  console.error(`test:targets FAILED: ${message}`);
  process.exit(1);
}

function stage(platform) {
  const dir = path.join(T, 'stage', platform);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of COPY) fs.cpSync(path.join(ROOT, f), path.join(dir, f), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const file = `mcp-auth-native.${platform}.node`;
  fs.copyFileSync(path.join(ROOT, 'npm', platform, file), path.join(dir, file));
  return dir;
}

const PROBE = `
const auth = require('./index.js');
const loaded = Object.keys(require.cache).filter((k) => k.endsWith('.node'));
const report = process.report.getReport();
console.log(JSON.stringify({ arch: process.arch, glibc: report.header.glibcVersionRuntime || null, node: process.version, loaded, exports: Object.keys(auth).length }));
`;

// The runtimes (qemu, sysroots, Node builds); quick when they are there already.
const setup = spawnSync('bash', [path.join(__dirname, 'targets-setup.sh')], { stdio: 'inherit' });
if (setup.status !== 0) fail('scripts/targets-setup.sh');

const results = [];
for (const platform of platforms) {
  const bin = path.join(ROOT, 'npm', platform, `mcp-auth-native.${platform}.node`);
  if (!fs.existsSync(bin)) fail(`${bin} is missing: run npm run build:targets first`);
  const elf = run([process.execPath, path.join(__dirname, 'check-elf.js'), platform, bin]);
  process.stdout.write(elf.stdout);
  if (elf.status !== 0) fail(`${platform}: readelf check`);

  const dir = stage(platform);
  const env = { ...process.env, NODE_PATH: path.join(T, 'node_path'), FORCE_COLOR: '0' };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  const probe = run(nodeCommand(platform, ['-e', PROBE]), { cwd: dir, env });
  if (probe.status !== 0) fail(`${platform}: loading the package`, probe.stdout + probe.stderr);
  const seen = JSON.parse(probe.stdout.trim().split('\n').pop());
  const [, cpu, abi] = platform.split('-');
  const want = path.join(dir, `mcp-auth-native.${platform}.node`);
  if (seen.arch !== cpu) fail(`${platform}: Node reports arch ${seen.arch}`);
  if ((abi === 'musl') !== (seen.glibc === null)) fail(`${platform}: Node reports glibc ${seen.glibc}`);
  if (seen.loaded.length !== 1 || seen.loaded[0] !== want) fail(`${platform}: loaded ${seen.loaded.join(', ')}, expected ${want}`);
  console.log(`${platform}: Node ${seen.node} (${seen.arch}, ${seen.glibc ? `glibc ${seen.glibc}` : 'musl'}) loaded ${path.basename(want)}, ${seen.exports} exports`);

  const result = { platform, node: seen.node, libc: seen.glibc ? `glibc ${seen.glibc}` : 'musl' };
  if (!args.includes('--no-suites')) {
    const jest = [path.join(ROOT, 'node_modules/jest/bin/jest.js'), '--ci', '--runInBand', '--testTimeout=60000'];
    const pattern = `^(?!.*${SPAWNING_TEST})`;
    const names = suitesFor(platform);
    const suites = names.map((s) => `__test__/${s}.test.js`);
    const r = run(nodeCommand(platform, [...jest, '-t', pattern, ...suites]), { cwd: dir, env });
    const summary = (r.stderr.match(/^Tests:.*$/m) || ['Tests: (no summary)'])[0];
    const suitesLine = (r.stderr.match(/^Test Suites:.*$/m) || [''])[0];
    console.log(`${platform}: jest ${names.join(', ')} in ${r.seconds}s: ${summary.replace(/^Tests:\s*/, '')}`);
    if (r.status !== 0 || !/ passed/.test(summary) || / failed/.test(summary)) fail(`${platform}: jest (${suitesLine})`, r.stderr);
    result.tests = `${names.length} suites: ${summary.replace(/^Tests:\s*/, '')}`;
    result.passed = Number((summary.match(/(\d+) passed/) || [0, 0])[1]);
    result.seconds = r.seconds;
  }
  results.push(result);
  fs.rmSync(dir, { recursive: true, force: true });
}

let packaging = { passes: 0, failures: 0 };
if (!args.includes('--no-packaging')) {
  const started = Date.now();
  const e2e = spawnSync(process.execPath, [path.join(__dirname, 'registry-e2e.js')], { stdio: 'inherit' });
  if (e2e.status !== 0) fail('packaging path (registry-e2e.js)');
  packaging = JSON.parse(fs.readFileSync(path.join(T, 'packaging-result.json'), 'utf8'));
  packaging.seconds = Math.round((Date.now() - started) / 1000);
}

console.log('\nsummary');
for (const r of results) console.log(`  ${r.platform.padEnd(17)} Node ${r.node} ${r.libc.padEnd(11)} ${r.tests ? `${r.tests} (${r.seconds}s)` : ''}`);
if (!args.includes('--no-packaging')) console.log(`  packaging path    ${packaging.passes} checks passed (${packaging.seconds}s)`);
const line = `targets: ${results.reduce((n, r) => n + (r.passed || 0), 0) + packaging.passes} passed, 0 failed`;
fs.writeFileSync(path.join(T, 'summary.txt'), `${line}\n`);
console.log(line);
