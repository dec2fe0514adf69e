'use strict';
// `mcp-auth-native inspect`: the CLI run as a child process against the local issuer.

const { execFile } = require('node:child_process');
const path = require('node:path');
const crypto = require('node:crypto');
const { startIssuer, closeAll } = require('./helpers');

const BIN = path.join(__dirname, '..', 'bin', 'mcp-auth-native.js');
const RESOURCE = 'https://api.example.com/mcp';
const ALL_CHECKS = [
  'header',
  'algorithm',
  'issuer',
  'discovery',
  'key',
  'signature',
  'required claims',
  'exp',
  'nbf',
  'iat',
  'claim types',
  'audience',
  'scopes',
];

let issuer;
beforeAll(async () => {
  issuer = await startIssuer();
});
afterAll(closeAll);

function cli(...args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 15000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

/** The check lines of the output: `{ name: 'PASS' | 'FAIL' | 'SKIP' }`. */
function verdicts(stdout) {
  const out = {};
  for (const line of stdout.split('\n')) {
    const m = /^ {2}(PASS|FAIL|SKIP) {2}(.+?) {2,}/.exec(line) || /^ {2}(PASS|FAIL|SKIP) {2}(\S+(?: \S+)?)\s/.exec(line);
    if (m) out[m[2].trim()] = m[1];
  }
  return out;
}

const inspect = (token, ...extra) =>
  cli('inspect', token, '--issuer', issuer.issuer, '--resource', RESOURCE, '--scopes', 'read,write', ...extra);

function expectNoTokenEcho(result, token) {
  const [, , signature] = token.split('.');
  expect(result.stdout + result.stderr).not.toContain(token);
  expect(result.stdout + result.stderr).not.toContain(signature);
}

test('a valid token passes every check and exits 0', async () => {
  const token = issuer.sign({ aud: RESOURCE, scope: 'read write', sub: 'alice' });
  const result = await inspect(token);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const v = verdicts(result.stdout);
  expect(Object.keys(v)).toEqual(ALL_CHECKS);
  expect(Object.values(v).every((s) => s === 'PASS')).toBe(true);
  expect(result.stdout).toMatch(/^accepted: /m);
  expect(result.stdout).toContain('"sub": "alice"');
  expect(result.stdout).toMatch(/exp\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in (29\d|300) s; clock skew allowed 60 s\)/);
  expectNoTokenEcho(result, token);
});

test.each([
  ['an expired token', () => issuer.sign({ aud: RESOURCE, scope: 'read write' }, { expiresIn: -61 }), 'exp', /expired/],
  ['a token for another audience', () => issuer.sign({ aud: 'https://other.example.com', scope: 'read write' }), 'audience', /expected "https:\/\/api\.example\.com\/mcp", got "https:\/\/other\.example\.com"/], // the resource, a string as configured
  ['a token missing a scope', () => issuer.sign({ aud: RESOURCE, scope: 'read' }), 'scopes', /missing: write/],
  [
    'a token with a bad signature',
    () => {
      const t = issuer.sign({ aud: RESOURCE, scope: 'read write' });
      const [h, p] = t.split('.');
      return `${h}.${p}.${crypto.randomBytes(256).toString('base64url')}`;
    },
    'signature',
    /signature is invalid/,
  ],
])('%s fails that check and exits 1', async (_, make, check, reason) => {
  const token = make();
  const result = await inspect(token);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(1);
  const v = verdicts(result.stdout);
  expect(Object.entries(v).filter(([, s]) => s === 'FAIL').map(([n]) => n)).toEqual([check]);
  const line = result.stdout.split('\n').find((l) => l.startsWith(`  FAIL  ${check} `));
  expect(line).toMatch(reason);
  expect(result.stdout).toMatch(new RegExp(`^rejected: failed ${check}$`, 'm'));
  expectNoTokenEcho(result, token);
});

test('--json prints the same checks as JSON', async () => {
  const token = issuer.sign({ aud: RESOURCE, scope: 'read' });
  const result = await inspect(token, '--json');
  expect(result.code).toBe(1);
  const out = JSON.parse(result.stdout);
  expect(out.accepted).toBe(false);
  expect(out.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: issuer.keys.RS256.kid });
  expect(out.checks.map((c) => c.name)).toEqual(ALL_CHECKS);
  expect(out.checks.find((c) => c.name === 'scopes')).toEqual({ name: 'scopes', status: 'failed', detail: 'missing: write' });
});

test('an unreachable issuer is one line and exit 2', async () => {
  const token = issuer.sign({ aud: RESOURCE });
  const result = await cli('inspect', token, '--issuer', 'http://127.0.0.1:1');
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^mcp-auth-native: issuer problem: http:\/\/127\.0\.0\.1:1: .*could not be reached/);
});

test('an issuer that is not a URL is one line and exit 2', async () => {
  const result = await cli('inspect', issuer.sign({}), '--issuer', 'not-a-url');
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe('mcp-auth-native: invalid argument: `server.issuer` must be an http(s) URL; got `not-a-url`.\n');
});

test('a malformed token is one line and exit 2, without echoing it', async () => {
  const result = await cli('inspect', 'abc.def', '--issuer', issuer.issuer);
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe('mcp-auth-native: malformed token: The token is not a JWT of three dot-separated parts.\n');
});

test('missing arguments print the usage and exit 2', async () => {
  const result = await cli('inspect', issuer.sign({}));
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^mcp-auth-native: missing --issuer <url>\nusage: mcp-auth-native inspect <token> --issuer <url>/);
});
