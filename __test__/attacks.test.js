'use strict';
// Forged and malformed credentials through the public API (issue 6). Each attack must end in the
// contract's answer, exactly, with nothing of the attacker's input reflected into the response.
// What __test__/jwt.test.js already covers (alg none with an empty signature, HS256 keyed with the
// RSA PEM, a `jwk` or `jku` header, an unknown `crit`, string time claims, a token of 16 KiB + 1)
// is not repeated here.

const crypto = require('node:crypto');
const http = require('node:http');
const net = require('node:net');
const express = require('express');
const { MCPAuth, tokenVerificationErrorDescription, bearerAuthErrorDescription } = require('..');
const { startApp, startIssuer, closeAll, request, withToken, listen } = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';
const RESOURCE_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
const INVALID_TOKEN = tokenVerificationErrorDescription.invalid_token;
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v) => Buffer.from(v).toString('base64url');

// ---------------------------------------------------------------------------------------------
// What every answer to an attack must look like

/** Header values are printable ASCII: no CR, LF or other control characters. */
function expectCleanHeaders(res) {
  for (const [name, value] of res.headers) {
    expect([name, /^[\x20-\x7e]*$/.test(value)]).toEqual([name, true]);
  }
}

/** Nothing the attacker chose (longer than a few characters) appears in the headers or body. */
function expectNoReflection(res, secrets) {
  const headers = [...res.headers].map(([n, v]) => `${n}: ${v}`).join('\n');
  for (const s of secrets.filter((x) => typeof x === 'string' && x.length >= 6)) {
    expect(headers.includes(s)).toBe(false);
    expect(res.text.includes(s)).toBe(false);
  }
}

function challenge(error, description) {
  return `Bearer error="${error}", error_description="${description.replace(/[\\"]/g, (c) => `\\${c}`)}", resource_metadata="${RESOURCE_METADATA}"`;
}

/** 401 invalid_token, exactly as the contract prescribes, and nothing reflected. */
function expectInvalidToken(res, ...secrets) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 401,
    body: { error: 'invalid_token', error_description: INVALID_TOKEN },
  });
  expect(res.headers.get('www-authenticate')).toBe(challenge('invalid_token', INVALID_TOKEN));
  expect(res.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/i);
  expectCleanHeaders(res);
  expectNoReflection(res, secrets);
}

/** 401 with a bearer code and `error="<rfc6750>"` (a malformed header is `invalid_request`). */
function expectBearerError(res, code, rfc6750, ...secrets) {
  const description = bearerAuthErrorDescription[code];
  expect({ status: res.status, body: res.body }).toEqual({
    status: 401,
    body: { error: code, error_description: description },
  });
  expect(res.headers.get('www-authenticate')).toBe(challenge(rfc6750, description));
  expectCleanHeaders(res);
  expectNoReflection(res, secrets);
}

function expectOk(res) {
  expect({ status: res.status, auth: typeof res.body.auth }).toEqual({ status: 200, auth: 'object' });
}

// ---------------------------------------------------------------------------------------------
// Token crafting

/** Signs raw header and payload JSON text (no re-serialization: duplicates and odd numbers survive). */
function signRaw(key, alg, headerText, payloadText) {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  const opts = {
    RS256: ['sha256', { key }],
    ES256: ['sha256', { key, dsaEncoding: 'ieee-p1363' }],
    ES384: ['sha384', { key, dsaEncoding: 'ieee-p1363' }],
    ES256K: ['sha256', { key, dsaEncoding: 'ieee-p1363' }],
  }[alg];
  return `${input}.${crypto.sign(opts[0], Buffer.from(input), opts[1]).toString('base64url')}`;
}

let issuer; // serves its own keys plus the crafted ones below
let url; // bearerAuth('jwt', { resource })
let attacker; // a server a forged header may point at; it must never be contacted
const attackerHits = [];
const extra = {}; // kid -> { privateKey, jwk } of the crafted JWKS entries

const claimsFor = (claims = {}) => ({
  iss: issuer.issuer,
  sub: 'user-1',
  client_id: 'client-1',
  aud: RESOURCE,
  iat: now(),
  exp: now() + 300,
  ...claims,
});
const tokenFor = (claims, options) => issuer.sign({ aud: RESOURCE, ...claims }, options);
const rsaHeader = (more = {}) => ({ alg: 'RS256', typ: 'JWT', kid: issuer.keys.RS256.kid, ...more });
/** A correctly RS256-signed token with `header` and `claims` as given. */
const signed = (header, claims = claimsFor()) => issuer.signWith(issuer.keys.RS256.privateKey, 'RS256', header, claims);

beforeAll(async () => {
  issuer = await startIssuer();
  attacker = await listen((req, res) => {
    attackerHits.push(req.url);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [] }));
  });

  const rsaJwk = issuer.keys.RS256.jwk;
  const ecJwk = issuer.keys.ES256.jwk;
  const add = (kid, privateKey, jwk) => {
    extra[kid] = { privateKey, jwk: { ...jwk, kid } };
  };
  const rsaKey = issuer.keys.RS256.privateKey;
  add('use-enc', rsaKey, { ...rsaJwk, use: 'enc' });
  add('ops-encrypt', rsaKey, { ...rsaJwk, use: undefined, key_ops: ['encrypt'] });
  add('ops-empty', rsaKey, { ...rsaJwk, use: undefined, key_ops: [] });
  add('alg-ps256', rsaKey, { ...rsaJwk, alg: 'PS256' });
  add('alg-hs256', rsaKey, { ...rsaJwk, alg: 'HS256' });
  add('kty-ec', rsaKey, { ...rsaJwk, kty: 'EC' });
  add('ec-alg-rs256', issuer.keys.ES256.privateKey, { ...ecJwk, alg: 'RS256' });
  add('ec-wrong-crv', issuer.keys.ES256.privateKey, { ...ecJwk, crv: 'P-384', alg: undefined });
  // The JWKs come out of the generation: exporting a freshly generated key object can hang Node 20.
  const asJwk = { publicKeyEncoding: { format: 'jwk' } };
  const k1 = crypto.generateKeyPairSync('ec', { namedCurve: 'secp256k1', ...asJwk });
  add('secp256k1', k1.privateKey, { ...k1.publicKey });
  for (const bits of [1024, 2040]) {
    const small = crypto.generateKeyPairSync('rsa', { modulusLength: bits, ...asJwk });
    add(`rsa-${bits}`, small.privateKey, small.publicKey);
  }
  // A symmetric key in the JWKS: an HMAC token keyed with it must still fail.
  extra.oct = { privateKey: Buffer.from('a shared secret of 32 bytes!!!!!'), jwk: { kty: 'oct', kid: 'oct', k: b64('a shared secret of 32 bytes!!!!!') } };

  const jwks = () => ({
    keys: [
      ...Object.values(issuer.keys).map((k) => k.jwk),
      ...Object.values(extra).map((e) => JSON.parse(JSON.stringify(e.jwk))),
    ],
  });
  issuer.setHandler(issuer.jwksUri, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(jwks()));
  });

  const auth = new MCPAuth({
    protectedResources: {
      metadata: {
        resource: RESOURCE,
        authorizationServers: [{ type: 'oidc', metadata: { issuer: issuer.issuer, jwksUri: issuer.jwksUri } }],
      },
    },
  });
  url = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE }))).url;
  // The control: an honest token passes, so every rejection below is the attack's doing.
  expectOk(await withToken(url, tokenFor()));
});
afterAll(closeAll);

// ---------------------------------------------------------------------------------------------

describe('unsigned and symmetric tokens', () => {
  test.each(['none', 'None', 'NONE'])('alg "%s" with a real RS256 signature attached is rejected', async (alg) => {
    const real = tokenFor().split('.')[2];
    const [h, p] = issuer.signWith(null, alg, { alg, typ: 'JWT', kid: issuer.keys.RS256.kid }, claimsFor()).split('.');
    expectInvalidToken(await withToken(url, `${h}.${p}.${real}`));
  });

  test.each(['none', 'None', 'NONE'])('alg "%s" with arbitrary signature bytes is rejected', async (alg) => {
    const [h, p] = issuer.signWith(null, alg, { alg }, claimsFor()).split('.');
    expectInvalidToken(await withToken(url, `${h}.${p}.${b64('anything at all')}`));
  });

  const secrets = {
    'the RSA public key PEM (PKCS#1)': () => issuer.keys.RS256.publicKey.export({ type: 'pkcs1', format: 'pem' }),
    'the RSA public key DER': () => issuer.keys.RS256.publicKey.export({ type: 'spki', format: 'der' }),
    'the RSA JWK JSON': () => JSON.stringify(issuer.keys.RS256.jwk),
    'the RSA modulus n': () => issuer.keys.RS256.jwk.n,
    'the EC public key PEM': () => issuer.keys.ES256.publicKey.export({ type: 'spki', format: 'pem' }),
    'the EC JWK JSON': () => JSON.stringify(issuer.keys.ES256.jwk),
    'the Ed25519 public key PEM': () => issuer.keys.EdDSA.publicKey.export({ type: 'spki', format: 'pem' }),
  };
  const cases = [];
  for (const alg of ['HS256', 'HS384', 'HS512']) {
    for (const name of Object.keys(secrets)) cases.push([alg, name]);
  }
  test.each(cases)('%s keyed with %s is rejected (algorithm confusion)', async (alg, name) => {
    const slot = name.includes('EC') ? 'ES256' : name.includes('Ed25519') ? 'EdDSA' : 'RS256';
    for (const kid of [issuer.keys[slot].kid, undefined]) {
      const header = { alg, typ: 'JWT', ...(kid ? { kid } : {}) };
      expectInvalidToken(await withToken(url, issuer.signWith(secrets[name](), alg, header, claimsFor())));
    }
  });

  test('HS256 keyed with an oct key that the JWKS itself publishes is rejected', async () => {
    const token = issuer.signWith(extra.oct.privateKey, 'HS256', { alg: 'HS256', kid: 'oct' }, claimsFor());
    expectInvalidToken(await withToken(url, token));
  });
});

describe('keys that must not verify the token', () => {
  test.each([
    ['use: "enc"', 'use-enc', 'RS256'],
    ['key_ops: ["encrypt"]', 'ops-encrypt', 'RS256'],
    ['key_ops: []', 'ops-empty', 'RS256'],
    ['alg: "PS256" (token RS256)', 'alg-ps256', 'RS256'],
    ['alg: "HS256" on an RSA key', 'alg-hs256', 'RS256'],
    ['kty: "EC" on RSA material', 'kty-ec', 'RS256'],
    ['an EC key naming alg RS256', 'ec-alg-rs256', 'ES256'],
    ['a P-256 key labelled crv P-384 (ES256)', 'ec-wrong-crv', 'ES256'],
    ['a secp256k1 key (ES256)', 'secp256k1', 'ES256'],
    ['a secp256k1 key (ES256K)', 'secp256k1', 'ES256K'],
    ['a 1024-bit RSA key', 'rsa-1024', 'RS256'],
    ['a 2040-bit RSA key', 'rsa-2040', 'RS256'],
  ])('a JWK with %s is not used', async (_, kid, alg) => {
    const header = JSON.stringify({ alg, typ: 'JWT', kid });
    expectInvalidToken(await withToken(url, signRaw(extra[kid].privateKey, alg, header, JSON.stringify(claimsFor()))));
  });

  test('a P-256 key labelled P-384 does not verify ES384 either', async () => {
    const token = signRaw(extra['ec-wrong-crv'].privateKey, 'ES256', '{"alg":"ES384","kid":"ec-wrong-crv"}', JSON.stringify(claimsFor()));
    expectInvalidToken(await withToken(url, token));
  });
});

describe('keys offered by the token', () => {
  test.each(['jku', 'x5u'])('a %s header pointing at an attacker server is never fetched', async (name) => {
    const before = attackerHits.length;
    const evil = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const header = { alg: 'RS256', typ: 'JWT', kid: 'evil-key', [name]: `${attacker.origin}/keys` };
    const token = issuer.signWith(evil.privateKey, 'RS256', header, claimsFor());
    expectInvalidToken(await withToken(url, token), 'evil-key', attacker.origin);
    // Signed by the issuer's own key too: the header alone makes it fail.
    expectInvalidToken(await withToken(url, signed(rsaHeader({ [name]: `${attacker.origin}/keys` }))));
    expect(attackerHits.length).toBe(before);
  });

  test('an x5c header is rejected even with the issuer signature', async () => {
    const der = issuer.keys.RS256.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expectInvalidToken(await withToken(url, signed(rsaHeader({ x5c: [der] }))));
  });

  test('a jwk header naming the issuer key is rejected even with the issuer signature', async () => {
    expectInvalidToken(await withToken(url, signed(rsaHeader({ jwk: issuer.keys.RS256.jwk }))));
  });
});

describe('header parameters', () => {
  test.each([
    ['empty', []],
    ['duplicate', ['exp', 'exp']],
    ['standard names', ['alg', 'kid']],
    ['b64', ['b64']],
    ['not a list', 'exp'],
  ])('crit %s is rejected', async (_, crit) => {
    expectInvalidToken(await withToken(url, signed(rsaHeader({ crit, b64: true }))));
  });

  test.each([false, 'false', 0])('b64: %p is rejected', async (b64Value) => {
    expectInvalidToken(await withToken(url, signed(rsaHeader({ b64: b64Value }))));
  });

  test('an unencoded payload (b64: false with crit) is rejected', async () => {
    const key = issuer.keys.RS256.privateKey;
    const h = b64(JSON.stringify(rsaHeader({ b64: false, crit: ['b64'] })));
    const payload = JSON.stringify(claimsFor());
    const sig = crypto.sign('sha256', Buffer.from(`${h}.${payload}`), key).toString('base64url');
    // The detached form: an empty payload part.
    expectInvalidToken(await withToken(url, `${h}..${sig}`));
  });

  test.each([
    ['path traversal', '../../../../etc/passwd'],
    ['SQL', "x' OR '1'='1'; DROP TABLE keys; --"],
    ['10 KB of text', 'k'.repeat(10 * 1024)],
    ['CR/LF and quotes', 'a"\r\nX-Injected: yes\r\n\\'],
    ['non-ASCII', 'ключ-\u202e-🔑'],
  ])('a kid with %s is rejected and not reflected', async (_, kid) => {
    const token = signed(rsaHeader({ kid }));
    const res = await withToken(url, token);
    expectInvalidToken(res, token, kid);
    expect(res.headers.get('x-injected')).toBeNull();
  });

  test('a non-string kid is rejected', async () => {
    expectInvalidToken(await withToken(url, signed(rsaHeader({ kid: 42 }))));
  });
});

describe('ECDSA signatures', () => {
  // P-256 group order.
  const N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
  const es256 = () => tokenFor({}, { alg: 'ES256' });
  const withSig = (token, sig) => `${token.split('.').slice(0, 2).join('.')}.${sig.toString('base64url')}`;
  const parts = (token) => {
    const sig = Buffer.from(token.split('.')[2], 'base64url');
    return [sig.subarray(0, 32), sig.subarray(32)];
  };

  test('the unmodified ES256 token passes (control)', async () => {
    expectOk(await withToken(url, es256()));
  });

  test.each([
    ['r = 0', (r, s) => [Buffer.alloc(32), s]],
    ['s = 0', (r) => [r, Buffer.alloc(32)]],
    ['r = s = 0', () => [Buffer.alloc(32), Buffer.alloc(32)]],
    ['r = n', (r, s) => [N, s]],
    ['s = n', (r) => [r, N]],
    ['r = 2^256 - 1', (r, s) => [Buffer.alloc(32, 0xff), s]],
    ['s = 2^256 - 1', (r) => [r, Buffer.alloc(32, 0xff)]],
  ])('%s is rejected', async (_, change) => {
    const token = es256();
    const [r, s] = change(...parts(token));
    expectInvalidToken(await withToken(url, withSig(token, Buffer.concat([r, s]))));
  });

  test('a DER-encoded signature of the same token is rejected', async () => {
    const input = tokenFor({}, { alg: 'ES256' }).split('.').slice(0, 2).join('.');
    const der = crypto.sign('sha256', Buffer.from(input), { key: issuer.keys.ES256.privateKey, dsaEncoding: 'der' });
    expectInvalidToken(await withToken(url, `${input}.${der.toString('base64url')}`));
  });

  test('a signature one byte short or long is rejected', async () => {
    const token = es256();
    const sig = Buffer.concat(parts(token));
    expectInvalidToken(await withToken(url, withSig(token, sig.subarray(1))));
    expectInvalidToken(await withToken(url, withSig(token, Buffer.concat([Buffer.alloc(1), sig]))));
  });
});

describe('claims', () => {
  const rawToken = (payloadText, header = rsaHeader()) =>
    signRaw(issuer.keys.RS256.privateKey, 'RS256', JSON.stringify(header), payloadText);
  /** The payload text of claimsFor() with `member` replaced by raw JSON text `value`. */
  const withRaw = (member, value) => {
    const c = claimsFor({ [member]: '__X__' });
    return JSON.stringify(c).replace('"__X__"', value);
  };

  test.each([
    ['exp', 'a string', '"9999999999"'],
    ['exp', 'a NaN-like string', '"NaN"'],
    ['exp', 'Infinity text (not JSON)', 'Infinity'],
    ['exp', 'a number beyond f64 (1e400)', '1e400'],
    ['exp', 'negative', '-1'],
    ['exp', 'hugely negative', '-1e300'],
    ['exp', 'null (so missing)', 'null'],
    ['exp', 'true', 'true'],
    ['exp', 'an array', `[${now() + 300}]`],
    ['exp', 'an object', `{"value":${now() + 300}}`],
    ['nbf', 'huge', '1e300'],
    ['nbf', 'a string', '"0"'],
    ['nbf', 'NaN-like', '"NaN"'],
    ['iat', 'huge', '1e300'],
    ['iat', 'u64::MAX', '18446744073709551615'],
    ['iat', 'a float in the future', `${now() + 3600}.5`],
    ['iss', 'an array', '["__ISS__"]'],
    ['iss', 'an object', '{"iss":"__ISS__"}'],
    ['aud', 'an object', `{"aud":"${RESOURCE}"}`],
    ['aud', 'an array with a number', `["${RESOURCE}",1]`],
    ['sub', 'a number', '7'],
    ['scope', 'a number', '42'],
    ['scope', 'an object', '{"read":true}'],
    ['scp', 'an array with null', '["read",null]'],
  ])('%s as %s is rejected', async (member, _, value) => {
    const text = withRaw(member, value.replace('__ISS__', issuer.issuer));
    expectInvalidToken(await withToken(url, rawToken(text)));
  });

  // Contract decision: NumericDate is any JSON number (RFC 7519 §2 allows fractions), checked as a
  // double; there is no upper bound, so a validly signed token with a far-future exp is accepted.
  test.each([
    ['exp as a float', { exp: now() + 300.75 }],
    ['iat and nbf as floats', { iat: now() - 0.5, nbf: now() - 10.25 }],
    ['exp huge (1e300)', { exp: 1e300 }],
    ['exp = 2^53 + 2', { exp: 2 ** 53 + 2 }],
    ['iat and nbf negative', { iat: -1, nbf: -1e300 }],
  ])('%s is accepted (documented behaviour)', async (_, claims) => {
    expectOk(await withToken(url, tokenFor(claims)));
  });

  test('exp as u64::MAX text is accepted as a far-future date', async () => {
    expectOk(await withToken(url, rawToken(withRaw('exp', '18446744073709551615'))));
  });

  test.each([
    ['iss', ['"https://evil.example"', '"__ISS__"']],
    ['iss', ['"__ISS__"', '"https://evil.example"']],
    ['exp', [String(now() + 300), String(now() - 3600)]],
    ['aud', [`"${RESOURCE}"`, '"https://other.example"']],
    ['scope', ['"read"', '"admin"']],
  ])('a duplicate %s member is rejected, whichever value comes first', async (member, [first, second]) => {
    const base = JSON.stringify(claimsFor({ [member]: undefined }));
    const text = `${base.slice(0, -1)},"${member}":${first},"${member}":${second}}`.replaceAll('__ISS__', issuer.issuer);
    expectInvalidToken(await withToken(url, rawToken(text)));
  });

  test('an empty iss is an untrusted issuer (invalid_issuer)', async () => {
    expectBearerError(await withToken(url, rawToken(withRaw('iss', '""'))), 'invalid_issuer', 'invalid_token');
  });

  test('a duplicate alg member in the header is rejected', async () => {
    const header = `{"alg":"none","alg":"RS256","kid":"${issuer.keys.RS256.kid}"}`;
    expectInvalidToken(await withToken(url, signRaw(issuer.keys.RS256.privateKey, 'RS256', header, JSON.stringify(claimsFor()))));
  });
});

describe('non-canonical encodings', () => {
  /** A valid token with one part re-encoded by `change`. */
  const reencode = (index, change) => {
    // Search for a token whose part contains '-' or '_' when the change needs one.
    // '?' encodes to '_' and '>' to '-': every part has both, whatever the lengths.
    for (let i = 0; i < 50; i++) {
      const odd = '?>'.repeat(3) + 'x'.repeat(i);
      const parts = tokenFor({ n: odd }, { header: { x: odd } }).split('.');
      const changed = change(parts[index]);
      if (changed !== null && changed !== parts[index]) {
        parts[index] = changed;
        return parts.join('.');
      }
    }
    throw new Error('no suitable token');
  };
  const toStd = (s) => (/[-_]/.test(s) ? s.replace(/-/g, '+').replace(/_/g, '/') : null);
  const pad = (s) => (s.length % 4 ? s + '='.repeat(4 - (s.length % 4)) : null);

  test.each([0, 1, 2])('part %i in standard base64 (+ and /) is rejected', async (i) => {
    const token = reencode(i, toStd);
    expectInvalidToken(await withToken(url, token), token);
  });

  test('a padded signature is rejected as a token', async () => {
    const token = reencode(2, pad);
    expectInvalidToken(await withToken(url, token), token);
  });

  test.each([0, 1])('a padded part %i is not a b64token (invalid_request)', async (i) => {
    const token = reencode(i, pad);
    expectBearerError(await withToken(url, token), 'invalid_auth_header_format', 'invalid_request', token);
  });

  test('non-zero trailing bits in the signature are rejected', async () => {
    // RS256 signatures are 256 bytes: 342 characters, the last carrying 2 meaningful bits.
    const token = reencode(2, (s) => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(s.at(-1));
      return last % 16 === 15 ? null : s.slice(0, -1) + alphabet[last + 1];
    });
    expectInvalidToken(await withToken(url, token), token);
  });

  test('a token with four parts or an empty part is rejected', async () => {
    const [h, p, s] = tokenFor().split('.');
    expectInvalidToken(await withToken(url, `${h}.${p}.${s}.${s}`));
    expectInvalidToken(await withToken(url, `${h}..${s}`));
    expectInvalidToken(await withToken(url, `.${p}.${s}`));
  });

  test('whitespace inside the token is a malformed header (invalid_request)', async () => {
    const [h, p, s] = tokenFor().split('.');
    expectBearerError(await withToken(url, `${h}.${p} .${s}`), 'invalid_auth_header_format', 'invalid_request');
  });
});

describe('showErrorDetails', () => {
  test('attacker-chosen values appear only JSON-escaped in the body, never in a header', async () => {
    const auth = new MCPAuth({
      protectedResources: {
        metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', metadata: { issuer: issuer.issuer, jwksUri: issuer.jwksUri } }] },
      },
    });
    const details = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, showErrorDetails: true, jwtVerify: { typ: 'at+jwt' } }))).url;
    const evil = 'https://evil.example/"\r\n<script>x</script>';
    for (const token of [
      issuer.signWith(issuer.keys.RS256.privateKey, 'RS256', rsaHeader(), claimsFor({ iss: evil })),
      signed(rsaHeader({ typ: evil })),
      signed(rsaHeader(), claimsFor({ aud: evil })),
    ]) {
      const res = await withToken(details, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.cause).toBeDefined();
      expectCleanHeaders(res);
      expect(res.headers.get('www-authenticate')).not.toContain('evil');
      expect(res.text).not.toContain('\r');
      expect(res.text.includes(token)).toBe(false);
    }
  });
});

describe('oversized tokens', () => {
  test('a 60 KiB token (inside Node’s header limit here) is 401 invalid_token without parsing', async () => {
    const token = `${tokenFor()}${'A'.repeat(60 * 1024)}`;
    expectInvalidToken(await withToken(url, token), token.slice(-100));
  });

  test('a 1 MiB token is refused by Node itself with 431 (64 KiB header limit); the server keeps serving', async () => {
    const token = 'A'.repeat(1024 * 1024);
    const status = await rawStatus(new URL(url), `GET /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`);
    expect(status).toBe(431);
    expectOk(await withToken(url, tokenFor()));
  });

  test('a 1 MiB token reaching the middleware (2 MiB header limit) is 401 invalid_token', async () => {
    const auth = new MCPAuth({
      protectedResources: {
        metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', metadata: { issuer: issuer.issuer, jwksUri: issuer.jwksUri } }] },
      },
    });
    const app = express();
    app.use('/mcp', auth.bearerAuth('jwt', { resource: RESOURCE }), (req, res) => res.json({ auth: req.auth }));
    const server = http.createServer({ maxHeaderSize: 2 * 1024 * 1024 }, app);
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const big = `http://127.0.0.1:${server.address().port}/mcp`;
      const token = `${tokenFor()}.${'A'.repeat(1024 * 1024)}`;
      const started = Date.now();
      expectInvalidToken(await withToken(big, token), token.slice(-64));
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Raw HTTP, for what fetch refuses to send

/** Sends `text` on a fresh socket; resolves with the raw response (until the server closes). */
function raw(target, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(target.port), target.hostname);
    const chunks = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e)));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    // Not end(): a half-closed socket makes Node drop a response that is still being computed.
    socket.write(Buffer.from(text, 'latin1'));
  });
}

async function rawStatus(target, text) {
  const answer = await raw(target, text);
  return Number((/^HTTP\/1\.1 (\d{3})/.exec(answer) || [])[1]);
}

/** Parses a raw HTTP/1.1 response into the shape `request()` returns. */
function parseRaw(answer) {
  const [head, ...rest] = answer.split('\r\n\r\n');
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const i = line.indexOf(':');
    headers.append(line.slice(0, i), line.slice(i + 1).trim());
  }
  const text = rest.join('\r\n\r\n');
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: Number(statusLine.split(' ')[1]), headers, text, body };
}

const rawRequest = async (headerLines) =>
  parseRaw(await raw(new URL(url), `GET /mcp HTTP/1.1\r\nHost: x\r\n${headerLines}Connection: close\r\n\r\n`));

describe('Authorization headers on the wire', () => {
  test.each([
    ['a bare CR inside the value', 'Authorization: Bearer abc\rdef\r\n'],
    ['a bare LF inside the value', 'Authorization: Bearer abc\ndef\r\n'],
    ['a NUL inside the value', 'Authorization: Bearer abc\0def\r\n'],
    ['an obsolete line folding', 'Authorization: Bearer\r\n abcdef\r\n'],
  ])('%s is refused by Node’s parser with 400 before the middleware', async (_, line) => {
    expect((await rawRequest(line)).status).toBe(400);
    expectOk(await withToken(url, tokenFor()));
  });

  test('CRLF splitting the value makes a second header; the token part is just invalid', async () => {
    const res = await rawRequest('Authorization: Bearer abcdef\r\nX-Smuggled: Bearer ghijkl\r\n');
    expectInvalidToken(res, 'abcdef', 'ghijkl');
  });

  test('a tab between scheme and token is invalid_request', async () => {
    expectBearerError(await rawRequest('Authorization: Bearer\tabcdef\r\n'), 'invalid_auth_header_format', 'invalid_request', 'abcdef');
  });

  test('a tab inside the token is invalid_request', async () => {
    expectBearerError(await rawRequest('Authorization: Bearer abc\tdefghi\r\n'), 'invalid_auth_header_format', 'invalid_request', 'defghi');
  });

  test('leading and trailing tabs and spaces are trimmed by Node (RFC 9110 OWS)', async () => {
    expectOk(await rawRequest(`Authorization: \t ${'Bearer'} ${tokenFor()} \t\r\n`));
  });

  test.each([2, 3, 10])('%i spaces between scheme and token are invalid_request', async (n) => {
    const res = await request(url, { authorization: `Bearer${' '.repeat(n)}${tokenFor()}` });
    expectBearerError(res, 'invalid_auth_header_format', 'invalid_request');
  });

  test('a comma-joined value ("Bearer a, Bearer b") is invalid_request', async () => {
    const res = await request(url, { authorization: `Bearer ${tokenFor()}, Bearer ${tokenFor()}` });
    expectBearerError(res, 'invalid_auth_header_format', 'invalid_request');
  });

  test('a comma-joined value without a space is a token that fails', async () => {
    const res = await request(url, { authorization: `Bearer ${tokenFor()},Bearer` });
    expectBearerError(res, 'invalid_auth_header_format', 'invalid_request');
  });

  test('of two Authorization headers Node keeps the first (a forged first one fails)', async () => {
    const res = await rawRequest(`Authorization: Bearer forged.token.here\r\nAuthorization: Bearer ${tokenFor()}\r\n`);
    expectInvalidToken(res, 'forged.token.here');
  });

  test('non-ASCII (Latin-1) bytes in the header are invalid_request', async () => {
    const res = await rawRequest('Authorization: Bearer abc\xe9\xffdef\r\n');
    expectBearerError(res, 'invalid_auth_header_format', 'invalid_request');
  });

  test('quotes and backslashes in the token are invalid_request and not reflected', async () => {
    const res = await rawRequest('Authorization: Bearer a"b\\c", error="x\r\n');
    expectBearerError(res, 'invalid_auth_header_format', 'invalid_request', 'error="x');
  });

  test('an empty Authorization header is missing_auth_header with a bare challenge', async () => {
    const res = await rawRequest('Authorization: \r\n');
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'missing_auth_header' });
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${RESOURCE_METADATA}"`);
  });
});
