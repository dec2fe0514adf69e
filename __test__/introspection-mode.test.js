'use strict';
// `bearerAuth('introspection')` against a real OpenID provider: `oidc-provider` (npm) issues
// OPAQUE client-credentials access tokens for a resource indicator (RFC 8707) and introspects
// them (RFC 7662) for the resource server's own client; it revokes them at its revocation
// endpoint (RFC 7009). The provider runs in a child process
// (fixtures/oidc-introspection-child.mjs; the package is ESM-only), started and stopped here.

const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { MCPAuth, MCPAuthAuthServerError } = require('..');
const { startWhoamiServer } = require('../examples/whoami-server');
const { startApp, closeAll, request, withToken, bearerChallenge, sleep, startProviderChild } = require('./helpers');

jest.setTimeout(60000);

const SERVER_SECRET = 'p@ss:w/rd+ %&=';

/** Starts the provider on `port` (0: any); resolves `{ issuer, port, stop() }`. */
const startProvider = (port = 0) => startProviderChild('oidc-introspection-child.mjs', { port });

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const FORM = 'application/x-www-form-urlencoded';

/** An opaque client-credentials token of `mcp-client` for `resource`. */
async function getToken(issuer, resource, scope = 'read write') {
  const res = await request(
    `${issuer}/token`,
    { authorization: basic('mcp-client', 'mcp-secret'), 'content-type': FORM },
    { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString() },
  );
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope });
  // Opaque: not a JWT.
  expect(res.body.access_token.split('.')).toHaveLength(1);
  return res.body.access_token;
}

/** Revokes `token` at the provider as its owner, `mcp-client`. */
async function revoke(issuer, token) {
  const res = await request(
    `${issuer}/token/revocation`,
    { authorization: basic('mcp-client', 'mcp-secret'), 'content-type': FORM },
    { method: 'POST', body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString() },
  );
  expect(res.status).toBe(200);
}

let provider;
beforeAll(async () => {
  provider = await startProvider();
});
afterAll(async () => {
  await provider?.stop();
});
afterEach(closeAll);

/** The resource `http://127.0.0.1:<port>/mcp` of a fresh app with `bearerAuth('introspection', ...)`. */
async function setup({ introspection = {}, issuer = provider.issuer, authServers, ...options } = {}) {
  // The app's own URL is only known once it listens: a placeholder resource, then the real one.
  let middleware = (req, res, next) => next();
  const app = await startApp((req, res, next) => middleware(req, res, next));
  const resource = app.url;
  const mcpAuth = new MCPAuth({
    protectedResources: {
      metadata: { resource, authorizationServers: authServers ?? [{ type: 'oidc', issuer }] },
    },
  });
  middleware = mcpAuth.bearerAuth('introspection', {
    resource,
    introspection: { clientId: 'mcp-server', clientSecret: SERVER_SECRET, ...introspection },
    ...options,
  });
  return { app, resource, mcpAuth, resourceMetadata: `${app.origin}/.well-known/oauth-protected-resource/mcp` };
}

describe('with the provider running', () => {
  test('the provider publishes its introspection endpoint in its metadata', async () => {
    const res = await request(`${provider.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.body.introspection_endpoint).toBe(`${provider.issuer}/token/introspection`);
  });

  test('an active opaque token is accepted (endpoint discovered, client_secret_basic with special characters)', async () => {
    const { app, resource } = await setup({ requiredScopes: ['read'] });
    const token = await getToken(provider.issuer, resource);
    const res = await withToken(app.url, token);
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBeNull();
    const { auth } = res.body;
    expect(auth).toMatchObject({
      token,
      issuer: provider.issuer,
      clientId: 'mcp-client',
      scopes: ['read', 'write'],
      audience: resource,
    });
    expect(auth.subject).toBeUndefined(); // client-credentials tokens have no `sub` here
    expect(auth.expiresAt).toBeGreaterThan(Date.now() / 1000 + 500);
    expect(auth.claims).toMatchObject({ active: true, client_id: 'mcp-client', iss: provider.issuer, aud: resource, token_type: 'Bearer' });
  });

  test('client_secret_post authenticates the resource server too', async () => {
    const { app, resource } = await setup({
      introspection: { clientId: 'mcp-server-post', clientSecret: 'post-secret', authMethod: 'client_secret_post' },
    });
    const token = await getToken(provider.issuer, resource, 'read');
    const res = await withToken(app.url, token);
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ clientId: 'mcp-client', scopes: ['read'] });
  });

  test('a configured endpoint is used as given', async () => {
    const { app, resource } = await setup({ introspection: { endpoint: `${provider.issuer}/token/introspection` } });
    const res = await withToken(app.url, await getToken(provider.issuer, resource, 'write'));
    expect(res.status).toBe(200);
    expect(res.body.auth.scopes).toEqual(['write']);
  });

  test('a token lacking a required scope gets 403 insufficient_scope with the challenge', async () => {
    const { app, resource, resourceMetadata } = await setup({ requiredScopes: ['read', 'write'] });
    const token = await getToken(provider.issuer, resource, 'read');
    const res = await withToken(app.url, token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({
        error: 'insufficient_scope',
        description: 'The token does not contain the necessary scopes for this request.',
        scope: 'read write',
        resourceMetadata,
      }),
    );
    // The body is JWT mode's (mcp-auth's): which scopes are missing.
    expect(res.body).toEqual({
      error: 'missing_required_scopes',
      error_description: 'The token does not contain the necessary scopes for this request.',
      missing_scopes: ['write'],
    });
  });

  test('a token for another resource is refused: its audience is not this resource', async () => {
    const { app } = await setup();
    const token = await getToken(provider.issuer, 'http://127.0.0.1:1/elsewhere');
    const res = await withToken(app.url, token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(res.text).not.toContain(token);
  });

  test('an unknown token is 401 invalid_token', async () => {
    const { app, resourceMetadata } = await setup();
    const res = await withToken(app.url, 'not-a-token-the-provider-issued');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({ error: 'invalid_token', description: 'The provided token is invalid or malformed.', resourceMetadata }),
    );
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'The provided token is invalid or malformed.' });
  });

  test('a revoked token is still accepted from the cache, and refused once cacheMaxAge has passed', async () => {
    const { app, resource } = await setup({ introspection: { cacheMaxAge: 400 } });
    const token = await getToken(provider.issuer, resource);
    expect((await withToken(app.url, token)).status).toBe(200);
    expect((await withToken(app.url, token)).status).toBe(200); // now also in the glue's memo
    await revoke(provider.issuer, token);
    expect((await withToken(app.url, token)).status).toBe(200); // within cacheMaxAge: the kept answer
    await sleep(500);
    const res = await withToken(app.url, token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'The provided token is invalid or malformed.' });
  });

  test('with cacheMaxAge 0 a revoked token is refused at once', async () => {
    const { app, resource } = await setup({ introspection: { cacheMaxAge: 0 } });
    const token = await getToken(provider.issuer, resource);
    expect((await withToken(app.url, token)).status).toBe(200);
    expect((await withToken(app.url, token)).status).toBe(200);
    await revoke(provider.issuer, token);
    expect((await withToken(app.url, token)).status).toBe(401);
  });

  test('wrong resource-server credentials are a 500 server_error that reflects nothing of the answer', async () => {
    const { app, resource } = await setup({ introspection: { clientSecret: 'wrong-secret' } });
    const token = await getToken(provider.issuer, resource);
    const res = await withToken(app.url, token);
    expect(res.status).toBe(500);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.body).toEqual({
      error: 'server_error',
      error_description:
        'The introspection endpoint refused the request of this resource server; check its client credentials and the endpoint.',
    });
    for (const leaked of [token, 'wrong-secret', 'invalid_client', 'mcp-server']) expect(res.text).not.toContain(leaked);
  });
});

test('the provider stopped: 503 with Retry-After; after its restart on the same port, requests succeed again', async () => {
  const own = await startProvider();
  try {
    const { app, resource } = await setup({ issuer: own.issuer });
    const first = await getToken(own.issuer, resource);
    expect((await withToken(app.url, first)).status).toBe(200);
    await own.stop();
    const down = await withToken(app.url, 'a-token-never-seen');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.headers.get('www-authenticate')).toBeNull();
    expect(down.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The authorization service is temporarily unavailable. Please retry later.',
    });
    const restarted = await startProvider(own.port);
    own.stop = restarted.stop;
    // The restarted provider keeps nothing in memory: a token of its own.
    const second = await getToken(own.issuer, resource);
    const res = await withToken(app.url, second);
    expect(res.status).toBe(200);
    expect(res.body.auth).toMatchObject({ token: second, issuer: own.issuer, clientId: 'mcp-client' });
  } finally {
    await own.stop();
  }
});

describe('options are checked at bearerAuth() time', () => {
  const resource = 'http://127.0.0.1:1/mcp';
  const auth = (authorizationServers) =>
    new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers } } });
  const one = () => auth([{ type: 'oidc', issuer: provider.issuer }]);
  const creds = { clientId: 'mcp-server', clientSecret: SERVER_SECRET };

  test('missing credentials, without echoing a bad secret', () => {
    expect(() => one().bearerAuth('introspection', { resource })).toThrow(TypeError);
    expect(() => one().bearerAuth('introspection', { resource, introspection: { clientId: 'mcp-server' } })).toThrow(
      '`options.introspection.clientSecret` is required',
    );
    let error;
    try {
      one().bearerAuth('introspection', { resource, introspection: { clientId: 'x', clientSecret: 12345678 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain('`options.introspection.clientSecret`');
    expect(error.message).not.toContain('12345678');
  });

  test('several authorization servers need introspection.issuer, which must be one of them', () => {
    const two = () =>
      auth([
        { type: 'oidc', issuer: provider.issuer },
        { type: 'oauth', issuer: 'https://other.example.com' },
      ]);
    let error;
    try {
      two().bearerAuth('introspection', { resource, introspection: creds });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MCPAuthAuthServerError);
    expect(error.code).toBe('invalid_server_config');
    expect(error.cause).toBeDefined();
    expect(String(error.cause?.message ?? error.message)).toContain('`options.introspection.issuer` is required');
    expect(() =>
      two().bearerAuth('introspection', { resource, introspection: { ...creds, issuer: 'https://third.example.com' } }),
    ).toThrow(MCPAuthAuthServerError);
    expect(() =>
      two().bearerAuth('introspection', { resource, introspection: { ...creds, issuer: provider.issuer } }),
    ).not.toThrow();
  });

  test('a non-https endpoint (but loopback http) is refused', () => {
    expect(() =>
      one().bearerAuth('introspection', { resource, introspection: { ...creds, endpoint: 'http://auth.example.com/introspect' } }),
    ).toThrow(MCPAuthAuthServerError);
    expect(() =>
      one().bearerAuth('introspection', { resource, introspection: { ...creds, endpoint: 'https://auth.example.com/introspect' } }),
    ).not.toThrow();
  });

  test('unknown keys, in introspection and among the options that JWT mode alone has', () => {
    expect(() => one().bearerAuth('introspection', { resource, introspection: { ...creds, cacheTtl: 5 } })).toThrow(/cacheTtl/);
    expect(() =>
      one().bearerAuth('introspection', { resource, introspection: creds, remoteJwkSet: { cooldownDuration: 1 } }),
    ).toThrow(/remoteJwkSet/);
    expect(() => one().bearerAuth('introspection', { resource, introspection: { ...creds, authMethod: 'private_key_jwt' } })).toThrow(
      TypeError,
    );
  });

  test('resolved metadata without introspectionEndpoint, and no endpoint configured', () => {
    const resolved = auth([
      {
        type: 'oauth',
        metadata: { issuer: 'https://as.example.com', jwksUri: 'https://as.example.com/jwks' },
      },
    ]);
    expect(() => resolved.bearerAuth('introspection', { resource, introspection: creds })).toThrow(MCPAuthAuthServerError);
  });
});

describe('an MCP client through the SDK, with an opaque token', () => {
  let mcp;
  afterEach(async () => {
    await mcp?.close();
    mcp = undefined;
  });

  async function whoamiServer() {
    mcp = await startWhoamiServer({
      issuer: provider.issuer,
      type: 'oidc',
      mode: 'introspection',
      bearerOptions: { introspection: { clientId: 'mcp-server', clientSecret: SERVER_SECRET } },
    });
    return mcp;
  }

  test('whoami is called with an opaque token and sees its identity', async () => {
    await whoamiServer();
    const token = await getToken(provider.issuer, mcp.resource);
    const client = new Client({ name: 'introspection-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.structuredContent).toEqual({ clientId: 'mcp-client', issuer: provider.issuer, scopes: ['read', 'write'] });
    } finally {
      await client.close();
    }
  });

  test('per-operation scopes: the same token may call whoami but not read_secret (403 naming every scope needed)', async () => {
    await whoamiServer();
    const token = await getToken(provider.issuer, mcp.resource);
    const call = (name) =>
      request(
        mcp.url,
        { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }) },
      );
    const denied = await call('read_secret');
    expect(denied.status).toBe(403);
    expect(denied.headers.get('www-authenticate')).toBe(
      bearerChallenge({
        error: 'insufficient_scope',
        description: 'The token does not contain the necessary scopes for this request.',
        scope: 'read write secrets:read',
        resourceMetadata: mcp.metadataUrl,
      }),
    );
    // The same token comes back (now from the memo) for another tool: allowed, then refused again.
    expect((await call('whoami')).status).not.toBe(403);
    expect((await call('read_secret')).status).toBe(403);
    // A token with the scope reads the secret.
    const full = await getToken(provider.issuer, mcp.resource, 'read write secrets:read');
    const client = new Client({ name: 'introspection-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), { requestInit: { headers: { authorization: `Bearer ${full}` } } }),
    );
    try {
      const result = await client.callTool({ name: 'read_secret', arguments: {} });
      expect(result.structuredContent).toMatchObject({ secret: 'the cake is in the fridge', scopes: ['read', 'write', 'secrets:read'] });
    } finally {
      await client.close();
    }
  });
});
