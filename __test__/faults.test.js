'use strict';
// Broken dependencies (issue 6): the JWKS and discovery endpoints of a controllable issuer on
// 127.0.0.1 go down, hang, answer garbage, redirect or flood, and come back. Each fault must end
// in the contract's status, with a bounded number of fetches, and recover without a restart.
// What __test__/jwt.test.js covers (a JWKS or metadata that never answers, answering 500, HTML,
// 404, no jwks_uri, rotation picked up, stale-if-error, a burst of 10 unknown kids, backoff of a
// failed discovery) is not repeated here.

const http = require('node:http');
const { MCPAuth } = require('..');
const { startApp, startIssuer, closeAll, withToken, sleep, waitFor, countRequests } = require('./helpers');

const RESOURCE = 'https://api.example.com/mcp';
const now = () => Math.floor(Date.now() / 1000);

afterEach(closeAll);

// ---------------------------------------------------------------------------------------------

function expectStatus(res, status, error) {
  expect({ status: res.status, error: res.body && res.body.error }).toEqual({ status, error });
}
const expectOk = (res) => expect({ status: res.status, auth: typeof res.body.auth }).toEqual({ status: 200, auth: 'object' });
const expectInvalidToken = (res) => {
  expectStatus(res, 401, 'invalid_token');
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
};
function expectUnavailable(res) {
  expectStatus(res, 503, 'temporarily_unavailable');
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
}
const expectServerError = (res) => {
  expectStatus(res, 500, 'server_error');
  expect(res.headers.get('www-authenticate')).toBeNull();
};

const tokenFor = (issuer, claims = {}, options) => issuer.sign({ aud: RESOURCE, ...claims }, options);
const jwksOf = (issuer) => ({ keys: Object.values(issuer.keys).map((k) => k.jwk) });

/** An app for RESOURCE trusting `issuer`: resolved (`jwksUri` given) or through discovery. */
async function protect(issuer, { resolved = true, options = {} } = {}) {
  const server = resolved
    ? { type: issuer.type, metadata: { issuer: issuer.issuer, jwksUri: issuer.jwksUri } }
    : { type: issuer.type, issuer: issuer.issuer };
  const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [server] } } });
  return (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE, ...options }))).url;
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Answers 200 with `total` bytes of `chunk` repeated, streamed (no content-length) or declared. */
function sendHuge(res, total, { declared = false, chunk = ' ' } = {}) {
  res.writeHead(200, { 'content-type': 'application/json', ...(declared ? { 'content-length': total } : {}) });
  const block = Buffer.alloc(64 * 1024, chunk);
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(block.length, total - sent);
      sent += n;
      if (!res.write(block.subarray(0, n))) return res.once('drain', pump);
    }
    res.end();
  };
  res.on('error', () => {});
  res.socket.on('error', () => {});
  pump();
}

/**
 * A server of our own on a fixed port, so it can be closed (connection refused) and reopened.
 * `routes(port)` maps a path to the JSON it serves (others 404); `body` alone serves every path.
 */
async function jwksServerOn(port, body, routes) {
  const hits = [];
  let table = {};
  const server = http.createServer((req, res) => {
    hits.push(req.url);
    if (!routes) return sendJson(res, 200, body);
    return req.url in table ? sendJson(res, 200, table[req.url]) : sendJson(res, 404, {});
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  if (routes) table = routes(server.address().port);
  return {
    hits,
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------

describe('the JWKS endpoint down', () => {
  test('connection refused is a 503, and the keys are used once the port answers again', async () => {
    const issuer = await startIssuer();
    const first = await jwksServerOn(0, jwksOf(issuer));
    const port = first.port;
    await first.close();
    const auth = new MCPAuth({
      protectedResources: {
        metadata: {
          resource: RESOURCE,
          authorizationServers: [{ type: 'oidc', metadata: { issuer: issuer.issuer, jwksUri: `http://127.0.0.1:${port}/jwks` } }],
        },
      },
    });
    const url = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE }))).url;
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    // Within the backoff nothing is fetched: still 503, at once.
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    const again = await jwksServerOn(port, jwksOf(issuer));
    try {
      expect(again.hits).toHaveLength(0);
      await sleep(1100); // first retry after 1 s
      expectOk(await withToken(url, tokenFor(issuer)));
      expect(again.hits).toHaveLength(1);
    } finally {
      await again.close();
    }
  });

  test('a JWKS that sends headers and then stalls its body is a 503 after the timeout', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.jwksUri, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
    });
    const url = await protect(issuer, { options: { remoteJwkSet: { timeoutDuration: 300 } } });
    const started = Date.now();
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    expect(Date.now() - started).toBeLessThan(2500);
  });

  test('a JWKS failing with 500 recovers without a restart, retried with backoff and not per request', async () => {
    const issuer = await startIssuer();
    let healthy = false;
    issuer.setHandler(issuer.jwksUri, (req, res) => (healthy ? sendJson(res, 200, jwksOf(issuer)) : sendJson(res, 500, {})));
    const url = await protect(issuer);
    for (let i = 0; i < 20; i++) expectUnavailable(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
    healthy = true;
    await sleep(1100);
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(2);
  });

  test.each([
    ['a 10 MiB body streamed without length', (req, res) => sendHuge(res, 10 * 1024 * 1024)],
    ['a 10 MiB body with its content-length', (req, res) => sendHuge(res, 10 * 1024 * 1024, { declared: true })],
    ['1 MiB + 1 byte', (req, res) => sendHuge(res, 1024 * 1024 + 1)],
    ['deeply nested arrays (JSON bomb)', (req, res) => sendJson(res, 200, `{"keys":${'['.repeat(100000)}${']'.repeat(100000)}}`)],
    ['deeply nested objects (JSON bomb)', (req, res) => sendJson(res, 200, `${'{"keys":'.repeat(50000)}[]${'}'.repeat(50000)}`)],
    ['an empty body', (req, res) => sendJson(res, 200, '')],
    ['a JSON array', (req, res) => sendJson(res, 200, '[]')],
    ['keys that is not an array', (req, res) => sendJson(res, 200, '{"keys":"all"}')],
    ['a duplicate keys member, valid keys second', null],
  ])('a JWKS of %s is a 503 and nothing crashes', async (_, handler) => {
    const issuer = await startIssuer();
    const dup = (req, res) => sendJson(res, 200, `{"keys":[],"keys":${JSON.stringify(jwksOf(issuer).keys)}}`);
    issuer.setHandler(issuer.jwksUri, handler || dup);
    const url = await protect(issuer);
    const res = await withToken(url, tokenFor(issuer));
    if (handler) {
      expectUnavailable(res);
    } else {
      // serde keeps the last duplicate member: the keys parse. Key sets are not security
      // boundaries the way tokens are (the issuer serves them over its own channel).
      expect([200, 503]).toContain(res.status);
    }
  });

  test('a 1 MiB JWKS of junk entries around the real keys still verifies', async () => {
    const issuer = await startIssuer();
    const junk = Array.from({ length: 200000 }, () => 0);
    const body = JSON.stringify({ keys: [...junk, ...jwksOf(issuer).keys] });
    expect(body.length).toBeLessThan(1024 * 1024);
    issuer.setHandler(issuer.jwksUri, (req, res) => sendJson(res, 200, body));
    const url = await protect(issuer);
    expectOk(await withToken(url, tokenFor(issuer)));
  });

  test.each([301, 302, 307, 308])('a JWKS answering %i to another host is not followed: 503', async (status) => {
    const issuer = await startIssuer();
    const target = await startIssuer();
    issuer.setHandler(issuer.jwksUri, (req, res) => {
      res.writeHead(status, { location: target.jwksUri });
      res.end();
    });
    const url = await protect(issuer);
    expectUnavailable(await withToken(url, tokenFor(target, { iss: issuer.issuer })));
    expectUnavailable(await withToken(url, tokenFor(issuer)));
    await sleep(50);
    expect(target.requests).toHaveLength(0);
  });
});

describe('the discovery endpoint down', () => {
  /** Metadata and JWKS at http://127.0.0.1:<port>, with `issuer`'s keys. */
  const issuerRoutes = (issuer) => (port) => ({
    '/.well-known/openid-configuration': { issuer: `http://127.0.0.1:${port}`, jwks_uri: `http://127.0.0.1:${port}/jwks` },
    '/jwks': jwksOf(issuer),
  });

  test('connection refused is a 503, and discovery succeeds once the issuer answers again', async () => {
    const keys = await startIssuer(); // only signs
    const first = await jwksServerOn(0, null, issuerRoutes(keys));
    const port = first.port;
    await first.close();
    const issuer = `http://127.0.0.1:${port}`;
    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer }] } },
    });
    const url = (await startApp(auth.bearerAuth('jwt', { resource: RESOURCE }))).url;
    const token = tokenFor(keys, { iss: issuer });
    expectUnavailable(await withToken(url, token));
    expectUnavailable(await withToken(url, token));
    const again = await jwksServerOn(port, null, issuerRoutes(keys));
    try {
      await sleep(1100);
      expectOk(await withToken(url, token));
      expect(again.hits).toEqual(['/.well-known/openid-configuration', '/jwks']);
    } finally {
      await again.close();
    }
  });

  test.each([
    ['a 10 MiB body', (req, res) => sendHuge(res, 10 * 1024 * 1024), 503],
    ['a 10 MiB body with its content-length', (req, res) => sendHuge(res, 10 * 1024 * 1024, { declared: true }), 503],
    ['deeply nested arrays (JSON bomb)', (req, res) => sendJson(res, 200, `${'['.repeat(100000)}${']'.repeat(100000)}`), 503],
    ['deeply nested objects (JSON bomb)', (req, res) => sendJson(res, 200, `${'{"a":'.repeat(50000)}1${'}'.repeat(50000)}`), 503],
    ['a duplicate issuer member', null, 503],
  ])('metadata of %s is answered %s and nothing crashes', async (_, handler, status) => {
    const issuer = await startIssuer();
    const dup = (req, res) => sendJson(res, 200, `{"issuer":"https://evil.example","issuer":"${issuer.issuer}","jwks_uri":"${issuer.jwksUri}"}`);
    issuer.setHandler(issuer.metadataUrl, handler || dup);
    const url = await protect(issuer, { resolved: false });
    const res = await withToken(url, tokenFor(issuer));
    if (status === 503) expectUnavailable(res);
    expect(countRequests(issuer, issuer.jwksUri)).toBe(0);
  });

  test('metadata with a 900 KiB member still works', async () => {
    const issuer = await startIssuer();
    const body = JSON.stringify({ ...issuer.metadata, scopes_supported: Array.from({ length: 100000 }, (_, i) => `s${i}`) });
    expect(body.length).toBeLessThan(1024 * 1024);
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, body));
    const url = await protect(issuer, { resolved: false });
    expectOk(await withToken(url, tokenFor(issuer)));
  });

  test.each([301, 302, 307, 308])('metadata answering %i to another host is not followed: 500', async (status) => {
    const issuer = await startIssuer();
    const target = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => {
      res.writeHead(status, { location: target.metadataUrl });
      res.end();
    });
    const url = await protect(issuer, { resolved: false });
    expectServerError(await withToken(url, tokenFor(issuer)));
    await sleep(50);
    expect(target.requests).toHaveLength(0);
  });

  test('metadata whose jwks_uri points at another host is used as published (the issuer decides)', async () => {
    const issuer = await startIssuer();
    const keys = await startIssuer();
    issuer.setHandler(issuer.metadataUrl, (req, res) => sendJson(res, 200, { issuer: issuer.issuer, jwks_uri: keys.jwksUri }));
    const url = await protect(issuer, { resolved: false });
    expectOk(await withToken(url, tokenFor(keys, { iss: issuer.issuer })));
    expect(countRequests(keys, keys.jwksUri)).toBe(1);
  });
});

describe('unknown kid storms', () => {
  const storm = async (url, issuer, n, prefix) => {
    const statuses = new Map();
    const tokens = Array.from({ length: n }, (_, i) => tokenFor(issuer, {}, { alg: 'EdDSA', kid: `${prefix}-${i}` }));
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.all(tokens.slice(i, i + 100).map((t) => withToken(url, t)));
      for (const r of batch) statuses.set(r.status, (statuses.get(r.status) || 0) + 1);
    }
    return Object.fromEntries(statuses);
  };

  test('1,000 requests with unknown kids and the default cooldown cause no JWKS fetch beyond the first', async () => {
    const issuer = await startIssuer();
    const url = await protect(issuer);
    expectOk(await withToken(url, tokenFor(issuer)));
    expect(await storm(url, issuer, 1000, 'unknown')).toEqual({ 401: 1000 });
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
    expectOk(await withToken(url, tokenFor(issuer)));
  });

  test('1,000 requests with unknown kids fetch at most once per cooldown', async () => {
    const issuer = await startIssuer();
    const cooldown = 400;
    const url = await protect(issuer, { options: { remoteJwkSet: { cooldownDuration: cooldown } } });
    expectOk(await withToken(url, tokenFor(issuer)));
    const started = Date.now();
    expect(await storm(url, issuer, 1000, 'unknown')).toEqual({ 401: 1000 });
    const elapsed = Date.now() - started;
    await sleep(50);
    const fetches = countRequests(issuer, issuer.jwksUri) - 1;
    expect(fetches).toBeLessThanOrEqual(Math.ceil(elapsed / cooldown) + 1);
  });

  test('1,000 concurrent first requests with unknown kids share one JWKS fetch (cold cache)', async () => {
    const issuer = await startIssuer();
    const url = await protect(issuer);
    const tokens = Array.from({ length: 1000 }, (_, i) => tokenFor(issuer, {}, { alg: 'EdDSA', kid: `cold-${i}` }));
    const results = await Promise.all(tokens.map((t) => withToken(url, t)));
    expect(results.every((r) => r.status === 401)).toBe(true);
    expect(countRequests(issuer, issuer.jwksUri)).toBe(1);
  });

  test('a storm while the JWKS is down is answered 503 with at most one fetch per backoff step', async () => {
    const issuer = await startIssuer();
    issuer.setHandler(issuer.jwksUri, (req, res) => sendJson(res, 500, {}));
    const url = await protect(issuer);
    const started = Date.now();
    expect(await storm(url, issuer, 1000, 'down')).toEqual({ 503: 1000 });
    const elapsed = Date.now() - started;
    // Backoff: 1 s, 2 s, 4 s... after each failure.
    const allowed = 1 + Math.floor(Math.log2(elapsed / 1000 + 1));
    expect(countRequests(issuer, issuer.jwksUri)).toBeLessThanOrEqual(allowed);
  });
});

describe('key rotation', () => {
  test('without overlap: an old token answered from the verified-token cache is refused once the new set is fetched', async () => {
    const issuer = await startIssuer();
    const url = await protect(issuer, { options: { remoteJwkSet: { cooldownDuration: 200 } } });
    const oldToken = tokenFor(issuer, {}, { alg: 'ES256' });
    expectOk(await withToken(url, oldToken));
    expectOk(await withToken(url, oldToken)); // now answered from the cache
    issuer.rotateKeys();
    await sleep(300);
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'ES256' })));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(2);
    expectInvalidToken(await withToken(url, oldToken));
  });

  test('a new key signing before the JWKS publishes it is refused, then accepted once published', async () => {
    const issuer = await startIssuer();
    let published = jwksOf(issuer);
    issuer.setHandler(issuer.jwksUri, (req, res) => sendJson(res, 200, published));
    const url = await protect(issuer, { options: { remoteJwkSet: { cooldownDuration: 300 } } });
    expectOk(await withToken(url, tokenFor(issuer)));
    issuer.rotateKeys(); // signs with new keys; the JWKS still serves the old set
    const fresh = tokenFor(issuer);
    await sleep(350);
    expectInvalidToken(await withToken(url, fresh)); // refetched: still unknown
    expectInvalidToken(await withToken(url, fresh)); // within cooldown: no fetch
    expect(countRequests(issuer, issuer.jwksUri)).toBe(2);
    published = jwksOf(issuer);
    await sleep(350);
    expectOk(await withToken(url, fresh));
    expect(countRequests(issuer, issuer.jwksUri)).toBe(3);
  });

  test('a rotated JWKS that briefly fails keeps the old keys working (stale-if-error) and recovers', async () => {
    const issuer = await startIssuer();
    let mode = 'ok';
    issuer.setHandler(issuer.jwksUri, (req, res) => (mode === 'ok' ? sendJson(res, 200, jwksOf(issuer)) : sendJson(res, 502, {})));
    const url = await protect(issuer, { options: { remoteJwkSet: { cooldownDuration: 100, cacheMaxAge: 300 } } });
    const oldToken = tokenFor(issuer, {}, { alg: 'EdDSA' });
    expectOk(await withToken(url, oldToken));
    mode = 'down';
    await sleep(400);
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'ES384' }))); // stale keys still used
    mode = 'ok';
    issuer.rotateKeys();
    expect(await waitFor(() => false, 1200)).toBe(false); // let the backoff pass
    expectOk(await withToken(url, tokenFor(issuer, {}, { alg: 'ES384' })));
  });
});
