'use strict';
// protectedResourceMetadataRouter(): the RFC 9728 documents, through real HTTP.

const http = require('node:http');
const express = require('express');
const { MCPAuth, MCPAuthAuthServerError } = require('..');
const { startIssuer, closeAll, listen, request } = require('./helpers');

afterEach(closeAll);

/** Serves `handlers` in an Express app on 127.0.0.1 until `closeAll()`. */
function serve(...handlers) {
  const app = express();
  app.use(...handlers);
  return listen(app);
}

/** A raw GET with an explicit Host header (fetch does not let a caller set Host). */
function getWithHost(origin, path, host) {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path, headers: { host } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}

const notes = {
  metadata: {
    resource: 'https://api.example.com/notes',
    authorizationServers: [
      { type: 'oidc', issuer: 'https://auth.example.com/oidc' },
      { type: 'oauth', metadata: { issuer: 'https://other.example.com', jwksUri: 'https://other.example.com/jwks' } },
    ],
    scopesSupported: ['read:notes', 'write:notes'],
    resourceName: 'Notes',
    bearerMethodsSupported: ['header'],
  },
};

test('serves each resource document in snake_case with issuers, CORS and caching headers', async () => {
  const auth = new MCPAuth({ protectedResources: [notes, { metadata: { resource: 'https://api.example.com' } }] });
  const app = await serve(auth.protectedResourceMetadataRouter());
  const res = await request(`${app.origin}/.well-known/oauth-protected-resource/notes`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
  expect(res.body).toEqual({
    resource: 'https://api.example.com/notes',
    authorization_servers: ['https://auth.example.com/oidc', 'https://other.example.com'],
    scopes_supported: ['read:notes', 'write:notes'],
    resource_name: 'Notes',
    bearer_methods_supported: ['header'],
  });
  const root = await request(`${app.origin}/.well-known/oauth-protected-resource`);
  expect({ status: root.status, body: root.body }).toEqual({ status: 200, body: { resource: 'https://api.example.com' } });
});

test('every RFC 9728 field the configuration gives is served, in snake_case', async () => {
  const resource = 'https://api.example.com/all-fields';
  const auth = new MCPAuth({
    protectedResources: {
      metadata: {
        resource,
        authorizationServers: [{ type: 'oidc', issuer: 'https://auth.example.com' }],
        jwksUri: 'https://api.example.com/jwks',
        scopesSupported: ['read'],
        bearerMethodsSupported: ['header'],
        resourceSigningAlgValuesSupported: ['RS256'],
        resourceName: 'All fields',
        resourceDocumentation: 'https://api.example.com/docs',
        resourcePolicyUri: 'https://api.example.com/policy',
        resourceTosUri: 'https://api.example.com/tos',
        tlsClientCertificateBoundAccessTokens: false,
        authorizationDetailsTypesSupported: ['payment_initiation'],
        dpopSigningAlgValuesSupported: ['ES256'],
        dpopBoundAccessTokensRequired: false,
        signedMetadata: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
      },
    },
  });
  const app = await serve(auth.protectedResourceMetadataRouter());
  const res = await request(`${app.origin}/.well-known/oauth-protected-resource/all-fields`);
  expect({ status: res.status, body: res.body }).toEqual({
    status: 200,
    body: {
      resource,
      authorization_servers: ['https://auth.example.com'],
      jwks_uri: 'https://api.example.com/jwks',
      scopes_supported: ['read'],
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: ['RS256'],
      resource_name: 'All fields',
      resource_documentation: 'https://api.example.com/docs',
      resource_policy_uri: 'https://api.example.com/policy',
      resource_tos_uri: 'https://api.example.com/tos',
      tls_client_certificate_bound_access_tokens: false,
      authorization_details_types_supported: ['payment_initiation'],
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: false,
      signed_metadata: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln',
    },
  });
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
});

test('answers HEAD without a body, a CORS preflight with 204, and other methods with 405 and Allow', async () => {
  const auth = new MCPAuth({ protectedResources: notes });
  const app = await serve(auth.protectedResourceMetadataRouter());
  const url = `${app.origin}/.well-known/oauth-protected-resource/notes`;
  const head = await request(url, {}, { method: 'HEAD' });
  expect({ status: head.status, text: head.text }).toEqual({ status: 200, text: '' });
  expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);

  const preflight = await request(url, { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' }, { method: 'OPTIONS' });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
  expect(preflight.headers.get('access-control-allow-headers')).toBe('mcp-protocol-version');

  const post = await request(url, {}, { method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  expect(post.body).toEqual({ error: 'method_not_allowed', error_description: 'POST is not allowed here.' });
});

test('paths it does not serve fall through to the next handler', async () => {
  const auth = new MCPAuth({ protectedResources: notes });
  const app = await serve(auth.protectedResourceMetadataRouter(), (req, res) => res.status(404).json({ fell: req.path }));
  const res = await request(`${app.origin}/.well-known/oauth-protected-resource/other`);
  expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: { fell: '/.well-known/oauth-protected-resource/other' } });
});

test('two resources with the same path on different hosts are told apart by Host', async () => {
  const auth = new MCPAuth({
    protectedResources: [
      { metadata: { resource: 'https://a.example.com/mcp', scopesSupported: ['a'] } },
      { metadata: { resource: 'https://b.example.com/mcp', scopesSupported: ['b'] } },
    ],
  });
  const app = await serve(auth.protectedResourceMetadataRouter(), (req, res) => res.status(404).json({}));
  const path = '/.well-known/oauth-protected-resource/mcp';
  expect(await getWithHost(app.origin, path, 'a.example.com')).toEqual({ status: 200, body: { resource: 'https://a.example.com/mcp', scopes_supported: ['a'] } });
  expect(await getWithHost(app.origin, path, 'B.EXAMPLE.COM')).toEqual({ status: 200, body: { resource: 'https://b.example.com/mcp', scopes_supported: ['b'] } });
  expect((await getWithHost(app.origin, path, 'c.example.com')).status).toBe(404);
});

test('a client follows resource_metadata from a real 401 challenge to the document', async () => {
  const issuer = await startIssuer();
  // The resource is this server's own URL, so the challenge's URL points back at it.
  const app = express();
  const { origin } = await listen(app);
  const resource = `${origin}/mcp`;
  const auth = new MCPAuth({
    protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }], scopesSupported: ['read'] } },
  });
  app.use(auth.protectedResourceMetadataRouter());
  app.use('/mcp', auth.bearerAuth('jwt', { resource, requiredScopes: ['read'] }), (req, res) => res.json({ ok: true }));
  const denied = await request(resource);
  expect(denied.status).toBe(401);
  const challenge = denied.headers.get('www-authenticate');
  expect(challenge).toBe(`Bearer scope="read", resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`);
  const url = /resource_metadata="([^"]+)"/.exec(challenge)[1];
  const doc = await request(url);
  expect({ status: doc.status, body: doc.body }).toEqual({
    status: 200,
    body: { resource, authorization_servers: [issuer.issuer], scopes_supported: ['read'] },
  });
});

test('with several resources, each 401 challenge leads to that resource\'s own document', async () => {
  const [one, two] = [await startIssuer(), await startIssuer()];
  const app = express();
  const { origin } = await listen(app);
  const [a, b] = [`${origin}/a`, `${origin}/b`];
  const auth = new MCPAuth({
    protectedResources: [
      { metadata: { resource: a, authorizationServers: [{ type: 'oidc', issuer: one.issuer }] } },
      { metadata: { resource: b, authorizationServers: [{ type: 'oidc', issuer: two.issuer }] } },
    ],
  });
  app.use(auth.protectedResourceMetadataRouter());
  app.use('/a', auth.bearerAuth('jwt', { resource: a }), (req, res) => res.json({ ok: true }));
  app.use('/b', auth.bearerAuth('jwt', { resource: b }), (req, res) => res.json({ ok: true }));
  for (const [resource, issuer] of [[a, one], [b, two]]) {
    const denied = await request(resource);
    expect(denied.status).toBe(401);
    const url = /resource_metadata="([^"]+)"/.exec(denied.headers.get('www-authenticate'))[1];
    const doc = await request(url);
    expect({ status: doc.status, body: doc.body }).toEqual({
      status: 200,
      body: { resource, authorization_servers: [issuer.issuer] },
    });
  }
});

test('is not available in legacy { server } mode', () => {
  const auth = new MCPAuth({ server: { type: 'oidc', issuer: 'https://auth.example.com' } });
  expect(() => auth.protectedResourceMetadataRouter()).toThrow(MCPAuthAuthServerError);
  expect(() => auth.protectedResourceMetadataRouter()).toThrow(/not available in `authorization server` mode/);
});
