'use strict';
// bearerAuth('jwt') through the public API, against real issuers and Express apps on 127.0.0.1.

const crypto = require('node:crypto');
const util = require('node:util');
const {
  MCPAuth,
  bearerAuthErrorDescription,
  tokenVerificationErrorDescription,
} = require('..');
const express = require('express');
const {
  startApp,
  listen,
  startIssuer,
  closeAll,
  request,
  withToken,
  sleep,
  waitFor,
  decodeJwt,
  countRequests,
  bearerChallenge,
} = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';
const RESOURCE_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
const OTHER_RESOURCE = 'https://api.example.com/other';
const OTHER_RESOURCE_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/other';
const INVALID_TOKEN = tokenVerificationErrorDescription.invalid_token;
const SERVER_ERROR = 'An error occurred with the authorization server.';

const now = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Expected responses

/** The WWW-Authenticate value the contract prescribes; this resource's metadata URL by default. */
const challenge = ({ resourceMetadata = RESOURCE_METADATA, ...params } = {}) =>
  bearerChallenge({ ...params, resourceMetadata });

function expectChallenge(res, status, body, params) {
  expect({ status: res.status, body: res.body }).toEqual({ status, body });
  expect(res.headers.get('www-authenticate')).toBe(challenge(params));
  expect(res.headers.get('access-control-expose-headers')).toMatch(/(^|,)\s*WWW-Authenticate\s*(,|$)/i);
}

/** 401 for a token that failed verification (signature, expiry, format, key...). */
function expectInvalidToken(res, { scope, resourceMetadata } = {}) {
  expectChallenge(
    res,
    401,
    { error: 'invalid_token', error_description: INVALID_TOKEN },
    { error: 'invalid_token', description: INVALID_TOKEN, scope, resourceMetadata },
  );
}

/** 401 with one of the bearer codes. `rfc6750` is the challenge's `error`. */
function expectBearerError(res, code, { rfc6750 = 'invalid_token', scope, resourceMetadata } = {}) {
  const description = bearerAuthErrorDescription[code];
  expect(description).toEqual(expect.any(String));
  expectChallenge(
    res,
    401,
    { error: code, error_description: description },
    { error: rfc6750, description, scope, resourceMetadata },
  );
}

function expectMissingScopes(res, missing, { scope, resourceMetadata } = {}) {
  const description = bearerAuthErrorDescription.missing_required_scopes;
  expectChallenge(
    res,
    403,
    { error: 'missing_required_scopes', error_description: description, missing_scopes: missing },
    { error: 'insufficient_scope', description, scope, resourceMetadata },
  );
}

function expectUnavailable(res) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 503,
    body: { error: 'temporarily_unavailable', error_description: expect.any(String) },
  });
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
}

function expectServerError(res) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 500,
    body: { error: 'server_error', error_description: SERVER_ERROR },
  });
  expect(res.headers.get('www-authenticate')).toBeNull();
}

function expectOk(res) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 200,
    body: { auth: expect.any(Object) },
  });
  return res.body.auth;
}

// ---------------------------------------------------------------------------------------------
// Tokens and setups

/** A token for RESOURCE from `issuer`; `claims` and `options` as in `issuer.sign`. */
const tokenFor = (issuer, claims = {}, options) => issuer.sign({ aud: RESOURCE, ...claims }, options);

/** The claims `issuer.sign` would use, for tokens built with `issuer.signWith`. */
const claimsFor = (issuer, claims = {}) => ({
  iss: issuer.issuer,
  sub: 'user-1',
  client_id: 'client-1',
  aud: RESOURCE,
  iat: now(),
  exp: now() + 300,
  ...claims,
});

/** Replaces one character in the middle of the signature. */
function tamperSignature(token) {
  const [h, p, s] = token.split('.');
  const i = Math.floor(s.length / 2);
  return `${h}.${p}.${s.slice(0, i)}${s[i] === 'A' ? 'B' : 'A'}${s.slice(i + 1)}`;
}

/** A validly signed token of exactly `length` characters. */
function tokenOfLength(issuer, length) {
  for (let extra = 0; extra < 4; extra++) {
    const header = extra ? { x: 'x'.repeat(extra) } : {};
    const base = tokenFor(issuer, { pad: '' }, { header }).length;
    for (let n = Math.max(0, Math.floor(((length - base) * 3) / 4) - 4); ; n++) {
      const token = tokenFor(issuer, { pad: 'p'.repeat(n) }, { header });
      if (token.length === length) return token;
      if (token.length > length) break;
    }
  }
  throw new Error(`could not build a token of ${length} characters`);
}

/** The authorization server entry for `issuer`: discovery (`{ type, issuer }`) or resolved. */
function serverConfig(issuer, resolved = false) {
  return resolved
    ? { type: issuer.type, metadata: { issuer: issuer.issuer, jwksUri: issuer.jwksUri } }
    : { type: issuer.type, issuer: issuer.issuer };
}

/** An MCPAuth for RESOURCE trusting `issuers`, and an app behind `bearerAuth('jwt', options)`. */
async function protect(issuers, options = {}, { resolved = false } = {}) {
  const auth = new MCPAuth({
    protectedResources: {
      metadata: {
        resource: RESOURCE,
        authorizationServers: issuers.map((issuer) => serverConfig(issuer, resolved)),
      },
    },
  });
  const app = await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, ...options }));
  return app.url;
}

/**
 * A fresh issuer (so request counts and failures are this test's own) and an app for it.
 * `before(issuer)` runs before anything can fetch from the issuer.
 */
async function freshSetup({ issuerOptions, options, resolved = false, before } = {}) {
  const issuer = await startIssuer(issuerOptions);
  if (before) before(issuer);
  const url = await protect([issuer], options, { resolved });
  return { issuer, url };
}

const jwksOf = (issuer) => ({ keys: Object.values(issuer.keys).map((k) => k.jwk) });

function sendJson(res, status, body, delay = 0) {
  setTimeout(() => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }, delay);
}

function sendHtml(res) {
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end('<!doctype html><html><body>Sign in</body></html>');
}

afterAll(closeAll);

// ---------------------------------------------------------------------------------------------

describe('resource mode with OIDC discovery', () => {
  let issuer; // trusted
  let stranger; // a real issuer that the resource does not trust
  let url; // default options
  let scopedUrl; // requiredScopes: ['read', 'write']
  let detailsUrl; // showErrorDetails: true

  beforeAll(async () => {
    issuer = await startIssuer();
    stranger = await startIssuer();
    const auth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource: RESOURCE,
          authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }],
        },
      },
    });
    url = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE }))).url;
    scopedUrl = (
      await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, requiredScopes: ['read', 'write'] }))
    ).url;
    detailsUrl = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, showErrorDetails: true })))
      .url;
  });
  afterAll(closeAll);

  describe('success', () => {
    test('a valid token is accepted and req.auth describes it', async () => {
      const token = tokenFor(issuer, { scope: 'read write' });
      const { payload } = decodeJwt(token);
      const auth = expectOk(await withToken(url, token));
      expect(auth).toEqual({
        token,
        issuer: issuer.issuer,
        clientId: 'client-1',
        scopes: ['read', 'write'],
        subject: 'user-1',
        audience: RESOURCE,
        expiresAt: payload.exp,
        claims: payload,
      });
    });

    test('the lowercase scheme "bearer" is accepted', async () => {
      expectOk(await request(url, { authorization: `bearer ${tokenFor(issuer)}` }));
    });

    test('clientId falls back to azp, then to an empty string', async () => {
      const azp = expectOk(await withToken(url, tokenFor(issuer, { client_id: undefined, azp: 'azp-1' })));
      expect(azp.clientId).toBe('azp-1');
      const none = expectOk(await withToken(url, tokenFor(issuer, { client_id: undefined })));
      expect(none.clientId).toBe('');
    });

    test.each([
      ['scope as a space-separated string', { scope: 'read write' }, ['read', 'write']],
      ['scope as an array', { scope: ['read', 'write'] }, ['read', 'write']],
      ['scp as an array', { scp: ['read', 'write'] }, ['read', 'write']],
      ['scp as a string', { scp: 'read write' }, ['read', 'write']],
      ['scopes as an array', { scopes: ['read', 'write'] }, ['read', 'write']],
      ['no scope claim', {}, []],
    ])('scopes are read from %s', async (_, claims, scopes) => {
      expect(expectOk(await withToken(url, tokenFor(issuer, claims))).scopes).toEqual(scopes);
    });

    test.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'])(
      'a %s token is accepted by default',
      async (alg) => {
        expectOk(await withToken(url, tokenFor(issuer, {}, { alg })));
      },
    );

    test('an audience that differs only in scheme/host case and a trailing slash matches', async () => {
      expectOk(await withToken(url, tokenFor(issuer, { aud: 'HTTPS://API.EXAMPLE.COM/mcp/' })));
    });

    test('an aud array containing the resource matches', async () => {
      const auth = expectOk(await withToken(url, tokenFor(issuer, { aud: ['https://other.example', RESOURCE] })));
      expect(auth.audience).toEqual(['https://other.example', RESOURCE]);
    });

    test('a token of exactly 16 KiB is handled', async () => {
      expectOk(await withToken(url, tokenOfLength(issuer, 16 * 1024)));
    });
  });

  describe('Authorization header', () => {
    test('no Authorization header is 401 missing_auth_header, challenge without error', async () => {
      const res = await request(url);
      expectChallenge(
        res,
        401,
        { error: 'missing_auth_header', error_description: bearerAuthErrorDescription.missing_auth_header },
        {},
      );
      expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${RESOURCE_METADATA}"`);
    });

    test('Basic credentials are 401 invalid_auth_header_format with error="invalid_request"', async () => {
      const res = await request(url, { authorization: 'Basic dXNlcjpwYXNz' });
      expectBearerError(res, 'invalid_auth_header_format', { rfc6750: 'invalid_request' });
    });

    test('"Bearer" alone is 401 missing_bearer_token with error="invalid_request"', async () => {
      const res = await request(url, { authorization: 'Bearer' });
      expectBearerError(res, 'missing_bearer_token', { rfc6750: 'invalid_request' });
    });

    test('"Bearer a b" is 401 invalid_auth_header_format', async () => {
      const res = await request(url, { authorization: 'Bearer a b' });
      expectBearerError(res, 'invalid_auth_header_format', { rfc6750: 'invalid_request' });
    });

    test('the exact challenge for a missing header with required scopes', async () => {
      const res = await request(scopedUrl);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer scope="read write", resource_metadata="${RESOURCE_METADATA}"`,
      );
    });
  });

  describe('token verification failures are 401 invalid_token', () => {
    test.each([
      ['one segment', 'abc'],
      ['three garbage segments', 'a.b.c'],
      ['a JSON header but no payload', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}..`],
    ])('a malformed token (%s)', async (_, token) => {
      expectInvalidToken(await withToken(url, token));
    });

    test('a token expired beyond the default 60 s tolerance is rejected', async () => {
      const res = await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 120 }));
      expectInvalidToken(res);
    });

    test('a token expired within the default 60 s tolerance is accepted', async () => {
      expectOk(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 30 })));
    });

    test('a token whose nbf is in the future beyond the tolerance is rejected', async () => {
      expectInvalidToken(await withToken(url, tokenFor(issuer, { nbf: now() + 300 })));
    });

    test('a token whose nbf is in the future within the tolerance is accepted', async () => {
      expectOk(await withToken(url, tokenFor(issuer, { nbf: now() + 30 })));
    });

    test.each([
      ['exp', { exp: String(now() + 300) }],
      ['iat', { iat: String(now()) }],
      ['nbf', { nbf: String(now() - 10) }],
    ])('a token whose %s is a string is rejected', async (_, claims) => {
      expectInvalidToken(await withToken(url, tokenFor(issuer, claims)));
    });

    test('a token with a tampered signature is rejected', async () => {
      expectInvalidToken(await withToken(url, tamperSignature(tokenFor(issuer))));
    });

    test('a token signed by another key under a trusted kid is rejected', async () => {
      const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      const header = { alg: 'RS256', typ: 'JWT', kid: issuer.keys.RS256.kid };
      expectInvalidToken(await withToken(url, issuer.signWith(privateKey, 'RS256', header, claimsFor(issuer))));
    });

    test('a token with an unknown kid is rejected', async () => {
      expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { kid: 'no-such-key' })));
    });

    test.each(['none', 'None', 'NONE'])('alg "%s" with an empty signature is rejected', async (alg) => {
      const token = issuer.signWith(null, alg, { alg, typ: 'JWT' }, claimsFor(issuer));
      expect(token.endsWith('.')).toBe(true);
      expectInvalidToken(await withToken(url, token));
    });

    test('alg "none" naming a trusted kid is rejected', async () => {
      const header = { alg: 'none', typ: 'JWT', kid: issuer.keys.RS256.kid };
      expectInvalidToken(await withToken(url, issuer.signWith(null, 'none', header, claimsFor(issuer))));
    });

    test('an RS256 token with its signature removed is rejected', async () => {
      const [h, p] = tokenFor(issuer).split('.');
      expectInvalidToken(await withToken(url, `${h}.${p}.`));
    });

    test.each([
      ['with the kid', true],
      ['without a kid', false],
    ])('HS256 keyed with the RSA public key PEM is rejected (%s)', async (_, withKid) => {
      const secret = issuer.keys.RS256.publicKey.export({ type: 'spki', format: 'pem' });
      const header = { alg: 'HS256', typ: 'JWT', ...(withKid ? { kid: issuer.keys.RS256.kid } : {}) };
      expectInvalidToken(await withToken(url, issuer.signWith(secret, 'HS256', header, claimsFor(issuer))));
    });

    test('a key embedded in the jwk header is not trusted', async () => {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { format: 'jwk' } });
      const header = { alg: 'ES256', typ: 'JWT', jwk: publicKey };
      expectInvalidToken(await withToken(url, issuer.signWith(privateKey, 'ES256', header, claimsFor(issuer))));
    });

    test('a jku header is not followed', async () => {
      const before = stranger.requests.length;
      const header = { alg: 'RS256', typ: 'JWT', kid: stranger.keys.RS256.kid, jku: stranger.jwksUri };
      const token = issuer.signWith(stranger.keys.RS256.privateKey, 'RS256', header, claimsFor(issuer));
      expectInvalidToken(await withToken(url, token));
      expect(stranger.requests.length).toBe(before);
    });

    test('an unknown crit header parameter is rejected', async () => {
      const token = tokenFor(issuer, {}, { header: { crit: ['urn:example:unknown'], 'urn:example:unknown': 1 } });
      expectInvalidToken(await withToken(url, token));
    });

    test('a token without sub is rejected by the default requiredClaims', async () => {
      expectInvalidToken(await withToken(url, tokenFor(issuer, { sub: undefined })));
    });

    test('a token without exp is rejected by the default requiredClaims', async () => {
      expectInvalidToken(await withToken(url, tokenFor(issuer, { exp: undefined })));
    });

    test('a token of 16 KiB + 1 is rejected', async () => {
      expectInvalidToken(await withToken(url, tokenOfLength(issuer, 16 * 1024 + 1)));
    });
  });

  describe('issuer and audience', () => {
    test('an untrusted iss is 401 invalid_issuer and that issuer is never contacted', async () => {
      const res = await withToken(url, tokenFor(stranger));
      expectBearerError(res, 'invalid_issuer');
      await sleep(100);
      expect(stranger.requests).toEqual([]);
    });

    test('a token without iss is rejected', async () => {
      const res = await withToken(url, tokenFor(issuer, { iss: undefined }));
      expect(res.status).toBe(401);
      expect(['invalid_token', 'invalid_issuer']).toContain(res.body.error);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /);
    });

    test('an audience that is not the resource is 401 invalid_audience', async () => {
      const res = await withToken(url, tokenFor(issuer, { aud: 'https://api.example.com/other' }));
      expectBearerError(res, 'invalid_audience');
    });

    test('a token without aud is 401 invalid_audience (the audience defaults to the resource)', async () => {
      expectBearerError(await withToken(url, tokenFor(issuer, { aud: undefined })), 'invalid_audience');
    });

    test('a path differing in case is not the same audience', async () => {
      const res = await withToken(url, tokenFor(issuer, { aud: 'https://api.example.com/MCP' }));
      expectBearerError(res, 'invalid_audience');
    });
  });

  describe('requiredScopes', () => {
    test('missing scopes are 403 with only the missing ones listed', async () => {
      const res = await withToken(scopedUrl, tokenFor(issuer, { scope: 'read' }));
      expectMissingScopes(res, ['write'], { scope: 'read write' });
    });

    test('a token without any scope lists every required scope', async () => {
      const res = await withToken(scopedUrl, tokenFor(issuer));
      expectMissingScopes(res, ['read', 'write'], { scope: 'read write' });
    });

    test('all required scopes granted (plus others) passes', async () => {
      const auth = expectOk(await withToken(scopedUrl, tokenFor(issuer, { scope: 'admin write read' })));
      expect(auth.scopes).toEqual(['admin', 'write', 'read']);
    });

    test('scopes from an scp array count', async () => {
      expectOk(await withToken(scopedUrl, tokenFor(issuer, { scp: ['write', 'read'] })));
      const res = await withToken(scopedUrl, tokenFor(issuer, { scp: ['read'] }));
      expectMissingScopes(res, ['write'], { scope: 'read write' });
    });

    test('scopes from a scopes claim count', async () => {
      expectOk(await withToken(scopedUrl, tokenFor(issuer, { scopes: ['read', 'write'] })));
    });

    test('a 401 also names the required scopes in the challenge', async () => {
      const res = await withToken(scopedUrl, tokenFor(issuer, { exp: now() - 3600 }));
      expectInvalidToken(res, { scope: 'read write' });
    });
  });

  describe('showErrorDetails', () => {
    test('adds a cause to invalid_token bodies', async () => {
      const res = await withToken(detailsUrl, tokenFor(issuer, { exp: now() - 3600 }));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: INVALID_TOKEN, cause: expect.anything() });
    });

    test('adds a cause to invalid_audience bodies', async () => {
      const res = await withToken(detailsUrl, tokenFor(issuer, { aud: 'https://elsewhere.example' }));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        error: 'invalid_audience',
        error_description: bearerAuthErrorDescription.invalid_audience,
        cause: expect.anything(),
      });
    });

    test('invalid_audience gives `expected` exactly as configured: the resource or a string stays a string, an array an array', async () => {
      const elsewhere = { aud: 'https://elsewhere.example' };
      expect((await withToken(detailsUrl, tokenFor(issuer, elsewhere))).body.cause).toEqual({ expected: RESOURCE, actual: 'https://elsewhere.example' });
      const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } } });
      const one = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, showErrorDetails: true, audience: 'api://one' }))).url;
      const many = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, showErrorDetails: true, audience: ['api://one', 'api://two'] }))).url;
      expect((await withToken(one, tokenFor(issuer, elsewhere))).body.cause).toEqual({ expected: 'api://one', actual: 'https://elsewhere.example' });
      expect((await withToken(many, tokenFor(issuer, { aud: ['x', 'y'] }))).body.cause).toEqual({ expected: ['api://one', 'api://two'], actual: ['x', 'y'] });
    });

    test('a 403 body has cause { missing_scopes }', async () => {
      const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } } });
      const scoped = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, showErrorDetails: true, requiredScopes: ['read', 'write'] }))).url;
      const res = await withToken(scoped, tokenFor(issuer, { scope: 'read' }));
      expect({ status: res.status, body: res.body }).toEqual({
        status: 403,
        body: {
          error: 'missing_required_scopes',
          error_description: bearerAuthErrorDescription.missing_required_scopes,
          missing_scopes: ['write'],
          cause: { missing_scopes: ['write'] },
        },
      });
    });

    test('without it there is no cause key', async () => {
      const expired = await withToken(url, tokenFor(issuer, { exp: now() - 3600 }));
      const audience = await withToken(url, tokenFor(issuer, { aud: 'https://elsewhere.example' }));
      expect(expired.body).not.toHaveProperty('cause');
      expect(audience.body).not.toHaveProperty('cause');
    });

    test('the challenge header is the same with or without details', async () => {
      const token = tokenFor(issuer, { exp: now() - 3600 });
      const a = await withToken(detailsUrl, token);
      const b = await withToken(url, token);
      expect(a.headers.get('www-authenticate')).toBe(b.headers.get('www-authenticate'));
    });
  });

  describe('CORS preflight', () => {
    test('an OPTIONS request with Access-Control-Request-Method reaches next() untouched', async () => {
      const res = await request(
        url,
        { origin: 'https://app.example', 'access-control-request-method': 'POST' },
        { method: 'OPTIONS' },
      );
      expect(res.status).toBe(204);
      expect(res.headers.get('x-reached-next')).toBe('1');
      expect(res.headers.get('www-authenticate')).toBeNull();
    });

    test('an OPTIONS request without Access-Control-Request-Method is authenticated', async () => {
      const res = await request(url, {}, { method: 'OPTIONS' });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('missing_auth_header');
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('audience option', () => {
  let issuer;
  beforeAll(async () => {
    issuer = await startIssuer();
  });
  afterAll(closeAll);

  test('audience: false turns the audience check off', async () => {
    const url = await protect([issuer], { audience: false });
    expectOk(await withToken(url, tokenFor(issuer, { aud: 'https://anything.example' })));
    expectOk(await withToken(url, tokenFor(issuer, { aud: undefined })));
  });

  test('an audience array accepts any one of its values', async () => {
    const url = await protect([issuer], { audience: ['https://a.example/api', 'https://b.example/api'] });
    expectOk(await withToken(url, tokenFor(issuer, { aud: 'https://b.example/api' })));
    expectOk(await withToken(url, tokenFor(issuer, { aud: ['https://x.example', 'https://a.example/api/'] })));
    expectBearerError(await withToken(url, tokenFor(issuer, { aud: RESOURCE })), 'invalid_audience');
  });

  test('a non-URL audience is compared exactly', async () => {
    const url = await protect([issuer], { audience: 'my-api' });
    expectOk(await withToken(url, tokenFor(issuer, { aud: 'my-api' })));
    expectBearerError(await withToken(url, tokenFor(issuer, { aud: 'MY-API' })), 'invalid_audience');
  });

  test('tokens of any trusted authorization server of the resource are accepted', async () => {
    const second = await startIssuer({ type: 'oauth', path: '/second' });
    const stranger = await startIssuer();
    const url = await protect([issuer, second], {}, { resolved: true });
    expect(expectOk(await withToken(url, tokenFor(issuer))).issuer).toBe(issuer.issuer);
    expect(expectOk(await withToken(url, tokenFor(second))).issuer).toBe(second.issuer);
    expectBearerError(await withToken(url, tokenFor(stranger)), 'invalid_issuer');
    expect(stranger.requests).toEqual([]);
  });

  test('each protected resource checks its own audience and names its own metadata', async () => {
    const as = serverConfig(issuer);
    const auth = new MCPAuth({
      protectedResources: [
        { metadata: { resource: RESOURCE, authorizationServers: [as] } },
        { metadata: { resource: OTHER_RESOURCE, authorizationServers: [as] } },
      ],
    });
    const other = (await startApp(auth.bearerAuth('jwt', { resource: OTHER_RESOURCE }))).url;
    expectOk(await withToken(other, issuer.sign({ aud: OTHER_RESOURCE })));
    const res = await withToken(other, tokenFor(issuer));
    expectBearerError(res, 'invalid_audience', { resourceMetadata: OTHER_RESOURCE_METADATA });
  });
});

// ---------------------------------------------------------------------------------------------

describe('jwtVerify options', () => {
  let issuer;
  beforeAll(async () => {
    issuer = await startIssuer();
  });
  afterAll(closeAll);

  test('clockTolerance as a number of seconds', async () => {
    const url = await protect([issuer], { jwtVerify: { clockTolerance: 5 } });
    expectInvalidToken(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 30 })));
    expectOk(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 2 })));
    expectInvalidToken(await withToken(url, tokenFor(issuer, { nbf: now() + 30 })));
  });

  test('clockTolerance as a string ("5s")', async () => {
    const url = await protect([issuer], { jwtVerify: { clockTolerance: '5s' } });
    expectInvalidToken(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 30 })));
    expectOk(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 2 })));
  });

  test('clockTolerance as a string ("2m") widens the window', async () => {
    const url = await protect([issuer], { jwtVerify: { clockTolerance: '2m' } });
    expectOk(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 90 })));
    expectInvalidToken(await withToken(url, tokenFor(issuer, { iat: now() - 600, exp: now() - 150 })));
  });

  test('algorithms restricts the accepted algorithms', async () => {
    const url = await protect([issuer], { jwtVerify: { algorithms: ['ES256'] } });
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { alg: 'RS256' })));
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { alg: 'ES384' })));
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'ES256' })));
  });

  test('typ "at+jwt" rejects tokens typed JWT or untyped and accepts at+jwt', async () => {
    const url = await protect([issuer], { jwtVerify: { typ: 'at+jwt' } });
    expectInvalidToken(await withToken(url, tokenFor(issuer)));
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { header: { typ: undefined } })));
    expectOk(await withToken(url, tokenFor(issuer, {}, { header: { typ: 'at+jwt' } })));
  });

  test('without typ any typ is accepted', async () => {
    const url = await protect([issuer]);
    expectOk(await withToken(url, tokenFor(issuer, {}, { header: { typ: 'at+jwt' } })));
    expectOk(await withToken(url, tokenFor(issuer, {}, { header: { typ: undefined } })));
  });

  test('maxTokenAge (seconds) rejects tokens issued too long ago', async () => {
    const url = await protect([issuer], { jwtVerify: { maxTokenAge: 60 } });
    expectInvalidToken(await withToken(url, tokenFor(issuer, { iat: now() - 300 })));
    expectOk(await withToken(url, tokenFor(issuer, { iat: now() - 10 })));
  });

  test('maxTokenAge as a string ("1m")', async () => {
    const url = await protect([issuer], { jwtVerify: { maxTokenAge: '1m' } });
    expectInvalidToken(await withToken(url, tokenFor(issuer, { iat: now() - 300 })));
    expectOk(await withToken(url, tokenFor(issuer, { iat: now() - 10 })));
  });

  test('maxTokenAge requires iat', async () => {
    const url = await protect([issuer], { jwtVerify: { maxTokenAge: 60 } });
    expectInvalidToken(await withToken(url, tokenFor(issuer, { iat: undefined })));
  });

  test("requiredClaims: ['iss', 'exp'] accepts a token without sub", async () => {
    const url = await protect([issuer], { jwtVerify: { requiredClaims: ['iss', 'exp'] } });
    const token = tokenFor(issuer, { sub: undefined });
    const auth = expectOk(await withToken(url, token));
    expect(auth).not.toHaveProperty('subject');
    expect(auth.claims).toEqual(decodeJwt(token).payload);
  });

  test('requiredClaims can require more claims', async () => {
    const url = await protect([issuer], { jwtVerify: { requiredClaims: ['iss', 'sub', 'exp', 'jti'] } });
    expectInvalidToken(await withToken(url, tokenFor(issuer)));
    expectOk(await withToken(url, tokenFor(issuer, { jti: 'id-1' })));
  });
});

// ---------------------------------------------------------------------------------------------

describe('remoteJwkSet options and the JWKS cache', () => {
  afterEach(closeAll);

  test('timeoutDuration: a JWKS that never answers is a 503 after about the timeout', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { timeoutDuration: 300 } },
      before: (i) => i.setHandler(i.jwksUri, () => {}),
    });
    const started = Date.now();
    const res = await withToken(url, tokenFor(issuer));
    const elapsed = Date.now() - started;
    expectUnavailable(res);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2500);
  });

  test('remoteJwtSet is accepted as an alias of remoteJwkSet', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwtSet: { timeoutDuration: 300 } },
      before: (i) => i.setHandler(i.jwksUri, () => {}),
    });
    const started = Date.now();
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('a JWKS answering 500 with nothing cached is a 503', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      before: (i) => i.setHandler(i.jwksUri, (req, res) => sendJson(res, 500, { error: 'boom' })),
    });
    expectUnavailable(await withToken(url, tokenFor(issuer)));
  });

  test('a JWKS answering HTML with nothing cached is a 503', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      before: (i) => i.setHandler(i.jwksUri, (req, res) => sendHtml(res)),
    });
    expectUnavailable(await withToken(url, tokenFor(issuer)));
  });

  test('a JWKS served as application/jwk-set+json is accepted', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      before: (i) =>
        i.setHandler(i.jwksUri, (req, res) => {
          res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
          res.end(JSON.stringify(jwksOf(i)));
        }),
    });
    expectOk(await withToken(url, tokenFor(issuer)));
  });

  test("a JWK's alg restricts the key to that algorithm", async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      before: (i) =>
        i.setHandler(i.jwksUri, (req, res) =>
          sendJson(res, 200, { keys: [{ ...i.keys.RS256.jwk, alg: 'RS256' }] }),
        ),
    });
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'RS256' })));
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { alg: 'PS256' })));
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { alg: 'RS512' })));
  });

  test('cooldownDuration: a burst of unknown kids causes at most one extra JWKS fetch', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 800, cacheMaxAge: 60000 } },
    });
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);

    const burst = Array.from({ length: 10 }, (_, i) => tokenFor(issuer, {}, { kid: `unknown-${i}` }));
    for (const res of await Promise.all(burst.map((t) => withToken(url, t)))) expectInvalidToken(res);
    for (const t of burst.slice(0, 3)) expectInvalidToken(await withToken(url, t));
    await sleep(100);
    expect(countRequests(issuer, issuer.jwksUri)).toBeLessThanOrEqual(2);
  });

  test('cooldownDuration: off cooldown an unknown kid refreshes the JWKS once', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 300, cacheMaxAge: 60000 } },
    });
    expectOk(await withToken(url, tokenFor(issuer)));
    await sleep(400);
    const before = countRequests(issuer, issuer.jwksUri);
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { kid: 'unknown-a' })));
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { kid: 'unknown-b' })));
    expect(await waitFor(() => countRequests(issuer, issuer.jwksUri) === before + 1, 1000)).toBe(true);
    await sleep(100);
    expect(countRequests(issuer, issuer.jwksUri)).toBe(before + 1);
  });

  test('rotated keys are picked up without a restart once off cooldown', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 300, cacheMaxAge: 60000 } },
    });
    const oldToken = tokenFor(issuer);
    expectOk(await withToken(url, oldToken));
    issuer.rotateKeys();
    await sleep(400);
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(2);
    // The old key is gone from the refreshed set.
    expectInvalidToken(await withToken(url, oldToken));
  });

  test('after a rotation that keeps the old keys both old and new tokens pass', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 300, cacheMaxAge: 60000 } },
    });
    const oldToken = tokenFor(issuer, {}, { alg: 'ES256' });
    expectOk(await withToken(url, oldToken));
    issuer.rotateKeys({ keepOld: true });
    await sleep(400);
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'ES256' })));
    expectOk(await withToken(url, oldToken));
  });

  test('cacheMaxAge: after it passes the JWKS is fetched again', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 100, cacheMaxAge: 300 } },
    });
    expectOk(await withToken(url, tokenFor(issuer)));
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
    await sleep(500);
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(await waitFor(() => countRequests(issuer, issuer.jwksUri) >= 2, 1000)).toBe(true);
  });

  test('stale-if-error: a cached JWKS keeps working when the refetch after cacheMaxAge fails', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 100, cacheMaxAge: 300 } },
    });
    expectOk(await withToken(url, tokenFor(issuer)));
    issuer.setHandler(issuer.jwksUri, (req, res) => sendJson(res, 500, { error: 'down' }));
    await sleep(500);
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(await waitFor(() => countRequests(issuer, issuer.jwksUri) >= 2, 1000)).toBe(true);
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'EdDSA' })));
  });

  test('an unknown kid while keys are cached is a 401 even when the refetch fails', async () => {
    const { issuer, url } = await freshSetup({
      resolved: true,
      options: { remoteJwkSet: { cooldownDuration: 100, cacheMaxAge: 60000 } },
    });
    expectOk(await withToken(url, tokenFor(issuer)));
    issuer.setHandler(issuer.jwksUri, (req, res) => sendJson(res, 503, { error: 'down' }));
    await sleep(200);
    expectInvalidToken(await withToken(url, tokenFor(issuer, {}, { kid: 'unknown' })));
    expectOk(await withToken(url, tokenFor(issuer)));
  });
});

// ---------------------------------------------------------------------------------------------

describe('authorization server discovery', () => {
  afterEach(closeAll);

  test('a resolved config ({ type, metadata: { issuer, jwksUri } }) fetches only the JWKS', async () => {
    const { issuer, url } = await freshSetup({ resolved: true });
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(issuer.requests.map((r) => r.path)).toEqual(['/jwks']);
  });

  test("type 'oauth' with an issuer path inserts the well-known segment (RFC 8414)", async () => {
    const { issuer, url } = await freshSetup({ issuerOptions: { type: 'oauth', path: '/tenant' } });
    expect(issuer.issuer).toMatch(/\/tenant$/);
    expect(expectOk(await withToken(url, tokenFor(issuer))).issuer).toBe(issuer.issuer);
    expect(issuer.requests.map((r) => r.path)).toEqual([
      '/.well-known/oauth-authorization-server/tenant',
      '/tenant/jwks',
    ]);
  });

  test("type 'oidc' with an issuer path appends the well-known segment", async () => {
    const { issuer, url } = await freshSetup({ issuerOptions: { type: 'oidc', path: '/tenant' } });
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(issuer.requests.map((r) => r.path)).toEqual([
      '/tenant/.well-known/openid-configuration',
      '/tenant/jwks',
    ]);
  });

  test('20 concurrent first requests share one discovery fetch and one JWKS fetch', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) => {
        i.setHandler(i.metadataUrl, (req, res) => sendJson(res, 200, i.metadata, 200));
        i.setHandler(i.jwksUri, (req, res) => sendJson(res, 200, jwksOf(i), 200));
      },
    });
    const results = await Promise.all(Array.from({ length: 20 }, () => withToken(url, tokenFor(issuer))));
    for (const res of results) expectOk(res);
    expect(countRequests(issuer, issuer.metadataUrl)).toBe(1);
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
  });

  test('discovery happens lazily, not at construction', async () => {
    const { issuer } = await freshSetup();
    await sleep(200);
    expect(issuer.requests).toEqual([]);
  });

  test('metadata answering 500 is a 503', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) => i.setHandler(i.metadataUrl, (req, res) => sendJson(res, 500, { error: 'boom' })),
    });
    expectUnavailable(await withToken(url, tokenFor(issuer)));
  });

  test('metadata that is not JSON is a 503', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) => i.setHandler(i.metadataUrl, (req, res) => sendHtml(res)),
    });
    expectUnavailable(await withToken(url, tokenFor(issuer)));
  });

  test('an unreachable issuer is a 503', async () => {
    const issuer = await startIssuer();
    const token = tokenFor(issuer);
    await issuer.close(); // nothing listens on its port any more
    const url = await protect([issuer]);
    expectUnavailable(await withToken(url, token));
  });

  test('metadata that never answers is a 503 after timeoutDuration', async () => {
    const { issuer, url } = await freshSetup({
      options: { remoteJwkSet: { timeoutDuration: 300 } },
      before: (i) => i.setHandler(i.metadataUrl, () => {}),
    });
    const started = Date.now();
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('metadata answering 404 is a 500 server_error', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) => i.setHandler(i.metadataUrl, (req, res) => sendJson(res, 404, { error: 'not_found' })),
    });
    expectServerError(await withToken(url, tokenFor(issuer)));
  });

  test('metadata without jwks_uri is a 500 server_error', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) =>
        i.setHandler(i.metadataUrl, (req, res) => sendJson(res, 200, { ...i.metadata, jwks_uri: undefined })),
    });
    expectServerError(await withToken(url, tokenFor(issuer)));
  });

  test.each([
    ['another host', () => 'https://evil.example.com'],
    ['a trailing slash', (i) => `${i.issuer}/`],
  ])('metadata naming another issuer (%s) is a 500 server_error', async (_, otherIssuer) => {
    const { issuer, url } = await freshSetup({
      before: (i) =>
        i.setHandler(i.metadataUrl, (req, res) => sendJson(res, 200, { ...i.metadata, issuer: otherIssuer(i) })),
    });
    expectServerError(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(0);
  });

  test('metadata without PKCE support still verifies tokens (client-side checks do not apply)', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) =>
        i.setHandler(i.metadataUrl, (req, res) =>
          sendJson(res, 200, { ...i.metadata, code_challenge_methods_supported: undefined }),
        ),
    });
    expectOk(await withToken(url, tokenFor(issuer)));
  });

  test('a failed discovery is not retried on every request, and is retried after the backoff', async () => {
    const { issuer, url } = await freshSetup({
      before: (i) => i.setHandler(i.metadataUrl, (req, res) => sendJson(res, 502, { error: 'bad gateway' })),
    });
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.metadataUrl)).toBe(1);

    issuer.setHandler(issuer.metadataUrl, null);
    await sleep(1300); // the first retry comes after 1 s
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.metadataUrl)).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------

describe('legacy { server } configuration', () => {
  let issuer;
  let stranger;
  let url;
  beforeAll(async () => {
    issuer = await startIssuer();
    stranger = await startIssuer();
    const auth = new MCPAuth({ server: { type: 'oidc', issuer: issuer.issuer } });
    url = (await startApp(auth.bearerAuth('jwt'))).url;
  });
  afterAll(closeAll);

  test('a valid token without aud is accepted (no audience check by default)', async () => {
    const token = issuer.sign({ scope: 'read' });
    const auth = expectOk(await withToken(url, token));
    expect(auth).toEqual({
      token,
      issuer: issuer.issuer,
      clientId: 'client-1',
      scopes: ['read'],
      subject: 'user-1',
      expiresAt: decodeJwt(token).payload.exp,
      claims: decodeJwt(token).payload,
    });
  });

  test('any aud is accepted without an audience option', async () => {
    expectOk(await withToken(url, issuer.sign({ aud: 'https://whatever.example' })));
  });

  test('no Authorization header is a bare "Bearer" challenge', async () => {
    const res = await request(url);
    expectChallenge(
      res,
      401,
      { error: 'missing_auth_header', error_description: bearerAuthErrorDescription.missing_auth_header },
      { resourceMetadata: null },
    );
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });

  test('an expired token is 401 without resource_metadata', async () => {
    const res = await withToken(url, issuer.sign({ exp: now() - 3600 }));
    expectInvalidToken(res, { resourceMetadata: null });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${INVALID_TOKEN}"`,
    );
  });

  test('a token from another issuer is 401 invalid_issuer and that issuer is never contacted', async () => {
    expectBearerError(await withToken(url, stranger.sign()), 'invalid_issuer', { resourceMetadata: null });
    expect(stranger.requests).toEqual([]);
  });

  test('audience and requiredScopes work without a resource', async () => {
    const auth = new MCPAuth({ server: serverConfig(issuer, true) });
    const scoped = (
      await startApp(auth.bearerAuth('jwt', { audience: 'my-api', requiredScopes: ['read', 'write'] }))
    ).url;
    expectBearerError(await withToken(scoped, issuer.sign({ aud: 'other', scope: 'read write' })), 'invalid_audience', {
      scope: 'read write',
      resourceMetadata: null,
    });
    expectMissingScopes(await withToken(scoped, issuer.sign({ aud: 'my-api', scope: 'read' })), ['write'], {
      scope: 'read write',
      resourceMetadata: null,
    });
    expectOk(await withToken(scoped, issuer.sign({ aud: 'my-api', scope: 'read write' })));
  });
});

// ---------------------------------------------------------------------------------------------

describe('configuration errors are thrown when the configuration is given', () => {
  const as = { type: 'oidc', issuer: 'https://auth.example.com' };
  const resourceConfig = (resource, servers = [as]) => ({ metadata: { resource, authorizationServers: servers } });
  const auth = () => new MCPAuth({ protectedResources: resourceConfig(RESOURCE) });

  test.each([
    ['a misspelt top-level option', { resource: RESOURCE, audiance: RESOURCE }, /audiance/],
    ['a misspelt jwtVerify option', { resource: RESOURCE, jwtVerify: { clockTolerence: 5 } }, /clockTolerence/],
    ['a misspelt remoteJwkSet option', { resource: RESOURCE, remoteJwkSet: { timeout: 5 } }, /timeout/],
  ])('bearerAuth() rejects %s with a TypeError naming it', (_, options, name) => {
    const a = auth();
    expect(() => a.bearerAuth('jwt', options)).toThrow(TypeError);
    expect(() => a.bearerAuth('jwt', options)).toThrow(name);
  });

  test('bearerAuth() in protectedResources mode requires the resource option', () => {
    expect(() => auth().bearerAuth('jwt')).toThrow(/resource/);
    expect(() => auth().bearerAuth('jwt', { requiredScopes: ['read'] })).toThrow(/resource/);
  });

  test('bearerAuth() rejects a resource that is not configured', () => {
    expect(() => auth().bearerAuth('jwt', { resource: OTHER_RESOURCE })).toThrow(/resource/);
  });

  test('bearerAuth() rejects a required scope that is not an RFC 6749 scope token', () => {
    expect(() => auth().bearerAuth('jwt', { resource: RESOURCE, requiredScopes: ['read write'] })).toThrow(
      /requiredScopes|scope/,
    );
    expect(() => auth().bearerAuth('jwt', { resource: RESOURCE, requiredScopes: ['a"b'] })).toThrow(
      /requiredScopes|scope/,
    );
  });

  test('new MCPAuth() rejects a duplicate resource', () => {
    expect(
      () => new MCPAuth({ protectedResources: [resourceConfig(RESOURCE), resourceConfig(RESOURCE)] }),
    ).toThrow(/resource/);
  });

  test('new MCPAuth() rejects a non-URL issuer', () => {
    expect(
      () => new MCPAuth({ protectedResources: resourceConfig(RESOURCE, [{ type: 'oidc', issuer: 'not a url' }]) }),
    ).toThrow(/issuer/);
    expect(() => new MCPAuth({ server: { type: 'oidc', issuer: 'not a url' } })).toThrow(/issuer/);
  });

  test('new MCPAuth() rejects a non-URL resource', () => {
    expect(() => new MCPAuth({ protectedResources: resourceConfig('not a url') })).toThrow(/resource/);
  });

  test('new MCPAuth() rejects a duplicate issuer within a resource', () => {
    expect(() => new MCPAuth({ protectedResources: resourceConfig(RESOURCE, [as, { ...as }]) })).toThrow(
      /issuer/,
    );
  });

  test('new MCPAuth() rejects resolved metadata whose issuer is not a URL', () => {
    expect(
      () =>
        new MCPAuth({
          server: { type: 'oauth', metadata: { issuer: 'not a url', jwksUri: 'https://auth.example.com/jwks' } },
        }),
    ).toThrow(/issuer/);
  });
});

describe('verified-token cache', () => {
  let issuer;
  beforeAll(async () => {
    issuer = await startIssuer();
  });
  afterAll(closeAll);

  test('a repeated token is still checked against each endpoint’s required scopes', async () => {
    const readUrl = await protect([issuer], { requiredScopes: ['read'] });
    const writeUrl = await protect([issuer], { requiredScopes: ['write'] });
    const token = tokenFor(issuer, { scope: 'read' });
    for (let i = 0; i < 3; i++) {
      expect(expectOk(await withToken(readUrl, token)).scopes).toEqual(['read']);
      const res = await withToken(writeUrl, token);
      expect({ status: res.status, body: res.body }).toEqual({
        status: 403,
        body: {
          error: 'missing_required_scopes',
          error_description: bearerAuthErrorDescription.missing_required_scopes,
          missing_scopes: ['write'],
        },
      });
      expect(res.headers.get('www-authenticate')).toBe(
        challenge({ error: 'insufficient_scope', description: bearerAuthErrorDescription.missing_required_scopes, scope: 'write' }),
      );
    }
  });

  test('a repeated token is refused once it expires', async () => {
    const url = await protect([issuer], { jwtVerify: { clockTolerance: 0 } });
    const token = tokenFor(issuer, { exp: now() + 2 });
    expectOk(await withToken(url, token));
    expectOk(await withToken(url, token));
    await sleep(Math.max(0, (now() + 2) * 1000 - Date.now()) + 1100);
    expectInvalidToken(await withToken(url, token));
  });

  test('each repeated request gets its own req.auth object', async () => {
    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } },
    });
    const app = express();
    app.get('/mcp', auth.bearerAuth('jwt', { resource: RESOURCE }), (req, res) => {
      const before = req.auth.scopes.length;
      req.auth.scopes.push('added-by-the-app');
      req.auth.subject = 'changed';
      res.json({ before });
    });
    const { origin } = await listen(app);
    const token = tokenFor(issuer, { scope: 'read' });
    for (let i = 0; i < 3; i++) {
      const res = await withToken(`${origin}/mcp`, token);
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { before: 1 } });
    }
  });

  // req.auth is made with one JSON.parse of the identity the native side sends (without the
  // token, which the glue fills in from the header).
  test('req.auth is a plain, independent, JSON-serialisable object of its own per request', async () => {
    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } },
    });
    const seen = [];
    const app = express();
    app.get('/mcp', auth.bearerAuth('jwt', { resource: RESOURCE }), (req, res) => {
      const a = req.auth;
      const plainObject = (o) => Object.getPrototypeOf(o) === Object.prototype;
      const dataOnly = (o) => Object.values(Object.getOwnPropertyDescriptors(o)).every((d) => 'value' in d && d.writable && d.enumerable);
      const facts = {
        plain: plainObject(a) && plainObject(a.claims) && Array.isArray(a.scopes) && dataOnly(a) && dataOnly(a.claims),
        keys: Object.keys(a),
        spreadsAlike: util.isDeepStrictEqual({ ...a, claims: { ...a.claims } }, a),
        jsonAlike: util.isDeepStrictEqual(JSON.parse(JSON.stringify(a)), a),
        ownProto: Object.hasOwn(a.claims, '__proto__') && !('polluted' in {}) && a.claims.polluted === undefined,
        sharedWithEarlier: seen.some((b) => b === a || b.claims === a.claims || b.scopes === a.scopes),
      };
      seen.push(a);
      // What one handler changes, no later request sees.
      a.scopes.push('added-by-the-app');
      a.claims.sub = 'changed';
      res.json({ facts, auth: JSON.parse(JSON.stringify(a)) });
    });
    const { origin } = await listen(app);
    const token = tokenFor(issuer, { scope: 'read', nested: { n: [1, 2.5, 9007199254740993] }, ['__proto__']: { polluted: true } });
    const other = tokenFor(issuer, { scope: 'read write', sub: 'user-2' });
    for (const t of [token, other, token, token]) {
      const res = await withToken(`${origin}/mcp`, t);
      const { payload } = decodeJwt(t);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.facts).toEqual({
        plain: true,
        keys: ['token', 'issuer', 'clientId', 'scopes', 'subject', 'audience', 'expiresAt', 'claims'],
        spreadsAlike: true,
        jsonAlike: true,
        ownProto: t === token,
        sharedWithEarlier: false,
      });
      expect(res.body.auth.token).toBe(t);
      expect(res.body.auth.subject).toBe(payload.sub);
      expect(res.body.auth.scopes).toEqual([...payload.scope.split(' '), 'added-by-the-app']);
      expect(res.body.auth.claims).toEqual({ ...payload, sub: 'changed' });
    }
  });
});
