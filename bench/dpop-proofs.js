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

/**
 * A fresh proof key: `{ alg, privateKey, jwk (public), jkt }`. `alg`: ES256 (default) or EdDSA.
 *
 * Not with `generateKeyPairSync`: on Node 20.20 a garbage collection that runs while a generated
 * key is exported can collect that key's generation job, whose destructor takes the mutex the
 * export holds, and the process hangs for good (seen after a few thousand keys; the bench needs
 * 100,000). The keys are made from random private keys instead, with no key generation job.
 */
function proofKey(alg = 'ES256') {
  if (alg === 'EdDSA') {
    // A PKCS #8 Ed25519 private key (RFC 8410) around a random 32-byte seed.
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), crypto.randomBytes(32)]);
    const privateKey = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const { crv, x } = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
    const jwk = { kty: 'OKP', crv, x };
    return { alg, privateKey, jwk, jkt: thumbprint(jwk) };
  }
  const ecdh = crypto.createECDH('prime256v1');
  const point = ecdh.generateKeys(); // uncompressed: 0x04 || x || y
  const jwk = { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) };
  const d = b64u(Buffer.concat([Buffer.alloc(32), ecdh.getPrivateKey()]).subarray(-32));
  const privateKey = crypto.createPrivateKey({ key: { ...jwk, d }, format: 'jwk' });
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
