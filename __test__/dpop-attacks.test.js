'use strict';
// The attacks of issue 15 on DPoP, through the public API: each is refused with the right status
// and challenge, and nothing of the token or the proof is reflected. The token is a real bound
// token from oidc-provider (got by oauth4webapi with its own key); the bad proofs are built with
// jose, signed with that same key unless the attack says otherwise.
//
// Run with `node --experimental-vm-modules` (npm test does): oauth4webapi and jose are ESM-only.

const crypto = require('node:crypto');
const http = require('node:http');
const express = require('express');
const { MCPAuth } = require('..');
const { listen, closeAll, request, startProviderChild } = require('./helpers');
const { dpopClient, jose } = require('./dpop-client');
const { proofFor, compact, expectDpopRefusal, expectNothingReflected, ath } = require('./dpop-helpers');

jest.setTimeout(60000);

let provider;
let app; // { url, origin, metadata }
let client; // oauth4webapi client with a token bound to its ES256 key
let required; // the same resource in 'required' mode, at /strict
let detailedUrl; // 'allowed' mode with showErrorDetails: the cause names the failed check
beforeAll(async () => {
  provider = await startProviderChild('oidc-dpop-child.mjs');
  const server = express();
  let mcp;
  let strict;
  let detailed;
  server.use('/mcp', (req, res, next) => mcp(req, res, next));
  server.use('/strict', (req, res, next) => strict(req, res, next));
  server.use('/detailed', (req, res, next) => detailed(req, res, next));
  server.all(['/mcp', '/strict', '/detailed'], (req, res) => res.json({ auth: req.auth }));
  const handle = await listen(server);
  const url = `${handle.origin}/mcp`;
  const strictUrl = `${handle.origin}/strict`;
  const auth = new MCPAuth({
    protectedResources: [
      { metadata: { resource: url, authorizationServers: [{ type: 'oidc', issuer: provider.issuer }] } },
      { metadata: { resource: strictUrl, authorizationServers: [{ type: 'oidc', issuer: provider.issuer }] } },
      { metadata: { resource: `${handle.origin}/detailed`, authorizationServers: [{ type: 'oidc', issuer: provider.issuer }] } },
    ],
  });
  detailed = auth.bearerAuth('jwt', { resource: `${handle.origin}/detailed`, audience: url, showErrorDetails: true, dpop: { iatWindow: 60 } });
  detailedUrl = `${handle.origin}/detailed`;
  mcp = auth.bearerAuth('jwt', { resource: url, dpop: { iatWindow: 60 } });
  strict = auth.bearerAuth('jwt', { resource: strictUrl, dpop: { mode: 'required' } });
  app = { url, origin: handle.origin, metadata: `${handle.origin}/.well-known/oauth-protected-resource/mcp` };
  required = { url: strictUrl, metadata: `${handle.origin}/.well-known/oauth-protected-resource/strict` };
  client = await dpopClient({ issuer: provider.issuer, resource: url });
});
afterAll(async () => {
  await provider?.stop();
  await closeAll();
});

const now = () => Math.floor(Date.now() / 1000);

/** A GET to `url` with `Authorization: DPoP <token>` and the given `DPoP` header(s) (an array: one line each). */
function raw(url, { token = client.token, proofs = [], host, method = 'GET' } = {}) {
  const { hostname, port, pathname, search } = new URL(url);
  const headers = { authorization: `DPoP ${token}` };
  if (proofs.length) headers.dpop = proofs.length === 1 ? proofs[0] : proofs;
  if (host) headers.host = host;
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: pathname + search, method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let body = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : String(v));
        resolve({ status: res.statusCode, headers: h, body, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A proof for GET app.url with the client's key, `changes` applied. */
const proof = (changes = {}) => proofFor(client.keyPair, { htm: 'GET', htu: app.url, token: client.token, ...changes });

/** Refused as a bad proof: 401 invalid_dpop_proof with the DPoP challenge, nothing reflected. */
function expectBadProof(res, ...secrets) {
  expectDpopRefusal(res, 'invalid_dpop_proof', 'invalid_dpop_proof', { resourceMetadata: app.metadata });
  expectNothingReflected(res, client.token, ...secrets);
}

test('control: the same kind of proof, made right, is accepted', async () => {
  const res = await raw(app.url, { proofs: [await proof()] });
  expect(res.status).toBe(200);
  expect(res.body.auth).toMatchObject({ tokenType: 'DPoP', dpop: { jkt: client.jkt } });
});

test('a replayed proof is refused after its first use', async () => {
  const p = await proof();
  expect((await raw(app.url, { proofs: [p] })).status).toBe(200);
  expectBadProof(await raw(app.url, { proofs: [p] }), p);
});

test('a proof for another method is refused', async () => {
  const p = await proof({ htm: 'POST' });
  expectBadProof(await raw(app.url, { proofs: [p] }), p);
});

test('a proof for another URL is refused (another path, another origin)', async () => {
  for (const htu of [`${app.origin}/other`, 'https://evil.example/mcp']) {
    const p = await proof({ htu });
    expectBadProof(await raw(app.url, { proofs: [p] }), p);
  }
});

test('a proof for another URL with only the Host header forged is refused: htu comes from the configured resource', async () => {
  const p = await proof({ htu: 'http://evil.example/mcp' });
  const res = await raw(app.url, { proofs: [p], host: 'evil.example' });
  expectBadProof(res, p);
  // And the forged Host does not matter for a proof of the real URL.
  const ok = await raw(app.url, { proofs: [await proof()], host: 'evil.example' });
  expect(ok.status).toBe(200);
});

test('the query of the request does not matter to htu; X-Forwarded-Host does not either', async () => {
  const ok = await raw(`${app.url}?a=1`, { proofs: [await proof()] });
  expect(ok.status).toBe(200);
  const forged = await proof({ htu: 'https://evil.example/mcp' });
  const res = await request(app.url, { authorization: `DPoP ${client.token}`, dpop: forged, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
  expectBadProof(res, forged);
});

test('iat too old or too far in the future (iatWindow 60 s) is refused', async () => {
  for (const iat of [now() - 120, now() + 120]) {
    const p = await proof({ claims: { iat } });
    expectBadProof(await raw(app.url, { proofs: [p] }), p);
  }
  const inside = await raw(app.url, { proofs: [await proof({ claims: { iat: now() - 30 } })] });
  expect(inside.status).toBe(200);
});

test('a missing or wrong ath is refused', async () => {
  for (const claims of [{ ath: undefined }, { ath: ath('another-token') }]) {
    const p = await proof({ claims });
    expectBadProof(await raw(app.url, { proofs: [p] }), p);
  }
});

test('a proof signed by another key than its jwk is refused', async () => {
  const { generateKeyPair, exportJWK, SignJWT } = await jose();
  const other = await generateKeyPair('ES256');
  const p = await new SignJWT({ htm: 'GET', htu: app.url, jti: crypto.randomUUID(), iat: now(), ath: ath(client.token) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(client.keyPair.publicKey) })
    .sign(other.privateKey);
  expectBadProof(await raw(app.url, { proofs: [p] }), p);
});

test('a jwk with private members is refused', async () => {
  const { generateKeyPair, exportJWK, SignJWT } = await jose();
  const keys = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = await exportJWK(keys.privateKey);
  expect(privateJwk.d).toEqual(expect.any(String));
  const p = await new SignJWT({ htm: 'GET', htu: app.url, jti: crypto.randomUUID(), iat: now(), ath: ath(client.token) })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: privateJwk })
    .sign(keys.privateKey);
  const res = await raw(app.url, { proofs: [p] });
  expectBadProof(res, p, privateJwk.d);
});

test('alg none and HS256 are refused', async () => {
  const { exportJWK } = await jose();
  const jwk = await exportJWK(client.keyPair.publicKey);
  const payload = { htm: 'GET', htu: app.url, jti: crypto.randomUUID(), iat: now(), ath: ath(client.token) };
  const none = compact({ alg: 'none', typ: 'dpop+jwt', jwk }, payload);
  const hsHeader = { alg: 'HS256', typ: 'dpop+jwt', jwk };
  const unsigned = compact(hsHeader, payload).slice(0, -1);
  const mac = crypto.createHmac('sha256', Buffer.from(JSON.stringify(jwk))).update(unsigned).digest();
  const hs256 = `${unsigned}.${mac.toString('base64url')}`;
  for (const p of [none, hs256]) expectBadProof(await raw(app.url, { proofs: [p] }), p);
});

test('a wrong typ is refused', async () => {
  const p = await proof({ header: { typ: 'JWT' } });
  expectBadProof(await raw(app.url, { proofs: [p] }), p);
});

test('two DPoP headers are refused, even when each is a good proof, and neither is used up', async () => {
  const a = await proof();
  const b = await proof();
  const res = await raw(app.url, { proofs: [a, b] });
  expectBadProof(res, a, b);
  expect((await raw(app.url, { proofs: [a] })).status).toBe(200);
});

test('no DPoP header with the DPoP scheme is refused', async () => {
  expectBadProof(await raw(app.url, { proofs: [] }));
});

test('a bound token with the Bearer scheme is refused (no downgrade)', async () => {
  const res = await request(app.url, { authorization: `Bearer ${client.token}` });
  expectDpopRefusal(res, 'dpop_bound_token', 'invalid_token', { resourceMetadata: app.metadata });
  expectNothingReflected(res, client.token);
});

test("an unbound token with the DPoP scheme in 'required' mode is refused", async () => {
  const plain = await dpopClient({ issuer: provider.issuer, resource: required.url, bound: false });
  const { generateKeyPair } = await jose();
  const p = await proofFor(await generateKeyPair('ES256'), { htm: 'GET', htu: required.url, token: plain.token });
  const res = await raw(required.url, { token: plain.token, proofs: [p] });
  expectDpopRefusal(res, 'dpop_binding_mismatch', 'invalid_token', { resourceMetadata: required.metadata });
  expectNothingReflected(res, plain.token, p);
  const bearer = await request(required.url, { authorization: `Bearer ${plain.token}` });
  expectDpopRefusal(bearer, 'dpop_required', 'invalid_token', { resourceMetadata: required.metadata });
});

test('a token bound to key A with a valid proof from key B is refused', async () => {
  const b = await dpopClient({ issuer: provider.issuer, resource: app.url });
  expect(b.jkt).not.toBe(client.jkt);
  // B's own valid proof (B's key), with A's token.
  const p = await proofFor(b.keyPair, { htm: 'GET', htu: app.url, token: client.token });
  const res = await raw(app.url, { token: client.token, proofs: [p] });
  expectDpopRefusal(res, 'dpop_binding_mismatch', 'invalid_token', { resourceMetadata: app.metadata });
  expectNothingReflected(res, client.token, b.token, p);
});

test('garbage in the DPoP header is refused without a crash: not a JWS, bad base64, oversized', async () => {
  for (const p of ['x', 'a.b.c', 'eyJ.eyJ.', `${'a'.repeat(9000)}.b.c`, '...', '\u00e9.\u00e9.\u00e9']) {
    const res = await request(app.url, { authorization: `DPoP ${client.token}`, dpop: Buffer.from(p, 'latin1').toString('latin1') });
    expectBadProof(res);
  }
  const still = await raw(app.url, { proofs: [await proof()] });
  expect(still.status).toBe(200);
});

test('with showErrorDetails, the cause names the check each attack failed, and nothing of the proof', async () => {
  const { generateKeyPair, exportJWK, SignJWT } = await jose();
  const other = await generateKeyPair('ES256', { extractable: true });
  const at = (changes) => proofFor(client.keyPair, { htm: 'GET', htu: detailedUrl, token: client.token, ...changes });
  const payload = { htm: 'GET', htu: detailedUrl, jti: crypto.randomUUID(), iat: now(), ath: ath(client.token) };
  const jwk = await exportJWK(client.keyPair.publicKey);
  const foreignSigned = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(other.privateKey);
  const withPrivate = await new SignJWT({ ...payload, jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(other.privateKey) })
    .sign(other.privateKey);
  const used = await at();
  expect((await raw(detailedUrl, { proofs: [used] })).status).toBe(200);
  const cases = [
    [[used], 'The DPoP proof was used before (`jti` replayed).'],
    [[await at({ htm: 'POST' })], 'The DPoP proof `htm` is not the request method.'],
    [[await at({ htu: `${app.origin}/mcp` })], 'The DPoP proof `htu` is not the request URL.'],
    [[await at({ claims: { iat: now() - 120 } })], 'The DPoP proof `iat` is too far in the past.'],
    [[await at({ claims: { iat: now() + 120 } })], 'The DPoP proof `iat` is too far in the future.'],
    [[await at({ claims: { ath: undefined } })], 'The DPoP proof has no `ath` string.'],
    [[await at({ claims: { ath: ath('x') } })], 'The DPoP proof `ath` is not the hash of the access token.'],
    [[foreignSigned], 'The DPoP proof signature does not verify with its `jwk`.'],
    [[withPrivate], 'The DPoP proof `jwk` is not a public key: it has private or symmetric key members.'],
    [[compact({ alg: 'none', typ: 'dpop+jwt', jwk }, payload)], 'The DPoP proof `alg` is not one of the allowed asymmetric algorithms.'],
    [[`${compact({ alg: 'HS256', typ: 'dpop+jwt', jwk }, payload).slice(0, -1)}.c2ln`], 'The DPoP proof `alg` is not one of the allowed asymmetric algorithms.'],
    [[await at({ header: { typ: 'JWT' } })], 'The DPoP proof header `typ` is not `dpop+jwt`.'],
    [[await at(), await at()], 'The request has more than one `DPoP` header.'],
    [[], 'The request has no `DPoP` header.'],
  ];
  for (const [proofs, cause] of cases) {
    const res = await raw(detailedUrl, { proofs });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: { error: 'invalid_dpop_proof', error_description: expect.any(String), cause },
    });
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP error="invalid_dpop_proof", /);
    expectNothingReflected(res, client.token, ...proofs, ...proofs.map((p) => p.split('.')[1]));
  }
  const b = await dpopClient({ issuer: provider.issuer, resource: app.url });
  const mismatch = await raw(detailedUrl, { proofs: [await proofFor(b.keyPair, { htm: 'GET', htu: detailedUrl, token: client.token })] });
  expect(mismatch.status).toBe(401);
  expect(mismatch.body).toMatchObject({ error: 'dpop_binding_mismatch', cause: "The token's `cnf.jkt` is not the thumbprint of the DPoP proof's key." });
});
