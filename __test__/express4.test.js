'use strict';
// The same middleware and router in an Express 4 app (the glue uses only Node's http API).

const express4 = require('express4');
const { MCPAuth } = require('..');
const { startIssuer, closeAll, listen, request } = require('./helpers');

afterEach(closeAll);

test('Express 4: 401 with challenge, 403 with missing scopes, 200 with req.auth, metadata served', async () => {
  const issuer = await startIssuer();
  const app = express4();
  const { origin } = await listen(app);
  const resource = `${origin}/mcp`;
  const auth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } } });
  app.use(auth.protectedResourceMetadataRouter());
  app.use('/mcp', auth.bearerAuth('jwt', { resource, requiredScopes: ['read'] }), (req, res) => res.json({ subject: req.auth.subject, scopes: req.auth.scopes }));
  const metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;
  const none = await request(resource);
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toBe(`Bearer scope="read", resource_metadata="${metadataUrl}"`);
  expect(none.body.error).toBe('missing_auth_header');

  const narrow = await request(resource, { authorization: `Bearer ${issuer.sign({ aud: resource, scope: 'other' })}` });
  expect({ status: narrow.status, missing: narrow.body.missing_scopes }).toEqual({ status: 403, missing: ['read'] });

  const ok = await request(resource, { authorization: `Bearer ${issuer.sign({ aud: resource, scope: 'read', sub: 'u4' })}` });
  expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { subject: 'u4', scopes: ['read'] } });

  const doc = await request(metadataUrl);
  expect({ status: doc.status, body: doc.body }).toEqual({ status: 200, body: { resource, authorization_servers: [issuer.issuer] } });
});

test('Express 4: toolScopes read the operation that express.json() parsed; without a parser a POST with a body is a 500', async () => {
  const issuer = await startIssuer();
  const app = express4();
  const { origin } = await listen(app);
  const resource = `${origin}/mcp`;
  const auth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }] } } });
  const options = { resource, requiredScopes: ['read'], toolScopes: { wipe: ['admin'] } };
  app.use('/parsed', express4.json(), auth.bearerAuth('jwt', options), (req, res) => res.json({ subject: req.auth.subject }));
  app.use('/raw', auth.bearerAuth('jwt', options), (req, res) => res.json({ subject: req.auth.subject }));
  const post = (path, scope) =>
    request(`${origin}${path}`, { authorization: `Bearer ${issuer.sign({ aud: resource, scope, sub: 'u4' })}`, 'content-type': 'application/json' }, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wipe' } }),
    });
  const refused = await post('/parsed', 'read');
  expect({ status: refused.status, missing: refused.body.missing_scopes }).toEqual({ status: 403, missing: ['admin'] });
  expect(refused.headers.get('www-authenticate')).toContain('scope="read admin"');
  const ok = await post('/parsed', 'read admin');
  expect({ status: ok.status, body: ok.body }).toEqual({ status: 200, body: { subject: 'u4' } });
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  try {
    const raw = await post('/raw', 'read admin');
    expect({ status: raw.status, error: raw.body.error }).toEqual({ status: 500, error: 'server_error' });
    expect(raw.body.error_description).toMatch(/express\.json\(\)/);
    expect(warn.mock.calls.map(([m]) => m)).toEqual([expect.stringContaining('got a POST without a parsed body')]);
  } finally {
    warn.mockRestore();
  }
});
