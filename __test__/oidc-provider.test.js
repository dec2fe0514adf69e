'use strict';
// A real OpenID provider: `oidc-provider` (npm, the certified Node implementation) issues JWT
// access tokens (RFC 9068) for the whoami MCP server's resource indicator (RFC 8707) with the
// client-credentials grant; the middleware discovers it, fetches its JWKS, accepts its tokens,
// and follows a key rotation without a restart. The provider runs in a child process
// (fixtures/oidc-provider-child.mjs; the package is ESM-only), started and stopped here.

const crypto = require('node:crypto');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { ClientCredentialsProvider } = require('@modelcontextprotocol/sdk/client/auth-extensions.js');
const { startWhoamiServer } = require('../examples/whoami-server');
const { request, decodeJwt, sleep, startProviderChild } = require('./helpers');

jest.setTimeout(60000);


function rsaKey() {
  // The JWK comes out of the generation: exporting a freshly generated key object can hang Node 20 (see examples/local-issuer.js).
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { format: 'jwk' } });
  return { ...privateKey, kid: `k-${crypto.randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
}

/** Starts the provider with `keys` on `port` (0: any); resolves `{ issuer, port, stop() }`. */
const startProvider = (keys, port = 0) =>
  startProviderChild('oidc-provider-child.mjs', { port, env: { JWKS: JSON.stringify({ keys }) } });

let provider;
let mcp;
const key1 = rsaKey();
const key2 = rsaKey();

beforeAll(async () => {
  provider = await startProvider([key1]);
  mcp = await startWhoamiServer({
    issuer: provider.issuer,
    type: 'oidc',
    // RFC 9068 tokens say so in `typ`; and a short cooldown so that a token naming an unknown
    // key refetches the JWKS within the test's time.
    bearerOptions: { jwtVerify: { typ: 'at+jwt' }, remoteJwkSet: { cooldownDuration: 200 } },
  });
});
afterAll(async () => {
  await mcp?.close();
  await provider?.stop();
});

/** Client credentials for the MCP server's resource, from the token endpoint. */
async function getToken(scope = 'read write') {
  const res = await request(`${provider.issuer}/token`, {
    authorization: `Basic ${Buffer.from('mcp-client:mcp-secret').toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  }, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', resource: mcp.resource, scope }).toString() });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope });
  return res.body.access_token;
}

/** Calls whoami through the SDK client; resolves the tool's answer, or `{ status }` on HTTP errors. */
async function whoami(token) {
  const client = new Client({ name: 'oidc-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  try {
    await client.connect(transport);
  } catch (error) {
    return { status: error.code };
  }
  try {
    return (await client.callTool({ name: 'whoami', arguments: {} })).structuredContent;
  } finally {
    await client.close();
  }
}

test('the provider discovery document and JWKS are what the middleware reads', async () => {
  const discovery = await request(`${provider.issuer}/.well-known/openid-configuration`);
  expect(discovery.status).toBe(200);
  expect(discovery.body).toMatchObject({ issuer: provider.issuer, jwks_uri: `${provider.issuer}/jwks` });
  const jwks = await request(discovery.body.jwks_uri);
  expect(jwks.status).toBe(200);
  // Not application/json: the middleware must not insist on a content type.
  expect(jwks.headers.get('content-type')).toMatch(/^application\/jwk-set\+json/);
  expect(jwks.body.keys.map((k) => k.kid)).toEqual([key1.kid]);
  expect(jwks.body.keys[0].d).toBeUndefined();
});

test('its client-credentials JWT access token for the resource is accepted, and whoami sees it', async () => {
  const token = await getToken();
  const { header, payload } = decodeJwt(token);
  expect(header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: key1.kid });
  expect(payload).toMatchObject({ iss: provider.issuer, aud: mcp.resource, sub: 'mcp-client', client_id: 'mcp-client', scope: 'read write' });
  expect(await whoami(token)).toEqual({ subject: 'mcp-client', clientId: 'mcp-client', issuer: provider.issuer, scopes: ['read', 'write'] });
});

test('its token without the write scope is refused with 403', async () => {
  const token = await getToken('read');
  expect(await whoami(token)).toEqual({ status: 403 });
  const res = await request(mcp.url, { authorization: `Bearer ${token}` }, { method: 'POST' });
  expect(res.status).toBe(403);
  expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
  expect(res.body).toMatchObject({ error: 'missing_required_scopes', missing_scopes: ['write'] });
});

test('a key rotation is followed without restarting the MCP server', async () => {
  const oldToken = await getToken();
  expect((await whoami(oldToken)).subject).toBe('mcp-client');

  // The provider restarts on the same port publishing the new key first, the old one still.
  await provider.stop();
  provider = await startProvider([key2, key1], provider.port);
  const newToken = await getToken();
  expect(decodeJwt(newToken).header.kid).toBe(key2.kid);
  await sleep(250); // past the cooldown since the last JWKS fetch
  expect((await whoami(newToken)).subject).toBe('mcp-client');
  expect((await whoami(oldToken)).subject).toBe('mcp-client');

  // Then it retires the old key: tokens signed with it fail once the JWKS is refetched.
  await provider.stop();
  provider = await startProvider([key2], provider.port);
  const newest = await getToken();
  const rotated = rsaKey();
  // A token naming a key the server has not seen makes it refetch (after the cooldown)...
  await sleep(250);
  const stranger = await request(mcp.url, { authorization: `Bearer ${forge(newest, rotated)}` }, { method: 'POST' });
  expect(stranger.status).toBe(401);
  expect(stranger.body).toMatchObject({ error: 'invalid_token' });
  // ...and the refetched set no longer has the old key.
  const old = await request(mcp.url, { authorization: `Bearer ${oldToken}` }, { method: 'POST' });
  expect(old.status).toBe(401);
  expect(old.headers.get('www-authenticate')).toContain('error="invalid_token"');
  expect((await whoami(newest)).subject).toBe('mcp-client');
});

/**
 * An SDK client whose own `ClientCredentialsProvider` (configured with `scope`) gets its tokens
 * from the provider; `exchanges` records every HTTP exchange the SDK makes.
 */
async function sdkClient(scope) {
  const exchanges = [];
  const recording = async (url, init = {}) => {
    const response = await fetch(url, init);
    const body = init.body === undefined ? undefined : String(init.body);
    exchanges.push({ url: String(url), status: response.status, body, challenge: response.headers.get('www-authenticate') });
    return response;
  };
  const authProvider = new ClientCredentialsProvider({ clientId: 'mcp-client', clientSecret: 'mcp-secret', expectedIssuer: provider.issuer, scope });
  const client = new Client({ name: 'cc-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider, fetch: recording }));
  const tokenRequests = () =>
    exchanges.filter((e) => e.url === `${provider.issuer}/token`).map((e) => [e.status, new URLSearchParams(e.body).get('scope')]);
  const secretCalls = () => exchanges.filter((e) => e.url === mcp.url && e.body && JSON.parse(e.body).params?.name === 'read_secret');
  return { client, exchanges, tokenRequests, secretCalls };
}

const STEP_UP_CHALLENGE = () =>
  `Bearer error="insufficient_scope", error_description="The token does not contain the necessary scopes for this request.", scope="read write secrets:read", resource_metadata="${mcp.metadataUrl}"`;

test("SDK 1.32.2's client-credentials provider answers the 403 by re-authorizing once, but with its configured scope, not the challenge's", async () => {
  const { client, tokenRequests, secretCalls } = await sdkClient('read write');
  try {
    expect((await client.callTool({ name: 'whoami', arguments: {} })).structuredContent.scopes).toEqual(['read', 'write']);
    await expect(client.callTool({ name: 'read_secret', arguments: {} })).rejects.toThrow('Server returned 403 after trying upscoping');
  } finally {
    await client.close();
  }
  // It saw insufficient_scope and fetched a new token, asking again for `read write`: its
  // `fetchToken` passes `clientMetadata.scope` to `prepareTokenRequest`, never the challenge's scope.
  expect(tokenRequests()).toEqual([
    [200, 'read write'],
    [200, 'read write'],
  ]);
  expect(secretCalls().map((e) => [e.status, e.challenge])).toEqual([
    [403, STEP_UP_CHALLENGE()],
    [403, STEP_UP_CHALLENGE()],
  ]);
});

test('re-authorizing with the scopes the 403 named (a provider configured with them) makes the call succeed, no hand-made token', async () => {
  const first = await sdkClient('read write');
  let named;
  try {
    await expect(first.client.callTool({ name: 'read_secret', arguments: {} })).rejects.toMatchObject({ code: 403 });
    named = first.secretCalls()[0].challenge.match(/scope="([^"]*)"/)[1];
  } finally {
    await first.client.close();
  }
  expect(named).toBe('read write secrets:read');
  const stepped = await sdkClient(named);
  try {
    const secret = await stepped.client.callTool({ name: 'read_secret', arguments: {} });
    expect(secret.structuredContent).toEqual({ secret: 'the cake is in the fridge', readBy: 'mcp-client', scopes: ['read', 'write', 'secrets:read'] });
  } finally {
    await stepped.client.close();
  }
  expect(stepped.tokenRequests()).toEqual([[200, 'read write secrets:read']]);
  expect(stepped.secretCalls().map((e) => e.status)).toEqual([200]);
});

/** `token`'s claims re-signed with `jwk` (a key the provider never published). */
function forge(token, jwk) {
  const { payload } = decodeJwt(token);
  const input = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const key = crypto.createPrivateKey({ key: jwk, format: 'jwk' });
  return `${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
