'use strict';
// An MCP server with one tool, `whoami`, behind mcp-auth-native: the smallest real thing.
//
// `@modelcontextprotocol/sdk`'s McpServer over the Streamable HTTP transport (stateless: one
// server and transport per POST), `bearerAuth('jwt')` in front of `/mcp`, and the RFC 9728
// protected resource metadata at `/.well-known/oauth-protected-resource/mcp` so that MCP clients
// find the authorization server from the 401.
//
//   const { startWhoamiServer } = require('./whoami-server');
//   const server = await startWhoamiServer({ issuer: 'https://tenant.example.com', type: 'oidc' });
//   // server.url is the MCP endpoint; await server.close() stops it.

const http = require('node:http');
const express = require('express');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { MCPAuth } = require('..');

/** The MCP server: a `whoami` tool that answers with what the bearer token says. */
function createMcpServer() {
  const server = new McpServer({ name: 'whoami', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { description: 'Tells who the bearer token speaks for, and which scopes it grants.' },
    // `authInfo` is `req.auth` as bearerAuth() set it: the SDK's transport hands it over as is.
    async ({ authInfo }) => {
      const me = {
        subject: authInfo?.subject,
        clientId: authInfo?.clientId,
        issuer: authInfo?.issuer,
        scopes: authInfo?.scopes ?? [],
      };
      return { content: [{ type: 'text', text: JSON.stringify(me) }], structuredContent: me };
    },
  );
  return server;
}

/**
 * Builds the Express app for `resource` (the MCP endpoint's URL) trusting `issuer`.
 * `requiredScopes` defaults to `['read', 'write']`; `bearerOptions` are more bearerAuth options
 * (`jwtVerify`, `remoteJwkSet`, ...).
 */
function createWhoamiApp({ issuer, type = 'oidc', resource, requiredScopes = ['read', 'write'], bearerOptions = {} }) {
  const mcpAuth = new MCPAuth({
    protectedResources: {
      metadata: {
        resource,
        authorizationServers: [{ type, issuer }],
        scopesSupported: requiredScopes,
      },
    },
  });
  const app = express();
  app.use(mcpAuth.protectedResourceMetadataRouter());
  const path = new URL(resource).pathname;
  app.use(path, mcpAuth.bearerAuth('jwt', { ...bearerOptions, resource, requiredScopes }));
  app.post(path, express.json(), async (req, res) => {
    const server = createMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      if (!res.headersSent) {
        res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: String(error) }, id: null });
      }
    }
  });
  // Stateless: no SSE stream to resume and no session to delete.
  app.all(path, (req, res) => {
    res.set('allow', 'POST').status(405).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  });
  return app;
}

/**
 * Starts the whoami MCP server on `host`:`port` (default 127.0.0.1, any free port); the resource
 * is `http://host:port/mcp`. Returns `{ url, origin, resource, metadataUrl, close() }`.
 */
async function startWhoamiServer({ issuer, type = 'oidc', host = '127.0.0.1', port = 0, requiredScopes, bearerOptions } = {}) {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const origin = `http://${host}:${server.address().port}`;
  const resource = `${origin}/mcp`;
  try {
    server.on('request', createWhoamiApp({ issuer, type, resource, requiredScopes, bearerOptions }));
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    url: resource,
    origin,
    resource,
    metadataUrl: `${origin}/.well-known/oauth-protected-resource/mcp`,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

module.exports = { startWhoamiServer, createWhoamiApp, createMcpServer };
