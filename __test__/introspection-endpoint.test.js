'use strict';
// `bearerAuth('introspection')` against a local introspection endpoint (a real HTTP server on
// 127.0.0.1) that does what a real provider won't: slow, huge, non-JSON and 5xx answers,
// `active: "true"`, an `exp` in the past, a foreign `iss`, a wrong `token_type`; and that counts
// its calls, to show single flight, the cache, the negative cache and the expiry bound.

const express = require('express');
const { MCPAuth } = require('..');
const { startApp, listen, closeAll, withToken, request, sleep } = require('./helpers');

const ISSUER = 'https://auth.example.com';
const RESOURCE = 'https://api.example.com/mcp';
const INVALID = { error: 'invalid_token', error_description: 'The provided token is invalid or malformed.' };
const UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'The authorization service is temporarily unavailable. Please retry later.',
};

/**
 * The endpoint: `answer(token, req)` returns `{ status, body, delay }` (body: an object is sent
 * as JSON, a string as is); every call is recorded.
 */
async function startEndpoint(answer) {
  const calls = [];
  const app = express();
  app.post('/introspect', express.urlencoded({ extended: false }), async (req, res) => {
    calls.push({ authorization: req.headers.authorization, type: req.headers['content-type'], body: { ...req.body } });
    const { status = 200, body, delay = 0, type } = await answer(req.body.token, req);
    if (delay) await sleep(delay);
    if (res.destroyed) return;
    res.status(status);
    if (typeof body === 'string') res.type(type ?? 'text/plain').send(body);
    else res.json(body);
  });
  const handle = await listen(app);
  return { url: `${handle.origin}/introspect`, calls, count: (token) => calls.filter((c) => c.body.token === token).length };
}

const now = () => Math.floor(Date.now() / 1000);
const active = (extra = {}) => ({ active: true, iss: ISSUER, client_id: 'app-1', sub: 'user-1', scope: 'read', aud: RESOURCE, ...extra });

async function setup(answer, { introspection = {}, ...options } = {}) {
  const endpoint = await startEndpoint(answer);
  const mcpAuth = new MCPAuth({
    protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oauth', issuer: ISSUER }] } },
  });
  const middleware = mcpAuth.bearerAuth('introspection', {
    resource: RESOURCE,
    introspection: { endpoint: endpoint.url, clientId: 'rs', clientSecret: 'secret', ...introspection },
    ...options,
  });
  const app = await startApp(middleware);
  return { endpoint, app };
}

afterEach(closeAll);

describe('the call', () => {
  test('a form POST of the token with token_type_hint and HTTP Basic credentials, RFC 6749 encoded', async () => {
    const { endpoint, app } = await setup(() => ({ body: active() }), {
      introspection: { clientId: 'r s:1', clientSecret: 'p@ss:w/rd+ %&=' },
    });
    const res = await withToken(app.url, 'tok-1');
    expect(res.status).toBe(200);
    expect(endpoint.calls).toEqual([
      {
        authorization: `Basic ${Buffer.from('r+s%3A1:p%40ss%3Aw%2Frd%2B+%25%26%3D').toString('base64')}`,
        type: 'application/x-www-form-urlencoded',
        body: { token: 'tok-1', token_type_hint: 'access_token' },
      },
    ]);
  });

  test('client_secret_post puts the credentials in the body, and no Authorization header', async () => {
    const { endpoint, app } = await setup(() => ({ body: active() }), { introspection: { authMethod: 'client_secret_post' } });
    expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect(endpoint.calls).toEqual([
      {
        authorization: undefined,
        type: 'application/x-www-form-urlencoded',
        body: { token: 'tok-1', token_type_hint: 'access_token', client_id: 'rs', client_secret: 'secret' },
      },
    ]);
  });

  test('the answer becomes req.auth', async () => {
    const exp = now() + 600;
    const { app } = await setup(() => ({ body: active({ exp, scope: 'read write', extra: { a: 1 } }) }));
    const res = await withToken(app.url, 'tok-1');
    expect(res.status).toBe(200);
    expect(res.body.auth).toEqual({
      token: 'tok-1',
      issuer: ISSUER,
      clientId: 'app-1',
      subject: 'user-1',
      scopes: ['read', 'write'],
      audience: RESOURCE,
      expiresAt: exp,
      claims: active({ exp, scope: 'read write', extra: { a: 1 } }),
    });
  });

  test('a request without a token makes no call', async () => {
    const { endpoint, app } = await setup(() => ({ body: active() }));
    const res = await request(app.url);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata=/);
    expect(endpoint.calls).toHaveLength(0);
  });
});

describe('answers that are refusals of the token: 401 invalid_token', () => {
  const cases = [
    ['active: false', { active: false }],
    ['active given as the string "true"', { ...active(), active: 'true' }],
    ['active missing', (({ active: _, ...rest }) => rest)(active())],
    ['an exp in the past (beyond the clock tolerance)', active({ exp: now() - 120 })],
    ['an nbf in the future', active({ nbf: now() + 600 })],
    ['a wrong token_type', active({ token_type: 'refresh_token' })],
    ['exp as a string', active({ exp: String(now() + 600) })],
  ];
  test.each(cases)('%s', async (name, body) => {
    const { app } = await setup(() => ({ body }));
    const res = await withToken(app.url, 'tok-1');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="The provided token is invalid or malformed."/);
    expect(res.body).toEqual(INVALID);
  });

  test('a foreign iss is refused', async () => {
    const { app } = await setup(() => ({ body: active({ iss: 'https://evil.example.com' }) }));
    const res = await withToken(app.url, 'tok-1');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(res.text).not.toContain('tok-1');
  });

  test('token_type DPoP and access_token (any case) are access tokens', async () => {
    for (const token_type of ['DPoP', 'access_token', 'bearer']) {
      const { app } = await setup(() => ({ body: active({ token_type }) }));
      expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    }
  });
});

describe('failures of the endpoint: 503 with Retry-After', () => {
  const cases = [
    ['a 500', () => ({ status: 500, body: { error: 'server_error' } })],
    ['a 503', () => ({ status: 503, body: 'down' })],
    ['not JSON', () => ({ body: '<html>login</html>', type: 'text/html' })],
    ['a JSON array', () => ({ body: '[{"active":true}]', type: 'application/json' })],
    ['an answer over 1 MiB', () => ({ body: { ...active(), pad: 'x'.repeat(1024 * 1024 + 10) } })],
    ['a slow answer (past timeoutDuration)', () => ({ body: active(), delay: 1500 })],
  ];
  test.each(cases)('%s', async (name, answer) => {
    const { app } = await setup(answer, { introspection: { timeoutDuration: 300 } });
    const res = await withToken(app.url, 'tok-1');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.body).toEqual(UNAVAILABLE);
  });

  test('the endpoint unreachable', async () => {
    const { app, endpoint } = await setup(() => ({ body: active() }));
    await closeAll(); // both servers; start the app again on a new port with the dead endpoint
    const mcpAuth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oauth', issuer: ISSUER }] } },
    });
    const again = await startApp(
      mcpAuth.bearerAuth('introspection', { resource: RESOURCE, introspection: { endpoint: endpoint.url, clientId: 'rs', clientSecret: 'secret' } }),
    );
    expect(app.url).not.toBe(again.url);
    const res = await withToken(again.url, 'tok-1');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  test('recovery: once the endpoint answers again, the same token is accepted at once (failures are not cached)', async () => {
    let down = true;
    const { app, endpoint } = await setup(() => (down ? { status: 502, body: 'bad gateway' } : { body: active() }));
    expect((await withToken(app.url, 'tok-1')).status).toBe(503);
    expect((await withToken(app.url, 'tok-1')).status).toBe(503);
    down = false;
    expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect(endpoint.count('tok-1')).toBe(3);
  });

  test('400, 401 and 403 refuse our own request: 500 server_error, reflecting nothing', async () => {
    for (const status of [400, 401, 403]) {
      const { app } = await setup(() => ({ status, body: { error: 'invalid_client', error_description: 'secret-leak-marker' } }));
      const res = await withToken(app.url, 'tok-1');
      expect(res.status).toBe(500);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(res.body.error).toBe('server_error');
      for (const leaked of ['secret-leak-marker', 'invalid_client', 'tok-1', 'secret"', String(status)]) {
        expect(res.text).not.toContain(leaked);
      }
    }
  });
});

describe('counting calls', () => {
  test('single flight: 20 concurrent requests with one token make one call', async () => {
    const { app, endpoint } = await setup(() => ({ body: active(), delay: 150 }));
    const results = await Promise.all(Array.from({ length: 20 }, () => withToken(app.url, 'tok-1')));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.every((r) => r.body.auth.token === 'tok-1')).toBe(true);
    expect(endpoint.count('tok-1')).toBe(1);
  });

  test('distinct concurrent tokens make one call each', async () => {
    const { app, endpoint } = await setup(() => ({ body: active(), delay: 50 }));
    const tokens = Array.from({ length: 10 }, (_, i) => `tok-${i}`);
    const results = await Promise.all(tokens.map((t) => withToken(app.url, t)));
    expect(results.map((r) => r.body.auth.token)).toEqual(tokens);
    expect(endpoint.calls).toHaveLength(10);
  });

  test('an active answer is reused for cacheMaxAge, then asked again', async () => {
    const { app, endpoint } = await setup(() => ({ body: active() }), { introspection: { cacheMaxAge: 300 } });
    for (let i = 0; i < 5; i++) expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect(endpoint.count('tok-1')).toBe(1);
    await sleep(350);
    expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect(endpoint.count('tok-1')).toBe(2);
  });

  test('the expiry bound: an answer is never reused past the token exp, even with a long cacheMaxAge', async () => {
    const exp = now() + 2;
    const { app, endpoint } = await setup(() => ({ body: active({ exp }) }), {
      introspection: { cacheMaxAge: 60000 },
      jwtVerify: { clockTolerance: 0 },
    });
    expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect((await withToken(app.url, 'tok-1')).status).toBe(200); // kept, and now in the glue's memo
    expect(endpoint.count('tok-1')).toBe(1);
    await sleep(exp * 1000 - Date.now() + 100);
    const res = await withToken(app.url, 'tok-1');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID);
    expect(endpoint.count('tok-1')).toBe(2);
  });

  test('the negative cache: a flood of one junk token makes one call, for at most cacheMaxAge', async () => {
    const { app, endpoint } = await setup(() => ({ body: { active: false } }), { introspection: { cacheMaxAge: 300 } });
    for (let i = 0; i < 10; i++) expect((await withToken(app.url, 'junk')).status).toBe(401);
    expect(endpoint.count('junk')).toBe(1);
    await sleep(350);
    expect((await withToken(app.url, 'junk')).status).toBe(401);
    expect(endpoint.count('junk')).toBe(2);
  });

  test('the negative cache holds an inactive answer for 5 s at most, even with a longer cacheMaxAge', async () => {
    let revoked = true;
    const { app, endpoint } = await setup(() => ({ body: revoked ? { active: false } : active() }));
    expect((await withToken(app.url, 'tok-1')).status).toBe(401);
    revoked = false;
    await sleep(4000);
    expect((await withToken(app.url, 'tok-1')).status).toBe(401); // the kept inactive answer
    expect(endpoint.count('tok-1')).toBe(1);
    await sleep(1200);
    expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect(endpoint.count('tok-1')).toBe(2);
  }, 15000);

  test('cacheMaxAge 0 keeps nothing: each request calls', async () => {
    const { app, endpoint } = await setup(() => ({ body: active() }), { introspection: { cacheMaxAge: 0 } });
    for (let i = 0; i < 3; i++) expect((await withToken(app.url, 'tok-1')).status).toBe(200);
    expect(endpoint.count('tok-1')).toBe(3);
  });

  test('a token over 16 KiB is refused without a call', async () => {
    const { app, endpoint } = await setup(() => ({ body: active() }));
    const res = await withToken(app.url, 'a'.repeat(16 * 1024 + 1));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INVALID);
    expect(endpoint.calls).toHaveLength(0);
  });
});

test('discovery: an oauth issuer whose metadata has no introspection_endpoint gets 500 server_error, caused by missing_introspection_endpoint', async () => {
  const meta = express();
  let origin;
  meta.get('/.well-known/oauth-authorization-server', (req, res) => res.json({ issuer: origin, jwks_uri: `${origin}/jwks` }));
  const handle = await listen(meta);
  origin = handle.origin;
  const mcpAuth = new MCPAuth({
    protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oauth', issuer: origin }] } },
  });
  const app = await startApp(
    mcpAuth.bearerAuth('introspection', { resource: RESOURCE, showErrorDetails: true, introspection: { clientId: 'rs', clientSecret: 'secret' } }),
  );
  const res = await withToken(app.url, 'tok-1');
  expect(res.status).toBe(500);
  expect(res.body).toEqual({
    error: 'server_error',
    error_description: 'An error occurred with the authorization server.',
    cause: {
      error: 'missing_introspection_endpoint',
      error_description: 'The server metadata does not contain an introspection endpoint, which is required for token introspection.',
      cause: `The authorization server \`${origin}\` does not publish an \`introspection_endpoint\`.`,
    },
  });
  expect(res.text).not.toContain('tok-1');
});

describe('per-operation scopes, the scope hierarchy and mcpAuth.hasScopes, as in JWT mode', () => {
  const call = (name) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } });

  async function stepUpApp(options) {
    const endpoint = await startEndpoint((token) => ({ body: active({ scope: token.replace(/^scopes-/, '').replace(/\./g, ' ') }) }));
    const mcpAuth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oauth', issuer: ISSUER }] } },
    });
    const app = express();
    app.post(
      '/mcp',
      express.json(),
      mcpAuth.bearerAuth('introspection', {
        resource: RESOURCE,
        introspection: { endpoint: endpoint.url, clientId: 'rs', clientSecret: 'secret' },
        ...options,
      }),
      (req, res) => res.json({ scopes: req.auth.scopes, same: mcpAuth.authInfo === req.auth, admin: mcpAuth.hasScopes(['admin:read']) }),
    );
    const handle = await listen(app);
    const post = (token, name) =>
      request(`${handle.origin}/mcp`, { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, { method: 'POST', body: call(name) });
    return { endpoint, post };
  }

  test('toolScopes with scopeHierarchy: admin implies admin:read; a repeated token is decided per tool', async () => {
    const { endpoint, post } = await stepUpApp({
      requiredScopes: ['read'],
      toolScopes: { secret: ['admin:read'] },
      scopeHierarchy: { admin: ['admin:read'] },
    });
    const reader = await post('scopes-read', 'whoami');
    expect(reader.status).toBe(200);
    expect(reader.body).toEqual({ scopes: ['read'], same: true, admin: false });
    for (let i = 0; i < 2; i++) {
      const denied = await post('scopes-read', 'secret');
      expect(denied.status).toBe(403);
      expect(denied.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="read admin:read"/);
      expect(denied.body).toMatchObject({ error: 'missing_required_scopes', missing_scopes: ['admin:read'] });
    }
    expect((await post('scopes-read', 'whoami')).status).toBe(200);
    const admin = await post('scopes-read.admin', 'secret');
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual({ scopes: ['read', 'admin'], same: true, admin: true });
    // One call per token, whatever the tools.
    expect(endpoint.count('scopes-read')).toBe(1);
    expect(endpoint.count('scopes-read.admin')).toBe(1);
  });

  test('scopesFor decides the scopes of each operation', async () => {
    const { post } = await stepUpApp({ scopesFor: (op) => (op.name === 'write_it' ? ['write'] : undefined) });
    expect((await post('scopes-read', 'read_it')).status).toBe(200);
    const denied = await post('scopes-read', 'write_it');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toMatch(/scope="write"/);
    expect((await post('scopes-read.write', 'write_it')).status).toBe(200);
  });
});
