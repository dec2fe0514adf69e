'use strict';
// Loading on a platform without a binary: `require('mcp-auth-native')` throws one error that names
// the detected platform, lists the supported ones and says how to build from source. Each case is
// a fresh Node process, with the platform faked (scripts/fake-platform.js) or the loader pointed
// elsewhere with NAPI_RS_NATIVE_LIBRARY_PATH.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const FAKE = path.join(ROOT, 'scripts', 'fake-platform.js');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const PLATFORMS = fs.readdirSync(path.join(ROOT, 'npm')).sort();

// Requires the package in a child and prints the error's fields, or `{ loaded: ... }`.
const PROBE = `
try {
  const { MCPAuth } = require(${JSON.stringify(ROOT)});
  new MCPAuth({ protectedResources: { metadata: { resource: 'https://api.example.com/mcp', authorizationServers: [{ type: 'oidc', issuer: 'https://tenant.example.com/' }] } } });
  console.log(JSON.stringify({ loaded: Object.keys(require.cache).filter((k) => k.endsWith('.node')) }));
} catch (e) {
  console.log(JSON.stringify({ name: e.name, code: e.code, platform: e.platform, supported: e.supported, message: e.message, cause: e.cause && e.cause.message }));
}`;

function load({ fake, libraryPath } = {}) {
  const env = { ...process.env };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (libraryPath) env.NAPI_RS_NATIVE_LIBRARY_PATH = libraryPath;
  if (fake) env.FAKE_PLATFORM = fake;
  const args = fake ? ['-r', FAKE, '-e', PROBE] : ['-e', PROBE];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 20000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const BUILD_HINT = /install Rust \(cargo, from rustup\).*`npm install && npm run build`/s;

test('the supported list is the eight napi.targets, one npm/<platform> package each, limited to its os, cpu and libc', () => {
  const out = load({ fake: 'freebsd-x64' });
  expect(out.supported).toEqual(['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc', 'win32-arm64-msvc']);
  expect([...out.supported].sort()).toEqual(PLATFORMS);
  for (const platform of PLATFORMS) {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8'));
    const [os_, cpu, abi] = platform.split('-');
    expect(manifest).toMatchObject({ name: `mcp-auth-native-${platform}`, version: pkg.version, os: [os_], cpu: [cpu], main: `mcp-auth-native.${platform}.node`, files: [`mcp-auth-native.${platform}.node`] });
    expect(manifest.libc).toEqual(os_ === 'linux' ? [abi === 'gnu' ? 'glibc' : 'musl'] : undefined);
    expect(manifest.scripts).toBeUndefined();
  }
});

test('an unsupported OS (faked freebsd-x64): the error names it, lists the supported platforms, and says how to build', () => {
  const out = load({ fake: 'freebsd-x64' });
  expect(out).toMatchObject({ name: 'MCPAuthNativeLoadError', code: 'ERR_MCP_AUTH_NATIVE_UNSUPPORTED_PLATFORM', platform: 'freebsd-x64' });
  expect(out.message).toMatch(/^mcp-auth-native could not load its native binary on freebsd-x64, Node v\d+/);
  expect(out.message).toContain(
    'There is no prebuilt binary for freebsd-x64. Prebuilt binaries: linux-x64-gnu (glibc >= 2.17), linux-arm64-gnu (glibc >= 2.17), linux-x64-musl, linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc, win32-arm64-msvc.',
  );
  expect(out.message).toMatch(BUILD_HINT);
  expect(out.message).toContain('mcp-auth-native.freebsd-x64.node in the clone, beside binding.js');
  expect(out.message).toMatch(/What the loader tried:\n(.|\n)*Cannot find module 'mcp-auth-native-freebsd-x64'/);
  expect(out.cause).toMatch(/^Cannot find native binding/);
});

test('an unsupported CPU on Linux (faked riscv64): the error names linux-riscv64-gnu with the glibc it found', () => {
  const out = load({ fake: 'linux-riscv64' });
  const glibc = process.report.getReport().header.glibcVersionRuntime;
  expect(out.platform).toBe('linux-riscv64-gnu');
  expect(out.message).toMatch(new RegExp(`^mcp-auth-native could not load its native binary on linux-riscv64-gnu \\(glibc ${glibc.replace('.', '\\.')}\\)`));
  expect(out.message).toContain('There is no prebuilt binary for linux-riscv64-gnu.');
  expect(out.message).toMatch(BUILD_HINT);
});

test('a supported platform whose binary is missing: the error says the platform package did not load and how to reinstall', () => {
  const out = load({ fake: 'darwin-arm64' });
  expect(out.platform).toBe('darwin-arm64');
  expect(out.message).toContain('darwin-arm64 has a prebuilt binary, in the package mcp-auth-native-darwin-arm64, but it did not load.');
  expect(out.message).toMatch(/--omit=optional.*remove node_modules and package-lock\.json/s);
  expect(out.message).toMatch(/Cannot find module 'mcp-auth-native-darwin-arm64'/);
});

describe('NAPI_RS_NATIVE_LIBRARY_PATH', () => {
  let dir;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-native-path-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('pointing at a missing file: the error says only that file was tried, and names it', () => {
    const missing = path.join(dir, 'nowhere.node');
    const out = load({ libraryPath: missing });
    expect(out).toMatchObject({ code: 'ERR_MCP_AUTH_NATIVE_UNSUPPORTED_PLATFORM', platform: 'linux-x64-gnu' });
    expect(out.message).toContain(`NAPI_RS_NATIVE_LIBRARY_PATH is set (${missing}): the loader tried that file only.`);
    expect(out.message).toContain(`Cannot find module '${missing}'`);
    expect(out.message).toMatch(BUILD_HINT);
  });

  test('pointing at a file that is no binary: the error carries the dlopen failure', () => {
    const bogus = path.join(dir, 'bogus.node');
    fs.writeFileSync(bogus, 'not an ELF file\n');
    const out = load({ libraryPath: bogus });
    expect(out.code).toBe('ERR_MCP_AUTH_NATIVE_UNSUPPORTED_PLATFORM');
    expect(out.message).toMatch(/invalid ELF header|file too short/);
  });

  test('pointing at a copy of the built binary: it loads from there and MCPAuth works', () => {
    const copy = path.join(dir, 'copy.node');
    fs.copyFileSync(path.join(ROOT, 'mcp-auth-native.linux-x64-gnu.node'), copy);
    expect(load({ libraryPath: copy })).toEqual({ loaded: [copy] });
  });
});
