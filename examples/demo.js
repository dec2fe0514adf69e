'use strict';
// mcp-auth-native in one minute: an embedded OpenID Connect issuer, a real MCP server (the
// `whoami` example, @modelcontextprotocol/sdk over Streamable HTTP) whose `/mcp` endpoint
// requires the scopes `read` and `write` (and `secrets:read` for its tool `read_secret`), and a
// real MCP client that walks the way an MCP client does: 401 -> follow `resource_metadata` ->
// find the issuer -> token -> 403 -> token with the scopes -> 200 and `whoami` -> `read_secret`
// -> 403 insufficient_scope naming every scope of that call -> step up -> 200.
//
//   npm run demo        (node examples/demo.js)
//
// Exits 0 when every answer is the expected one, 1 otherwise.

let startWhoamiServer;
try {
  ({ startWhoamiServer } = require('./whoami-server'));
} catch (error) {
  console.error(`demo: cannot load mcp-auth-native (build it with \`npm run build\`): ${error.message}`);
  process.exit(1);
}
const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const {
  extractWWWAuthenticateParams,
  discoverOAuthProtectedResourceMetadata,
  discoverAuthorizationServerMetadata,
} = require('@modelcontextprotocol/sdk/client/auth.js');
const { startLocalIssuer } = require('./local-issuer');

const shorten = (token) => `${token.slice(0, 12)}…${token.slice(-6)} (${token.length} chars)`;
const say = (text = '') => console.log(text);

function expect(step, condition, what) {
  if (!condition) throw new Error(`step ${step}: ${what}`);
}

/**
 * Connects an MCP client with `token` (or none). Resolves `{ client, refusal() }` when connected,
 * or `{ response }`: the HTTP error answer that stopped it (body still readable).
 */
async function connect(url, token) {
  let failed;
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (response.status === 401 || response.status === 403) failed = response.clone();
      return response;
    },
  });
  const client = new Client({ name: 'demo-client', version: '1.0.0' });
  try {
    await client.connect(transport);
    // `refusal()`: the last 401/403 answer the connected client got, if any.
    return { client, refusal: () => failed };
  } catch (error) {
    if (failed) return { response: failed };
    throw error;
  }
}

async function main() {
  const cleanup = [];
  try {
    const issuer = await startLocalIssuer({ type: 'oidc' });
    cleanup.push(() => issuer.close());
    const mcp = await startWhoamiServer({ issuer: issuer.issuer, type: 'oidc', requiredScopes: ['read', 'write'] });
    cleanup.push(() => mcp.close());

    say('mcp-auth-native demo');
    say(`   issuer      ${issuer.issuer}  (embedded OpenID Connect issuer)`);
    say(`   MCP server  ${mcp.url}  (tools \`whoami\` and \`read_secret\`; requires scopes: read write;`);
    say('               read_secret also needs secrets:read)');

    say('\n1) The MCP client connects without a token');
    const first = await connect(mcp.url);
    expect(1, first.response && first.response.status === 401, 'expected HTTP 401');
    const challenge = extractWWWAuthenticateParams(first.response);
    say(`   POST /mcp -> 401 ${first.response.statusText}`);
    say(`   WWW-Authenticate: ${first.response.headers.get('www-authenticate')}`);
    expect(1, challenge.resourceMetadataUrl, 'expected a resource_metadata URL');

    say('\n2) It follows resource_metadata (RFC 9728) to find who issues tokens for this server');
    const prm = await discoverOAuthProtectedResourceMetadata(mcp.url, {
      resourceMetadataUrl: challenge.resourceMetadataUrl,
    });
    say(`   GET ${challenge.resourceMetadataUrl.href} -> 200`);
    say(`   resource               ${prm.resource}`);
    say(`   authorization_servers  ${prm.authorization_servers.join(', ')}`);
    say(`   scopes_supported       ${(prm.scopes_supported || []).join(' ')}`);
    const asMetadata = await discoverAuthorizationServerMetadata(prm.authorization_servers[0]);
    say(`   the issuer's metadata: token_endpoint ${asMetadata.token_endpoint}, jwks_uri ${asMetadata.jwks_uri}`);
    expect(2, prm.resource === mcp.resource && prm.authorization_servers[0] === issuer.issuer, 'unexpected metadata');

    say('\n3) It gets a token with scope "read" only (the embedded issuer signs it: no OAuth flow)');
    const readOnly = issuer.sign({ aud: prm.resource, sub: 'alice', client_id: 'demo-client', scope: 'read' });
    say(`   token ${shorten(readOnly)}: sub alice, aud ${prm.resource}, scope "read"`);
    const second = await connect(mcp.url, readOnly);
    expect(3, second.response && second.response.status === 403, 'expected HTTP 403');
    const denied = extractWWWAuthenticateParams(second.response);
    say(`   POST /mcp -> 403 ${second.response.statusText}`);
    say(`   WWW-Authenticate: ${second.response.headers.get('www-authenticate')}`);
    say(`   body: ${JSON.stringify(await second.response.json())}`);
    expect(3, denied.error === 'insufficient_scope' && denied.scope === 'read write', 'expected insufficient_scope');

    say(`\n4) It asks for the scopes the challenge names ("${denied.scope}") and calls whoami`);
    const full = issuer.sign({ aud: prm.resource, sub: 'alice', client_id: 'demo-client', scope: denied.scope });
    const third = await connect(mcp.url, full);
    expect(4, third.client, `expected to connect, got HTTP ${third.response && third.response.status}`);
    try {
      const { tools } = await third.client.listTools();
      say(`   connected; tools: ${tools.map((t) => t.name).join(', ')}`);
      const result = await third.client.callTool({ name: 'whoami', arguments: {} });
      say(`   whoami -> ${result.content[0].text}`);
      expect(4, result.structuredContent && result.structuredContent.subject === 'alice', 'expected subject alice');
    } finally {
      await third.client.close();
    }

    say('\n5) With the same token it calls read_secret, a tool that needs one more scope');
    const fourth = await connect(mcp.url, full);
    expect(5, fourth.client, 'expected to connect');
    let stepUp;
    try {
      await fourth.client.callTool({ name: 'read_secret', arguments: {} });
    } catch (error) {
      stepUp = { error, response: fourth.refusal() };
    } finally {
      await fourth.client.close();
    }
    expect(5, stepUp && stepUp.response && stepUp.response.status === 403, 'expected HTTP 403 for read_secret');
    const needed = extractWWWAuthenticateParams(stepUp.response);
    say(`   tools/call read_secret -> 403 ${stepUp.response.statusText}`);
    say(`   WWW-Authenticate: ${stepUp.response.headers.get('www-authenticate')}`);
    say(`   body: ${JSON.stringify(await stepUp.response.json())}`);
    expect(5, needed.error === 'insufficient_scope' && needed.scope === 'read write secrets:read', 'expected every scope of the call');

    say(`\n6) It steps up: a new token with every scope the challenge named ("${needed.scope}"), and retries`);
    const stepped = issuer.sign({ aud: prm.resource, sub: 'alice', client_id: 'demo-client', scope: needed.scope });
    const fifth = await connect(mcp.url, stepped);
    expect(6, fifth.client, 'expected to connect');
    try {
      const secret = await fifth.client.callTool({ name: 'read_secret', arguments: {} });
      say(`   tools/call read_secret -> 200: ${secret.content[0].text}`);
      expect(6, secret.structuredContent && secret.structuredContent.readBy === 'alice', 'expected the secret, read by alice');
    } finally {
      await fifth.client.close();
    }

    say('\nAll answers were the expected ones: 401, metadata, 403 insufficient_scope, 200 whoami, 403 step-up, 200 read_secret.');
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
