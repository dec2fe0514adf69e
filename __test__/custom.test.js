'use strict';
// bearerAuth(verifyFn, options): custom verification through the public API, with real Express
// apps on 127.0.0.1. The verifiers here are ordinary JS functions; nothing of the library is
// mocked. Nothing is fetched in custom mode, so the configured issuer needs no server (one test
// uses a real one to show that it is never contacted).

const http = require('node:http');
const path = require('node:path');
const { spawn } = require('node:child_process');
const express = require('express');
const express4 = require('express4');
const {
  MCPAuth,
  MCPAuthError,
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  MCPAuthBearerAuthError,
  MCPAuthTokenVerificationError,
  MCPAuthJwtVerificationError,
  bearerAuthErrorDescription,
  tokenVerificationErrorDescription,
  jwtVerificationErrorDescription,
} = require('..');
const { startApp, listen, startIssuer, closeAll, request, withToken, sleep, bearerChallenge } = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';
const RESOURCE_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
const ISSUER = 'https://auth.example.com/tenant';
const STRANGER = 'https://evil.example.com';
const INVALID_AUTH_INFO = 'The custom verification function did not return a valid `AuthInfo`.';
const UNAVAILABLE = 'The authorization service is temporarily unavailable. Please retry later.';

const config = () => ({
  protectedResources: {
    metadata: {
      resource: RESOURCE,
      authorizationServers: [{ type: 'oauth', metadata: { issuer: ISSUER, jwksUri: `${ISSUER}/jwks` } }],
    },
  },
});

/** A valid AuthInfo for RESOURCE from ISSUER; `extra` overrides or adds fields. */
const identity = (token, extra = {}) => ({
  token,
  issuer: ISSUER,
  clientId: 'client-1',
  scopes: ['read'],
  subject: 'user-1',
  audience: RESOURCE,
  ...extra,
});

afterEach(closeAll);

// ---------------------------------------------------------------------------------------------
// Expected responses (the same shapes as jwt.test.js)

/** The WWW-Authenticate value the contract prescribes; this resource's metadata URL by default. */
const challenge = ({ resourceMetadata = RESOURCE_METADATA, ...params } = {}) =>
  bearerChallenge({ ...params, resourceMetadata });

function expectChallenge(res, status, body, params) {
  expect({ status: res.status, body: res.body }).toEqual({ status, body });
  expect(res.headers.get('www-authenticate')).toBe(challenge(params));
  expect(res.headers.get('access-control-expose-headers')).toMatch(/(^|,)\s*WWW-Authenticate\s*(,|$)/i);
  expect(res.headers.get('retry-after')).toBeNull();
}

/** 401 for an error a verifier threw (or a token check): `description` is its table text. */
function expectUnauthorized(res, code, description, { rfc6750 = 'invalid_token', scope, resourceMetadata, cause } = {}) {
  expect(description).toEqual(expect.any(String));
  const body = { error: code, error_description: description };
  if (cause !== undefined) body.cause = cause;
  expectChallenge(res, 401, body, { error: rfc6750, description, scope, resourceMetadata });
}

function expectBearerError(res, code, options) {
  expectUnauthorized(res, code, bearerAuthErrorDescription[code], options);
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

/** 500 for a verifier result that is not an AuthInfo; `reason` names the field. */
function expectInvalidAuthInfo(res, reason) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 500,
    body: { error: 'server_error', error_description: `${INVALID_AUTH_INFO} ${reason}` },
  });
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

function expectUnavailable(res, cause) {
  const body = { error: 'temporarily_unavailable', error_description: UNAVAILABLE };
  if (cause !== undefined) body.cause = cause;
  expect({ status: res.status, body: res.body }).toEqual({ status: 503, body });
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.headers.get('retry-after')).toBe('1');
}

/** The app's error handler (startApp: 599) got `message` from next(err). */
function expectForwarded(res, message) {
  expect({ status: res.status, body: res.body }).toEqual({ status: 599, body: { app_error: message } });
  expect(res.headers.get('www-authenticate')).toBeNull();
}

function expectOk(res, auth) {
  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { auth } });
  expect(res.headers.get('www-authenticate')).toBeNull();
}

// ---------------------------------------------------------------------------------------------
// Setups

/**
 * An app behind `bearerAuth(verify, { resource, ...options })`. `verify` is wrapped so the test
 * can read `calls` (the tokens it was given, in order).
 */
async function protect(verify, options = {}, { auth = new MCPAuth(config()), withResource = true } = {}) {
  const calls = [];
  const middleware = auth.bearerAuth(
    function counted(token) {
      calls.push(token);
      return verify(token);
    },
    withResource ? { resource: RESOURCE, ...options } : options,
  );
  const { url } = await startApp(middleware);
  return { url, calls };
}

/**
 * An app of our own: `route(req, res)` behind the middleware, and an error handler that records
 * what next(err) got and answers 599. Returns `{ url, routeCalls, errors }`.
 */
async function ownApp(middleware, route = (req, res) => res.json({ subject: req.auth.subject }), make = express) {
  const app = make();
  const routeCalls = [];
  const errors = [];
  app.use('/mcp', middleware);
  app.all('/mcp', (req, res) => {
    routeCalls.push(req.auth);
    route(req, res);
  });
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    errors.push(err);
    res.status(599).json({ app_error: String(err && err.message) });
  });
  const { origin } = await listen(app);
  return { url: `${origin}/mcp`, routeCalls, errors };
}

// ---------------------------------------------------------------------------------------------

describe('the verifier and req.auth', () => {
  test('an async verifier gets exactly the token after "Bearer " and its result is req.auth', async () => {
    const token = 'opaque.Token-1_~+/=';
    const { url, calls } = await protect(async (t) => identity(t, { extra: { plan: 'pro' } }));
    expectOk(await withToken(url, token), identity(token, { extra: { plan: 'pro' } }));
    expect(calls).toEqual([token]);
  });

  test('the scheme is case-insensitive and the token is passed without the scheme', async () => {
    const { url, calls } = await protect((t) => identity(t));
    expectOk(await request(url, { authorization: 'bearer abc' }), identity('abc'));
    expectOk(await request(url, { authorization: 'BEARER def' }), identity('def'));
    expect(calls).toEqual(['abc', 'def']);
  });

  test('a 16 KiB token reaches the verifier whole', async () => {
    const token = 'x'.repeat(16 * 1024);
    const { url, calls } = await protect((t) => identity(t, { subject: `len-${t.length}` }));
    const res = await withToken(url, token);
    expect(res.status).toBe(200);
    expect(res.body.auth.subject).toBe(`len-${16 * 1024}`);
    expect(calls).toEqual([token]);
  });

  test('a token over 16 KiB is 401 invalid_token without calling the verifier', async () => {
    const { url, calls } = await protect((t) => identity(t));
    const res = await withToken(url, 'x'.repeat(16 * 1024 + 1));
    expectUnauthorized(res, 'invalid_token', tokenVerificationErrorDescription.invalid_token);
    expect(calls).toEqual([]);
  });

  test('a synchronous verifier returning a plain object works', async () => {
    const { url } = await protect((t) => identity(t, { subject: 'sync' }));
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: 'sync' }));
  });

  test('a verifier returning a non-Promise thenable works', async () => {
    const { url } = await protect((t) => ({
      then(resolve) {
        setTimeout(() => resolve(identity(t, { subject: 'thenable' })), 5);
      },
    }));
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: 'thenable' }));
  });

  test('a verifier that takes 1.5 s is waited for (the default verifyTimeout is longer)', async () => {
    const { url } = await protect(async (t) => {
      await sleep(1500);
      return identity(t, { subject: 'slow' });
    });
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: 'slow' }));
  });

  test('req.auth is the very object the verifier returned, URL and extra fields included', async () => {
    const returned = new Map();
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth(
      async (token) => {
        const info = identity(token, { resource: new URL(RESOURCE), extra: { tenant: { id: 7 } } });
        returned.set(token, info);
        return info;
      },
      { resource: RESOURCE },
    );
    const { url, routeCalls } = await ownApp(middleware, (req, res) =>
      res.json({
        same: req.auth === returned.get(req.auth.token),
        resourceIsUrl: req.auth.resource instanceof URL,
        sameExtra: req.auth.extra === returned.get(req.auth.token).extra,
        keys: Object.keys(req.auth),
      }),
    );
    const res = await withToken(url, 'tok-1');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: {
        same: true,
        resourceIsUrl: true,
        sameExtra: true,
        keys: ['token', 'issuer', 'clientId', 'scopes', 'subject', 'audience', 'resource', 'extra'],
      },
    });
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(routeCalls).toHaveLength(1);
  });

  test('optional fields that are null count as absent', async () => {
    const { url } = await protect((t) => identity(t, { subject: null, expiresAt: null, claims: null }));
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: null, expiresAt: null, claims: null }));
  });

  test('every optional field with its right type is accepted', async () => {
    const full = (t) =>
      identity(t, {
        audience: ['https://other.example.com', RESOURCE],
        expiresAt: 1893456000.5,
        claims: { sub: 'user-1', nested: { a: [1, 2] } },
        clientId: '',
        scopes: [],
      });
    const { url } = await protect(full);
    expectOk(await withToken(url, 'tok'), full('tok'));
  });

  test('nothing is fetched from the authorization server, even with a discovery configuration', async () => {
    const issuer = await startIssuer({ type: 'oidc' });
    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } },
    });
    const { url } = await protect((t) => identity(t, { issuer: issuer.issuer }), {}, { auth });
    expectOk(await withToken(url, 'tok'), identity('tok', { issuer: issuer.issuer }));
    expectBearerError(await withToken(await protectUrlFor(auth, STRANGER), 'tok'), 'invalid_issuer');
    expect(issuer.requests).toEqual([]);
  });
});

/** An app on `auth` whose verifier vouches for `issuer`. */
async function protectUrlFor(auth, issuer) {
  return (await protect((t) => identity(t, { issuer }), {}, { auth })).url;
}

// ---------------------------------------------------------------------------------------------

describe('a result that is not a valid AuthInfo is a 500 naming the field', () => {
  const without = (key) => (t) => {
    const info = identity(t);
    delete info[key];
    return info;
  };
  const jsonError = (value) => {
    try {
      JSON.stringify(value);
    } catch (error) {
      return error.message;
    }
    throw new Error('expected JSON.stringify to throw');
  };
  const cyclic = (t) => {
    const info = identity(t, { claims: {} });
    info.claims.self = info.claims;
    return info;
  };

  test.each([
    ['issuer missing', without('issuer'), '`issuer` is missing.'],
    ['issuer not a string', (t) => identity(t, { issuer: 42 }), '`issuer` must be a string.'],
    ['issuer an array', (t) => identity(t, { issuer: [ISSUER] }), '`issuer` must be a string.'],
    ['issuer empty', (t) => identity(t, { issuer: '' }), '`issuer` must not be empty.'],
    ['issuer null', (t) => identity(t, { issuer: null }), '`issuer` is missing.'],
    ['token missing', without('token'), '`token` is missing.'],
    ['token not a string', (t) => identity(t, { token: 1 }), '`token` must be a string.'],
    ['clientId missing', without('clientId'), '`clientId` is missing.'],
    ['clientId not a string', (t) => identity(t, { clientId: 7 }), '`clientId` must be a string.'],
    ['scopes missing', without('scopes'), '`scopes` is missing.'],
    ['scopes a string', (t) => identity(t, { scopes: 'read write' }), '`scopes` must be an array of strings.'],
    ['scopes with a number', (t) => identity(t, { scopes: ['read', 1] }), '`scopes` must be an array of strings.'],
    ['scopes a Set', (t) => identity(t, { scopes: new Set(['read']) }), '`scopes` must be an array of strings.'],
    ['subject a number', (t) => identity(t, { subject: 42 }), '`subject` must be a string.'],
    ['audience an object', (t) => identity(t, { audience: { a: 1 } }), '`audience` must be a string or an array of strings.'],
    ['audience with a number', (t) => identity(t, { audience: [RESOURCE, 2] }), '`audience` must be a string or an array of strings.'],
    ['expiresAt a string', (t) => identity(t, { expiresAt: '2030-01-01' }), '`expiresAt` must be a number (seconds since the epoch).'],
    ['expiresAt a Date', (t) => identity(t, { expiresAt: new Date(0) }), '`expiresAt` must be a number (seconds since the epoch).'],
    ['claims an array', (t) => identity(t, { claims: [1] }), '`claims` must be an object.'],
    ['claims a string', (t) => identity(t, { claims: 'x' }), '`claims` must be an object.'],
    ['a string', () => 'user-1', 'It is not an object.'],
    ['a number', () => 42, 'It is not an object.'],
    ['true', () => true, 'It is not an object.'],
    ['null', () => null, 'It is not an object.'],
    ['an array', (t) => [identity(t)], 'It is not an object.'],
    ['undefined (sync)', () => undefined, 'It is not an object but undefined.'],
    ['undefined (async, a forgotten return)', async () => {}, 'It is not an object but undefined.'],
    ['a BigInt inside', (t) => identity(t, { expiresAt: 10n }), `It is not JSON data (${jsonError({ n: 10n })}).`],
    ['a cycle', cyclic, `It is not JSON data (${jsonError(cyclic('tok'))}).`],
  ])('%s', async (_, verify, reason) => {
    const { url, calls } = await protect(verify);
    expectInvalidAuthInfo(await withToken(url, 'tok'), reason);
    expect(calls).toEqual(['tok']);
  });

  test('an issuer given as a URL object is refused: req.auth.issuer would not be a string', async () => {
    // JSON.stringify turns a URL into its href, so a check on the JSON image alone lets the URL
    // object through as req.auth.issuer.
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth((t) => identity(t, { issuer: new URL(ISSUER) }), { resource: RESOURCE });
    const { url, routeCalls } = await ownApp(middleware, (req, res) =>
      res.json({ issuerType: typeof req.auth.issuer }),
    );
    const res = await withToken(url, 'tok');
    expectInvalidAuthInfo(res, '`issuer` must be a string.');
    expect(routeCalls).toEqual([]);
  });

  test('the object itself is checked, not what its toJSON() returns', async () => {
    // A result whose toJSON() returns a valid AuthInfo while the object has no `issuer` or
    // `scopes` of its own would become req.auth as is.
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth((t) => ({ token: t, toJSON: () => identity(t) }), { resource: RESOURCE });
    const { url, routeCalls } = await ownApp(middleware, (req, res) => res.json({ scopes: req.auth.scopes ?? null }));
    const res = await withToken(url, 'tok');
    expectInvalidAuthInfo(res, '`issuer` is missing.');
    expect(routeCalls).toEqual([]);
  });

  test('with showErrorDetails the cause repeats the code and the reason', async () => {
    const { url } = await protect(without('scopes'), { showErrorDetails: true });
    const res = await withToken(url, 'tok');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 500,
      body: {
        error: 'server_error',
        error_description: `${INVALID_AUTH_INFO} \`scopes\` is missing.`,
        cause: { error: 'invalid_auth_info', error_description: INVALID_AUTH_INFO, cause: '`scopes` is missing.' },
      },
    });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  test('after a run of invalid results the same middleware still accepts a valid one', async () => {
    const results = { a: () => null, b: () => undefined, c: (t) => identity(t, { expiresAt: 10n }), d: () => 'x', ok: identity };
    const { url } = await protect((t) => results[t](t));
    const bad = await Promise.all(['a', 'b', 'c', 'd'].map((t) => withToken(url, t)));
    expect(bad.map((r) => r.status)).toEqual([500, 500, 500, 500]);
    expectOk(await withToken(url, 'ok'), identity('ok'));
  });
});

// ---------------------------------------------------------------------------------------------

describe('issuer, audience and scopes are checked as in JWT mode', () => {
  test("an issuer that is not the resource's authorization server is 401 invalid_issuer", async () => {
    const { url } = await protect((t) => identity(t, { issuer: STRANGER }));
    expectBearerError(await withToken(url, 'tok'), 'invalid_issuer');
  });

  test('an issuer differing by a trailing slash is not the same issuer', async () => {
    const { url } = await protect((t) => identity(t, { issuer: `${ISSUER}/` }));
    expectBearerError(await withToken(url, 'tok'), 'invalid_issuer');
  });

  test('a result without audience is 401 invalid_audience (the audience defaults to the resource)', async () => {
    const { url } = await protect((t) => identity(t, { audience: undefined }));
    expectBearerError(await withToken(url, 'tok'), 'invalid_audience');
  });

  test('another audience is 401 invalid_audience, with expected and actual under showErrorDetails', async () => {
    const { url } = await protect((t) => identity(t, { audience: 'https://other.example.com' }));
    expectBearerError(await withToken(url, 'tok'), 'invalid_audience');
    const details = await protect((t) => identity(t, { audience: 'https://other.example.com' }), {
      showErrorDetails: true,
    });
    expectBearerError(await withToken(details.url, 'tok'), 'invalid_audience', {
      cause: { expected: RESOURCE, actual: 'https://other.example.com' },
    });
  });

  test('under showErrorDetails, `expected` is the audience exactly as configured: a string stays a string, an array an array', async () => {
    const other = { audience: 'https://other.example.com' };
    const one = await protect((t) => identity(t, other), { showErrorDetails: true, audience: 'https://x.example.com' });
    expectBearerError(await withToken(one.url, 'tok'), 'invalid_audience', {
      cause: { expected: 'https://x.example.com', actual: 'https://other.example.com' },
    });
    const many = await protect((t) => identity(t, other), { showErrorDetails: true, audience: ['https://x.example.com'] });
    expectBearerError(await withToken(many.url, 'tok'), 'invalid_audience', {
      cause: { expected: ['https://x.example.com'], actual: 'https://other.example.com' },
    });
  });

  test('the audience is compared as a canonical URI (scheme/host case, trailing slash)', async () => {
    const { url } = await protect((t) => identity(t, { audience: 'HTTPS://API.Example.COM/mcp/' }));
    expectOk(await withToken(url, 'tok'), identity('tok', { audience: 'HTTPS://API.Example.COM/mcp/' }));
  });

  test('audience: false turns the audience check off', async () => {
    const { url } = await protect((t) => identity(t, { audience: undefined }), { audience: false });
    expectOk(await withToken(url, 'tok'), identity('tok', { audience: undefined }));
  });

  test('an explicit audience option replaces the resource as the expected audience', async () => {
    const audiences = { mine: 'my-api', resource: RESOURCE };
    const { url } = await protect((t) => identity(t, { audience: audiences[t] }), { audience: 'my-api' });
    expectOk(await withToken(url, 'mine'), identity('mine', { audience: 'my-api' }));
    expectBearerError(await withToken(url, 'resource'), 'invalid_audience');
  });

  test('missing required scopes are 403 with only the missing ones listed', async () => {
    const scopes = { r: ['read'], none: [], rw: ['write', 'read', 'admin'] };
    const { url } = await protect((t) => identity(t, { scopes: scopes[t] }), { requiredScopes: ['read', 'write'] });
    expectMissingScopes(await withToken(url, 'r'), ['write'], { scope: 'read write' });
    expectMissingScopes(await withToken(url, 'none'), ['read', 'write'], { scope: 'read write' });
    expectOk(await withToken(url, 'rw'), identity('rw', { scopes: scopes.rw }));
  });

  test('a 401 names the required scopes in its challenge too', async () => {
    const { url } = await protect((t) => identity(t, { issuer: STRANGER }), { requiredScopes: ['read', 'write'] });
    expectBearerError(await withToken(url, 'tok'), 'invalid_issuer', { scope: 'read write' });
  });
});

// ---------------------------------------------------------------------------------------------

describe('errors thrown by the verifier keep their code', () => {
  const JWT_FAILED = 'The JWT could not be verified.';

  test("MCPAuthJwtVerificationError('jwt_verification_failed') is 401 with the exact challenge", async () => {
    const { url } = await protect(async () => {
      throw new MCPAuthJwtVerificationError('jwt_verification_failed');
    });
    const res = await withToken(url, 'tok');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: { error: 'jwt_verification_failed', error_description: JWT_FAILED },
    });
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The JWT could not be verified.", ' +
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"',
    );
    expect(res.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  test('with requiredScopes the challenge also carries scope', async () => {
    const { url } = await protect(
      () => {
        throw new MCPAuthJwtVerificationError('jwt_verification_failed');
      },
      { requiredScopes: ['read', 'write'] },
    );
    const res = await withToken(url, 'tok');
    expectUnauthorized(res, 'jwt_verification_failed', JWT_FAILED, { scope: 'read write' });
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The JWT could not be verified.", scope="read write", ' +
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"',
    );
  });

  const thrown = {
    'jwt-invalid': () => new MCPAuthJwtVerificationError('invalid_jwt'),
    'token-invalid': () => new MCPAuthTokenVerificationError('invalid_token'),
    'token-failed': () => new MCPAuthTokenVerificationError('token_verification_failed'),
    'bearer-audience': () => new MCPAuthBearerAuthError('invalid_audience'),
    'jwt-unknown': () => new MCPAuthJwtVerificationError('made_up_code'),
    'token-unknown': () => new MCPAuthTokenVerificationError('made_up_code'),
    'bearer-unknown': () => new MCPAuthBearerAuthError('made_up_code'),
  };

  test.each([
    ['invalid_jwt', 'jwt-invalid', 'invalid_jwt', jwtVerificationErrorDescription.invalid_jwt],
    ['invalid_token', 'token-invalid', 'invalid_token', tokenVerificationErrorDescription.invalid_token],
    [
      'token_verification_failed',
      'token-failed',
      'token_verification_failed',
      tokenVerificationErrorDescription.token_verification_failed,
    ],
    ['a bearer invalid_audience', 'bearer-audience', 'invalid_audience', bearerAuthErrorDescription.invalid_audience],
    ['an unknown JWT code (falls back)', 'jwt-unknown', 'jwt_verification_failed', JWT_FAILED],
    [
      'an unknown token code (falls back)',
      'token-unknown',
      'token_verification_failed',
      tokenVerificationErrorDescription.token_verification_failed,
    ],
    ['an unknown bearer code (falls back)', 'bearer-unknown', 'invalid_token', bearerAuthErrorDescription.invalid_token],
  ])('%s is 401 with that code, thrown or rejected', async (_, key, code, description) => {
    const sync = await protect(() => {
      throw thrown[key]();
    });
    const async = await protect(() => Promise.reject(thrown[key]()));
    expectUnauthorized(await withToken(sync.url, 'tok'), code, description);
    expectUnauthorized(await withToken(async.url, 'tok'), code, description);
  });

  test("MCPAuthBearerAuthError('missing_required_scopes') is 403 with its missing scopes", async () => {
    const { url } = await protect(async () => {
      throw new MCPAuthBearerAuthError('missing_required_scopes', { missingScopes: ['x'] });
    });
    expectMissingScopes(await withToken(url, 'tok'), ['x']);
  });

  test('showErrorDetails adds the cause; an Error cause becomes { name, message }', async () => {
    const causes = {
      error: () => new MCPAuthTokenVerificationError('invalid_token', new TypeError('token revoked')),
      object: () => new MCPAuthJwtVerificationError('jwt_verification_failed', { reason: 'expired', at: 17 }),
      nested: () => new MCPAuthTokenVerificationError('invalid_token', { inner: new RangeError('too old') }),
    };
    const verify = (t) => {
      throw causes[t]();
    };
    const { url } = await protect(verify, { showErrorDetails: true });
    const invalid = tokenVerificationErrorDescription.invalid_token;
    expectUnauthorized(await withToken(url, 'error'), 'invalid_token', invalid, {
      cause: { name: 'TypeError', message: 'token revoked' },
    });
    expectUnauthorized(await withToken(url, 'object'), 'jwt_verification_failed', JWT_FAILED, {
      cause: { reason: 'expired', at: 17 },
    });
    expectUnauthorized(await withToken(url, 'nested'), 'invalid_token', invalid, {
      cause: { inner: { name: 'RangeError', message: 'too old' } },
    });

    const quiet = await protect(verify);
    expectUnauthorized(await withToken(quiet.url, 'error'), 'invalid_token', invalid);
    expectUnauthorized(await withToken(quiet.url, 'object'), 'jwt_verification_failed', JWT_FAILED);
  });

  test('a cause that is not JSON data is left out, the error still answers 401', async () => {
    const { url } = await protect(
      () => {
        throw new MCPAuthTokenVerificationError('invalid_token', { n: 1n });
      },
      { showErrorDetails: true },
    );
    expectUnauthorized(await withToken(url, 'tok'), 'invalid_token', tokenVerificationErrorDescription.invalid_token);
  });

  test('a thenable whose then() throws an mcp-auth error is answered with its code', async () => {
    const { url } = await protect(() => ({
      then() {
        throw new MCPAuthJwtVerificationError('invalid_jwt');
      },
    }));
    expectUnauthorized(await withToken(url, 'tok'), 'invalid_jwt', jwtVerificationErrorDescription.invalid_jwt);
  });
});

// ---------------------------------------------------------------------------------------------

describe('a verifier that throws MCPAuthAuthServerError or MCPAuthConfigError gets 500 server_error, as in mcp-auth', () => {
  test.each([
    ['MCPAuthAuthServerError', () => new MCPAuthAuthServerError('invalid_server_metadata'), {
      error: 'invalid_server_metadata',
      error_description: 'The server metadata is invalid or malformed.',
    }],
    ['MCPAuthConfigError', () => new MCPAuthConfigError('bad_config', 'config is bad'), {
      error: 'bad_config',
      error_description: 'config is bad',
    }],
  ])('%s (thrown or rejected): 500, no challenge, its toJson() as `cause` only under showErrorDetails', async (_, make, json) => {
    const verify = (token) => {
      if (token === 'sync') throw make();
      return Promise.reject(make());
    };
    const plain = await ownApp(new MCPAuth(config()).bearerAuth(verify, { resource: RESOURCE }));
    const detailed = await ownApp(new MCPAuth(config()).bearerAuth(verify, { resource: RESOURCE, showErrorDetails: true }));
    for (const token of ['sync', 'async']) {
      const r = await withToken(plain.url, token);
      expect({ status: r.status, body: r.body }).toEqual({
        status: 500,
        body: { error: 'server_error', error_description: 'An error occurred with the authorization server.' },
      });
      expect(r.headers.get('www-authenticate')).toBeNull();
      const d = await withToken(detailed.url, token);
      expect({ status: d.status, body: d.body }).toEqual({
        status: 500,
        body: { error: 'server_error', error_description: 'An error occurred with the authorization server.', cause: json },
      });
      expect(d.headers.get('www-authenticate')).toBeNull();
    }
    expect([plain.errors, plain.routeCalls, detailed.errors, detailed.routeCalls]).toEqual([[], [], [], []]);
  });
});

describe("any other error goes to the app's error handler", () => {
  test.each([
    ['a plain Error', () => new Error('database down'), 'database down'],
    ['a TypeError', () => new TypeError('x is not a function'), 'x is not a function'],
    ['the MCPAuthError base class', () => new MCPAuthError('invalid_token', 'base class'), 'base class'],
  ])('%s (thrown or rejected) reaches next(err) as the same object', async (_, make, message) => {
    const errors = new Map();
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth(
      (token) => {
        const error = make();
        errors.set(token, error);
        if (token === 'sync') throw error;
        return Promise.reject(error);
      },
      { resource: RESOURCE },
    );
    const app = await ownApp(middleware);
    expectForwarded(await withToken(app.url, 'sync'), message);
    expectForwarded(await withToken(app.url, 'async'), message);
    expect(app.errors).toHaveLength(2);
    expect(app.errors[0]).toBe(errors.get('sync'));
    expect(app.errors[1]).toBe(errors.get('async'));
    expect(app.routeCalls).toEqual([]);
  });

  test.each([
    ['"route"', 'route', 'The custom verification function threw "route".'],
    ['"router"', 'router', 'The custom verification function threw "router".'],
    ['an empty string', '', 'The custom verification function threw "".'],
    ['undefined', undefined, 'The custom verification function threw undefined.'],
    ['null', null, 'The custom verification function threw null.'],
    ['0', 0, 'The custom verification function threw 0.'],
    ['false', false, 'The custom verification function threw false.'],
  ])('a thrown primitive (%s) never passes unauthenticated: it reaches the error handler as an Error', async (_, value, message) => {
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth(
      (token) => {
        if (token === 'sync') throw value;
        return Promise.reject(value);
      },
      { resource: RESOURCE },
    );
    // next('route') or next('router') would skip the error handler; next(undefined) would run the route.
    const app = await ownApp(middleware);
    expectForwarded(await withToken(app.url, 'sync'), message);
    expectForwarded(await withToken(app.url, 'async'), message);
    expect(app.routeCalls).toEqual([]);
    expect(app.errors.map((e) => [e instanceof Error, e.message, e.cause])).toEqual([
      [true, message, value],
      [true, message, value],
    ]);
  });

  test('in an Express 4 app a thrown "route" is also an error, never the route', async () => {
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth(
      (token) => {
        if (token === 'route') throw 'route';
        if (token === 'plain') throw new Error('boom');
        return identity(token);
      },
      { resource: RESOURCE },
    );
    const app = await ownApp(middleware, undefined, express4);
    expectForwarded(await withToken(app.url, 'route'), 'The custom verification function threw "route".');
    expectForwarded(await withToken(app.url, 'plain'), 'boom');
    expect(app.routeCalls).toEqual([]);
    const ok = await withToken(app.url, 'good');
    expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { subject: 'user-1' } });
    expect(app.routeCalls).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('verifyTimeout', () => {
  const never = () => new Promise(() => {});

  test('a verifier that never settles is 503 temporarily_unavailable with Retry-After', async () => {
    const { url } = await protect(never, { verifyTimeout: 200 });
    const started = Date.now();
    const res = await withToken(url, 'tok');
    const elapsed = Date.now() - started;
    expectUnavailable(res);
    expect(elapsed).toBeGreaterThanOrEqual(180);
    expect(elapsed).toBeLessThan(2000);
  });

  test('with showErrorDetails the cause says how long it waited', async () => {
    const { url } = await protect(never, { verifyTimeout: 200, showErrorDetails: true });
    expectUnavailable(await withToken(url, 'tok'), 'The custom verification function did not settle within 200 ms.');
  });

  test('a thenable that never calls back is 503 too', async () => {
    const { url } = await protect(() => ({ then() {} }), { verifyTimeout: 100 });
    expectUnavailable(await withToken(url, 'tok'));
  });

  test('a verifier that resolves after the timeout: 503, then nothing breaks', async () => {
    let settled = 0;
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth(
      async (token) => {
        if (token === 'late') {
          await sleep(300);
          settled += 1;
        }
        return identity(token, { subject: token });
      },
      { resource: RESOURCE, verifyTimeout: 100 },
    );
    const app = await ownApp(middleware);
    expectUnavailable(await withToken(app.url, 'late'));
    await sleep(350);
    expect(settled).toBe(1);
    const later = await withToken(app.url, 'fresh');
    expect({ status: later.status, body: later.body }).toEqual({ status: 200, body: { subject: 'fresh' } });
    expect(app.routeCalls.map((a) => a.subject)).toEqual(['fresh']);
    expect(app.errors).toEqual([]);
  });

  test('a verifier that rejects after the timeout: 503, and the error never reaches next', async () => {
    let settled = 0;
    const auth = new MCPAuth(config());
    const middleware = auth.bearerAuth(
      async (token) => {
        if (token === 'late-error' || token === 'late-token-error') {
          await sleep(300);
          settled += 1;
          throw token === 'late-error' ? new Error('too late') : new MCPAuthTokenVerificationError('invalid_token');
        }
        return identity(token, { subject: token });
      },
      { resource: RESOURCE, verifyTimeout: 100 },
    );
    const app = await ownApp(middleware);
    const [a, b] = await Promise.all([withToken(app.url, 'late-error'), withToken(app.url, 'late-token-error')]);
    expectUnavailable(a);
    expectUnavailable(b);
    await sleep(350);
    expect(settled).toBe(2);
    expect(app.errors).toEqual([]);
    const later = await withToken(app.url, 'fresh');
    expect({ status: later.status, body: later.body }).toEqual({ status: 200, body: { subject: 'fresh' } });
  });

  test('verifyTimeout must be a positive number of milliseconds', () => {
    const auth = new MCPAuth(config());
    expect(() => auth.bearerAuth(never, { resource: RESOURCE, verifyTimeout: 0 })).toThrow(
      new TypeError('`options.verifyTimeout` must be a positive number of milliseconds.'),
    );
    expect(() => auth.bearerAuth(never, { resource: RESOURCE, verifyTimeout: -5 })).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('thenables that misbehave', () => {
  test('resolve called twice: the first value wins', async () => {
    const { url } = await protect((t) => ({
      then(resolve) {
        resolve(identity(t, { subject: 'first' }));
        resolve(identity(t, { subject: 'second' }));
      },
    }));
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: 'first' }));
  });

  test('resolve then reject: the resolution wins', async () => {
    const { url } = await protect((t) => ({
      then(resolve, reject) {
        resolve(identity(t, { subject: 'first' }));
        reject(new MCPAuthJwtVerificationError('jwt_verification_failed'));
        setTimeout(() => resolve(identity(t, { subject: 'later' })), 5);
      },
    }));
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: 'first' }));
  });

  test('reject then resolve: the rejection wins', async () => {
    const { url } = await protect((t) => ({
      then(resolve, reject) {
        reject(new MCPAuthJwtVerificationError('invalid_jwt'));
        resolve(identity(t));
      },
    }));
    expectUnauthorized(await withToken(url, 'tok'), 'invalid_jwt', jwtVerificationErrorDescription.invalid_jwt);
  });

  test('resolve then throw inside then(): the resolution wins', async () => {
    const { url } = await protect((t) => ({
      then(resolve) {
        resolve(identity(t, { subject: 'first' }));
        throw new Error('after resolve');
      },
    }));
    expectOk(await withToken(url, 'tok'), identity('tok', { subject: 'first' }));
  });

  test('the same middleware keeps working after all of these', async () => {
    let n = 0;
    const { url } = await protect((t) => ({
      then(resolve, reject) {
        n += 1;
        resolve(identity(t, { subject: `s${n}` }));
        resolve(identity(t, { subject: 'again' }));
        reject(new Error('x'));
      },
    }));
    const results = await Promise.all([1, 2, 3].map((i) => withToken(url, `tok-${i}`)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.map((r) => r.body.auth.subject).sort()).toEqual(['s1', 's2', 's3']);
  });
});

describe('values that throw when they are read', () => {
  // A Proxy whose every property read throws, and which has no readable prototype.
  const hostile = () =>
    new Proxy(
      {},
      {
        get() {
          throw new Error('read refused');
        },
        getPrototypeOf() {
          throw new Error('prototype refused');
        },
      },
    );

  test("a rejection with an unreadable error goes to the app's error handler as it is", async () => {
    const thrown = hostile();
    const { url, routeCalls, errors } = await ownApp(
      new MCPAuth(config()).bearerAuth(() => Promise.reject(thrown), { resource: RESOURCE }),
    );
    const res = await withToken(url, 'tok');
    expect(res.status).toBe(599); // the app's handler decided (its own body is beside the point)
    expect(res.headers.get('www-authenticate')).toBeNull();
    // (Compared by identity: reading the Proxy, as toEqual would, throws.)
    expect(errors.length === 1 && errors[0] === thrown).toBe(true);
    expect(routeCalls).toEqual([]);
  });

  test('a result whose fields throw when read is a 500 naming the problem', async () => {
    const result = new Proxy(
      {},
      {
        get(_, key) {
          if (key === 'then') return undefined; // not a thenable
          throw new Error(`${String(key)} refused`);
        },
      },
    );
    const { url, calls } = await protect(() => result);
    const res = await withToken(url, 'tok');
    expect({ status: res.status, body: res.body }).toEqual({
      status: 500,
      body: { error: 'server_error', error_description: `${INVALID_AUTH_INFO} It is not JSON data (token refused).` },
    });
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(calls).toEqual(['tok']);
    // And the middleware still works.
    expect((await withToken(url, 'tok')).status).toBe(500);
  });
});

// ---------------------------------------------------------------------------------------------

describe('many verifications in flight', () => {
  /** GET `url` with `token` through `agent`; resolves `{ status, body }`. */
  function get(agent, url, token) {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  test('2000 concurrent requests: every response carries the identity of its own token', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { url, calls } = await protect(async (token) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(Math.floor(Math.random() * 6));
      inFlight -= 1;
      return identity(token, { subject: `subject-of-${token}` });
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });
    try {
      const tokens = Array.from({ length: 2000 }, (_, i) => `tok-${i}-${Math.random().toString(36).slice(2)}`);
      const responses = await Promise.all(tokens.map((token) => get(agent, url, token)));
      const wrong = responses.filter(
        (r, i) => r.status !== 200 || r.body.auth.subject !== `subject-of-${tokens[i]}` || r.body.auth.token !== tokens[i],
      );
      expect(wrong).toEqual([]);
      expect(responses).toHaveLength(2000);
      expect(calls.length).toBe(2000);
      expect(new Set(calls)).toEqual(new Set(tokens));
      // The verifications really overlapped (up to 128 connections at once).
      expect(maxInFlight).toBeGreaterThanOrEqual(8);
    } finally {
      agent.destroy();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('header problems are answered without calling the verifier', () => {
  const verify = (t) => identity(t);

  test('no Authorization header is 401 missing_auth_header with a bare challenge', async () => {
    const { url, calls } = await protect(verify);
    const res = await request(url);
    expectChallenge(
      res,
      401,
      { error: 'missing_auth_header', error_description: bearerAuthErrorDescription.missing_auth_header },
      {},
    );
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${RESOURCE_METADATA}"`);
    expect(calls).toEqual([]);
  });

  test('Basic credentials are 401 invalid_auth_header_format with error="invalid_request"', async () => {
    const { url, calls } = await protect(verify);
    expectBearerError(await request(url, { authorization: 'Basic dXNlcjpwYXNz' }), 'invalid_auth_header_format', {
      rfc6750: 'invalid_request',
    });
    expect(calls).toEqual([]);
  });

  test('"Bearer" alone is 401 missing_bearer_token with error="invalid_request"', async () => {
    const { url, calls } = await protect(verify);
    expectBearerError(await request(url, { authorization: 'Bearer' }), 'missing_bearer_token', {
      rfc6750: 'invalid_request',
    });
    expect(calls).toEqual([]);
  });

  test('"Bearer a b" is 401 invalid_auth_header_format', async () => {
    const { url, calls } = await protect(verify);
    expectBearerError(await request(url, { authorization: 'Bearer a b' }), 'invalid_auth_header_format', {
      rfc6750: 'invalid_request',
    });
    expect(calls).toEqual([]);
  });

  test('with requiredScopes the missing-header challenge names them', async () => {
    const { url, calls } = await protect(verify, { requiredScopes: ['read', 'write'] });
    const res = await request(url);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'missing_auth_header',
      error_description: bearerAuthErrorDescription.missing_auth_header,
    });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer scope="read write", resource_metadata="${RESOURCE_METADATA}"`,
    );
    expect(calls).toEqual([]);
  });
});

describe('CORS preflight', () => {
  test('an OPTIONS request with Access-Control-Request-Method reaches next() without verification', async () => {
    const { url, calls } = await protect((t) => identity(t));
    const res = await request(url, { origin: 'https://app.example', 'access-control-request-method': 'POST' }, {
      method: 'OPTIONS',
    });
    expect({ status: res.status, text: res.text }).toEqual({ status: 204, text: '' });
    expect(res.headers.get('x-reached-next')).toBe('1');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(calls).toEqual([]);
  });

  test('an OPTIONS request without Access-Control-Request-Method is authenticated', async () => {
    const { url, calls } = await protect(() => {
      throw new MCPAuthTokenVerificationError('invalid_token');
    });
    const res = await request(url, { authorization: 'Bearer tok' }, { method: 'OPTIONS' });
    expectUnauthorized(res, 'invalid_token', tokenVerificationErrorDescription.invalid_token);
    expect(calls).toEqual(['tok']);
  });
});

// ---------------------------------------------------------------------------------------------

describe('configuration', () => {
  const auth = new MCPAuth(config());
  const verify = (t) => identity(t);

  test.each(['jwtVerify', 'remoteJwkSet', 'remoteJwtSet'])('%s is a TypeError naming the option in custom mode', (key) => {
    expect(() => auth.bearerAuth(verify, { resource: RESOURCE, [key]: {} })).toThrow(
      new TypeError(`\`options.${key}\` applies to \`bearerAuth('jwt')\` only, not to a custom verification function.`),
    );
  });

  test('an unknown option is a TypeError naming it', () => {
    expect(() => auth.bearerAuth(verify, { resource: RESOURCE, verifytimeout: 5 })).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('`options.verifytimeout`') }),
    );
  });

  test('protectedResources mode requires the resource option', () => {
    expect(() => auth.bearerAuth(verify)).toThrow(MCPAuthAuthServerError);
    expect(() => auth.bearerAuth(verify, {})).toThrow(/`resource` must be specified/);
  });

  test('a mode that is neither "jwt" nor a function is a TypeError', () => {
    expect(() => auth.bearerAuth({ verify }, { resource: RESOURCE })).toThrow(TypeError);
  });
});

describe('legacy { server } configuration', () => {
  const server = { type: 'oauth', metadata: { issuer: ISSUER, jwksUri: `${ISSUER}/jwks` } };

  test("the issuer must be the server's, there is no audience check, and no resource_metadata", async () => {
    const auth = new MCPAuth({ server });
    const issuers = { mine: ISSUER, other: STRANGER };
    const { url } = await protect((t) => identity(t, { issuer: issuers[t], audience: 'anything' }), {}, {
      auth,
      withResource: false,
    });
    expectOk(await withToken(url, 'mine'), identity('mine', { audience: 'anything' }));
    const res = await withToken(url, 'other');
    expectBearerError(res, 'invalid_issuer', { resourceMetadata: null });
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="${bearerAuthErrorDescription.invalid_issuer}"`,
    );
  });

  test("the product page's example works as written", async () => {
    const mcpAuth = new MCPAuth({ server });
    const tokens = new Map([
      ['tok-rw', { token: 'tok-rw', issuer: ISSUER, clientId: 'client-1', scopes: ['read', 'write'], subject: 'alice' }],
      ['tok-r', { token: 'tok-r', issuer: ISSUER, clientId: 'client-1', scopes: ['read'], subject: 'bob' }],
    ]);
    const verifyToken = async (token) => tokens.get(token);

    const bearerAuth = mcpAuth.bearerAuth(
      async (token) => {
        // Implementiere hier deine benutzerdefinierte Überprüfungslogik
        const info = await verifyToken(token);
        if (!info) {
          throw new MCPAuthJwtVerificationError('jwt_verification_failed');
        }
        return info; // Gib das Auth-Info-Objekt zurück
      },
      { requiredScopes: ['read', 'write'] },
    );
    const { url } = await startApp(bearerAuth);

    expectOk(await withToken(url, 'tok-rw'), tokens.get('tok-rw'));

    const unknown = await withToken(url, 'tok-unknown');
    expectUnauthorized(unknown, 'jwt_verification_failed', 'The JWT could not be verified.', {
      scope: 'read write',
      resourceMetadata: null,
    });
    expect(unknown.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The JWT could not be verified.", scope="read write"',
    );

    expectMissingScopes(await withToken(url, 'tok-r'), ['write'], { scope: 'read write', resourceMetadata: null });

    const none = await request(url);
    expect({ status: none.status, error: none.body.error }).toEqual({ status: 401, error: 'missing_auth_header' });
    expect(none.headers.get('www-authenticate')).toBe('Bearer scope="read write"');
  });
});

// ---------------------------------------------------------------------------------------------

describe('ESM', () => {
  // jest runs test files as CommonJS without --experimental-vm-modules, so import() is not
  // available here: a child Node process imports the ESM entry and serves one request.
  test('an error class imported from the ESM entry is the CJS class, so an ESM verifier gets its 401', async () => {
    const root = path.resolve(__dirname, '..');
    const source = `
      import { pathToFileURL } from 'node:url';
      import { createRequire } from 'node:module';
      import http from 'node:http';
      const esm = await import(pathToFileURL(${JSON.stringify(path.join(root, 'index.mjs'))}).href);
      const require = createRequire(${JSON.stringify(path.join(root, 'package.json'))});
      const cjs = require('./index.js');
      const express = require('express');
      const server = { type: 'oauth', metadata: { issuer: ${JSON.stringify(ISSUER)}, jwksUri: 'https://auth.example.com/jwks' } };
      const app = express();
      // MCPAuth from CJS, the error from ESM, and the other way round.
      app.use('/a', new cjs.MCPAuth({ server }).bearerAuth(async () => { throw new esm.MCPAuthJwtVerificationError('jwt_verification_failed'); }));
      app.use('/b', new esm.MCPAuth({ server }).bearerAuth(async () => { throw new cjs.MCPAuthJwtVerificationError('invalid_jwt'); }));
      app.use((req, res) => res.json({ reached: true }));
      app.use((err, req, res, next) => res.status(599).json({ app_error: err.message }));
      const srv = http.createServer(app);
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      const base = 'http://127.0.0.1:' + srv.address().port;
      const call = async (p) => {
        const r = await fetch(base + p, { headers: { authorization: 'Bearer tok' } });
        return { status: r.status, challenge: r.headers.get('www-authenticate'), body: await r.json() };
      };
      const out = {
        same: esm.MCPAuthJwtVerificationError === cjs.MCPAuthJwtVerificationError && esm.MCPAuth === cjs.MCPAuth,
        a: await call('/a'),
        b: await call('/b'),
      };
      await new Promise((r) => { srv.close(r); srv.closeAllConnections(); });
      console.log(JSON.stringify(out));
    `;
    const { code, stdout, stderr } = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', reject);
      child.on('exit', (exitCode) => resolve({ code: exitCode, stdout: out, stderr: err }));
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({
      same: true,
      a: {
        status: 401,
        challenge: 'Bearer error="invalid_token", error_description="The JWT could not be verified."',
        body: { error: 'jwt_verification_failed', error_description: 'The JWT could not be verified.' },
      },
      b: {
        status: 401,
        challenge: `Bearer error="invalid_token", error_description="${jwtVerificationErrorDescription.invalid_jwt}"`,
        body: { error: 'invalid_jwt', error_description: jwtVerificationErrorDescription.invalid_jwt },
      },
    });
  }, 15000);
});
