'use strict';
// The installed package: `npm pack` the root and this platform's package (npm/<platform> with
// the binary built here), then `npm install` both tarballs into fresh projects (with no Rust
// toolchain on PATH) and a protected request in each: Express 5 + CommonJS, Express 5 + ESM,
// Express 4 + CommonJS, and TypeScript (`tsc --strict`) with and without @modelcontextprotocol/sdk.
// Slow (real installs from the npm registry): the projects install in parallel. The path through
// `optionalDependencies` and a registry is tested per platform by `npm run test:targets`.

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

jest.setTimeout(240000);

const ROOT = path.join(__dirname, '..');
let work;
let tarball;
let packed;
let platformTarball;
let platformPacked;
// This machine's platform, named as npm/<platform> (the release workflow runs this on each).
const PLATFORM = (() => {
  const { platform, arch } = process;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  if (platform !== 'linux') return `${platform}-${arch}`;
  return `linux-${arch}-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`;
})();

// No cargo, rustc or npm_* variables from the outer `npm test`: what a user's machine has.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k.toUpperCase() !== 'PATH' && k !== 'CARGO_HOME' && k !== 'RUSTUP_HOME'),
);
const systemDirs =
  process.platform === 'win32'
    ? [path.join(process.env.SystemRoot || 'C:\\Windows', 'System32'), process.env.SystemRoot || 'C:\\Windows']
    : ['/usr/local/bin', '/usr/bin', '/bin'];
env.PATH = [path.dirname(process.execPath), ...systemDirs].join(path.delimiter);

function run(cmd, args, cwd) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 200000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function project(name, deps, files) {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }));
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, platformTarball, ...deps], dir);
  if (install.code !== 0) throw new Error(`npm install in ${name} failed: ${install.stderr}`);
  return dir;
}

// A program that starts a minimal OpenID issuer (discovery + JWKS) and an Express app protected
// by bearerAuth('jwt'), makes a request without and with a token, runs the installed CLI on the
// token, and prints the outcome as one JSON line.
function program(kind) {
  const head =
    kind === 'esm'
      ? `import express from 'express';
import http from 'node:http';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { MCPAuth } from 'mcp-auth-native';
import pkg from 'mcp-auth-native';
if (pkg.MCPAuth !== MCPAuth) throw new Error('default export differs');
`
      : `const express = require('express');
const http = require('node:http');
const crypto = require('node:crypto');
const { execFile } = require('node:child_process');
const { MCPAuth } = require('mcp-auth-native');
`;
  return `${head}
async function main() {
  const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { format: 'jwk' } });
  const jwk = { ...publicKey, kid: 'k1', alg: 'RS256', use: 'sig' };
  const idp = http.createServer();
  await listen(idp);
  const issuer = 'http://127.0.0.1:' + idp.address().port;
  idp.on('request', (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: issuer + '/jwks' }));
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [jwk] }));
    res.statusCode = 404;
    res.end('{}');
  });
  const server = http.createServer();
  await listen(server);
  const resource = 'http://127.0.0.1:' + server.address().port + '/mcp';
  const mcpAuth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer }] } } });
  const app = express();
  app.use(mcpAuth.protectedResourceMetadataRouter());
  app.get('/mcp', mcpAuth.bearerAuth('jwt', { resource, requiredScopes: ['read'] }), (req, res) => {
    res.json({ subject: req.auth.subject, scopes: req.auth.scopes });
  });
  server.on('request', app);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = b64({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }) + '.' + b64({ iss: issuer, sub: 'alice', aud: resource, scope: 'read', iat: now, exp: now + 300 });
  const token = input + '.' + crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
  const without = await fetch(resource);
  const withToken = await fetch(resource, { headers: { authorization: 'Bearer ' + token } });
  const out = {
    without: { status: without.status, wwwAuthenticate: without.headers.get('www-authenticate'), body: await without.json() },
    with: { status: withToken.status, body: await withToken.json() },
  };
  server.close();
  if (process.argv[2] === 'cli') {
    // The installed bin, as npx runs it (asynchronously: the issuer above must keep answering).
    out.cli = await new Promise((resolve) => {
      execFile('node_modules/.bin/mcp-auth-native', ['inspect', token, '--issuer', issuer, '--resource', resource, '--scopes', 'read'], (error, stdout) => {
        resolve({ code: error ? error.code : 0, stdout });
      });
    });
  }
  idp.close();
  console.log(JSON.stringify(out));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;
}

const TS_PLAIN = `import express from 'express';
import { MCPAuth, type AuthInfo, type BearerAuthJwtOptions, type MCPAuthConfig } from 'mcp-auth-native';

const config: MCPAuthConfig = {
  protectedResources: {
    metadata: {
      resource: 'https://api.example.com/mcp',
      authorizationServers: [{ type: 'oidc', issuer: 'https://tenant.example.com/' }],
      scopesSupported: ['read'],
    },
  },
};
const mcpAuth = new MCPAuth(config);
const options: BearerAuthJwtOptions = {
  resource: 'https://api.example.com/mcp',
  audience: 'https://api.example.com/mcp',
  requiredScopes: ['read'],
  jwtVerify: { clockTolerance: '30s', typ: 'at+jwt' },
  remoteJwkSet: { cooldownDuration: 1000 },
};
// @ts-expect-error unknown options are type errors too
const wrong: BearerAuthJwtOptions = { resource: 'x', requiredScope: ['read'] };
void wrong;

const app = express();
app.use(mcpAuth.protectedResourceMetadataRouter());
app.get('/mcp', mcpAuth.bearerAuth('jwt', options), (req, res) => {
  const subject: string | undefined = req.auth?.subject;
  const auth: AuthInfo | undefined = req.auth;
  res.json({ subject, issuer: auth?.issuer, scopes: req.auth?.scopes });
});
`;

const TS_SDK = `import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { AuthInfo as SdkAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { MCPAuth, type AuthInfo } from 'mcp-auth-native';

void requireBearerAuth; // brings the SDK's own \`Request.auth\` declaration into the program
const resource = 'https://api.example.com/mcp';
const mcpAuth = new MCPAuth({
  protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: 'https://tenant.example.com/' }] } },
});
const app = express();
app.use(mcpAuth.protectedResourceMetadataRouter());
app.post('/mcp', mcpAuth.bearerAuth('jwt', { resource, requiredScopes: ['read'] }), express.json(), async (req, res) => {
  const subject: string | undefined = req.auth?.subject;
  const asSdk: SdkAuthInfo | undefined = req.auth;
  const asOurs: AuthInfo | undefined = asSdk;
  void subject;
  void asOurs;
  const server = new McpServer({ name: 'whoami', version: '1.0.0' });
  server.registerTool('whoami', { description: 'who am I' }, async ({ authInfo }) => {
    const me: AuthInfo | undefined = authInfo;
    return { content: [{ type: 'text', text: JSON.stringify({ subject: authInfo?.subject, issuer: me?.issuer }) }] };
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
`;

const tsconfig = (file, skipLibCheck) =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      strict: true,
      noEmit: true,
      skipLibCheck,
      esModuleInterop: true,
      types: ['node'],
    },
    files: [file],
  });

const projects = {};

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-native-pack-'));
  const pack = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  [packed] = JSON.parse(pack.stdout);
  tarball = path.join(work, packed.filename);
  // This platform's package as the release workflow makes it: npm/<platform>/ plus the binary.
  const platformDir = path.join(work, PLATFORM);
  fs.cpSync(path.join(ROOT, 'npm', PLATFORM), platformDir, { recursive: true, filter: (f) => !f.endsWith('.node') });
  fs.copyFileSync(path.join(ROOT, `mcp-auth-native.${PLATFORM}.node`), path.join(platformDir, `mcp-auth-native.${PLATFORM}.node`));
  const platformPack = await run('npm', ['pack', '--json', '--pack-destination', work], platformDir);
  if (platformPack.code !== 0) throw new Error(`npm pack of ${PLATFORM} failed: ${platformPack.stderr}`);
  [platformPacked] = JSON.parse(platformPack.stdout);
  platformTarball = path.join(work, platformPacked.filename);
  const [express5, express4, ts] = await Promise.all([
    project('express5', ['express@5'], { 'server.cjs': program('cjs'), 'server.mjs': program('esm') }),
    project('express4', ['express@4'], { 'server.cjs': program('cjs') }),
    project('typescript', ['express@5', 'typescript@5', '@types/express@5', '@types/node@20', '@modelcontextprotocol/sdk@1.32.2'], {
      'plain.ts': TS_PLAIN,
      'with-sdk.ts': TS_SDK,
      'tsconfig.plain.json': tsconfig('plain.ts', false),
      'tsconfig.sdk.json': tsconfig('with-sdk.ts', true),
    }),
  ]);
  Object.assign(projects, { express5, express4, ts });
});

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the root tarball holds the JS, types, loader and CLI, and no binary and no Rust sources', () => {
  const files = packed.files.map((f) => f.path).sort();
  expect(files).toEqual(
    expect.arrayContaining([
      'package.json',
      'README.md',
      'index.js',
      'index.mjs',
      'index.d.ts',
      'server-config.js',
      'lib/errors.js',
      'lib/mcp-auth.js',
      'lib/middleware.js',
      'lib/native.js',
      'binding.js',
      'binding.d.ts',
      'bin/mcp-auth-native.js',
    ]),
  );
  expect(files.filter((f) => /\.node$|\.rs$|Cargo|__test__|examples\/|^npm\//.test(f))).toEqual([]);
});

test('the platform tarball holds its one binary, package.json and README, and is limited to its os, cpu and libc', () => {
  expect(platformPacked.name).toBe(`mcp-auth-native-${PLATFORM}`);
  expect(platformPacked.files.map((f) => f.path).sort()).toEqual(['README.md', `mcp-auth-native.${PLATFORM}.node`, 'package.json']);
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', PLATFORM, 'package.json')));
  const [os_, cpu, abi] = PLATFORM.split('-');
  expect(manifest).toMatchObject({ os: [os_], cpu: [cpu], main: `mcp-auth-native.${PLATFORM}.node` });
  expect(manifest.libc).toEqual(os_ === 'linux' ? [abi === 'gnu' ? 'glibc' : 'musl'] : undefined);
});

const INSTALL_TIME_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepare'];

test("a user's npm install of both tarballs is silent: no install-script warning, and neither package declares one", async () => {
  const dir = path.join(work, 'silent');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'silent', version: '1.0.0', private: true }));
  // npm's default log level, where npm 11 warns "packages have install scripts not yet covered by allowScripts".
  const install = await run('npm', ['install', '--no-audit', '--no-fund', tarball, platformTarball], dir);
  expect(install.code).toBe(0);
  expect(install.stderr).toBe('');
  expect(install.stdout).not.toMatch(/script/i);
  expect(install.stdout).toMatch(/added 2 packages/);
  for (const name of ['mcp-auth-native', `mcp-auth-native-${PLATFORM}`]) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json')));
    expect(Object.keys(manifest.scripts || {}).filter((k) => INSTALL_TIME_SCRIPTS.includes(k))).toEqual([]);
  }
  const ls = await run('npm', ['install-scripts', 'ls'], dir);
  expect(ls.stdout + ls.stderr).not.toMatch(/mcp-auth-native/);
});

async function protectedRequest(dir, file, ...args) {
  const result = await run('node', [file, ...args], dir);
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.code).toBe(0);
  const out = JSON.parse(result.stdout.trim().split('\n').pop());
  expect(out.without.status).toBe(401);
  expect(out.without.wwwAuthenticate).toMatch(/^Bearer scope="read", resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"$/);
  expect(out.without.body).toMatchObject({ error: 'missing_auth_header' });
  expect(out.with).toEqual({ status: 200, body: { subject: 'alice', scopes: ['read'] } });
  return out;
}

test('Express 5 + CommonJS: a protected request, and the installed CLI accepts the token', async () => {
  const out = await protectedRequest(projects.express5, 'server.cjs', 'cli');
  expect(out.cli.code).toBe(0);
  expect(out.cli.stdout).toMatch(/PASS\s+signature/);
  expect(out.cli.stdout).toMatch(/^accepted:/m);
});

test('Express 5 + ESM: a protected request through the named and default exports', async () => {
  await protectedRequest(projects.express5, 'server.mjs');
});

test('Express 4 + CommonJS: a protected request', async () => {
  const version = JSON.parse(fs.readFileSync(path.join(projects.express4, 'node_modules/express/package.json'))).version;
  expect(version).toMatch(/^4\./);
  await protectedRequest(projects.express4, 'server.cjs');
});

test('TypeScript --strict accepts req.auth.subject and the option types, without the MCP SDK', async () => {
  const result = await run('node_modules/.bin/tsc', ['-p', 'tsconfig.plain.json'], projects.ts);
  expect(result.stdout + result.stderr).toBe('');
  expect(result.code).toBe(0);
});

test('TypeScript --strict with @modelcontextprotocol/sdk: its AuthInfo and ours agree on req.auth and authInfo', async () => {
  const result = await run('node_modules/.bin/tsc', ['-p', 'tsconfig.sdk.json'], projects.ts);
  expect(result.stdout + result.stderr).toBe('');
  expect(result.code).toBe(0);
});
