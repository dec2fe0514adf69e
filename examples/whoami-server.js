'use strict';
// An MCP server behind mcp-auth-native: the smallest real thing, with step-up authorization.
//
// `@modelcontextprotocol/sdk`'s McpServer over the Streamable HTTP transport (stateless: one
// server and transport per POST; or with sessions), `bearerAuth('jwt')` in front of `/mcp`, and
// the RFC 9728 protected resource metadata at `/.well-known/oauth-protected-resource/mcp` so that
// MCP clients find the authorization server from the 401. Two tools:
//   whoami       what the bearer token says (needs only the endpoint's `requiredScopes`)
//   read_secret  needs the extra scope `secrets:read` (`toolScopes`): a token without it gets
//                403 insufficient_scope naming every scope the call needs, and the client steps up
//
//   const { startWhoamiServer } = require('./whoami-server');
//   const server = await startWhoamiServer({ issuer: 'https://tenant.example.com', type: 'oidc' });
//   // server.url is the MCP endpoint; await server.close() stops it.

const http = require('node:http');
const crypto = require('node:crypto');
const express = require('express');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { MCPAuth } = require('..');

/** The scopes each tool needs beyond the endpoint's `requiredScopes`. */
const TOOL_SCOPES = { read_secret: ['secrets:read'] };

/** The MCP server: `whoami` and `read_secret`; `mcpAuth` gives the current request's identity. */
function createMcpServer(mcpAuth) {
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
  server.registerTool(
    'read_secret',
    { description: 'Reads the secret; needs the scope `secrets:read`.' },
    async () => {
      await new Promise((resolve) => setImmediate(resolve)); // any await: the identity stays
      // `mcpAuth.authInfo` is the identity of the request being handled, anywhere below bearerAuth.
      const { subject, scopes } = mcpAuth.authInfo;
      const secret = { secret: 'the cake is in the fridge', readBy: subject, scopes };
      return { content: [{ type: 'text', text: JSON.stringify(secret) }], structuredContent: secret };
    },
  );
  return server;
}

/** Stateless Streamable HTTP: a fresh server and transport for each POST. */
function statelessRoutes(app, path, mcpAuth) {
  app.post(path, async (req, res) => {
    const server = createMcpServer(mcpAuth);
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
}

/** Streamable HTTP with sessions: one server and transport per `Mcp-Session-Id`. */
function sessionRoutes(app, path, mcpAuth) {
  const transports = new Map();
  app.all(path, async (req, res) => {
    const id = req.headers['mcp-session-id'];
    let transport = typeof id === 'string' ? transports.get(id) : undefined;
    if (transport === undefined) {
      if (req.method !== 'POST' || req.body?.method !== 'initialize') {
        return res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'No valid session.' }, id: null });
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (sid) => transports.set(sid, transport),
      });
      transport.onclose = () => transports.delete(transport.sessionId);
      await createMcpServer(mcpAuth).connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  });
  return () => Promise.all([...transports.values()].map((t) => t.close()));
}

/**
 * Builds the Express app for `resource` (the MCP endpoint's URL) trusting `issuer`.
 * `requiredScopes` defaults to `['read', 'write']`, `toolScopes` to `read_secret: ['secrets:read']`;
 * `bearerOptions` are more bearerAuth options (`jwtVerify`, `remoteJwkSet`, `scopeHierarchy`, ...);
 * `sessions: true` keeps MCP sessions instead of answering each POST on its own; `mode` is
 * bearerAuth's mode (`'jwt'`, or `'introspection'` for opaque tokens, with `bearerOptions.introspection`).
 * Returns the app; `app.locals.closeSessions()` closes open sessions.
 */
function createWhoamiApp({
  issuer,
  type = 'oidc',
  resource,
  requiredScopes = ['read', 'write'],
  toolScopes = TOOL_SCOPES,
  bearerOptions = {},
  sessions = false,
  mode = 'jwt',
}) {
  const mcpAuth = new MCPAuth({
    protectedResources: {
      metadata: {
        resource,
        authorizationServers: [{ type, issuer }],
        scopesSupported: [...new Set([...requiredScopes, ...Object.values(toolScopes).flat()])],
      },
    },
  });
  const app = express();
  app.use(mcpAuth.protectedResourceMetadataRouter());
  const path = new URL(resource).pathname;
  // The JSON body parser comes first: bearerAuth reads the MCP operation from `req.body`.
  app.use(path, express.json(), mcpAuth.bearerAuth(mode, { ...bearerOptions, resource, requiredScopes, toolScopes }));
  app.locals.closeSessions = sessions ? sessionRoutes(app, path, mcpAuth) : async () => {};
  if (!sessions) statelessRoutes(app, path, mcpAuth);
  return app;
}

/**
 * Starts the whoami MCP server on `host`:`port` (default 127.0.0.1, any free port); the resource
 * is `http://host:port/mcp`. Returns `{ url, origin, resource, metadataUrl, close() }`.
 */
async function startWhoamiServer({ issuer, type = 'oidc', host = '127.0.0.1', port = 0, ...options } = {}) {
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const origin = `http://${host}:${server.address().port}`;
  const resource = `${origin}/mcp`;
  let app;
  try {
    app = createWhoamiApp({ issuer, type, resource, ...options });
    server.on('request', app);
  } catch (error) {
    server.close();
    throw error;
  }
  return {
    url: resource,
    origin,
    resource,
    metadataUrl: `${origin}/.well-known/oauth-protected-resource/mcp`,
    async close() {
      await app.locals.closeSessions();
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

module.exports = { startWhoamiServer, createWhoamiApp, createMcpServer, TOOL_SCOPES };
