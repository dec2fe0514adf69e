'use strict';
// The README's custom-verification example for opaque tokens (examples/introspection.js),
// against a real RFC 7662 introspection endpoint on 127.0.0.1.

const express = require('express');
const { MCPAuth } = require('..');
const { introspectionVerifier } = require('../examples/introspection');
const { startApp, listen, closeAll, withToken } = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';
const RESOURCE_METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
const ISSUER = 'https://auth.example.com';

/** An introspection endpoint that knows `tokens` and the client `rs:secret`; records each call. */
async function startIntrospection(tokens) {
  const calls = [];
  const app = express();
  let status = 200;
  app.post('/introspect', express.urlencoded({ extended: false }), (req, res) => {
    calls.push({ authorization: req.headers.authorization, body: { ...req.body } });
    if (status !== 200) return res.status(status).json({ error: 'server_error' });
    const expected = `Basic ${Buffer.from('rs:secret').toString('base64')}`;
    if (req.headers.authorization !== expected) return res.status(401).json({ error: 'invalid_client' });
    res.json(tokens[req.body.token] || { active: false });
  });
  const handle = await listen(app);
  return { endpoint: `${handle.origin}/introspect`, calls, failWith: (s) => (status = s) };
}

async function setup(options = {}) {
  const exp = Math.floor(Date.now() / 1000) + 600;
  const introspection = await startIntrospection({
    'opaque-reader': { active: true, iss: ISSUER, sub: 'user-1', client_id: 'app-1', scope: 'read', aud: RESOURCE, exp },
    'opaque-elsewhere': { active: true, iss: 'https://other.example.com', sub: 'user-2', scope: 'read', aud: RESOURCE },
  });
  const mcpAuth = new MCPAuth({
    protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oauth', issuer: ISSUER }] } },
  });
  const verify = introspectionVerifier({
    endpoint: introspection.endpoint,
    clientId: 'rs',
    clientSecret: 'secret',
    issuer: ISSUER,
  });
  const app = await startApp(mcpAuth.bearerAuth(verify, { resource: RESOURCE, requiredScopes: ['read'], ...options }));
  return { introspection, app, exp };
}

afterEach(closeAll);

test('an active token is accepted with the identity the introspection endpoint gave', async () => {
  const { introspection, app, exp } = await setup();
  const res = await withToken(app.url, 'opaque-reader');
  expect(res.status).toBe(200);
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.body.auth).toEqual({
    token: 'opaque-reader',
    issuer: ISSUER,
    clientId: 'app-1',
    scopes: ['read'],
    subject: 'user-1',
    audience: RESOURCE,
    expiresAt: exp,
    claims: { active: true, iss: ISSUER, sub: 'user-1', client_id: 'app-1', scope: 'read', aud: RESOURCE, exp },
  });
  expect(introspection.calls).toEqual([
    {
      authorization: `Basic ${Buffer.from('rs:secret').toString('base64')}`,
      body: { token: 'opaque-reader', token_type_hint: 'access_token' },
    },
  ]);
});

test('an inactive token is a 401 invalid_token challenge', async () => {
  const { app } = await setup();
  const res = await withToken(app.url, 'revoked');
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: 'invalid_token', error_description: 'The provided token is invalid or malformed.' });
  expect(res.headers.get('www-authenticate')).toBe(
    `Bearer error="invalid_token", error_description="The provided token is invalid or malformed.", scope="read", resource_metadata="${RESOURCE_METADATA}"`,
  );
});

test("an active token from another issuer is refused by the middleware's issuer check", async () => {
  const { app } = await setup({ showErrorDetails: true });
  const res = await withToken(app.url, 'opaque-elsewhere');
  expect(res.status).toBe(401);
  expect(res.body).toEqual({
    error: 'invalid_issuer',
    error_description: 'The token issuer does not match the expected issuer.',
    cause: { expected: [ISSUER], actual: 'https://other.example.com' },
  });
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", /);
});

test("an introspection endpoint failure goes to the app's error handler", async () => {
  const { app, introspection } = await setup();
  introspection.failWith(502);
  const res = await withToken(app.url, 'opaque-reader');
  expect(res.status).toBe(599);
  expect(res.body).toEqual({ app_error: 'Token introspection answered HTTP 502.' });
  expect(res.headers.get('www-authenticate')).toBeNull();
});
