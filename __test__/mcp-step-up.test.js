'use strict';
// Step-up end to end with the real MCP SDK: `Client` + `StreamableHTTPClientTransport` against
// `McpServer` (examples/whoami-server.js, stateless and with sessions) behind
// `bearerAuth('jwt', { toolScopes })`. The tool `read_secret` needs `secrets:read`; its handler
// reads `mcpAuth.authInfo`.

const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { extractWWWAuthenticateParams } = require('@modelcontextprotocol/sdk/client/auth.js');
const { startWhoamiServer } = require('../examples/whoami-server');
const { startIssuer, closeAll } = require('./helpers');

let issuer;
const servers = {};

beforeAll(async () => {
  issuer = await startIssuer();
  servers.stateless = await startWhoamiServer({ issuer: issuer.issuer });
  servers.sessions = await startWhoamiServer({ issuer: issuer.issuer, sessions: true });
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  await closeAll();
});

/**
 * An SDK client whose bearer token is `holder.token` at each request (so a test can step up
 * without reconnecting); `refusals` keeps every 401/403 answer, readable.
 */
async function connected(mcp, holder) {
  const refusals = [];
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
    fetch: async (url, init) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${holder.token}`);
      const response = await fetch(url, { ...init, headers });
      if (response.status === 401 || response.status === 403) refusals.push(response.clone());
      return response;
    },
  });
  const client = new Client({ name: 'step-up-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, refusals };
}

const tokenFor = (mcp, scope, sub = 'alice') => issuer.sign({ aud: mcp.resource, sub, client_id: 'cli-1', scope });
const SECRET = 'the cake is in the fridge';

describe.each(['stateless', 'sessions'])('Streamable HTTP, %s', (mode) => {
  test('a tools/call of the protected tool gets 403, the SDK reads its scope, a re-issued token succeeds', async () => {
    const mcp = servers[mode];
    const holder = { token: tokenFor(mcp, 'read write') };
    const { client, refusals, transport } = await connected(mcp, holder);
    try {
      if (mode === 'sessions') expect(transport.sessionId).toEqual(expect.any(String));
      // The smaller token lists the tools and calls the other one.
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['whoami', 'read_secret']);
      const me = await client.callTool({ name: 'whoami', arguments: {} });
      expect(me.structuredContent).toEqual({ subject: 'alice', clientId: 'cli-1', issuer: issuer.issuer, scopes: ['read', 'write'] });

      await expect(client.callTool({ name: 'read_secret', arguments: {} })).rejects.toMatchObject({ code: 403 });
      expect(refusals).toHaveLength(1);
      const [refusal] = refusals;
      expect(refusal.status).toBe(403);
      expect(extractWWWAuthenticateParams(refusal)).toEqual({
        error: 'insufficient_scope',
        scope: 'read write secrets:read',
        resourceMetadataUrl: new URL(mcp.metadataUrl),
      });
      expect(await refusal.json()).toEqual({
        error: 'missing_required_scopes',
        error_description: 'The token does not contain the necessary scopes for this request.',
        missing_scopes: ['secrets:read'],
      });

      // Re-authorize with every scope the challenge named, and retry on the same connection.
      holder.token = tokenFor(mcp, extractWWWAuthenticateParams(refusal).scope);
      const secret = await client.callTool({ name: 'read_secret', arguments: {} });
      expect(secret.isError).toBeFalsy();
      expect(secret.structuredContent).toEqual({ secret: SECRET, readBy: 'alice', scopes: ['read', 'write', 'secrets:read'] });
      expect(refusals).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  test('concurrent clients with different tokens each see their own identity in the tool handler', async () => {
    const mcp = servers[mode];
    const clients = await Promise.all(
      Array.from({ length: 8 }, (_, i) => connected(mcp, { token: tokenFor(mcp, 'read write secrets:read', `user-${i}`) })),
    );
    try {
      const rounds = await Promise.all(
        clients.flatMap(({ client }, i) =>
          Array.from({ length: 5 }, async () => {
            const r = await client.callTool({ name: 'read_secret', arguments: {} });
            return [i, r.structuredContent.readBy];
          }),
        ),
      );
      for (const [i, readBy] of rounds) expect(readBy).toBe(`user-${i}`);
    } finally {
      await Promise.all(clients.map(({ client }) => client.close()));
    }
  });
});
