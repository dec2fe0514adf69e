'use strict';
// The discovery API through the public surface: fetchServerConfig, fetchServerConfigByWellKnownUrl,
// validateServerConfig, delegatedRouter(), several resources with several authorization servers,
// and the construction warnings. Against local issuers on 127.0.0.1 that serve their metadata only
// at the right well-known URL and record every request.

const path = require('node:path');
const { execFileSync } = require('node:child_process');
const express = require('express');
const {
  MCPAuth,
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  fetchServerConfig,
  fetchServerConfigByWellKnownUrl,
  validateServerConfig,
} = require('..');
const { startApp, startIssuer, closeAll, listen, request, withToken, countRequests } = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';
const SERVER_ERROR = 'An error occurred with the authorization server.';
const UNAVAILABLE = 'The authorization service is temporarily unavailable. Please retry later.';

// Warnings are printed with console.warn; collect them instead of printing them.
let warnings;
beforeAll(() => {
  warnings = [];
  jest.spyOn(console, 'warn').mockImplementation((...args) => warnings.push(args.join(' ')));
});
afterAll(() => console.warn.mockRestore());
afterEach(closeAll);

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const camelKeys = (doc) => Object.fromEntries(Object.entries(doc).map(([k, v]) => [camel(k), v]));

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Awaits `promise`, expecting it to reject; returns the error. */
async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function expectFetchError(promise, reason) {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(MCPAuthConfigError);
  expect(error.code).toBe('fetch_server_config_error');
  expect(error.message).toMatch(reason);
  return error;
}

async function expectInvalidMetadata(promise, cause) {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(MCPAuthAuthServerError);
  expect(error.code).toBe('invalid_server_metadata');
  expect(error.message).toBe('The server metadata is invalid or malformed.');
  expect(error.cause).toMatchObject(cause);
  return error;
}

// ---------------------------------------------------------------------------------------------

describe('fetchServerConfig', () => {
  test.each([
    ['oidc', '', '/.well-known/openid-configuration'],
    ['oidc', '/tenant', '/tenant/.well-known/openid-configuration'],
    ['oauth', '', '/.well-known/oauth-authorization-server'],
    ['oauth', '/tenant', '/.well-known/oauth-authorization-server/tenant'],
  ])("type '%s' with issuer path '%s' fetches %s and returns camelCase metadata", async (type, issuerPath, wellKnown) => {
    const issuer = await startIssuer({ type, path: issuerPath });
    const config = await fetchServerConfig(issuer.issuer, { type });
    expect(config).toEqual({ type, metadata: camelKeys(issuer.metadata) });
    expect(config.metadata.jwksUri).toBe(issuer.jwksUri);
    expect(issuer.requests).toEqual([{ method: 'GET', path: wellKnown }]);
  });

  test('accepts the issuer as a URL object', async () => {
    const issuer = await startIssuer({ type: 'oauth', path: '/t' });
    const config = await fetchServerConfig(new URL(issuer.issuer), { type: 'oauth' });
    expect(config.metadata.issuer).toBe(issuer.issuer);
  });

  test('its result is a resolved configuration: tokens verify with no further metadata fetch', async () => {
    const issuer = await startIssuer();
    const as = await fetchServerConfig(issuer.issuer, { type: 'oidc' });
    const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [as] } } });
    const { url } = await startApp(auth.bearerAuth('jwt', { resource: RESOURCE }));
    const res = await withToken(url, issuer.sign({ aud: RESOURCE }));
    expect(res.status).toBe(200);
    expect(res.body.auth.issuer).toBe(issuer.issuer);
    expect(issuer.requests.map((r) => r.path)).toEqual(['/.well-known/openid-configuration', '/jwks']);
  });

  test('transpileData gets the raw snake_case document and its result is checked and camelCased', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) =>
      sendJson(res, 200, { ...issuer.metadata, scopes_supported: 'openid read' }),
    );
    const seen = [];
    const config = await fetchServerConfig(issuer.issuer, {
      type: 'oidc',
      transpileData: (data) => {
        seen.push(data);
        return { ...data, scopes_supported: data.scopes_supported.split(' ') };
      },
    });
    expect(seen).toEqual([{ ...issuer.metadata, scopes_supported: 'openid read' }]);
    expect(config.metadata.scopesSupported).toEqual(['openid', 'read']);
  });

  test('transpileData may be async, and a nullish result keeps the document', async () => {
    const issuer = await startIssuer();
    const changed = await fetchServerConfig(issuer.issuer, {
      type: 'oidc',
      transpileData: async (data) => ({ ...data, registration_endpoint: `${data.issuer}/register` }),
    });
    expect(changed.metadata.registrationEndpoint).toBe(`${issuer.issuer}/register`);
    const kept = await fetchServerConfig(issuer.issuer, { type: 'oidc', transpileData: async () => undefined });
    expect(kept.metadata).toEqual(camelKeys(issuer.metadata));
  });

  test('a transpileData that throws rejects with its own error', async () => {
    const issuer = await startIssuer();
    const boom = new Error('boom');
    const error = await rejection(fetchServerConfig(issuer.issuer, { type: 'oidc', transpileData: () => { throw boom; } }));
    expect(error).toBe(boom);
  });

  test.each([
    ['another host', () => 'https://evil.example.com'],
    ['a trailing slash', (i) => `${i.issuer}/`],
  ])('a document naming another issuer (%s) is invalid_server_metadata', async (_, other) => {
    const issuer = await startIssuer();
    const served = { ...issuer.metadata, issuer: other(issuer) };
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, served));
    await expectInvalidMetadata(fetchServerConfig(issuer.issuer, { type: 'oidc' }), {
      expected: issuer.issuer,
      actual: served.issuer,
      metadata: served,
    });
  });

  test('the issuer check applies to what transpileData returns', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, { ...issuer.metadata, issuer: 'https://x' }));
    const config = await fetchServerConfig(issuer.issuer, { type: 'oidc', transpileData: (d) => ({ ...d, issuer: issuer.issuer }) });
    expect(config.metadata.issuer).toBe(issuer.issuer);
  });

  test.each([
    [404, { error: 'not_found' }],
    [500, { error: 'boom' }],
    [503, ''],
  ])('metadata answering HTTP %i is fetch_server_config_error naming the URL', async (status, body) => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, status, body));
    const error = await expectFetchError(
      fetchServerConfig(issuer.issuer, { type: 'oidc' }),
      `Failed to fetch server config from ${issuer.metadataUrl}: HTTP ${status}.`,
    );
    expect(error.cause).toEqual({ url: issuer.metadataUrl, message: `${issuer.metadataUrl} answered HTTP ${status}.` });
    expect(error.toJson(true)).toEqual({ error: 'fetch_server_config_error', errorDescription: error.message, cause: error.cause });
  });

  test('metadata served only at the other convention is not found (oauth issuer fetched as oidc)', async () => {
    const issuer = await startIssuer({ type: 'oauth', path: '/t' });
    await expectFetchError(fetchServerConfig(issuer.issuer, { type: 'oidc' }), /HTTP 404\.$/);
    expect(issuer.requests.map((r) => r.path)).toEqual(['/t/.well-known/openid-configuration']);
  });

  test('a redirect is not followed', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => {
      res.writeHead(302, { location: `${issuer.origin}/elsewhere` });
      res.end();
    });
    await expectFetchError(fetchServerConfig(issuer.issuer, { type: 'oidc' }), /HTTP 302\.$/);
    expect(countRequests(issuer, '/elsewhere')).toBe(0);
  });

  test('an unreachable issuer is fetch_server_config_error', async () => {
    const issuer = await startIssuer();
    await issuer.close();
    await expectFetchError(fetchServerConfig(issuer.issuer, { type: 'oidc' }), /: unreachable \(/);
  });

  test('metadata that never answers fails after timeoutDuration', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, () => {});
    const started = Date.now();
    await expectFetchError(
      fetchServerConfig(issuer.issuer, { type: 'oidc', timeoutDuration: 300 }),
      `Failed to fetch server config from ${issuer.metadataUrl}: no answer within 300 ms.`,
    );
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('without timeoutDuration it gives up after 5 seconds', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, () => {});
    const started = Date.now();
    await expectFetchError(fetchServerConfig(issuer.issuer, { type: 'oidc' }), /no answer within 5000 ms\.$/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  test('a document over 1 MiB is refused', async () => {
    const issuer = await startIssuer();
    const padding = 'x'.repeat(1024 * 1024);
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, { ...issuer.metadata, padding }));
    await expectFetchError(fetchServerConfig(issuer.issuer, { type: 'oidc' }), /larger than 1048576 bytes\.$/);
  });

  test.each([
    ['HTML', '<!doctype html><p>Sign in</p>'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['an object with a duplicate member', '{"issuer":"a","issuer":"b"}'],
  ])('a body that is %s is invalid_server_metadata', async (_, body) => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, body));
    await expectInvalidMetadata(fetchServerConfig(issuer.issuer, { type: 'oidc' }), {
      message: 'The server metadata is not a JSON object.',
    });
  });

  test.each([
    ['no issuer', { issuer: undefined }, 'The metadata has no `issuer` string.'],
    ['a jwks_uri that is not http(s)', { jwks_uri: 'file:///etc/passwd' }, 'The metadata `jwks_uri` is not an http(s) URL.'],
    ['a mistyped member', { response_types_supported: 'code' }, 'The metadata `response_types_supported` must be an array of strings.'],
  ])('a document with %s is invalid_server_metadata naming the member', async (_, change, message) => {
    const issuer = await startIssuer();
    const served = { ...issuer.metadata, ...change };
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, served));
    await expectInvalidMetadata(fetchServerConfig(issuer.issuer, { type: 'oidc' }), { message, metadata: JSON.parse(JSON.stringify(served)) });
  });

  test.each([
    ['authorization_endpoint', 'a string'],
    ['token_endpoint', 'a string'],
    ['response_types_supported', 'an array of strings'],
  ])("a document without %s (required by mcp-auth's schema) is invalid_server_metadata", async (member, kind) => {
    const issuer = await startIssuer();
    const served = { ...issuer.metadata, [member]: undefined };
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, served));
    await expectInvalidMetadata(fetchServerConfig(issuer.issuer, { type: 'oidc' }), {
      message: `The metadata \`${member}\` is required and must be ${kind}.`,
      metadata: JSON.parse(JSON.stringify(served)),
    });
    await expectInvalidMetadata(fetchServerConfigByWellKnownUrl(issuer.metadataUrl, { type: 'oidc' }), {
      message: `The metadata \`${member}\` is required and must be ${kind}.`,
      metadata: JSON.parse(JSON.stringify(served)),
    });
  });

  test('request handling needs only jwks_uri: a minimal document still verifies tokens', async () => {
    const issuer = await startIssuer();
    const minimal = { issuer: issuer.issuer, jwks_uri: issuer.jwksUri };
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, minimal));
    const auth = new MCPAuth({ server: { type: 'oidc', issuer: issuer.issuer } });
    const { url } = await startApp(auth.bearerAuth('jwt'));
    const r = await withToken(url, issuer.sign());
    expect(r.status).toBe(200);
    expect(r.body.auth.issuer).toBe(issuer.issuer);
  });

  test.each([
    ['an unknown type', 'https://as.example.com', { type: 'saml' }, /`type` must be 'oidc' or 'oauth'/],
    ['no options', 'https://as.example.com', undefined, /second argument must be an object/],
    ['an unknown option', 'https://as.example.com', { type: 'oidc', transpiledata: () => {} }, /unknown option `transpiledata`/],
    ['a non-URL issuer', 'not a url', { type: 'oidc' }, /The issuer must be an http\(s\) URL; got `not a url`/],
    ['a non-function transpileData', 'https://as.example.com', { type: 'oidc', transpileData: 5 }, /`transpileData` must be a function/],
  ])('%s rejects with a TypeError before fetching', async (_, issuer, options, message) => {
    const error = await rejection(fetchServerConfig(issuer, options));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
  });
});

describe('fetchServerConfigByWellKnownUrl', () => {
  test('fetches exactly the given URL (string or URL object) and returns { type, metadata }', async () => {
    const issuer = await startIssuer({ type: 'oauth', path: '/t' });
    expect(await fetchServerConfigByWellKnownUrl(issuer.metadataUrl, { type: 'oauth' })).toEqual({
      type: 'oauth',
      metadata: camelKeys(issuer.metadata),
    });
    await fetchServerConfigByWellKnownUrl(new URL(issuer.metadataUrl), { type: 'oauth' });
    expect(issuer.requests.map((r) => r.path)).toEqual([
      '/.well-known/oauth-authorization-server/t',
      '/.well-known/oauth-authorization-server/t',
    ]);
  });

  test('does not compare the issuer (there is none to compare with, as in mcp-auth)', async () => {
    const issuer = await startIssuer();
    issuer.setHandler('/custom/metadata', (req, res) => sendJson(res, 200, { ...issuer.metadata, issuer: 'https://elsewhere.example' }));
    const config = await fetchServerConfigByWellKnownUrl(`${issuer.origin}/custom/metadata`, { type: 'oidc' });
    expect(config.metadata.issuer).toBe('https://elsewhere.example');
  });

  test('applies an async transpileData, and reports fetch failures and bad documents', async () => {
    const issuer = await startIssuer();
    const config = await fetchServerConfigByWellKnownUrl(issuer.metadataUrl, {
      type: 'oidc',
      transpileData: async (data) => ({ ...data, code_challenge_methods_supported: ['S256', 'plain'] }),
    });
    expect(config.metadata.codeChallengeMethodsSupported).toEqual(['S256', 'plain']);
    await expectFetchError(fetchServerConfigByWellKnownUrl(`${issuer.origin}/nothing-here`, { type: 'oidc' }), /HTTP 404\.$/);
    issuer.setHandler('/html', (req, res) => sendJson(res, 200, '<html>'));
    await expectInvalidMetadata(fetchServerConfigByWellKnownUrl(`${issuer.origin}/html`, { type: 'oidc' }), {
      message: 'The server metadata is not a JSON object.',
    });
  });

  test('a URL that is not http(s) rejects with a TypeError', async () => {
    const error = await rejection(fetchServerConfigByWellKnownUrl('file:///etc/passwd', { type: 'oidc' }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('The well-known URL must be an http(s) URL; got `file:///etc/passwd`.');
  });
});

// ---------------------------------------------------------------------------------------------

describe('validateServerConfig', () => {
  const metadata = {
    issuer: 'https://as.example.com',
    authorizationEndpoint: 'https://as.example.com/authorize',
    tokenEndpoint: 'https://as.example.com/token',
    responseTypesSupported: ['code'],
    grantTypesSupported: ['authorization_code'],
    codeChallengeMethodsSupported: ['S256'],
    registrationEndpoint: 'https://as.example.com/register',
  };
  const config = (changes = {}) => ({ type: 'oauth', metadata: { ...metadata, ...changes } });
  const codes = (result) => ({
    isValid: result.isValid,
    errors: result.errors && result.errors.map((e) => e.code),
    warnings: result.warnings.map((w) => w.code),
    successes: result.successes && result.successes.map((s) => s.code),
  });

  test('complete metadata is valid, and verbose mode lists every passed check with its description', () => {
    expect(validateServerConfig(config())).toEqual({ isValid: true, warnings: [] });
    expect(validateServerConfig(config(), true)).toEqual({
      isValid: true,
      warnings: [],
      successes: [
        { code: 'server_metadata_valid', description: 'The server metadata is valid and conforms to the expected schema.' },
        { code: 'code_response_type_supported', description: 'The "code" response type is supported by the server.' },
        { code: 'authorization_code_grant_supported', description: 'The "authorization_code" grant type is supported by the server.' },
        { code: 'pkce_supported', description: 'Proof Key for Code Exchange (PKCE) is supported by the server.' },
        {
          code: 's256_code_challenge_method_supported',
          description: 'The "S256" code challenge method for Proof Key for Code Exchange (PKCE) is supported by the server.',
        },
        { code: 'dynamic_registration_supported', description: 'Dynamic Client Registration (RFC 7591) is supported by the server.' },
      ],
    });
  });

  test('the local issuer, fetched, is valid with a dynamic registration warning', async () => {
    const issuer = await startIssuer();
    const result = validateServerConfig(await fetchServerConfig(issuer.issuer, { type: 'oidc' }));
    expect(result).toEqual({
      isValid: true,
      warnings: [
        { code: 'dynamic_registration_not_supported', description: 'Dynamic Client Registration (RFC 7591) is not supported by the server.' },
      ],
    });
  });

  test.each([
    ['no "code" response type', { responseTypesSupported: ['token'] }, 'code_response_type_not_supported'],
    ['no authorization_code grant', { grantTypesSupported: ['client_credentials'] }, 'authorization_code_grant_not_supported'],
    ['no PKCE', { codeChallengeMethodsSupported: undefined }, 'pkce_not_supported'],
    ['PKCE without S256', { codeChallengeMethodsSupported: ['plain'] }, 's256_code_challenge_method_not_supported'],
  ])('%s is the error %s', (_, changes, code) => {
    const result = validateServerConfig(config(changes));
    expect(result.isValid).toBe(false);
    expect(result.errors.map((e) => e.code)).toEqual([code]);
    expect(result.errors[0].description).toEqual(expect.any(String));
  });

  test('a missing or mistyped member is invalid_server_metadata with an Error cause, and stops the checks', () => {
    const result = validateServerConfig(config({ tokenEndpoint: undefined }), true);
    expect(codes(result)).toEqual({ isValid: false, errors: ['invalid_server_metadata'], warnings: [], successes: [] });
    expect(result.errors[0].description).toBe(
      'The server metadata is not a valid object or does not conform to the expected schema.',
    );
    expect(result.errors[0].cause).toBeInstanceOf(Error);
    expect(result.errors[0].cause.message).toBe('`metadata.tokenEndpoint` is required and must be a string.');
    expect(codes(validateServerConfig({ type: 'oidc' }))).toMatchObject({ isValid: false, errors: ['invalid_server_metadata'] });
  });

  // mcp-auth 0.2.0 drops `isValid` from invalid results at run time (its `condObject` removes
  // `false`), although its types promise `isValid: false`; this package always sets it.
  test('gives the same codes and descriptions as mcp-auth 0.2.0 on the same inputs (isValid always set)', () => {
    const cases = [
      config(),
      config({ registrationEndpoint: undefined }),
      config({ responseTypesSupported: ['id_token', 'code id_token'] }),
      config({ responseTypesSupported: ['token'], grantTypesSupported: ['implicit'] }),
      config({ grantTypesSupported: undefined }),
      config({ codeChallengeMethodsSupported: [] }),
      config({ codeChallengeMethodsSupported: undefined, registrationEndpoint: '' }),
      config({ authorizationEndpoint: undefined }),
      config({ scopesSupported: 'read' }),
    ];
    const source = `
      import * as ours from 'mcp-auth-native';
      import * as theirs from 'mcp-auth';
      const cases = JSON.parse(process.argv[1]);
      const strip = (r) =>
        JSON.parse(JSON.stringify({ ...r, isValid: r.isValid === true, errors: r.errors && r.errors.map(({ cause, ...e }) => e) }));
      const run = (lib) => cases.flatMap((c) => [strip(lib.validateServerConfig(c)), strip(lib.validateServerConfig(c, true))]);
      console.log(JSON.stringify({ ours: run(ours), theirs: run(theirs) }));`;
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', source, JSON.stringify(cases)], {
        cwd: path.resolve(__dirname, '..'),
        encoding: 'utf8',
      }),
    );
    expect(out.ours).toEqual(out.theirs);
  });

  test('never rejects a configuration or a request: invalid metadata still verifies tokens', async () => {
    const issuer = await startIssuer();
    const as = { type: 'oidc', metadata: { issuer: issuer.issuer, jwksUri: issuer.jwksUri } };
    expect(validateServerConfig(as).isValid).toBe(false);
    const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [as] } } });
    const { url } = await startApp(auth.bearerAuth('jwt', { resource: RESOURCE }));
    expect((await withToken(url, issuer.sign({ aud: RESOURCE }))).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------

describe('delegatedRouter()', () => {
  const WELL_KNOWN = '/.well-known/oauth-authorization-server';

  async function serveLegacy(server, mount) {
    const auth = new MCPAuth({ server });
    const app = express();
    if (mount) app.use(mount, auth.delegatedRouter());
    else app.use(auth.delegatedRouter());
    app.use('/mcp', auth.bearerAuth('jwt'), (req, res) => res.json({ auth: req.auth }));
    app.use((req, res) => res.status(404).json({ fell: req.path }));
    return listen(app);
  }

  test('serves discovered metadata as fetched (snake_case), with CORS and caching, fetched lazily', async () => {
    const issuer = await startIssuer({ path: '/tenant' });
    const app = await serveLegacy({ type: 'oidc', issuer: issuer.issuer });
    expect(issuer.requests).toEqual([]);
    const res = await request(`${app.origin}${WELL_KNOWN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.body).toEqual(issuer.metadata);
    expect(issuer.requests.map((r) => r.path)).toEqual(['/tenant/.well-known/openid-configuration']);
  });

  test('shares the discovery with request handling: one metadata fetch serves both', async () => {
    const issuer = await startIssuer({ type: 'oauth' });
    const app = await serveLegacy({ type: 'oauth', issuer: issuer.issuer });
    expect((await request(`${app.origin}${WELL_KNOWN}`)).status).toBe(200);
    const res = await withToken(`${app.origin}/mcp`, issuer.sign());
    expect(res.status).toBe(200);
    expect(await request(`${app.origin}${WELL_KNOWN}`)).toMatchObject({ status: 200, body: issuer.metadata });
    expect(countRequests(issuer, issuer.metadataUrl)).toBe(1);
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
  });

  test('serves resolved metadata in snake_case without fetching anything', async () => {
    const issuer = await startIssuer();
    const metadata = { issuer: issuer.issuer, jwksUri: issuer.jwksUri, codeChallengeMethodsSupported: ['S256'] };
    const app = await serveLegacy({ type: 'oidc', metadata });
    const res = await request(`${app.origin}${WELL_KNOWN}`);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: { issuer: issuer.issuer, jwks_uri: issuer.jwksUri, code_challenge_methods_supported: ['S256'] },
    });
    expect(issuer.requests).toEqual([]);
  });

  test('works mounted under a path, and other paths fall through', async () => {
    const issuer = await startIssuer();
    const app = await serveLegacy({ type: 'oidc', issuer: issuer.issuer }, '/auth');
    expect((await request(`${app.origin}/auth${WELL_KNOWN}`)).body).toEqual(issuer.metadata);
    expect(await request(`${app.origin}${WELL_KNOWN}/other`)).toMatchObject({ status: 404, body: { fell: `${WELL_KNOWN}/other` } });
  });

  test('answers HEAD without a body, a CORS preflight with 204, and other methods with 405 and Allow', async () => {
    const issuer = await startIssuer();
    const app = await serveLegacy({ type: 'oidc', issuer: issuer.issuer });
    const url = `${app.origin}${WELL_KNOWN}`;
    const head = await request(url, {}, { method: 'HEAD' });
    expect({ status: head.status, text: head.text }).toEqual({ status: 200, text: '' });
    const preflight = await request(url, { origin: 'https://app.example', 'access-control-request-method': 'GET' }, { method: 'OPTIONS' });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
    const post = await request(url, {}, { method: 'POST' });
    expect({ status: post.status, allow: post.headers.get('allow'), body: post.body }).toEqual({
      status: 405,
      allow: 'GET, HEAD, OPTIONS',
      body: { error: 'method_not_allowed', error_description: 'POST is not allowed here.' },
    });
  });

  test('a discovery failing with HTTP 500 is a 503 with Retry-After, not cached', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 500, { error: 'boom' }));
    const app = await serveLegacy({ type: 'oidc', issuer: issuer.issuer });
    const res = await request(`${app.origin}${WELL_KNOWN}`);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: UNAVAILABLE },
    });
    expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  test.each([
    ['answers 404', (i) => (req, res) => sendJson(res, 404, { error: 'not_found' })],
    ['names another issuer', (i) => (req, res) => sendJson(res, 200, { ...i.metadata, issuer: 'https://evil.example' })],
  ])('a discovery that %s is a 500 server_error', async (_, handler) => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, handler(issuer));
    const app = await serveLegacy({ type: 'oidc', issuer: issuer.issuer });
    const res = await request(`${app.origin}${WELL_KNOWN}`);
    expect({ status: res.status, body: res.body }).toEqual({ status: 500, body: { error: 'server_error', error_description: SERVER_ERROR } });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  test('throws MCPAuthAuthServerError(invalid_server_config) in resource-server mode', () => {
    const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: 'https://as.example.com' }] } } });
    let error;
    try {
      auth.delegatedRouter();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MCPAuthAuthServerError);
    expect(error.code).toBe('invalid_server_config');
    expect(error.cause).toEqual({ cause: '`delegatedRouter` is not available in `resource server` mode.' });
  });

  test('logs its deprecation once per process, however often it is called', () => {
    for (let i = 0; i < 3; i++) new MCPAuth({ server: { type: 'oidc', issuer: 'https://as.example.com' } }).delegatedRouter();
    const deprecations = warnings.filter((w) => w.includes('`delegatedRouter()`'));
    expect(deprecations).toEqual([
      'mcp-auth-native: `delegatedRouter()` and the `{ server }` configuration are deprecated: configure `protectedResources` and serve `protectedResourceMetadataRouter()` (RFC 9728), as the MCP specification requires.',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('several protected resources, each with several authorization servers', () => {
  const A = 'https://api.example.com/a';
  const B = 'https://api.example.com/b';

  async function setup() {
    const a1 = await startIssuer();
    const a2 = await startIssuer({ type: 'oauth', path: '/second' });
    const b1 = await startIssuer({ path: '/b' });
    const auth = new MCPAuth({
      protectedResources: [
        { metadata: { resource: A, authorizationServers: [{ type: 'oidc', issuer: a1.issuer }, { type: 'oauth', issuer: a2.issuer }] } },
        { metadata: { resource: B, authorizationServers: [{ type: 'oidc', issuer: b1.issuer }, { type: 'oauth', issuer: a2.issuer }] } },
      ],
    });
    const a = (await startApp(auth.bearerAuth('jwt', { resource: A }))).url;
    const b = (await startApp(auth.bearerAuth('jwt', { resource: B }))).url;
    return { a1, a2, b1, a, b };
  }

  test("each resource accepts its own issuers' tokens, each verified with that issuer's keys", async () => {
    const { a1, a2, b1, a, b } = await setup();
    expect((await withToken(a, a1.sign({ aud: A }))).body.auth.issuer).toBe(a1.issuer);
    expect((await withToken(a, a2.sign({ aud: A }))).body.auth.issuer).toBe(a2.issuer);
    expect((await withToken(b, b1.sign({ aud: B }))).body.auth.issuer).toBe(b1.issuer);
    expect((await withToken(b, a2.sign({ aud: B }))).body.auth.issuer).toBe(a2.issuer);
    expect(a1.requests.map((r) => r.path)).toEqual(['/.well-known/openid-configuration', '/jwks']);
    expect(b1.requests.map((r) => r.path)).toEqual(['/b/.well-known/openid-configuration', '/b/jwks']);
    // a2 is trusted by both resources: one discovery and one key set serve both middlewares.
    expect(countRequests(a2, a2.metadataUrl)).toBe(1);
    expect(countRequests(a2, a2.jwksUri)).toBe(1);
    expect(a2.requests.length).toBe(2);
  });

  test("a token from resource A's issuer is refused on resource B's endpoint, without contacting that issuer", async () => {
    const { a1, b } = await setup();
    const res = await withToken(b, a1.sign({ aud: B }));
    expect({ status: res.status, body: res.body }).toEqual({
      status: 401,
      body: { error: 'invalid_issuer', error_description: 'The token issuer does not match the expected issuer.' },
    });
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="The token issuer does not match the expected issuer.", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/b"',
    );
    expect(a1.requests).toEqual([]);
  });

  test("the token's issuer picks the JWKS: a token naming one issuer but signed with another's key fails", async () => {
    const { a1, b1, a } = await setup();
    const key = b1.keys.RS256;
    const forged = a1.signWith(key.privateKey, 'RS256', { alg: 'RS256', typ: 'JWT', kid: key.kid }, {
      iss: a1.issuer,
      sub: 'user-1',
      aud: A,
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 300,
    });
    const res = await withToken(a, forged);
    expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_token' });
    expect(b1.requests).toEqual([]);
    expect(countRequests(a1, a1.jwksUri)).toBeGreaterThanOrEqual(1);
  });
});

// ---------------------------------------------------------------------------------------------

describe('one MCPAuth, many bearerAuth() middlewares', () => {
  test('share one discovery and one JWKS cache per issuer: N middlewares mean one fetch of each', async () => {
    const issuer = await startIssuer();
    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } },
    });
    // One per route or tool group, as apps do; different scopes, the same key set timing.
    const urls = [];
    for (const requiredScopes of [[], ['read'], ['read', 'write'], ['admin']]) {
      urls.push((await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, requiredScopes }))).url);
    }
    const results = await Promise.all(urls.map((url) => withToken(url, issuer.sign({ aud: RESOURCE, scope: 'read write' }))));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 403]);
    expect(countRequests(issuer, issuer.metadataUrl)).toBe(1);
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
    // Middlewares whose key set timing differs keep their own cache (still one discovery).
    const other = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, remoteJwkSet: { cacheMaxAge: 1000 } }))).url;
    expect((await withToken(other, issuer.sign({ aud: RESOURCE }))).status).toBe(200);
    expect([countRequests(issuer, issuer.metadataUrl), countRequests(issuer, issuer.jwksUri)]).toEqual([1, 2]);
  });
});

describe('warnings at construction', () => {
  test('a resource without authorization servers is reported once, at construction', () => {
    const resource = 'https://warn.example.com/no-servers';
    const before = warnings.length;
    new MCPAuth({ protectedResources: { metadata: { resource } } });
    expect(warnings.slice(before)).toEqual([
      `mcp-auth-native: The protected resource \`${resource}\` has no \`authorizationServers\`: clients cannot find where to get a token for it, and \`bearerAuth('jwt')\` refuses every token.`,
    ]);
    new MCPAuth({ protectedResources: { metadata: { resource } } });
    expect(warnings.length).toBe(before + 1);
  });

  test('offline_access in scopesSupported is reported (the MCP specification says SHOULD NOT)', () => {
    const resource = 'https://warn.example.com/offline';
    const before = warnings.length;
    new MCPAuth({
      protectedResources: {
        metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: 'https://as.example.com' }], scopesSupported: ['read', 'offline_access'] },
      },
    });
    expect(warnings.slice(before)).toEqual([
      `mcp-auth-native: The protected resource \`${resource}\` lists \`offline_access\` in \`scopesSupported\`; the MCP specification says a protected resource SHOULD NOT (refresh tokens are between the client and the authorization server), so the metadata document leaves it out.`,
    ]);
  });

  test('a resource with authorization servers and ordinary scopes is not reported', () => {
    const before = warnings.length;
    new MCPAuth({
      protectedResources: {
        metadata: { resource: 'https://warn.example.com/fine', authorizationServers: [{ type: 'oidc', issuer: 'https://as.example.com' }], scopesSupported: ['read'] },
      },
    });
    expect(warnings.length).toBe(before);
  });
});
