'use strict';
// The DPoP test infrastructure does what the DPoP tests rely on: oidc-provider
// (fixtures/oidc-dpop-child.mjs) issues JWT access tokens bound to the oauth4webapi client's key
// (`cnf.jkt` = its RFC 7638 thumbprint, computed here with jose), unbound ones without a proof,
// and introspects opaque bound tokens with `cnf.jkt`; the oauth4webapi client (dpop-client.js)
// sends a fresh, correct proof per request, retries on `use_dpop_nonce`, and drives the MCP SDK
// Client through its `fetch`; and the Redis helper (redis.js) starts, kills and restarts a real
// redis-server. No part of this package is under test here: the servers on the other end are
// plain recording routes, so that a broken fixture fails here and not in the feature's tests.

const crypto = require('node:crypto');
const express = require('express');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { createMcpServer } = require('../examples/whoami-server');
const { listen, closeAll, request, decodeJwt, startProviderChild } = require('./helpers');
const { dpopClient, thumbprint, jose } = require('./dpop-client');
const { startRedis, stopAllRedis } = require('./redis');

jest.setTimeout(60000);

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('base64url');

/**
 * A recording resource server: every request's method, URL and headers go to `seen`. `/mcp`
 * answers MCP (the SDK's stateless Streamable HTTP, whoami tool), `/nonce` asks for a DPoP nonce
 * first (401 `use_dpop_nonce` + `DPoP-Nonce`) and answers 200 once a proof carries it, anything
 * else answers 200 `{ ok: true }`.
 */
async function startRecorder() {
  const seen = [];
  const app = express();
  app.use((req, res, next) => {
    seen.push({ method: req.method, url: req.originalUrl, authorization: req.headers.authorization, dpop: req.headers.dpop });
    next();
  });
  app.all('/nonce', (req, res) => {
    const { payload } = decodeJwt(String(req.headers.dpop));
    if (payload.nonce === 'n-1') return res.json({ ok: true, nonce: payload.nonce });
    res
      .set('www-authenticate', 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"')
      .set('dpop-nonce', 'n-1')
      .status(401)
      .json({ error: 'use_dpop_nonce' });
  });
  app.post('/mcp', express.json(), async (req, res) => {
    const server = createMcpServer(null);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  app.all('*splat', (req, res) => res.json({ ok: true }));
  const handle = await listen(app);
  return { ...handle, seen, resource: `${handle.origin}/mcp` };
}

let recorder;
let provider;
let opaqueProvider;
beforeAll(async () => {
  recorder = await startRecorder();
  [provider, opaqueProvider] = await Promise.all([
    startProviderChild('oidc-dpop-child.mjs', { env: { RESOURCE: recorder.resource } }),
    startProviderChild('oidc-dpop-child.mjs', { env: { RESOURCE: recorder.resource, TOKEN_FORMAT: 'opaque', DPOP_NONCE: '1' } }),
  ]);
});
afterAll(async () => {
  await provider?.stop();
  await opaqueProvider?.stop();
  await closeAll();
  await stopAllRedis();
});

test('oidc-provider issues a JWT access token whose cnf.jkt is the thumbprint of the oauth4webapi key', async () => {
  const client = await dpopClient({ issuer: provider.issuer, resource: recorder.resource });
  expect(client.tokenType).toBe('DPoP');
  expect(client.tokenResponse).toMatchObject({ expires_in: 600, scope: 'read write' });
  const { calculateJwkThumbprint, exportJWK, createLocalJWKSet, jwtVerify } = await jose();
  const publicJwk = await exportJWK(client.keyPair.publicKey);
  const jkt = await calculateJwkThumbprint(publicJwk, 'sha256');
  expect(client.jkt).toBe(jkt);
  expect(await client.dpop.calculateThumbprint()).toBe(jkt);

  // Signed by a key the provider's JWKS serves; an RFC 9068 token for the resource.
  const jwks = await request(`${provider.issuer}/jwks`);
  expect(jwks.status).toBe(200);
  const { payload, protectedHeader } = await jwtVerify(client.token, createLocalJWKSet(jwks.body), {
    issuer: provider.issuer,
    audience: recorder.resource,
    typ: 'at+jwt',
  });
  expect(protectedHeader.alg).toBe('RS256');
  expect(payload).toMatchObject({ client_id: 'mcp-client', scope: 'read write', cnf: { jkt } });
  expect(Object.keys(payload.cnf)).toEqual(['jkt']);
});

test('the same client without a proof gets an unbound Bearer JWT (no cnf)', async () => {
  const client = await dpopClient({ issuer: provider.issuer, resource: recorder.resource, bound: false });
  expect(client.tokenType).toBe('Bearer');
  expect(client.dpop).toBeUndefined();
  const { payload } = decodeJwt(client.token);
  expect(payload).toMatchObject({ aud: recorder.resource, client_id: 'mcp-client', scope: 'read write' });
  expect(payload.cnf).toBeUndefined();

  const res = await client.request(`${recorder.origin}/plain`);
  expect(res.status).toBe(200);
  expect(res.proofs).toEqual([]);
  expect(recorder.seen.at(-1)).toMatchObject({ authorization: `Bearer ${client.token}`, dpop: undefined });
});

test('a client registered with dpop_bound_access_tokens is refused a token without a proof', async () => {
  const res = await request(
    `${provider.issuer}/token`,
    {
      authorization: `Basic ${Buffer.from('mcp-dpop-client:dpop-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', resource: recorder.resource }).toString() },
  );
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error: 'invalid_grant' });
  const bound = await dpopClient({ issuer: provider.issuer, resource: recorder.resource, clientId: 'mcp-dpop-client', clientSecret: 'dpop-secret' });
  expect(decodeJwt(bound.token).payload.cnf).toEqual({ jkt: bound.jkt });
});

// oauth4webapi names an Ed25519 key's proofs `Ed25519` (RFC 9864), not `EdDSA`.
test.each([
  ['ES384', 'ES384'],
  ['EdDSA', 'Ed25519'],
  ['RS256', 'RS256'],
  ['PS256', 'PS256'],
])('a %s key gets a token bound to its thumbprint, and its proofs say alg %s', async (alg, proofAlg) => {
  const client = await dpopClient({ issuer: provider.issuer, resource: recorder.resource, alg });
  expect(client.tokenType).toBe('DPoP');
  expect(decodeJwt(client.token).payload.cnf).toEqual({ jkt: await thumbprint(client.keyPair.publicKey) });
  const res = await client.request(`${recorder.origin}/any`);
  expect(res.status).toBe(200);
  expect(decodeJwt(res.proofs[0]).header.alg).toBe(proofAlg);
});
test('each request carries a fresh proof: typ, public jwk, htm, htu without query, ath, distinct jti', async () => {
  const client = await dpopClient({ issuer: provider.issuer, resource: recorder.resource });
  const url = `${recorder.origin}/some/path?q=1#frag`;
  const first = await client.request(url);
  const second = await client.request(url, { method: 'POST', body: 'x' });
  expect([first.status, second.status]).toEqual([200, 200]);
  expect(first.proofs).toHaveLength(1);
  expect(second.proofs).toHaveLength(1);
  const [a, b] = [first.proofs[0], second.proofs[0]].map(decodeJwt);
  for (const { header, payload } of [a, b]) {
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(header.jwk.d).toBeUndefined();
    expect(payload.htu).toBe(`${recorder.origin}/some/path`);
    expect(payload.ath).toBe(sha256(client.token));
    expect(Math.abs(payload.iat - Date.now() / 1000)).toBeLessThan(5);
  }
  expect(await thumbprint(a.header.jwk)).toBe(client.jkt);
  expect([a.payload.htm, b.payload.htm]).toEqual(['GET', 'POST']);
  expect(a.payload.jti).not.toBe(b.payload.jti);
  expect(recorder.seen.at(-1)).toMatchObject({ method: 'POST', authorization: `DPoP ${client.token}`, dpop: second.proofs[0] });
  // The proof verifies with its own jwk.
  const { jwtVerify, importJWK } = await jose();
  await expect(jwtVerify(second.proofs[0], await importJWK(b.header.jwk, 'ES256'), { typ: 'dpop+jwt' })).resolves.toBeTruthy();
});

test('the client retries once with the resource server nonce after use_dpop_nonce', async () => {
  const client = await dpopClient({ issuer: provider.issuer, resource: recorder.resource });
  const res = await client.request(`${recorder.origin}/nonce`);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ ok: true, nonce: 'n-1' });
  expect(res.proofs.map((p) => decodeJwt(p).payload.nonce)).toEqual([undefined, 'n-1']);
  // The handle keeps the nonce: the next request's first proof carries it.
  const again = await client.request(`${recorder.origin}/nonce`);
  expect(again.status).toBe(200);
  expect(again.proofs.map((p) => decodeJwt(p).payload.nonce)).toEqual(['n-1']);
});

test('the provider introspects an opaque bound token with cnf.jkt and token_type DPoP (after its own nonce)', async () => {
  // DPOP_NONCE=1: the token endpoint refuses a proof without its nonce (oauth4webapi retries).
  const { generateKeyPair, exportJWK, SignJWT } = await jose();
  const keys = await generateKeyPair('ES256');
  const proof = await new SignJWT({ htm: 'POST', htu: `${opaqueProvider.issuer}/token`, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
    .setIssuedAt()
    .sign(keys.privateKey);
  const raw = await request(
    `${opaqueProvider.issuer}/token`,
    {
      authorization: `Basic ${Buffer.from('mcp-client:mcp-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: proof,
    },
    { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', resource: recorder.resource }).toString() },
  );
  expect(raw.status).toBe(400);
  expect(raw.body).toMatchObject({ error: 'use_dpop_nonce' });
  expect(raw.headers.get('dpop-nonce')).toMatch(/^[\w-]+$/);
  const client = await dpopClient({ issuer: opaqueProvider.issuer, resource: recorder.resource });
  expect(client.tokenType).toBe('DPoP');
  expect(client.token.split('.')).toHaveLength(1); // opaque
  const res = await request(
    `${opaqueProvider.issuer}/token/introspection`,
    {
      authorization: `Basic ${Buffer.from('mcp-server:server-secret').toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    { method: 'POST', body: new URLSearchParams({ token: client.token }).toString() },
  );
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    active: true,
    client_id: 'mcp-client',
    token_type: 'DPoP',
    aud: recorder.resource,
    scope: 'read write',
    cnf: { jkt: client.jkt },
  });
});

test('the MCP SDK Client runs over the oauth4webapi fetch: every request has DPoP and a fresh proof', async () => {
  const client = await dpopClient({ issuer: provider.issuer, resource: recorder.resource });
  const before = recorder.seen.length;
  const mcp = new Client({ name: 'dpop-fixture', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(recorder.resource), { fetch: client.fetch }));
  const answer = await mcp.callTool({ name: 'whoami', arguments: {} });
  await mcp.close();
  expect(answer.structuredContent).toEqual({ scopes: [] });
  const sent = recorder.seen.slice(before);
  expect(sent.length).toBeGreaterThanOrEqual(3); // initialize, notifications/initialized, tools/call (+ GET stream)
  const jtis = new Set();
  for (const r of sent) {
    expect(r.authorization).toBe(`DPoP ${client.token}`);
    const { payload } = decodeJwt(r.dpop);
    expect(payload).toMatchObject({ htm: r.method, htu: recorder.resource, ath: sha256(client.token) });
    jtis.add(payload.jti);
  }
  expect(jtis.size).toBe(sent.length);
});

test('the Redis helper starts a real redis-server, kills it and restarts it on the same port', async () => {
  const redis = await startRedis();
  expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
  expect(await redis.command('PING')).toBe('PONG');
  expect(await redis.command('SET', 'jti:1', 'x', 'NX', 'PX', '60000')).toBe('OK');
  expect(await redis.command('SET', 'jti:1', 'x', 'NX', 'PX', '60000')).toBeNull();
  const pid = redis.pid;
  await redis.kill();
  await expect(redis.command('PING')).rejects.toThrow(/ECONNREFUSED/);
  expect(() => process.kill(pid, 0)).toThrow();
  await redis.restart();
  expect(redis.pid).not.toBe(pid);
  expect(await redis.command('PING')).toBe('PONG');
  // Nothing is kept on disk: the restarted Redis is empty.
  expect(await redis.command('GET', 'jti:1')).toBeNull();
  const { pid: last, dir } = redis;
  await redis.stop();
  expect(() => process.kill(last, 0)).toThrow();
  expect(require('node:fs').existsSync(dir)).toBe(false);
});

test('the Redis helper fails with a clear message when redis-server is not installed', async () => {
  const saved = process.env.PATH;
  process.env.PATH = require('node:fs').mkdtempSync(require('node:path').join(require('node:os').tmpdir(), 'no-redis-'));
  try {
    await expect(startRedis()).rejects.toThrow(/redis-server is not installed.*apt-get install redis-server/);
  } finally {
    process.env.PATH = saved;
  }
});
