'use strict';
// A custom verifier for opaque access tokens: it asks the authorization server's token
// introspection endpoint (RFC 7662) whether a token is active and turns the answer into an
// AuthInfo. The middleware then checks issuer, audience and scopes as for a JWT.
//
// The built-in mode `bearerAuth('introspection', { introspection: { clientId, clientSecret } })`
// does the same in Rust, with what this example lacks: one call in flight per token, a bounded
// cache that never outlives `exp`, a negative cache, a timeout, 503 with Retry-After when the
// endpoint is down and 500 when it refuses our credentials (README, "Opaque tokens"). Prefer it;
// this example stays as a starting point for endpoints that need something else.
//
//   const { introspectionVerifier } = require('./introspection');
//   app.use('/mcp', mcpAuth.bearerAuth(introspectionVerifier({ endpoint, clientId, clientSecret, issuer }),
//     { resource, requiredScopes: ['read'] }));

const { MCPAuthTokenVerificationError } = require('mcp-auth-native');

/**
 * Makes a verifier that introspects each token at `endpoint`, authenticating as the resource
 * server with HTTP Basic (RFC 6749 §2.3.1). `issuer` is used when the answer has no `iss`.
 */
function introspectionVerifier({ endpoint, clientId, clientSecret, issuer, timeoutMs = 5000 }) {
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  return async (token) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Not the token's fault: this error goes to the app's error handler (`next(err)`).
    if (!response.ok) throw new Error(`Token introspection answered HTTP ${response.status}.`);
    const answer = await response.json();
    // An inactive token (expired, revoked, unknown) is a 401 `invalid_token`.
    if (answer.active !== true) throw new MCPAuthTokenVerificationError('invalid_token');
    return {
      token,
      issuer: answer.iss ?? issuer,
      clientId: answer.client_id ?? '',
      scopes: typeof answer.scope === 'string' ? answer.scope.split(' ').filter(Boolean) : [],
      subject: answer.sub,
      audience: answer.aud,
      expiresAt: answer.exp,
      claims: answer,
    };
  };
}

module.exports = { introspectionVerifier };
