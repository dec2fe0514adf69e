'use strict';
// mcp-auth-native in one minute: an embedded OpenID Connect issuer, an Express app whose `/mcp`
// route requires the scopes `read` and `write`, and a client that calls it three times.
//
//   npm run demo        (node examples/demo.js)
//
// Exits 0 when every answer is the expected one, 1 otherwise.

const express = require('express');
let MCPAuth;
try {
  ({ MCPAuth } = require('..'));
} catch (error) {
  console.error(`demo: cannot load mcp-auth-native (build it with \`npm run build\`): ${error.message}`);
  process.exit(1);
}
const { startLocalIssuer } = require('./local-issuer');

const REQUIRED_SCOPES = ['read', 'write'];

function listen(app) {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, '127.0.0.1', (error) => (error ? reject(error) : resolve(server)));
    server.once('error', reject);
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const shorten = (token) => `${token.slice(0, 12)}…${token.slice(-6)} (${token.length} chars)`;
const indent = (text, pad = '   ') => text.replace(/^/gm, pad);

// Calls the protected route and prints what a client sees; returns the parsed body.
async function call(step, title, url, token, expected) {
  console.log(`\n${step}) ${title}`);
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  console.log(`   GET /mcp -> ${response.status} ${response.statusText}`);
  const challenge = response.headers.get('www-authenticate');
  if (challenge) console.log(`   WWW-Authenticate: ${challenge}`);
  if (response.status !== expected) {
    const shown = typeof body === 'string' ? body : JSON.stringify(body);
    console.log(indent(`body: ${shown.length > 300 ? `${shown.slice(0, 300)}…` : shown}`));
    throw new Error(`step ${step}: expected HTTP ${expected}, got ${response.status}`);
  }
  return body;
}

async function main() {
  const cleanup = [];
  try {
    // 1. The authorization server: serves /.well-known/openid-configuration and a JWKS.
    const issuer = await startLocalIssuer({ type: 'oidc' });
    cleanup.push(() => issuer.close());

    // 2. The MCP server. The resource URL contains the port, so listen first, then mount.
    const app = express();
    const server = await listen(app);
    cleanup.push(() => closeServer(server));
    const resource = `http://127.0.0.1:${server.address().port}/mcp`;

    const mcpAuth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource,
          authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }],
          scopesSupported: REQUIRED_SCOPES,
        },
      },
    });
    app.use(mcpAuth.protectedResourceMetadataRouter());
    app.use(
      '/mcp',
      mcpAuth.bearerAuth('jwt', { resource, requiredScopes: REQUIRED_SCOPES }),
      (req, res) => res.json({ whoami: req.auth.subject, scopes: req.auth.scopes, auth: req.auth }),
    );
    // Errors the middleware passes on with next(err) (e.g. a custom verifier that crashed).
    app.use((error, req, res, _next) => {
      res.status(500).json({ error: 'server_error', message: error.message });
    });

    console.log('mcp-auth-native demo');
    console.log(`   issuer    ${issuer.issuer}  (embedded OpenID Connect issuer)`);
    console.log(`   resource  ${resource}  (requires scopes: ${REQUIRED_SCOPES.join(' ')})`);

    // 3. A client.
    await call(1, 'No token', resource, null, 401);

    const readOnly = issuer.sign({ aud: resource, scope: 'read' });
    const denied = await call(2, 'Token with scope "read" only', resource, readOnly, 403);
    console.log(indent(`body: ${JSON.stringify(denied)}`));

    const full = issuer.sign({ aud: resource, scope: 'read write' });
    const ok = await call(3, 'Token with scopes "read write"', resource, full, 200);
    console.log(`   whoami: ${ok.whoami}, scopes: ${ok.scopes.join(' ')}`);
    console.log('   req.auth:');
    for (const [key, value] of Object.entries(ok.auth)) {
      const shown = key === 'token' ? shorten(String(value)) : JSON.stringify(value);
      console.log(`     ${key.padEnd(10)} ${shown}`);
    }

    console.log('\nAll 3 answers were the expected ones (401, 403, 200).');
  } finally {
    for (const close of cleanup.reverse()) await close();
  }
}

main().then(
  () => {
    // Nothing should keep the process alive now; if something does, say so instead of hanging.
    setTimeout(() => {
      console.error('demo: the process did not exit by itself after closing its servers');
      process.exit(1);
    }, 5000).unref();
  },
  (error) => {
    console.error(`\ndemo failed: ${error.message}`);
    process.exitCode = 1;
  },
);
