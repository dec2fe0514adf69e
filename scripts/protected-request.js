'use strict';
// Copied into a fresh project that installed mcp-auth-native from the loopback registry, and run
// there by that platform's Node: a local OpenID issuer (discovery + JWKS) and an Express app with
// the metadata router and a route behind bearerAuth('jwt'); one request without a token, one with.
// Prints one JSON line: the outcomes and the `.node` file that was loaded.
const crypto = require('node:crypto');
const http = require('node:http');
const express = require('express');
const { MCPAuth } = require('mcp-auth-native');

const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', r));
async function main() {
  // The JWK comes out of the generation: exporting a freshly generated key object can hang Node 20.
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { format: 'jwk' } });
  const jwk = { ...publicKey, kid: 'k1', alg: 'ES256', use: 'sig' };
  const idp = http.createServer();
  await listen(idp);
  const issuer = `http://127.0.0.1:${idp.address().port}`;
  idp.on('request', (req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') return res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    if (req.url === '/jwks') return res.end(JSON.stringify({ keys: [jwk] }));
    res.statusCode = 404;
    res.end('{}');
  });
  const server = http.createServer();
  await listen(server);
  const resource = `http://127.0.0.1:${server.address().port}/mcp`;
  const mcpAuth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer }] } } });
  const app = express();
  app.use(mcpAuth.protectedResourceMetadataRouter());
  app.get('/mcp', mcpAuth.bearerAuth('jwt', { resource, requiredScopes: ['read'] }), (req, res) => res.json({ subject: req.auth.subject }));
  server.on('request', app);
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${b64({ iss: issuer, sub: 'alice', aud: resource, scope: 'read', iat: now, exp: now + 300 })}`;
  const signature = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const token = `${input}.${signature.toString('base64url')}`;
  const metadata = await fetch(`${resource.replace('/mcp', '')}/.well-known/oauth-protected-resource/mcp`);
  const without = await fetch(resource);
  const withToken = await fetch(resource, { headers: { authorization: `Bearer ${token}` } });
  console.log(
    JSON.stringify({
      metadata: { status: metadata.status, body: await metadata.json() },
      without: { status: without.status, wwwAuthenticate: without.headers.get('www-authenticate') },
      with: { status: withToken.status, body: await withToken.json() },
      loaded: Object.keys(require.cache).filter((k) => k.endsWith('.node')),
    }),
  );
  server.close();
  idp.close();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
