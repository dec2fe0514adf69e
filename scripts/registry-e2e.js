'use strict';
// The packaging path end to end, as a release publishes it and a user installs it:
//   1. a copy of the package gets its optionalDependencies from `napi prepublish` (as the release
//      workflow runs it), then `npm pack` packs the root and each npm/<platform>/ package;
//   2. a loopback registry (scripts/registry.js) serves those nine tarballs and nothing else;
//   3. for each platform, `npm install mcp-auth-native --os --cpu [--libc]` in a fresh project:
//      npm must print nothing on stderr (no install-script warning), and install the root and that
//      platform's package, and no other platform's;
//   4. for the four Linux platforms, that platform's Node runs a protected request in the project
//      (scripts/protected-request.js) and must load the binary from the installed platform package.
//      darwin and win32 binaries are not built here (the release workflow builds them): in this
//      test their packages carry a stand-in text file under the binary's name, so that
//      `napi prepublish` (which insists every package is complete) runs over all eight, and only
//      npm's choice of package is checked for them.
//   5. a platform with no binary (linux riscv64, faked): npm refuses the install (EBADPLATFORM, from
//      the root's os/cpu); with --force, require('mcp-auth-native') throws the error of lib/native.js.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, PLATFORMS, nodeCommand, npmFlags } = require('./targets');
const { startRegistry } = require('./registry');

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const ALL = fs.readdirSync(path.join(ROOT, 'npm')).sort();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-native-registry-'));
let failures = 0;
let passes = 0;

// Asynchronous: the registry answers from this same process while npm runs.
function run(cmd, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
function check(ok, message, detail = '') {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${message}${!ok && detail ? `\n${String(detail).slice(-3000)}` : ''}`);
  if (ok) passes++;
  else failures++;
}
async function pack(dir) {
  const r = await run(['npm', 'pack', '--json', '--pack-destination', work], { cwd: dir });
  if (r.status !== 0) throw new Error(`npm pack ${dir}: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout);
  return { info, tarball: path.join(work, info.filename), manifest: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) };
}

async function main() {
  console.log('packaging path: napi prepublish, npm pack, loopback registry, npm install per platform');
  // 1. What the release workflow publishes, from a copy (prepublish rewrites package.json).
  const copy = path.join(work, 'package');
  fs.mkdirSync(copy);
  for (const f of [...pkg.files, 'package.json', 'README.md', 'npm']) fs.cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
  for (const p of ALL.filter((p) => !PLATFORMS.includes(p))) {
    fs.writeFileSync(path.join(copy, 'npm', p, `mcp-auth-native.${p}.node`), `stand-in for the ${p} binary, which the release workflow builds; not a binary\n`);
  }
  // napi prepublish reads the head commit (as in the workflow's checkout).
  await run(['git', 'init', '-q'], { cwd: copy });
  await run(['git', '-c', 'user.name=test', '-c', 'user.email=test@127.0.0.1', 'commit', '-q', '--allow-empty', '-m', 'release'], { cwd: copy });
  const prepublish = await run([path.join(ROOT, 'node_modules/.bin/napi'), 'prepublish', '-t', 'npm', '--skip-optional-publish'], { cwd: copy });
  check(prepublish.status === 0, 'napi prepublish --skip-optional-publish', prepublish.stdout + prepublish.stderr);
  const root = await pack(copy);
  const optional = root.manifest.optionalDependencies || {};
  check(
    JSON.stringify(Object.keys(optional).sort()) === JSON.stringify(ALL.map((p) => `mcp-auth-native-${p}`).sort()) &&
      Object.values(optional).every((v) => v === pkg.version),
    `root optionalDependencies name all ${ALL.length} platform packages at ${pkg.version}`,
    JSON.stringify(optional),
  );
  check(!root.info.files.some((f) => f.path.endsWith('.node')), 'the root tarball holds no .node', root.info.files.map((f) => f.path).join(' '));
  const platforms = [];
  for (const p of ALL) platforms.push({ platform: p, ...(await pack(path.join(copy, 'npm', p))) });
  for (const { platform, info } of platforms) {
    const files = info.files.map((f) => f.path).sort();
    const binary = `mcp-auth-native.${platform}.node`;
    if (PLATFORMS.includes(platform)) check(files.join(' ') === ['README.md', binary, 'package.json'].join(' '), `${info.name} tarball holds ${binary} (${(info.size / 1048576).toFixed(2)} MiB packed)`, files);
    else check(files.join(' ') === ['README.md', binary, 'package.json'].join(' '), `${info.name} tarball (with the stand-in; the binary is built by the release workflow)`, files);
  }
  for (const [name, manifest] of [['root', root.manifest], ...platforms.map((p) => [p.info.name, p.manifest])]) {
    const scripts = Object.keys(manifest.scripts || {}).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s));
    if (scripts.length) check(false, `${name} declares install-time scripts: ${scripts.join(', ')}`);
  }

  // `npm version` runs the `version` script, `napi version`: every npm/<platform> follows.
  const bump = path.join(work, 'bump');
  fs.mkdirSync(bump);
  for (const f of ['package.json', 'npm']) fs.cpSync(path.join(ROOT, f), path.join(bump, f), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(bump, 'node_modules'));
  await run(['git', 'init', '-q'], { cwd: bump });
  const bumped = await run(['npm', 'version', '9.8.7', '--no-git-tag-version'], { cwd: bump });
  const versions = ALL.map((p) => JSON.parse(fs.readFileSync(path.join(bump, 'npm', p, 'package.json'), 'utf8')).version);
  check(bumped.status === 0 && versions.every((v) => v === '9.8.7'), 'npm version 9.8.7 (napi version) sets all eight platform packages to 9.8.7', bumped.stdout + bumped.stderr + versions.join(' '));

  // 2. The registry.
  const registry = await startRegistry([root, ...platforms]);
  const cache = path.join(work, 'npm-cache');
  const install = (dir, flags, opts = {}) =>
    run(['npm', 'install', 'mcp-auth-native', `--registry=${registry.url}`, `--cache=${cache}`, '--no-audit', '--no-fund', '--no-update-notifier', ...flags], { cwd: dir, ...opts });
  const project = (name) => {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
    return dir;
  };

  // 3 and 4. Each platform.
  for (const platform of ALL) {
    const flags = npmFlags(platform);
    console.log(`${platform}: npm install mcp-auth-native ${flags.join(' ')}`);
    const dir = project(platform);
    const r = await install(dir, flags);
    check(r.status === 0 && r.stderr === '', 'installs, and npm prints nothing on stderr', r.stdout + r.stderr);
    const installed = fs.existsSync(path.join(dir, 'node_modules')) ? fs.readdirSync(path.join(dir, 'node_modules')).filter((n) => n.startsWith('mcp-auth-native')) : [];
    check(installed.sort().join(' ') === `mcp-auth-native mcp-auth-native-${platform}`, `installed exactly mcp-auth-native + mcp-auth-native-${platform}`, installed.join(' '));
    if (!PLATFORMS.includes(platform)) continue;
    fs.copyFileSync(path.join(__dirname, 'protected-request.js'), path.join(dir, 'server.js'));
    // express comes from this repository's node_modules (the registry serves only our packages).
    const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
    delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
    const req = await run(nodeCommand(platform, ['server.js']), { cwd: dir, env });
    let out = null;
    try {
      out = JSON.parse(req.stdout.trim().split('\n').pop());
    } catch {}
    const want = path.join(dir, 'node_modules', `mcp-auth-native-${platform}`, `mcp-auth-native.${platform}.node`);
    check(req.status === 0 && out !== null, `${platform} Node runs a protected request`, req.stdout + req.stderr);
    if (!out) continue;
    check(out.loaded.length === 1 && out.loaded[0] === want, `it loaded ${path.relative(dir, want)}`, out.loaded.join(' '));
    check(out.metadata.status === 200 && out.metadata.body.resource.endsWith('/mcp'), 'metadata router: 200 with the resource', JSON.stringify(out.metadata));
    check(
      out.without.status === 401 && /^Bearer scope="read", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/.test(out.without.wwwAuthenticate),
      'no token: 401 with the Bearer challenge',
      JSON.stringify(out.without),
    );
    check(out.with.status === 200 && out.with.body.subject === 'alice', 'ES256 token from the local issuer: 200 for alice', JSON.stringify(out.with));
  }

  // 5. No binary for this platform (npm and Node made to report linux riscv64): npm refuses early,
  // and with --force the require throws the error that says what to do.
  console.log('linux-riscv64 (faked with scripts/fake-platform.js): npm install mcp-auth-native');
  const fake = { ...process.env, FAKE_PLATFORM: 'linux-riscv64', NODE_OPTIONS: `--require=${path.join(__dirname, 'fake-platform.js')}` };
  const riscv = project('linux-riscv64');
  const refused = await install(riscv, [], { env: fake });
  check(refused.status !== 0 && /EBADPLATFORM/.test(refused.stderr) && /riscv64/.test(refused.stderr), 'refused with EBADPLATFORM naming the cpu', refused.stdout + refused.stderr);
  const forced = await install(riscv, ['--force'], { env: fake });
  const present = fs.existsSync(path.join(riscv, 'node_modules')) ? fs.readdirSync(path.join(riscv, 'node_modules')).filter((n) => n.startsWith('mcp-auth-native')) : [];
  check(forced.status === 0 && present.join(' ') === 'mcp-auth-native', 'with --force: the root only, no platform package', forced.stderr + present.join(' '));
  const probe = "try { require('mcp-auth-native'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, platform: e.platform, message: e.message })) }";
  const loaded = await run([process.execPath, '-e', probe], { cwd: riscv, env: fake });
  let err = {};
  try {
    err = JSON.parse(loaded.stdout);
  } catch {}
  check(
    err.code === 'ERR_MCP_AUTH_NATIVE_UNSUPPORTED_PLATFORM' && err.platform === 'linux-riscv64-gnu' && /There is no prebuilt binary for linux-riscv64-gnu\. Prebuilt binaries: linux-x64-gnu/.test(err.message) && /npm run build/.test(err.message),
    "require('mcp-auth-native') throws the error naming linux-riscv64-gnu, the supported list and the build",
    loaded.stdout + loaded.stderr,
  );

  await registry.close();
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`packaging path: ${passes} passed, ${failures} failed`);
  fs.writeFileSync(path.join(ROOT, '.targets', 'packaging-result.json'), JSON.stringify({ passes, failures }));
  if (failures) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
