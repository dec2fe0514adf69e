'use strict';
// Step-up authorization through the public API, against real Express servers on 127.0.0.1 and a
// local issuer: per-operation scopes (`toolScopes`, `scopesFor`), `scopeHierarchy`, the memo of
// repeated tokens, the missing-body misconfiguration, `offline_access`, and `mcpAuth.authInfo` /
// `hasScopes`.

const express = require('express');
const { MCPAuth } = require('..');
const { startIssuer, closeAll, listen, request, bearerChallenge } = require('./helpers');

const PATH = '/mcp';
const DESCRIPTION = 'The token does not contain the necessary scopes for this request.';
const UNPARSED =
  'The request body was not parsed, so the scopes of its MCP operation cannot be checked: use `express.json()` (or another JSON body parser) before `bearerAuth`.';

let issuer;
let warnings;
let warn;

beforeAll(async () => {
  issuer = await startIssuer();
});
beforeEach(() => {
  warnings = [];
  warn = jest.spyOn(console, 'warn').mockImplementation((m) => warnings.push(String(m)));
});
afterEach(() => warn.mockRestore());
afterAll(closeAll);

/**
 * An app on 127.0.0.1: `express.json()` (unless `json: false`), then `bearerAuth(mode, options)`
 * for the resource, then a route that answers `{ auth, current, same }` after two awaits:
 * `current` is `mcpAuth.authInfo` there, `same` whether it is `req.auth` itself.
 */
async function app(options = {}, { json = true, mode = 'jwt', resourceMetadata = {} } = {}) {
  const ex = express();
  const server = await listen(ex); // routes are added below, once the port (the resource) is known
  const resource = `${server.origin}${PATH}`;
  const mcpAuth = new MCPAuth({
    protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: issuer.issuer }], ...resourceMetadata } },
  });
  ex.use(mcpAuth.protectedResourceMetadataRouter());
  if (json) ex.use(express.json());
  ex.use(PATH, mcpAuth.bearerAuth(mode, { resource, ...options }));
  ex.all(PATH, async (req, res) => {
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 5)));
    await Promise.resolve();
    const current = mcpAuth.authInfo;
    res.json({ auth: req.auth, current, same: current === req.auth, has: req.query.has ? mcpAuth.hasScopes(req.query.has.split(',')) : undefined });
  });
  // eslint-disable-next-line no-unused-vars
  ex.use((err, req, res, next) => res.status(599).json({ app_error: String(err && err.message) }));
  return { url: `${resource}`, resource, metadataUrl: `${server.origin}/.well-known/oauth-protected-resource${PATH}`, mcpAuth };
}

const token = (target, scope, extra = {}) => issuer.sign({ aud: target.resource, sub: 'alice', scope, ...extra });

/** POSTs `body` (JSON) with `token` and `headers`. */
function post(target, tokenValue, body, headers = {}) {
  return request(
    target.url,
    { authorization: `Bearer ${tokenValue}`, 'content-type': 'application/json', ...headers },
    { method: 'POST', body: JSON.stringify(body) },
  );
}

const call = (name, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });
const list = (id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/list' });

function expectOk(res) {
  expect({ status: res.status, error: res.body && res.body.error }).toEqual({ status: 200, error: undefined });
  expect(res.headers.get('www-authenticate')).toBeNull();
}

/** 403 insufficient_scope whose challenge names `scope` and whose body lists `missing`. */
function expectStepUp(res, target, scope, missing) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 403,
    body: { error: 'missing_required_scopes', error_description: DESCRIPTION, missing_scopes: missing },
  });
  expect(res.headers.get('www-authenticate')).toBe(
    bearerChallenge({ error: 'insufficient_scope', description: DESCRIPTION, scope, resourceMetadata: target.metadataUrl }),
  );
  expect(res.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
}

const TOOLS = { delete_file: ['files:write'], read_file: ['files:read'], echo: [] };

describe('toolScopes: a tools/call needs its tool scopes on top of requiredScopes', () => {
  test('a token without the tool scope gets one 403 naming every scope of the call; with it, 200', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    expectStepUp(await post(t, token(t, 'mcp'), call('delete_file')), t, 'mcp files:write', ['files:write']);
    // Lacking both the endpoint's scope and the tool's: still one challenge naming both.
    expectStepUp(await post(t, token(t, 'files:read'), call('delete_file')), t, 'mcp files:write', ['mcp', 'files:write']);
    const stepped = await post(t, token(t, 'mcp files:write'), call('delete_file'));
    expectOk(stepped);
    expect(stepped.body.auth.scopes).toEqual(['mcp', 'files:write']);
  });

  test('other tools, tools/list and tools without scopes still work with the smaller token', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    const small = token(t, 'mcp');
    expectOk(await post(t, small, list()));
    expectOk(await post(t, small, call('echo')));
    expectOk(await post(t, small, call('not_configured')));
    expectOk(await post(t, small, { jsonrpc: '2.0', method: 'notifications/initialized' }));
  });

  test('a repeated token (answered from the memo) is allowed for one tool and refused for another, every time', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    const repeated = token(t, 'mcp files:read');
    for (let i = 0; i < 4; i++) {
      expectOk(await post(t, repeated, call('read_file')));
      expectStepUp(await post(t, repeated, call('delete_file')), t, 'mcp files:write', ['files:write']);
      expectOk(await post(t, repeated, list()));
    }
    // A token first refused for a tool is then allowed for another (the memo keeps the identity).
    const refusedFirst = token(t, 'mcp', { sub: 'bob' });
    for (let i = 0; i < 3; i++) {
      expectStepUp(await post(t, refusedFirst, call('read_file')), t, 'mcp files:read', ['files:read']);
      const ok = await post(t, refusedFirst, call('echo'));
      expectOk(ok);
      expect(ok.body.auth.subject).toBe('bob');
    }
  });

  test('a repeated token refused for lack of requiredScopes stays refused on GET and DELETE (the memo re-checks every request)', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    const lacking = token(t, 'files:write');
    for (let i = 0; i < 3; i++) {
      expectStepUp(await post(t, lacking, call('delete_file')), t, 'mcp files:write', ['mcp']);
      for (const method of ['GET', 'DELETE']) {
        expectStepUp(await request(t.url, { authorization: `Bearer ${lacking}` }, { method }), t, 'mcp', ['mcp']);
      }
      expectStepUp(await request(t.url, { authorization: `Bearer ${lacking}` }, { method: 'POST' }), t, 'mcp', ['mcp']);
    }
  });

  test('a batch needs the union of its calls; a notification in it needs nothing more', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    const batch = [call('read_file', 1), { jsonrpc: '2.0', method: 'notifications/cancelled', params: {} }, call('delete_file', 2), call('echo', 3)];
    expectStepUp(await post(t, token(t, 'mcp files:read'), batch), t, 'mcp files:read files:write', ['files:write']);
    expectStepUp(await post(t, token(t, 'mcp'), batch), t, 'mcp files:read files:write', ['files:read', 'files:write']);
    expectOk(await post(t, token(t, 'mcp files:read files:write'), batch));
  });

  test('Mcp-Method / Mcp-Name headers count with the body: a header lying about the body cannot lower the bar', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    const small = token(t, 'mcp');
    const lie = { 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
    expectStepUp(await post(t, small, call('delete_file'), lie), t, 'mcp files:write', ['files:write']);
    // The other way round: the header names the protected tool, the body a free one.
    expectStepUp(
      await post(t, small, call('echo'), { 'mcp-method': 'tools/call', 'mcp-name': 'delete_file' }),
      t,
      'mcp files:write',
      ['files:write'],
    );
    // Both named tools need their scopes.
    expectStepUp(
      await post(t, token(t, 'mcp files:read'), call('read_file'), { 'mcp-method': 'tools/call', 'mcp-name': 'delete_file' }),
      t,
      'mcp files:read files:write',
      ['files:write'],
    );
    expectOk(await post(t, small, call('echo'), lie));
  });

  test('headers alone name the operation when there is no body', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS }, { json: false });
    const res = await request(t.url, { authorization: `Bearer ${token(t, 'mcp')}`, 'mcp-method': 'tools/call', 'mcp-name': 'delete_file' }, { method: 'POST' });
    expectStepUp(res, t, 'mcp files:write', ['files:write']);
    expect(warnings).toEqual([]);
  });

  test('GET and DELETE on the MCP endpoint need only requiredScopes, whatever their headers say', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    for (const method of ['GET', 'DELETE']) {
      const headers = { authorization: `Bearer ${token(t, 'mcp')}`, 'mcp-method': 'tools/call', 'mcp-name': 'delete_file' };
      expectOk(await request(t.url, headers, { method }));
      expectStepUp(await request(t.url, { authorization: `Bearer ${token(t, 'other')}` }, { method }), t, 'mcp', ['mcp']);
    }
  });

  test('the challenge and the body never reflect a tool name the client chose', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS });
    const evil = 'x", scope="admin';
    const res = await post(t, token(t, 'none'), call(evil), { 'mcp-method': 'tools/call', 'mcp-name': 'evil-name' });
    expectStepUp(res, t, 'mcp', ['mcp']);
    expect(res.headers.get('www-authenticate')).not.toMatch(/evil|admin/);
    expect(res.text).not.toMatch(/evil|admin/);
  });

  test('with showErrorDetails the 403 body has cause { missing_scopes }', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS, showErrorDetails: true });
    const res = await post(t, token(t, 'mcp'), call('delete_file'));
    expect({ status: res.status, body: res.body }).toEqual({
      status: 403,
      body: { error: 'missing_required_scopes', error_description: DESCRIPTION, missing_scopes: ['files:write'], cause: { missing_scopes: ['files:write'] } },
    });
  });

  test('a custom verifier gets the same per-operation decision', async () => {
    const grants = { small: ['mcp'], big: ['mcp', 'files:write'] };
    const verify = async (t) => ({ token: t, issuer: issuer.issuer, clientId: 'c', scopes: grants[t] });
    const t = await app({ audience: false, requiredScopes: ['mcp'], toolScopes: TOOLS }, { mode: verify });
    expectStepUp(await post(t, 'small', call('delete_file')), t, 'mcp files:write', ['files:write']);
    expectOk(await post(t, 'small', call('echo')));
    const ok = await post(t, 'big', call('delete_file'));
    expectOk(ok);
    expect(ok.body.auth.scopes).toEqual(['mcp', 'files:write']);
  });
});

describe('scopeHierarchy: a broader scope implies narrower ones', () => {
  const HIERARCHY = { 'files:admin': ['files:write'], 'files:write': ['files:read'] };

  test('transitively; req.auth.scopes stays what the token granted', async () => {
    const t = await app({ requiredScopes: ['mcp'], toolScopes: TOOLS, scopeHierarchy: HIERARCHY });
    const admin = await post(t, token(t, 'mcp files:admin'), call('read_file'));
    expectOk(admin);
    expect(admin.body.auth.scopes).toEqual(['mcp', 'files:admin']);
    expectOk(await post(t, token(t, 'mcp files:write'), call('read_file')));
    // Narrower never implies broader.
    expectStepUp(await post(t, token(t, 'mcp files:read'), call('delete_file')), t, 'mcp files:write', ['files:write']);
  });

  test('missing_scopes lists what is still missing after the hierarchy is applied', async () => {
    const tools = { audit: ['files:read', 'files:write', 'audit'] };
    const t = await app({ toolScopes: tools, scopeHierarchy: HIERARCHY });
    expectStepUp(await post(t, token(t, 'files:write'), call('audit')), t, 'files:read files:write audit', ['audit']);
  });

  test('a cycle makes its scopes equivalent', async () => {
    const t = await app({ toolScopes: { a: ['alpha'], b: ['beta'], g: ['gamma'] }, scopeHierarchy: { alpha: ['beta'], beta: ['gamma'], gamma: ['alpha'] } });
    for (const granted of ['alpha', 'beta', 'gamma']) {
      for (const tool of ['a', 'b', 'g']) expectOk(await post(t, token(t, granted), call(tool)));
    }
    expectStepUp(await post(t, token(t, 'delta'), call('a')), t, 'alpha', ['alpha']);
  });

  test('applies to requiredScopes, and to scp-claim tokens (array or string)', async () => {
    const t = await app({ requiredScopes: ['files:read'], scopeHierarchy: HIERARCHY });
    const scpArray = issuer.sign({ aud: t.resource, sub: 'svc', scp: ['files:admin'] });
    const ok = await post(t, scpArray, list());
    expectOk(ok);
    expect(ok.body.auth.scopes).toEqual(['files:admin']);
    expectOk(await post(t, issuer.sign({ aud: t.resource, sub: 'svc', scp: 'files:write' }), list()));
    expectStepUp(await post(t, issuer.sign({ aud: t.resource, sub: 'svc', scp: ['other'] }), list()), t, 'files:read', ['files:read']);
  });
});

describe('scopesFor(operation, req)', () => {
  test('adds scopes for any operation, here resources/read by uri; it sees { method, name, params } and req', async () => {
    const seen = [];
    const scopesFor = (operation, req) => {
      seen.push({ operation, path: req.originalUrl });
      if (operation.method === 'resources/read' && operation.name.startsWith('secret://')) return ['secrets:read'];
      return undefined;
    };
    const t = await app({ requiredScopes: ['mcp'], scopesFor });
    const read = { jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: 'secret://plans' } };
    expectStepUp(await post(t, token(t, 'mcp'), read), t, 'mcp secrets:read', ['secrets:read']);
    expectOk(await post(t, token(t, 'mcp secrets:read'), read));
    expectOk(await post(t, token(t, 'mcp'), { ...read, params: { uri: 'public://x' } }));
    expect(seen[0]).toEqual({ operation: { method: 'resources/read', name: 'secret://plans', params: { uri: 'secret://plans' } }, path: PATH });
  });

  test.each([
    ['a string', () => 'admin', 'It returned a string instead of an array.'],
    ['an invalid scope token', () => ['two words'], 'An entry of its array is not an RFC 6749 scope token.'],
    ['a non-string entry', () => [42], 'An entry of its array is not an RFC 6749 scope token.'],
  ])('returning %s is a 500 server_error naming the problem', async (_, scopesFor, reason) => {
    const t = await app({ scopesFor });
    const res = await post(t, token(t, 'mcp'), list());
    expect({ status: res.status, body: res.body }).toEqual({
      status: 500,
      body: { error: 'server_error', error_description: `\`scopesFor\` must return an array of RFC 6749 scope tokens or \`undefined\`. ${reason}` },
    });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  test("throwing is the app's error: next(err)", async () => {
    const t = await app({
      scopesFor: () => {
        throw new Error('policy store down');
      },
    });
    const res = await post(t, token(t, 'mcp'), list());
    expect({ status: res.status, body: res.body }).toEqual({ status: 599, body: { app_error: 'policy store down' } });
  });
});

describe('a POST the middleware cannot read', () => {
  test('without a JSON body parser: 500 telling the author to parse JSON first, one warning per process', async () => {
    const t = await app({ toolScopes: TOOLS }, { json: false });
    const other = await app({ scopesFor: () => undefined }, { json: false });
    for (const target of [t, other, t]) {
      const res = await post(target, token(target, 'files:write'), call('delete_file'));
      expect({ status: res.status, body: res.body }).toEqual({ status: 500, body: { error: 'server_error', error_description: UNPARSED } });
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
    // Headers do not stand in for a body nobody parsed: they could name another tool than the
    // body, which the MCP transport may parse and run later.
    const lying = await post(t, token(t, 'files:write'), call('delete_file'), { 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect({ status: lying.status, body: lying.body }).toEqual({ status: 500, body: { error: 'server_error', error_description: UNPARSED } });
    // An unauthenticated one too: the server is misconfigured, whatever the token.
    const bare = await request(t.url, { 'content-type': 'application/json' }, { method: 'POST', body: JSON.stringify(list()) });
    expect(bare.status).toBe(500);
    // Once per process (jest gives each test file its own module registry, so this file's first).
    expect(warnings.filter((w) => w.includes('without a parsed body'))).toEqual([
      'mcp-auth-native: `bearerAuth` with `toolScopes` or `scopesFor` got a POST without a parsed body: add `express.json()` before `bearerAuth`, or every such request is answered 500.',
    ]);
    // GET, and a POST without any body, have no operation to read and pass on requiredScopes.
    expectOk(await request(t.url, { authorization: `Bearer ${token(t, 'x')}` }));
    expectOk(await request(t.url, { authorization: `Bearer ${token(t, 'x')}` }, { method: 'POST' }));
  });

  test('without per-operation scopes nothing is read: requiredScopes alone decide, parser or not', async () => {
    const t = await app({ requiredScopes: ['mcp'] }, { json: false });
    expectOk(await post(t, token(t, 'mcp'), call('delete_file')));
  });
});

describe('configuration is checked when given', () => {
  let target;
  beforeAll(async () => {
    target = await app();
  });
  test.each([
    [{ toolScopes: { t: ['two words'] } }, '`options.toolScopes.t` entry "two words" is not an RFC 6749 scope token'],
    [{ toolScopes: { t: 'read' } }, '`options.toolScopes.t` must be an array of strings'],
    [{ toolScopes: ['read'] }, '`options.toolScopes` must be an object'],
    [{ scopeHierarchy: { admin: ['a"b'] } }, '`options.scopeHierarchy.admin` entry "a\\"b" is not an RFC 6749 scope token'],
    [{ scopeHierarchy: { 'bad key': ['a'] } }, '`options.scopeHierarchy` key "bad key" is not an RFC 6749 scope token'],
    [{ scopesFor: ['read'] }, '`options.scopesFor` must be a function'],
  ])('%j is a TypeError naming the field', (options, message) => {
    const make = () => target.mcpAuth.bearerAuth('jwt', { resource: target.resource, ...options });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });
});

describe('offline_access', () => {
  test('is never in a challenge nor in scopes_supported; configuring it there warns once', async () => {
    const t = await app(
      { requiredScopes: ['mcp', 'offline_access'], toolScopes: { sync: ['offline_access', 'files:read'] } },
      { resourceMetadata: { scopesSupported: ['mcp', 'offline_access', 'files:read'] } },
    );
    const res = await post(t, token(t, 'none'), call('sync'));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      bearerChallenge({ error: 'insufficient_scope', description: DESCRIPTION, scope: 'mcp files:read', resourceMetadata: t.metadataUrl }),
    );
    expect(res.body.missing_scopes).toEqual(['mcp', 'offline_access', 'files:read']);
    const unauthenticated = await request(t.url, {}, { method: 'POST' });
    expect(unauthenticated.headers.get('www-authenticate')).toBe(bearerChallenge({ scope: 'mcp', resourceMetadata: t.metadataUrl }));
    const doc = await request(t.metadataUrl);
    expect(doc.body.scopes_supported).toEqual(['mcp', 'files:read']);
    const about = (w) => w.includes('offline_access');
    expect(warnings.filter(about)).toEqual([
      expect.stringContaining('lists `offline_access` in `scopesSupported`'),
      'mcp-auth-native: `requiredScopes` lists `offline_access`: it asks for a refresh token, not for access, so challenges leave it out (MCP authorization: SHOULD NOT).',
      'mcp-auth-native: `toolScopes` lists `offline_access`: it asks for a refresh token, not for access, so challenges leave it out (MCP authorization: SHOULD NOT).',
    ]);
    await app({ requiredScopes: ['offline_access'] });
    expect(warnings.filter(about)).toHaveLength(3);
  });
});

describe('mcpAuth.authInfo and mcpAuth.hasScopes', () => {
  test('is req.auth itself inside the request, across awaits, and undefined outside', async () => {
    const t = await app({ requiredScopes: ['mcp'] });
    expect(t.mcpAuth.authInfo).toBeUndefined();
    expect(t.mcpAuth.hasScopes(['mcp'])).toBe(false);
    const res = await post(t, token(t, 'mcp'), list());
    expectOk(res);
    expect(res.body.same).toBe(true);
    expect(res.body.current).toEqual(res.body.auth);
    expect(t.mcpAuth.authInfo).toBeUndefined();
  });

  test('hasScopes answers for the current token under the hierarchy', async () => {
    const t = await app({ scopeHierarchy: { admin: ['write'], write: ['read'] } });
    const has = async (scopes, wanted) => (await request(`${t.url}?has=${wanted}`, { authorization: `Bearer ${token(t, scopes)}` })).body.has;
    expect(await has('admin', 'read,write')).toBe(true);
    expect(await has('write', 'read')).toBe(true);
    expect(await has('write', 'admin')).toBe(false);
    expect(await has('read', 'read,write')).toBe(false);
    expect(() => t.mcpAuth.hasScopes('read')).toThrow(TypeError);
  });

  test('200 concurrent requests with distinct tokens each see their own identity', async () => {
    const t = await app({ requiredScopes: ['mcp'] });
    const tokens = Array.from({ length: 200 }, (_, i) => token(t, 'mcp', { sub: `user-${i}` }));
    const answers = await Promise.all(tokens.map((tk) => post(t, tk, list())));
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(res.body.current.subject).toBe(`user-${i}`);
      expect(res.body.current.token).toBe(tokens[i]);
      expect(res.body.same).toBe(true);
    });
    // Once more, now answered from the memo.
    const again = await Promise.all(tokens.map((tk) => post(t, tk, list())));
    again.forEach((res, i) => expect([res.status, res.body.current.subject, res.body.same]).toEqual([200, `user-${i}`, true]));
  });
});
