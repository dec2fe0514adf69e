'use strict';
// The Express glue around the native verifier: how it shares a response with other middleware.

const express = require('express');
const { MCPAuth } = require('..');
const { startIssuer, closeAll, listen, request, sleep } = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';

afterEach(async () => {
  jest.restoreAllMocks();
  await closeAll();
});

async function serve(app) {
  const { origin } = await listen(app);
  return { url: `${origin}/mcp` };
}

function authFor(issuer) {
  return new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } } });
}

test('a verdict that arrives after another middleware answered is dropped, not sent twice', async () => {
  const issuer = await startIssuer();
  issuer.setHandler(issuer.jwksUri, () => {}); // the JWKS hangs
  const errors = [];
  const app = express();
  app.use((req, res, next) => {
    setTimeout(() => res.headersSent || res.status(504).json({ error: 'gateway_timeout' }), 50);
    next();
  });
  app.use('/mcp', authFor(issuer).bearerAuth('jwt', { resource: RESOURCE, remoteJwkSet: { timeoutDuration: 300 } }), (req, res) => res.json({ ok: true }));
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => errors.push(err));
  const server = await serve(app);
  const res = await request(server.url, { authorization: `Bearer ${issuer.sign({ aud: RESOURCE })}` });
  expect({ status: res.status, body: res.body }).toEqual({ status: 504, body: { error: 'gateway_timeout' } });
  await sleep(500); // the 503 verdict arrives now and must be dropped quietly
  expect(errors).toEqual([]);
  const again = await request(server.url);
  expect(again.status).toBe(401); // still serving
});

test('Access-Control-Expose-Headers set by CORS middleware is extended, not replaced', async () => {
  const issuer = await startIssuer();
  const app = express();
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Expose-Headers', 'Mcp-Session-Id');
    next();
  });
  app.use('/mcp', authFor(issuer).bearerAuth('jwt', { resource: RESOURCE }), (req, res) => res.json({ ok: true }));
  const server = await serve(app);
  const res = await request(server.url);
  expect(res.status).toBe(401);
  expect(res.headers.get('access-control-expose-headers')).toBe('Mcp-Session-Id, WWW-Authenticate');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
});

test('req.auth set earlier is replaced by the verified identity without logging', async () => {
  const issuer = await startIssuer();
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const app = express();
  app.use((req, res, next) => {
    req.auth = { subject: 'forged' };
    next();
  });
  app.use('/mcp', authFor(issuer).bearerAuth('jwt', { resource: RESOURCE }), (req, res) => res.json({ subject: req.auth.subject }));
  const server = await serve(app);
  const res = await request(server.url, { authorization: `Bearer ${issuer.sign({ aud: RESOURCE, sub: 'real' })}` });
  expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { subject: 'real' } });
  expect(warn).not.toHaveBeenCalled();
});
