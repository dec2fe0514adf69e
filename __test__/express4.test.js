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
