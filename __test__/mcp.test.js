'use strict';
// MCP end to end: @modelcontextprotocol/sdk's McpServer (Streamable HTTP) behind bearerAuth('jwt')
// and the resource metadata router (examples/whoami-server.js), called by the SDK's Client.

const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const {
  extractWWWAuthenticateParams,
  discoverOAuthProtectedResourceMetadata,
} = require('@modelcontextprotocol/sdk/client/auth.js');
const { startWhoamiServer } = require('../examples/whoami-server');
const { startIssuer, closeAll } = require('./helpers');

let issuer;
let mcp;

beforeAll(async () => {
  issuer = await startIssuer();
  mcp = await startWhoamiServer({ issuer: issuer.issuer });
});
afterAll(async () => {
  await mcp.close();
  await closeAll();
});

/** An SDK client for the whoami server; `responses` records every HTTP answer it got. */
function client(token) {
  const responses = [];
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      // Error answers are kept readable for the test; the SDK consumes the others.
      responses.push(response.ok ? response : response.clone());
      return response;
    },
  });
  return { client: new Client({ name: 'test', version: '1.0.0' }), transport, responses };
}

const tokenFor = (scope) => issuer.sign({ aud: mcp.resource, sub: 'alice', client_id: 'cli-1', scope });

test('without a token the client sees 401 and the resource_metadata URL, which serves the document', async () => {
  const { client: c, transport, responses } = client();
  await expect(c.connect(transport)).rejects.toMatchObject({ code: 401 });
  const [response] = responses;
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe(`Bearer scope="read write", resource_metadata="${mcp.metadataUrl}"`);
  const params = extractWWWAuthenticateParams(response);
  expect(params.resourceMetadataUrl.href).toBe(mcp.metadataUrl);
  expect(params.error).toBeUndefined();

  const document = await discoverOAuthProtectedResourceMetadata(mcp.url, {
    resourceMetadataUrl: params.resourceMetadataUrl,
  });
  expect(document).toMatchObject({
    resource: mcp.resource,
    authorization_servers: [issuer.issuer],
    scopes_supported: ['read', 'write', 'secrets:read'],
  });
  const raw = await fetch(params.resourceMetadataUrl);
  expect(raw.status).toBe(200);
  expect(raw.headers.get('access-control-allow-origin')).toBe('*');
});

test('a token lacking a scope gets 403 insufficient_scope naming the scopes needed', async () => {
  const { client: c, transport, responses } = client(tokenFor('read'));
  await expect(c.connect(transport)).rejects.toMatchObject({ code: 403 });
  const [response] = responses;
  expect(response.status).toBe(403);
  const params = extractWWWAuthenticateParams(response);
  expect(params).toEqual({
    error: 'insufficient_scope',
    scope: 'read write',
    resourceMetadataUrl: new URL(mcp.metadataUrl),
  });
  expect(await response.json()).toMatchObject({ error: 'missing_required_scopes', missing_scopes: ['write'] });
});

test('with the scopes the client lists and calls whoami, which reads authInfo', async () => {
  const token = tokenFor('read write');
  const { client: c, transport, responses } = client(token);
  await c.connect(transport);
  try {
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name)).toEqual(['whoami', 'read_secret']);
    const result = await c.callTool({ name: 'whoami', arguments: {} });
    const me = { subject: 'alice', clientId: 'cli-1', issuer: issuer.issuer, scopes: ['read', 'write'] };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual(me);
    expect(JSON.parse(result.content[0].text)).toEqual(me);
    // POSTs answered 200 (results) or 202 (notifications); the client's optional GET for an SSE
    // stream gets 405 from this stateless server, which the SDK accepts.
    expect([...new Set(responses.map((r) => r.status))].sort()).toEqual([200, 202, 405]);
  } finally {
    await c.close();
  }
});

test('an expired token is refused with 401 invalid_token before the MCP server sees it', async () => {
  const expired = issuer.sign({ aud: mcp.resource, scope: 'read write' }, { expiresIn: -120 });
  const { client: c, transport, responses } = client(expired);
  await expect(c.connect(transport)).rejects.toMatchObject({ code: 401 });
  expect(responses[0].status).toBe(401);
  expect(extractWWWAuthenticateParams(responses[0]).error).toBe('invalid_token');
  expect(await responses[0].json()).toMatchObject({ error: 'invalid_token' });
});

test('a token for another resource is refused with 401 invalid_audience', async () => {
  const other = issuer.sign({ aud: 'https://other.example.com/mcp', scope: 'read write' });
  const { client: c, transport, responses } = client(other);
  await expect(c.connect(transport)).rejects.toMatchObject({ code: 401 });
  expect(responses[0].status).toBe(401);
  expect(await responses[0].json()).toMatchObject({ error: 'invalid_audience' });
});
