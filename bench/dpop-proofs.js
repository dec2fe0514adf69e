'use strict';
// DPoP proofs (RFC 9449 §4.2) for the soak and the benchmark, signed with node:crypto: the load
// generators need thousands per second, synchronously, inside autocannon's `setupRequest`.
// Keys are ES256 (P-256) or EdDSA (Ed25519); a key's `jkt` is its RFC 7638 thumbprint, the value
// a bound token carries in `cnf.jkt`.

const crypto = require('node:crypto');

const b64u = (data) => Buffer.from(data).toString('base64url');
const sha256 = (data) => crypto.createHash('sha256').update(data).digest('base64url');

/** The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: its required members, sorted. */
function thumbprint(jwk) {
  const members = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] }[jwk.kty];
  if (!members) throw new Error(`no RFC 7638 members for kty ${jwk.kty}`);
  return sha256(JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]]))));
}

/** A fresh proof key: `{ alg, privateKey, jwk (public), jkt }`. `alg`: ES256 (default) or EdDSA. */
function proofKey(alg = 'ES256') {
  const { privateKey, publicKey } =
    alg === 'EdDSA'
      ? crypto.generateKeyPairSync('ed25519')
      : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const full = publicKey.export({ format: 'jwk' });
  const jwk = alg === 'EdDSA' ? { kty: 'OKP', crv: full.crv, x: full.x } : { kty: 'EC', crv: full.crv, x: full.x, y: full.y };
  return { alg, privateKey, jwk, jkt: thumbprint(jwk) };
}

let counter = 0;
const prefix = crypto.randomBytes(6).toString('base64url');

/**
 * A compact DPoP proof by `key` for `htm` `htu`, bound to `token` (`ath`), with a `jti` never
 * used before by this process and `iat` = now (or `iat`). `claims` adds or overrides payload
 * members (e.g. `nonce`), `header` the protected header's.
 */
function proof(key, { htm, htu, token, iat = Math.floor(Date.now() / 1000), jti, claims = {}, header = {} }) {
  const h = b64u(JSON.stringify({ typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header }));
  const payload = { jti: jti ?? `${prefix}-${(counter++).toString(36)}`, htm, htu, iat, ...(token ? { ath: sha256(token) } : {}), ...claims };
  const input = `${h}.${b64u(JSON.stringify(payload))}`;
  const signature =
    key.alg === 'EdDSA'
      ? crypto.sign(null, Buffer.from(input), key.privateKey)
      : crypto.sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64u(signature)}`;
}

module.exports = { proofKey, proof, thumbprint, sha256 };
