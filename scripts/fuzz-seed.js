'use strict';
// Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) from the fixture keys:
// real signed tokens, the fixture JWKS and its keys one by one, and metadata documents.
// Run once; the fuzzers grow the corpus from here (`cargo fuzz cmin` keeps it small).
// `node scripts/fuzz-seed.js dpop_proof` writes only the named targets' seeds.
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');

const root = path.join(__dirname, '..');
const keys = path.join(root, 'fixtures', 'keys');
const only = process.argv.slice(2);
const out = (target, name, data) => {
  if (only.length && !only.includes(target)) return;
  const dir = path.join(root, 'fuzz', 'corpus', target);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), data);
};
const b64 = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function sign(pem, alg, kid, claims, extraHeader = {}) {
  const key = crypto.createPrivateKey(fs.readFileSync(path.join(keys, pem)));
  const input = `${b64({ alg, kid, typ: 'at+jwt', ...extraHeader })}.${b64(claims)}`;
  const digest = { RS256: 'sha256', PS384: 'sha384', ES256: 'sha256', ES384: 'sha384', EdDSA: null }[alg];
  const opts = alg.startsWith('PS')
    ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }
    : alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return `${input}.${crypto.sign(digest, Buffer.from(input), opts).toString('base64url')}`;
}

const now = 1_700_000_000;
const claims = {
  iss: 'https://issuer.example', sub: 'user-1', aud: ['https://r.example'], exp: now + 300, iat: now - 10,
  nbf: now - 10, scope: 'read write', client_id: 'c1',
};
const tokens = {
  rs256: sign('rsa.pem', 'RS256', 'rsa-1', claims),
  ps384: sign('rsa.pem', 'PS384', 'rsa-1', { ...claims, scp: ['a', 'b'], scope: undefined }),
  es256: sign('ec256.pem', 'ES256', 'ec-256', claims),
  es384: sign('ec384.pem', 'ES384', 'ec-384', { ...claims, azp: 'z' }),
  eddsa: sign('ed25519.pem', 'EdDSA', 'ed-1', { ...claims, exp: 1.5e9 }),
  nokid: sign('ec256.pem', 'ES256', undefined, claims),
  crit: sign('rsa.pem', 'RS256', 'rsa-1', claims, { crit: ['exp'] }),
  none: `${b64({ alg: 'none' })}.${b64(claims)}.`,
  hs256: `${b64({ alg: 'HS256', kid: 'rsa-1' })}.${b64(claims)}.${b64('sig')}`,
};
for (const [name, t] of Object.entries(tokens)) {
  out('jwt_verify', name, t);
  out('authorization', name, `Bearer ${t}`);
}
for (const [i, h] of ['Bearer', 'bearer abc', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'Bearer a==', 'Bearer a\r\nb',
  'Bearer\tx', 'Bearer a, Bearer b'].entries()) out('authorization', `h${i}`, h);
for (const [i, h] of ['DPoP', 'dpop abc', `DPoP ${tokens.es256}`, 'DPoP a b', 'DPoP a==', 'DPoP a,b', 'DPoPx abc'].entries()) {
  out('authorization', `dpop${i}`, h);
}

const jwks = fs.readFileSync(path.join(keys, 'jwks.json'));
out('jwks_parse', 'fixture', jwks);
for (const key of JSON.parse(jwks).keys) out('jwks_parse', `one-${key.kid}`, JSON.stringify({ keys: [key] }));
out('jwks_parse', 'mixed', JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' },
  { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB', use: 'enc' },
  { kty: 'OKP', crv: 'Ed25519', x: 'AA', key_ops: ['verify'], alg: 'EdDSA' }] }));

const base = { issuer: 'https://issuer.example', jwks_uri: 'https://issuer.example/jwks' };
out('discovery_parse', 'oauth', JSON.stringify({ ...base, authorization_endpoint: 'https://issuer.example/a',
  token_endpoint: 'https://issuer.example/t', response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256'], grant_types_supported: ['authorization_code'],
  scopes_supported: ['read'] }));
out('discovery_parse', 'oidc', JSON.stringify({ ...base, userinfo_endpoint: 'https://issuer.example/u',
  id_token_signing_alg_values_supported: ['RS256'], subject_types_supported: ['public'] }));
out('discovery_parse', 'other-issuer', JSON.stringify({ issuer: 'https://evil.example', jwks_uri: 'file:///etc/passwd' }));
out('discovery_parse', 'dup', '{"issuer":"https://issuer.example","issuer":"x"}');

// DPoP proofs (RFC 9449) for POST https://api.example.com/mcp at `now`, bound to the token the
// dpop_proof target checks `ath` against, each signed with a fixture key whose public JWK is the
// `jwk` header; and the attacks of tests/dpop.rs.
const dpopToken = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln';
const ath = crypto.createHash('sha256').update(dpopToken).digest('base64url');
const publicJwk = (kid) => {
  const { kid: _k, alg: _a, use: _u, ...jwk } = JSON.parse(jwks).keys.find((k) => k.kid === kid);
  return jwk;
};
function proof(pem, alg, kid, claims, header = {}) {
  const key = crypto.createPrivateKey(fs.readFileSync(path.join(keys, pem)));
  const input = `${b64({ typ: 'dpop+jwt', alg, jwk: publicJwk(kid), ...header })}.${b64(claims)}`;
  const digest = { RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', ES384: 'sha384', EdDSA: null }[alg];
  const opts = alg.startsWith('PS')
    ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
    : alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return `${input}.${crypto.sign(digest, Buffer.from(input), opts).toString('base64url')}`;
}
const dpopClaims = { htm: 'POST', htu: 'https://api.example.com/mcp', iat: now, jti: 'seed-1', ath };
const proofs = {
  es256: proof('ec256.pem', 'ES256', 'ec-256', dpopClaims),
  es384: proof('ec384.pem', 'ES384', 'ec-384', { ...dpopClaims, nonce: 'n-1' }),
  eddsa: proof('ed25519.pem', 'EdDSA', 'ed-1', dpopClaims),
  rs256: proof('rsa.pem', 'RS256', 'rsa-1', { ...dpopClaims, htu: 'https://api.example.com/mcp?q=1#f' }),
  ps256: proof('rsa.pem', 'PS256', 'rsa-1', { ...dpopClaims, cnf: { jkt: 'x' } }),
  other_key: proof('rsa2.pem', 'RS256', 'rsa-1', dpopClaims),
  private_jwk: proof('ec256.pem', 'ES256', 'ec-256', dpopClaims, { jwk: { ...publicJwk('ec-256'), d: 'AAAA' } }),
  old: proof('ec256.pem', 'ES256', 'ec-256', { ...dpopClaims, iat: now - 301 }),
  no_ath: proof('ed25519.pem', 'EdDSA', 'ed-1', { ...dpopClaims, ath: undefined }),
  get: proof('ed25519.pem', 'EdDSA', 'ed-1', { ...dpopClaims, htm: 'GET' }),
  none: `${b64({ typ: 'dpop+jwt', alg: 'none', jwk: publicJwk('ec-256') })}.${b64(dpopClaims)}.`,
  hs256: `${b64({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'c2VjcmV0' } })}.${b64(dpopClaims)}.${b64('sig')}`,
};
for (const [name, p] of Object.entries(proofs)) out('dpop_proof', name, p);
