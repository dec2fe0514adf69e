'use strict';
// An MCP server protected by a hosted identity provider (Auth0, Okta, Entra ID, Keycloak,
// Logto, ...): copy this file, set the environment, run it.
//
//   MCP_ISSUER=https://your-tenant.auth0.com/ \
//   MCP_RESOURCE=https://mcp.example.com/mcp \
//   node examples/hosted-provider.js
//
// Environment:
//   MCP_ISSUER        the provider's issuer identifier, exactly as its tokens' `iss` (required)
//   MCP_RESOURCE      this server's public URL of the MCP endpoint; tokens must carry it in `aud`
//                     (RFC 8707; required)
//   MCP_ISSUER_TYPE   `oidc` (OpenID Connect discovery, the default) or `oauth` (RFC 8414)
//   MCP_AUDIENCE      the `aud` the provider puts in access tokens, when it is not MCP_RESOURCE
//                     (Auth0's API identifier, Entra's application ID URI or client id, ...)
//   MCP_SCOPES        space-separated scopes every request needs (default: none)
//   MCP_DPOP          `allowed` or `required`: DPoP-bound tokens (RFC 9449; default: off, where
//                     a DPoP-bound token is still never taken as a bearer token)
//   MCP_DPOP_REDIS    `redis://…`: the replay store shared by every instance (default: memory)
//   PORT              where to listen (default 3000); HOST (default 127.0.0.1)
// See the README's "Providers" section for each provider's issuer and audience.

const express = require('express');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { MCPAuth } = require('mcp-auth-native');

function config(env = process.env) {
  const missing = ['MCP_ISSUER', 'MCP_RESOURCE'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`set ${missing.join(' and ')} (see the top of this file)`);
  return {
    issuer: env.MCP_ISSUER,
    resource: env.MCP_RESOURCE,
    type: env.MCP_ISSUER_TYPE || 'oidc',
    audience: env.MCP_AUDIENCE || undefined,
    scopes: (env.MCP_SCOPES || '').split(/\s+/).filter(Boolean),
    dpop: env.MCP_DPOP
      ? { mode: env.MCP_DPOP, ...(env.MCP_DPOP_REDIS ? { replayStore: { redis: env.MCP_DPOP_REDIS } } : {}) }
      : undefined,
  };
}

function createApp({ issuer, resource, type, audience, scopes, dpop }) {
  const mcpAuth = new MCPAuth({
    protectedResources: {
      metadata: { resource, authorizationServers: [{ type, issuer }], scopesSupported: scopes },
    },
  });
  const app = express();
  // RFC 9728: MCP clients find the provider from here (the 401 points at it).
  app.use(mcpAuth.protectedResourceMetadataRouter());
  const path = new URL(resource).pathname;
  app.use(path, mcpAuth.bearerAuth('jwt', { resource, requiredScopes: scopes, ...(audience ? { audience } : {}), ...(dpop ? { dpop } : {}) }));
  app.post(path, express.json(), async (req, res) => {
    const server = new McpServer({ name: 'my-mcp-server', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who the access token speaks for.' }, async ({ authInfo }) => ({
      content: [{ type: 'text', text: JSON.stringify({ subject: authInfo?.subject, scopes: authInfo?.scopes }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}

module.exports = { config, createApp };

if (require.main === module) {
  const port = Number(process.env.PORT || 3000);
  const host = process.env.HOST || '127.0.0.1';
  const app = createApp(config());
  app.listen(port, host, () => console.log(`MCP server on http://${host}:${port}, resource ${process.env.MCP_RESOURCE}`));
}
