'use strict';
// `mcp-auth-native inspect --introspect`: the CLI run as a child process against a real
// oidc-provider (fixtures/oidc-introspection-child.mjs) that issues opaque tokens.

const { spawn } = require('node:child_process');
const path = require('node:path');
const { request, startProviderChild } = require('./helpers');

jest.setTimeout(60000);

const BIN = path.join(__dirname, '..', 'bin', 'mcp-auth-native.js');
const SECRET = 'p@ss:w/rd+ %&=';
const RESOURCE = 'http://127.0.0.1:1/mcp';
const CHECKS = ['endpoint', 'call', 'answer', 'active', 'exp', 'nbf', 'iat', 'issuer', 'token_type', 'claim types', 'audience', 'scopes'];

let provider;
beforeAll(async () => {
  provider = await startProviderChild('oidc-introspection-child.mjs');
});
afterAll(() => provider?.stop());

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

async function getToken(scope = 'read write') {
  const res = await request(
    `${provider.issuer}/token`,
    { authorization: basic('mcp-client', 'mcp-secret'), 'content-type': FORM },
    { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', resource: RESOURCE, scope }).toString() },
  );
  expect(res.status).toBe(200);
  return res.body.access_token;
}

/** Runs the CLI with `args`, `env` added to the environment and `stdin` written to it. */
function cli(args, { env = {}, stdin = '' } = {}) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, MCP_AUTH_CLIENT_SECRET: '', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.once('exit', (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(stdin);
  });
}

function verdicts(stdout) {
  const out = {};
  for (const line of stdout.split('\n')) {
    const m = /^ {2}(PASS|FAIL|SKIP) {2}(.+?) {2,}/.exec(line);
    if (m) out[m[2].trim()] = m[1];
  }
  return out;
}

const introspect = (token, ...extra) =>
  ['inspect', '--introspect', token, '--issuer', provider.issuer, '--client-id', 'mcp-server', '--resource', RESOURCE, ...extra];

function expectNoLeak(result, ...secrets) {
  for (const s of secrets) {
    expect(result.stdout).not.toContain(s);
    expect(result.stderr).not.toContain(s);
  }
}

test('an active opaque token passes every check and exits 0; secret from the default environment variable', async () => {
  const token = await getToken();
  const result = await cli([...introspect(token), '--scopes', 'read'], { env: { MCP_AUTH_CLIENT_SECRET: SECRET } });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const v = verdicts(result.stdout);
  expect(Object.keys(v)).toEqual(CHECKS);
  expect(v).toMatchObject({ endpoint: 'PASS', call: 'PASS', active: 'PASS', issuer: 'PASS', audience: 'PASS', scopes: 'PASS' });
  expect(result.stdout).toContain(`${provider.issuer}/token/introspection (from the issuer's metadata)`);
  expect(result.stdout).toContain("accepted: bearerAuth('introspection') with these options would accept this token");
  expect(result.stdout).toContain('"client_id": "mcp-client"');
  expectNoLeak(result, token, SECRET, encodeURIComponent(SECRET));
});

test('the secret from a named environment variable, or stdin; --json; client_secret_post', async () => {
  const token = await getToken();
  const named = await cli([...introspect(token), '--secret-env', 'RS_SECRET', '--json'], { env: { RS_SECRET: SECRET } });
  expect(named.code).toBe(0);
  const out = JSON.parse(named.stdout);
  expect(out.accepted).toBe(true);
  expect(out.claims).toMatchObject({ active: true, client_id: 'mcp-client', aud: RESOURCE });
  expect(out.checks.map((c) => c.name)).toEqual(CHECKS);
  expectNoLeak(named, token, SECRET);

  const piped = await cli([...introspect(token), '--secret-stdin'], { stdin: `${SECRET}\n` });
  expect(piped.code).toBe(0);
  expectNoLeak(piped, token, SECRET);

  const post = await cli(
    ['inspect', '--introspect', token, '--issuer', provider.issuer, '--client-id', 'mcp-server-post', '--auth-method', 'client_secret_post', '--secret-stdin', '--resource', RESOURCE],
    { stdin: 'post-secret' },
  );
  expect(post.code).toBe(0);
  expectNoLeak(post, token, 'post-secret');
});

test('a revoked token fails `active` and exits 1', async () => {
  const token = await getToken();
  const res = await request(
    `${provider.issuer}/token/revocation`,
    { authorization: basic('mcp-client', 'mcp-secret'), 'content-type': FORM },
    { method: 'POST', body: new URLSearchParams({ token }).toString() },
  );
  expect(res.status).toBe(200);
  const result = await cli(introspect(token), { env: { MCP_AUTH_CLIENT_SECRET: SECRET } });
  expect(result.code).toBe(1);
  // The answer is just `{ active: false }`: the checks after `active` run on it too.
  expect(verdicts(result.stdout)).toMatchObject({ call: 'PASS', active: 'FAIL', audience: 'FAIL' });
  expect(result.stdout).toContain('rejected: failed active');
  expectNoLeak(result, token, SECRET);
});

test('a missing scope fails `scopes`', async () => {
  const token = await getToken('read');
  const result = await cli([...introspect(token), '--scopes', 'read,write'], { env: { MCP_AUTH_CLIENT_SECRET: SECRET } });
  expect(result.code).toBe(1);
  expect(verdicts(result.stdout)).toMatchObject({ active: 'PASS', scopes: 'FAIL' });
});

test('wrong credentials fail `call` (refused, HTTP 401), without printing the secret or the answer', async () => {
  const token = await getToken();
  const result = await cli(introspect(token), { env: { MCP_AUTH_CLIENT_SECRET: 'not-the-secret' } });
  expect(result.code).toBe(1);
  expect(verdicts(result.stdout)).toMatchObject({ endpoint: 'PASS', call: 'FAIL', active: 'SKIP' });
  expect(result.stdout).toContain('401');
  expectNoLeak(result, token, 'not-the-secret', 'invalid_client');
});

test('the secret is never taken from an argument, and the value is not echoed', async () => {
  for (const arg of [['--client-secret', 'argv-secret'], ['--client-secret=argv-secret'], ['--secret', 'argv-secret']]) {
    const result = await cli([...introspect('tok'), ...arg], { env: { MCP_AUTH_CLIENT_SECRET: SECRET } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/is not accepted: give the secret in an environment variable/);
    expectNoLeak(result, 'argv-secret', SECRET);
  }
});

test('bad arguments exit 2 with one line: no secret, no client id, options without --introspect', async () => {
  const none = await cli(introspect('tok'));
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('the environment variable MCP_AUTH_CLIENT_SECRET holds no client secret');
  const empty = await cli([...introspect('tok'), '--secret-stdin'], { stdin: '' });
  expect(empty.code).toBe(2);
  expect(empty.stderr).toContain('no client secret on stdin');
  const noId = await cli(['inspect', '--introspect', 'tok', '--issuer', provider.issuer], { env: { MCP_AUTH_CLIENT_SECRET: SECRET } });
  expect(noId.code).toBe(2);
  expect(noId.stderr).toContain('missing --client-id');
  const stray = await cli(['inspect', 'tok', '--issuer', provider.issuer, '--client-id', 'x']);
  expect(stray.code).toBe(2);
  expect(stray.stderr).toContain('--client-id needs --introspect');
  const http = await cli(
    [...introspect('tok-never-printed'), '--endpoint', 'http://auth.example.com/introspect'],
    { env: { MCP_AUTH_CLIENT_SECRET: SECRET } },
  );
  expect(http.code).toBe(2);
  expect(http.stderr).toContain('must be an https URL');
  expectNoLeak(http, 'tok-never-printed', SECRET);
});

test('an unreachable endpoint fails `call` as an outage', async () => {
  const result = await cli([...introspect('tok-1'), '--endpoint', 'http://127.0.0.1:1/introspect'], {
    env: { MCP_AUTH_CLIENT_SECRET: SECRET },
  });
  expect(result.code).toBe(1);
  expect(verdicts(result.stdout)).toMatchObject({ endpoint: 'PASS', call: 'FAIL' });
  expect(result.stdout).toContain('http://127.0.0.1:1/introspect (configured)');
});
