'use strict';
// The server under soak: `node bench/soak-server.js <issuer> <resource>`. Express 5 with
// `bearerAuth('jwt')` on /jwt (requiredScopes ['read']), a custom verifier on /custom, and
// `bearerAuth('jwt')` with DPoP on /dpop (`dpop: { iatWindow: $SOAK_IAT_WINDOW }`, default 15 s,
// the memory replay store; proofs' `htu` is the resource's origin + /dpop), and the same with
// server nonces on /dpop-nonce (`nonce: true`).
// Prints `{"port":N}` when listening. Used by bench/soak.js only.

const http = require('node:http');
const express = require('express');
const { MCPAuth, MCPAuthTokenVerificationError } = require('..');

const [issuer, resource] = process.argv.slice(2);
const auth = new MCPAuth({
  protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer }] } },
});

/** `ok-<n>` is a valid identity; `bad-<n>` is refused the way verifiers refuse (401); async half the time. */
function verify(token) {
  if (token.startsWith('bad-')) throw new MCPAuthTokenVerificationError('invalid_token');
  const info = { token, issuer, clientId: 'soak', scopes: ['read'], subject: token, audience: resource };
  return token.endsWith('0') ? Promise.resolve(info) : info;
}

const app = express();
const answer = (req, res) => res.json({ sub: req.auth.subject });
app.get('/jwt', auth.bearerAuth('jwt', { resource, requiredScopes: ['read'] }), answer);
app.get('/custom', auth.bearerAuth(verify, { resource, requiredScopes: ['read'] }), answer);
const iatWindow = Number(process.env.SOAK_IAT_WINDOW || 15);
app.get('/dpop', auth.bearerAuth('jwt', { resource, requiredScopes: ['read'], dpop: { iatWindow, replayStore: 'memory' } }), answer);
app.get('/dpop-nonce', auth.bearerAuth('jwt', { resource, requiredScopes: ['read'], dpop: { iatWindow, nonce: true } }), answer);
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => res.status(599).json({ app_error: String(err && err.message) }));

const server = http.createServer({ maxHeaderSize: 64 * 1024 }, app);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
