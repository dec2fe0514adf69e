'use strict';
// Helpers of the DPoP suites: proofs built with jose (a JWS library no one here wrote) for the
// cases oauth4webapi would never send, and the answers the contract prescribes.

const crypto = require('node:crypto');
const { bearerAuthErrorDescription } = require('..');
const { jose } = require('./dpop-client');

/** The default `dpop.algorithms`, as the challenge's `algs` lists them. */
const ALGS = 'ES256 ES384 EdDSA RS256 PS256';

/** `base64url(SHA-256(token))`: a proof's `ath` for `token` (RFC 9449 §4.2). */
const ath = (token) => crypto.createHash('sha256').update(token).digest('base64url');

/**
 * A DPoP proof signed with `keys.privateKey` (a jose/WebCrypto key pair), carrying the public
 * `jwk` of `keys.publicKey`: `htm`, `htu`, `ath` of `token`, a fresh `jti`, `iat` now, `nonce`
 * when given. `claims` and `header` are merged last (a member set to `undefined` is dropped);
 * `alg` defaults to ES256.
 */
async function proofFor(keys, { htm, htu, token, nonce, alg = 'ES256', claims = {}, header = {} }) {
  const { SignJWT, exportJWK } = await jose();
  const payload = { htm, htu, jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000) };
  if (token !== undefined) payload.ath = ath(token);
  if (nonce !== undefined) payload.nonce = nonce;
  const merged = dropUndefined({ ...payload, ...claims });
  const protectedHeader = dropUndefined({ alg, typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey), ...header });
  return new SignJWT(merged).setProtectedHeader(protectedHeader).sign(keys.privateKey);
}

function dropUndefined(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Assembles a compact JWS from a header, a payload and a signature (raw bytes), unchecked. */
function compact(header, payload, signature = Buffer.alloc(0)) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part(header)}.${part(payload)}.${Buffer.from(signature).toString('base64url')}`;
}

/**
 * The `DPoP` challenge the contract prescribes for a refusal with body code `code` and challenge
 * error `error`: `DPoP error="…", error_description="…", scope="…", algs="…", resource_metadata="…"`.
 */
function dpopChallenge(code, error, { scope, algs = ALGS, resourceMetadata } = {}) {
  const params = [
    ['error', error],
    ['error_description', bearerAuthErrorDescription[code]],
    ['scope', scope],
    ['algs', algs],
    ['resource_metadata', resourceMetadata],
  ]
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`);
  return `DPoP ${params.join(', ')}`;
}

/** A 401 DPoP refusal: status, body `{ error, error_description }` and the exact DPoP challenge. */
function expectDpopRefusal(res, code, error, options) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 401,
    body: { error: code, error_description: bearerAuthErrorDescription[code] },
  });
  expect(res.headers.get('www-authenticate')).toBe(dpopChallenge(code, error, options));
  expect(res.headers.get('access-control-expose-headers')).toMatch(/(^|,)\s*WWW-Authenticate\s*(,|$)/i);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

/** Nothing of the token, the proof or its parts appears in the answer's body or headers. */
function expectNothingReflected(res, ...secrets) {
  const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  for (const secret of secrets.filter((s) => typeof s === 'string' && s.length >= 8)) {
    expect(res.text).not.toContain(secret);
    expect(headers).not.toContain(secret);
  }
}

module.exports = { ALGS, ath, proofFor, compact, dpopChallenge, expectDpopRefusal, expectNothingReflected };
