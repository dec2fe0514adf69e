'use strict';
// The examples: `npm run demo` walks 401 -> metadata -> 403 -> 200 and exits 0 by itself;
// examples/hosted-provider.js builds its app from the environment and serves a protected MCP endpoint.

const { execFile } = require('node:child_process');
const path = require('node:path');
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { config, createApp } = require('../examples/hosted-provider');
const { startIssuer, listen, request, closeAll } = require('./helpers');

afterAll(closeAll);

test('npm run demo walks 401, resource metadata, 403, whoami, and the step-up 403 -> new token -> 200 for read_secret, and exits 0 by itself', async () => {
  const result = await new Promise((resolve) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'examples', 'demo.js')], { timeout: 15000 }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const order = ['POST /mcp -> 401', 'resource_metadata="', 'authorization_servers', 'POST /mcp -> 403', 'error="insufficient_scope"', 'whoami -> {"subject":"alice"',
    'tools/call read_secret -> 403', 'scope="read write secrets:read"', '"missing_scopes":["secrets:read"]',
    'tools/call read_secret -> 200: {"secret":"the cake is in the fridge","readBy":"alice"', 'All answers were the expected ones'];
  const positions = order.map((s) => result.stdout.indexOf(s));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((a, b) => a - b)).toEqual(positions);
});

test('hosted-provider: configuration comes from the environment, and names what is missing', () => {
  expect(() => config({})).toThrow('set MCP_ISSUER and MCP_RESOURCE');
  expect(config({ MCP_ISSUER: 'https://t.auth0.com/', MCP_RESOURCE: 'https://mcp.example.com/mcp', MCP_SCOPES: 'read  write', MCP_AUDIENCE: 'api://x' })).toEqual({
    issuer: 'https://t.auth0.com/',
    resource: 'https://mcp.example.com/mcp',
    type: 'oidc',
    audience: 'api://x',
    scopes: ['read', 'write'],
  });
});

test('hosted-provider: MCP_DPOP turns DPoP on (advertised in the metadata), MCP_DPOP_REDIS picks the shared store', async () => {
  expect(config({ MCP_ISSUER: 'https://i', MCP_RESOURCE: 'https://r/mcp', MCP_DPOP: 'required', MCP_DPOP_REDIS: 'redis://cache:6379' }).dpop).toEqual({
    mode: 'required',
    replayStore: { redis: 'redis://cache:6379' },
  });
  const issuer = await startIssuer();
  const resource = 'https://mcp.example.com/mcp';
  const app = createApp(config({ MCP_ISSUER: issuer.issuer, MCP_RESOURCE: resource, MCP_DPOP: 'required' }));
  const { origin } = await listen(app);
  const metadata = await request(`${origin}/.well-known/oauth-protected-resource/mcp`);
  expect(metadata.body).toMatchObject({ dpop_bound_access_tokens_required: true, dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] });
  const denied = await request(`${origin}/mcp`, { authorization: `Bearer ${issuer.sign({ aud: resource })}` }, { method: 'POST' });
  expect(denied.status).toBe(401);
  expect(denied.body.error).toBe('dpop_required');
  expect(() => createApp(config({ MCP_ISSUER: issuer.issuer, MCP_RESOURCE: resource, MCP_DPOP: 'sometimes' }))).toThrow(
    new TypeError("`options.dpop.mode` must be 'allowed', 'required' or 'disabled'."),
  );
});

test('hosted-provider: the app serves its metadata and a whoami tool to a token for its resource', async () => {
  const issuer = await startIssuer();
  const resource = 'https://mcp.example.com/mcp';
  const app = createApp(config({ MCP_ISSUER: issuer.issuer, MCP_RESOURCE: resource, MCP_SCOPES: 'read' }));
  const { origin } = await listen(app);

  const metadata = await request(`${origin}/.well-known/oauth-protected-resource/mcp`);
  expect(metadata.status).toBe(200);
  expect(metadata.body).toMatchObject({ resource, authorization_servers: [issuer.issuer], scopes_supported: ['read'] });
  const denied = await request(`${origin}/mcp`, {}, { method: 'POST' });
  expect(denied.status).toBe(401);
  expect(denied.headers.get('www-authenticate')).toBe(
    'Bearer scope="read", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
  );

  const token = issuer.sign({ aud: resource, sub: 'bob', scope: 'read' });
  const client = new Client({ name: 't', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(JSON.parse(result.content[0].text)).toEqual({ subject: 'bob', scopes: ['read'] });
  } finally {
    await client.close();
  }
});
