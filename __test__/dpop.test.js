'use strict';
// DPoP (RFC 9449) through the public API, against real parts: oidc-provider with its DPoP
// feature issues DPoP-bound access tokens (`cnf.jkt`) by client credentials, and oauth4webapi
// (a DPoP client no one here wrote) gets them with its own key and calls the protected endpoint
// with its own fresh proofs: directly, and through the MCP SDK `Client` (its `fetch` wrapped).
// Replay store: memory (Redis has its own suite, dpop-redis.test.js); the attacks of the issue
// list are in dpop-attacks.test.js.
//
// Run with `node --experimental-vm-modules` (npm test does): oauth4webapi and jose are ESM-only.

const express = require('express');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { MCPAuth, bearerAuthErrorDescription, tokenVerificationErrorDescription } = require('..');
const { createWhoamiApp } = require('../examples/whoami-server');
const { listen, closeAll, request, decodeJwt, startProviderChild, bearerChallenge } = require('./helpers');
const { dpopClient, jose } = require('./dpop-client');
const { proofFor, dpopChallenge, expectDpopRefusal, expectNothingReflected, ALGS } = require('./dpop-helpers');

jest.setTimeout(60000);

let provider; // JWT access tokens
let opaque; // opaque access tokens, for introspection
beforeAll(async () => {
  [provider, opaque] = await Promise.all([
    startProviderChild('oidc-dpop-child.mjs'),
    startProviderChild('oidc-dpop-child.mjs', { env: { TOKEN_FORMAT: 'opaque' } }),
  ]);
});
afterAll(async () => {
  await Promise.all([provider?.stop(), opaque?.stop()]);
});
afterEach(closeAll);

/**
 * An Express app on 127.0.0.1 whose `/mcp` is behind `bearerAuth(mode, { resource, ...options })`
 * (resource = the app's own `/mcp` URL) and answers `{ auth: req.auth }`; the metadata router is
 * mounted too. Returns `{ url, origin, metadata, auth }`.
 */
async function protect(options, { mode = 'jwt', issuer = provider.issuer } = {}) {
  const app = express();
  let guard = (req, res, next) => next(new Error('not ready'));
  let router = (req, res, next) => next();
  app.use((req, res, next) => router(req, res, next));
  app.use('/mcp', (req, res, next) => guard(req, res, next));
  app.all('/mcp', (req, res) => res.json({ auth: req.auth }));
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => res.status(599).json({ app_error: String(err && err.message) }));
  const handle = await listen(app);
  const url = `${handle.origin}/mcp`;
  const auth = new MCPAuth({ protectedResources: { metadata: { resource: url, authorizationServers: [{ type: 'oidc', issuer }] } } });
  router = auth.protectedResourceMetadataRouter();
  guard = options === undefined ? auth.bearerAuth(mode, { resource: url }) : auth.bearerAuth(mode, { resource: url, ...options });
  return { url, origin: handle.origin, metadata: `${handle.origin}/.well-known/oauth-protected-resource/mcp`, auth };
}

/** `fetch` with an `Authorization` header and optional `DPoP` proof. */
const send = (url, authorization, proof, init = {}) =>
  request(url, { ...(authorization ? { authorization } : {}), ...(proof ? { dpop: proof } : {}), ...init.headers }, init);

const introspection = { clientId: 'mcp-server', clientSecret: 'server-secret' };

describe("'allowed' mode (dpop: {})", () => {
  test("oauth4webapi's bound token with its own proofs is accepted: req.auth says tokenType 'DPoP' and dpop.jkt", async () => {
    const app = await protect({ dpop: {} });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    expect(client.tokenType).toBe('DPoP');
    const first = await client.request(`${app.url}?session=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(first.status).toBe(200);
    expect(first.headers.get('www-authenticate')).toBeNull();
    expect(first.headers.get('dpop-nonce')).toBeNull();
    expect(first.body).toEqual({
      auth: {
        token: client.token,
        issuer: provider.issuer,
        clientId: 'mcp-client',
        scopes: ['read', 'write'],
        subject: 'mcp-client',
        audience: app.url,
        expiresAt: expect.any(Number),
        claims: expect.objectContaining({ cnf: { jkt: client.jkt }, client_id: 'mcp-client', aud: app.url }),
        tokenType: 'DPoP',
        dpop: { jkt: client.jkt },
      },
    });
    // Every request carries a fresh proof, and each is accepted once.
    const second = await client.request(app.url);
    expect(second.status).toBe(200);
    expect(second.body.auth.dpop).toEqual({ jkt: client.jkt });
    expect(second.proofs[0]).not.toBe(first.proofs[0]);
  });

  test('an unbound token sent as Bearer passes, with the same AuthInfo as without the option (no tokenType, no dpop)', async () => {
    const client = await dpopClient({ issuer: provider.issuer, resource: 'http://127.0.0.1:1/unused', bound: false });
    const withDpop = await protect({ dpop: {} });
    const without = await protect();
    const plain = await dpopClient({ issuer: provider.issuer, resource: withDpop.url, bound: false });
    const plainToo = await dpopClient({ issuer: provider.issuer, resource: without.url, bound: false });
    expect([client.tokenType, plain.tokenType]).toEqual(['Bearer', 'Bearer']);
    const a = await send(withDpop.url, `Bearer ${plain.token}`);
    const b = await send(without.url, `Bearer ${plainToo.token}`);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(Object.keys(a.body.auth)).toEqual(Object.keys(b.body.auth));
    expect(a.body.auth).not.toHaveProperty('tokenType');
    expect(a.body.auth).not.toHaveProperty('dpop');
    expect(a.body.auth).toMatchObject({ token: plain.token, clientId: 'mcp-client', scopes: ['read', 'write'] });
    expect(a.headers.get('dpop-nonce')).toBeNull();
    // The same Bearer token again (the glue's memo answers it) is still accepted as it was.
    const again = await send(withDpop.url, `Bearer ${plain.token}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(a.body);
  });

  test('a request without credentials is offered both schemes: Bearer …, DPoP algs="…"', async () => {
    const app = await protect({ dpop: {}, requiredScopes: ['read'] });
    const res = await request(app.url);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'missing_auth_header', error_description: bearerAuthErrorDescription.missing_auth_header });
    expect(res.headers.get('www-authenticate')).toBe(
      `${bearerChallenge({ scope: 'read', resourceMetadata: app.metadata })}, DPoP algs="${ALGS}"`,
    );
  });

  test('no downgrade: the bound token sent with the Bearer scheme is refused with the DPoP challenge', async () => {
    const app = await protect({ dpop: {} });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const res = await send(app.url, `Bearer ${client.token}`);
    expectDpopRefusal(res, 'dpop_bound_token', 'invalid_token', { resourceMetadata: app.metadata });
    expectNothingReflected(res, client.token);
  });

  test('a bound token that comes back with fresh proofs passes each time, with its own req.auth, until it expires (then 401 invalid_token)', async () => {
    // The token's verification is kept for the requests after the first ones; its proofs are
    // checked every time. A provider whose tokens live 3 s shows that the kept verdict ends at `exp`.
    const shortLived = await startProviderChild('oidc-dpop-child.mjs', { env: { ACCESS_TOKEN_TTL: '3' } });
    try {
      const app = express();
      const url = `${(await listen(app)).origin}/mcp`;
      const auth = new MCPAuth({ protectedResources: { metadata: { resource: url, authorizationServers: [{ type: 'oidc', issuer: shortLived.issuer }] } } });
      // The handler changes its req.auth: no later request may see that.
      app.get('/mcp', auth.bearerAuth('jwt', { resource: url, dpop: {}, jwtVerify: { clockTolerance: 0 } }), (req, res) => {
        const seen = structuredClone(req.auth);
        req.auth.scopes.push('changed');
        req.auth.claims.changed = true;
        res.json({ auth: seen });
      });
      const client = await dpopClient({ issuer: shortLived.issuer, resource: url });
      const { exp } = decodeJwt(client.token).payload;
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await client.request(url));
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.body.auth).toEqual({ ...answers[0].body.auth, dpop: { jkt: client.jkt } });
        expect(res.body.auth.scopes).toEqual(['read', 'write']);
        expect(res.body.auth.claims.changed).toBeUndefined();
      }
      expect(new Set(answers.map((r) => r.proofs[0])).size).toBe(4);
      // Past `exp` (whole seconds; no clock tolerance): refused, though the verdict was kept a moment ago.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 - Date.now()) + 50));
      const late = await client.request(url);
      const description = tokenVerificationErrorDescription.invalid_token;
      expect({ status: late.status, body: late.body }).toEqual({ status: 401, body: { error: 'invalid_token', error_description: description } });
      const metadata = `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`;
      expect(late.headers.get('www-authenticate')).toBe(`DPoP error="invalid_token", error_description="${description}", algs="${ALGS}", resource_metadata="${metadata}"`);
      expect(late.headers.get('cache-control')).toBe('no-store');
      expectNothingReflected(late, client.token);
    } finally {
      await shortLived.stop();
    }
  });

  test('a replayed proof is refused on the same instance: 401 invalid_dpop_proof', async () => {
    const app = await protect({ dpop: {} });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const first = await client.request(app.url);
    expect(first.status).toBe(200);
    const replay = await send(app.url, `DPoP ${client.token}`, first.proofs[0]);
    expectDpopRefusal(replay, 'invalid_dpop_proof', 'invalid_dpop_proof', { resourceMetadata: app.metadata });
    expectNothingReflected(replay, client.token, first.proofs[0], decodeJwt(first.proofs[0]).payload.jti);
  });

  test('scope failures stay 403 insufficient_scope, with the DPoP scheme when the request used it', async () => {
    const app = await protect({ dpop: {}, requiredScopes: ['secrets:read'] });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const res = await client.request(app.url);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: 'missing_required_scopes',
      error_description: bearerAuthErrorDescription.missing_required_scopes,
      missing_scopes: ['secrets:read'],
    });
    expect(res.headers.get('www-authenticate')).toBe(
      dpopChallenge('missing_required_scopes', 'insufficient_scope', { scope: 'secrets:read', resourceMetadata: app.metadata }),
    );
    const plain = await dpopClient({ issuer: provider.issuer, resource: app.url, bound: false });
    const bearer = await send(app.url, `Bearer ${plain.token}`);
    expect(bearer.status).toBe(403);
    expect(bearer.headers.get('www-authenticate')).toBe(
      bearerChallenge({
        error: 'insufficient_scope',
        description: bearerAuthErrorDescription.missing_required_scopes,
        scope: 'secrets:read',
        resourceMetadata: app.metadata,
      }),
    );
  });

  test('the MCP SDK Client works over DPoP through oauth4webapi (its fetch wrapped): whoami sees the bound identity', async () => {
    const holder = express();
    let inner = (req, res, next) => next();
    holder.use((req, res, next) => inner(req, res, next));
    const handle = await listen(holder);
    const resource = `${handle.origin}/mcp`;
    inner = createWhoamiApp({ issuer: provider.issuer, resource, bearerOptions: { dpop: { mode: 'required' } } });
    const client = await dpopClient({ issuer: provider.issuer, resource, scope: 'read write' });
    const mcp = new Client({ name: 'dpop-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(resource), { fetch: client.fetch }));
    const result = await mcp.callTool({ name: 'whoami', arguments: {} });
    expect(result.structuredContent).toEqual({ subject: 'mcp-client', clientId: 'mcp-client', issuer: provider.issuer, scopes: ['read', 'write'] });
    // read_secret needs `secrets:read`: the step-up 403 comes with the DPoP scheme.
    const denied = await client.request(resource, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'read_secret', arguments: {} } }),
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toBe(
      dpopChallenge('missing_required_scopes', 'insufficient_scope', {
        scope: 'read write secrets:read',
        resourceMetadata: `${handle.origin}/.well-known/oauth-protected-resource/mcp`,
      }),
    );
    await mcp.close();
  });
});

describe('without the dpop option', () => {
  test('a DPoP-bound token is never accepted as a bearer token: 401 with the one Bearer challenge', async () => {
    const app = await protect();
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const res = await send(app.url, `Bearer ${client.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'dpop_bound_token', error_description: bearerAuthErrorDescription.dpop_bound_token });
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({ error: 'invalid_token', description: bearerAuthErrorDescription.dpop_bound_token, resourceMetadata: app.metadata }),
    );
    expectNothingReflected(res, client.token);
  });

  test('the DPoP scheme is refused as before (invalid_auth_header_format, Bearer challenge), even with a valid proof', async () => {
    const app = await protect();
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const res = await client.request(app.url);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_auth_header_format', error_description: bearerAuthErrorDescription.invalid_auth_header_format });
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({
        error: 'invalid_request',
        description: bearerAuthErrorDescription.invalid_auth_header_format,
        resourceMetadata: app.metadata,
      }),
    );
    const missing = await request(app.url);
    expect(missing.headers.get('www-authenticate')).toBe(bearerChallenge({ resourceMetadata: app.metadata }));
  });

  test("mode 'disabled' is the same as no option", async () => {
    const app = await protect({ dpop: { mode: 'disabled' } });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const res = await client.request(app.url);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_auth_header_format');
    const metadata = await request(app.metadata);
    expect(metadata.body).not.toHaveProperty('dpop_signing_alg_values_supported');
  });
});

describe("'required' mode", () => {
  test('only a bound token with the DPoP scheme passes; metadata says dpop_bound_access_tokens_required', async () => {
    const app = await protect({ dpop: { mode: 'required', algorithms: ['ES256', 'PS256'] } });
    const metadata = await request(app.metadata);
    expect(metadata.body).toEqual({
      resource: app.url,
      authorization_servers: [provider.issuer],
      dpop_signing_alg_values_supported: ['ES256', 'PS256'],
      dpop_bound_access_tokens_required: true,
    });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const ok = await client.request(app.url);
    expect(ok.status).toBe(200);
    expect(ok.body.auth).toMatchObject({ tokenType: 'DPoP', dpop: { jkt: client.jkt } });

    const algs = 'ES256 PS256';
    const missing = await request(app.url);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe('missing_auth_header');
    expect(missing.headers.get('www-authenticate')).toBe(`DPoP algs="${algs}", resource_metadata="${app.metadata}"`);

    const plain = await dpopClient({ issuer: provider.issuer, resource: app.url, bound: false });
    const bearer = await send(app.url, `Bearer ${plain.token}`);
    expectDpopRefusal(bearer, 'dpop_required', 'invalid_token', { algs, resourceMetadata: app.metadata });
    expectNothingReflected(bearer, plain.token);

    // The unbound token with the DPoP scheme and a valid proof of some key: not bound to it.
    const { generateKeyPair } = await jose();
    const keys = await generateKeyPair('ES256');
    const proof = await proofFor(keys, { htm: 'GET', htu: app.url, token: plain.token });
    const unbound = await send(app.url, `DPoP ${plain.token}`, proof);
    expectDpopRefusal(unbound, 'dpop_binding_mismatch', 'invalid_token', { algs, resourceMetadata: app.metadata });
    expectNothingReflected(unbound, plain.token, proof);

    // A proof algorithm the option does not list.
    const es384 = await dpopClient({ issuer: provider.issuer, resource: app.url, alg: 'ES384' });
    const refused = await es384.request(app.url);
    expectDpopRefusal(refused, 'invalid_dpop_proof', 'invalid_dpop_proof', { algs, resourceMetadata: app.metadata });
  });
});

describe('server nonces (nonce: true)', () => {
  test('oauth4webapi gets use_dpop_nonce with DPoP-Nonce, retries with it and passes; every answer carries the next nonce', async () => {
    const app = await protect({ dpop: { nonce: true } });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const res = await client.request(app.url);
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ tokenType: 'DPoP', dpop: { jkt: client.jkt } });
    const nonces = res.proofs.map((p) => decodeJwt(p).payload.nonce);
    expect(nonces).toHaveLength(2);
    expect(nonces[0]).toBeUndefined();
    expect(nonces[1]).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(res.headers.get('dpop-nonce')).toBe(nonces[1]);
    expect(res.headers.get('access-control-expose-headers')).toMatch(/(^|,)\s*DPoP-Nonce\s*(,|$)/i);
    // The client keeps the nonce: its next request passes at once.
    const next = await client.request(app.url);
    expect(next.status).toBe(200);
    expect(next.proofs).toHaveLength(1);
  });

  test('a proof without a nonce, or with one this server did not issue, gets 401 use_dpop_nonce and a DPoP-Nonce', async () => {
    const app = await protect({ dpop: { nonce: true } });
    const other = await protect({ dpop: { nonce: true } });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url });
    const keys = client.keyPair;
    const missing = await send(app.url, `DPoP ${client.token}`, await proofFor(keys, { htm: 'GET', htu: app.url, token: client.token }));
    expectDpopRefusal(missing, 'use_dpop_nonce', 'use_dpop_nonce', { resourceMetadata: app.metadata });
    const nonce = missing.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(missing.headers.get('access-control-expose-headers')).toMatch(/DPoP-Nonce/);
    // Another instance's nonce (another secret: the memory store has no shared one) is stale here.
    const foreign = (await request(other.url, { authorization: `DPoP ${client.token}`, dpop: 'x' })).headers.get('dpop-nonce');
    expect(foreign).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(foreign).not.toBe(nonce);
    for (const bad of [foreign, 'made-up-nonce']) {
      const res = await send(app.url, `DPoP ${client.token}`, await proofFor(keys, { htm: 'GET', htu: app.url, token: client.token, nonce: bad }));
      expectDpopRefusal(res, 'use_dpop_nonce', 'use_dpop_nonce', { resourceMetadata: app.metadata });
      expect(res.headers.get('dpop-nonce')).toBe(nonce);
      expectNothingReflected(res, client.token, bad);
    }
    const good = await send(app.url, `DPoP ${client.token}`, await proofFor(keys, { htm: 'GET', htu: app.url, token: client.token, nonce }));
    expect(good.status).toBe(200);
    expect(good.headers.get('dpop-nonce')).toBe(nonce);
  });

  test('a malformed DPoP header, or no credentials, is refused with the DPoP-Nonce to use', async () => {
    const app = await protect({ dpop: { nonce: true } });
    const res = await request(app.url, { authorization: 'DPoP two tokens' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_auth_header_format', error_description: bearerAuthErrorDescription.invalid_auth_header_format });
    expect(res.headers.get('www-authenticate')).toBe(
      dpopChallenge('invalid_auth_header_format', 'invalid_request', { resourceMetadata: app.metadata }),
    );
    expect(res.headers.get('dpop-nonce')).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    // A request without credentials is offered both schemes, and the nonce its first proof needs.
    const missing = await request(app.url);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toBe('missing_auth_header');
    expect(missing.headers.get('www-authenticate')).toBe(`${bearerChallenge({ resourceMetadata: app.metadata })}, DPoP algs="${ALGS}"`);
    expect(missing.headers.get('dpop-nonce')).toBe(res.headers.get('dpop-nonce'));
    const off = await protect({ dpop: {} });
    const plain = await request(off.url, { authorization: 'DPoP two tokens' });
    expect(plain.status).toBe(401);
    expect(plain.headers.get('dpop-nonce')).toBeNull();
    expect(plain.headers.get('www-authenticate')).toBe(
      dpopChallenge('invalid_auth_header_format', 'invalid_request', { resourceMetadata: off.metadata }),
    );
  });
});

describe("introspection mode (cnf.jkt of the introspection answer)", () => {
  test('a bound opaque token with its proofs passes; as Bearer it is refused; with another key it is not bound', async () => {
    const app = await protect({ dpop: {}, introspection }, { mode: 'introspection', issuer: opaque.issuer });
    const client = await dpopClient({ issuer: opaque.issuer, resource: app.url });
    expect(client.token.split('.')).toHaveLength(1); // opaque
    const ok = await client.request(app.url);
    expect(ok.status).toBe(200);
    expect(ok.body.auth).toMatchObject({
      token: client.token,
      issuer: opaque.issuer,
      clientId: 'mcp-client',
      scopes: ['read', 'write'],
      tokenType: 'DPoP',
      dpop: { jkt: client.jkt },
      claims: expect.objectContaining({ active: true, cnf: { jkt: client.jkt } }),
    });
    const bearer = await send(app.url, `Bearer ${client.token}`);
    expectDpopRefusal(bearer, 'dpop_bound_token', 'invalid_token', { resourceMetadata: app.metadata });
    const { generateKeyPair } = await jose();
    const other = await proofFor(await generateKeyPair('ES256'), { htm: 'GET', htu: app.url, token: client.token });
    const stolen = await send(app.url, `DPoP ${client.token}`, other);
    expectDpopRefusal(stolen, 'dpop_binding_mismatch', 'invalid_token', { resourceMetadata: app.metadata });
    expectNothingReflected(stolen, client.token, other);
  });

  test('without the option, the bound opaque token is refused as a bearer token', async () => {
    const app = await protect({ introspection }, { mode: 'introspection', issuer: opaque.issuer });
    const client = await dpopClient({ issuer: opaque.issuer, resource: app.url });
    const res = await send(app.url, `Bearer ${client.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'dpop_bound_token', error_description: bearerAuthErrorDescription.dpop_bound_token });
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({ error: 'invalid_token', description: bearerAuthErrorDescription.dpop_bound_token, resourceMetadata: app.metadata }),
    );
  });
});

describe('Express 4, and a middleware mounted under a sub-path', () => {
  test('htu is checked against req.originalUrl (the full path), not the path under the mount point', async () => {
    const express4 = require('express4');
    const app = express4();
    const { origin } = await listen(app);
    const resource = `${origin}/api/mcp`;
    const auth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: provider.issuer }] } } });
    const api = express4.Router();
    api.use('/mcp', auth.bearerAuth('jwt', { resource, dpop: { mode: 'required' } }), (req, res) => res.json({ url: req.url, auth: req.auth }));
    app.use('/api', api);
    const client = await dpopClient({ issuer: provider.issuer, resource });
    const ok = await client.request(`${resource}?x=1`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ url: '/?x=1', auth: { tokenType: 'DPoP', dpop: { jkt: client.jkt } } });
    // A proof for the path as the router sees it (`/mcp`) is not a proof for this URL.
    const inner = await proofFor(client.keyPair, { htm: 'GET', htu: `${origin}/mcp`, token: client.token });
    const refused = await send(resource, `DPoP ${client.token}`, inner);
    expectDpopRefusal(refused, 'invalid_dpop_proof', 'invalid_dpop_proof', {
      resourceMetadata: `${origin}/.well-known/oauth-protected-resource/api/mcp`,
    });
  });
});

describe('every default proof algorithm, as oauth4webapi signs it', () => {
  // oauth4webapi names an Ed25519 key's proofs `Ed25519` (RFC 9864); `EdDSA` in the options covers it.
  test.each(['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'])('a %s client key: its bound token and proofs pass', async (alg) => {
    const app = await protect({ dpop: {} });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url, alg });
    const res = await client.request(app.url);
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ tokenType: 'DPoP', dpop: { jkt: client.jkt } });
    expect(decodeJwt(res.proofs[0]).header.alg).toBe(alg === 'EdDSA' ? 'Ed25519' : alg);
  });

  test('EdDSA left out of the options refuses an Ed25519 proof', async () => {
    const app = await protect({ dpop: { algorithms: ['ES256'] } });
    const client = await dpopClient({ issuer: provider.issuer, resource: app.url, alg: 'EdDSA' });
    const res = await client.request(app.url);
    expectDpopRefusal(res, 'invalid_dpop_proof', 'invalid_dpop_proof', { algs: 'ES256', resourceMetadata: app.metadata });
  });
});

describe('custom verification functions', () => {
  test("a verifier's AuthInfo whose claims carry cnf.jkt is a bound token: refused as a bearer token (401 dpop_bound_token)", async () => {
    const holder = express();
    let inner = (req, res, next) => next();
    holder.use('/mcp', (req, res, next) => inner(req, res, next), (req, res) => res.json({ auth: req.auth }));
    const { origin } = await listen(holder);
    const resource = `${origin}/mcp`;
    const auth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: provider.issuer }] } } });
    const client = await dpopClient({ issuer: provider.issuer, resource });
    // A verifier that trusts the token's payload and hands back its claims, `cnf` included.
    inner = auth.bearerAuth(
      (token) => {
        const { payload } = decodeJwt(token);
        return { token, issuer: payload.iss, clientId: payload.client_id, scopes: payload.scope.split(' '), audience: payload.aud, claims: payload };
      },
      { resource },
    );
    const res = await send(resource, `Bearer ${client.token}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'dpop_bound_token', error_description: bearerAuthErrorDescription.dpop_bound_token });
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({
        error: 'invalid_token',
        description: bearerAuthErrorDescription.dpop_bound_token,
        resourceMetadata: `${origin}/.well-known/oauth-protected-resource/mcp`,
      }),
    );
    const plain = await dpopClient({ issuer: provider.issuer, resource, bound: false });
    const ok = await send(resource, `Bearer ${plain.token}`);
    expect(ok.status).toBe(200);
    expect(ok.body.auth).toMatchObject({ token: plain.token, clientId: 'mcp-client' });
  });
});
