'use strict';
// The Redis replay store, against a real redis-server started by the test (the Debian package;
// .ci/run installs it): two server processes behind one public origin share it, so a proof
// replayed on the second instance is refused; Redis killed → 503 with Retry-After and no
// challenge (fail closed, never a pass); Redis restarted → the same instances recover. The
// client is oauth4webapi with a token from oidc-provider; the "load balancer" is its fetch,
// which sends each request to the instance the test picks.
//
// Run with `node --experimental-vm-modules` (npm test does): oauth4webapi and jose are ESM-only.

const path = require('node:path');
const { spawn } = require('node:child_process');
const { MCPAuth } = require('..');
const { closeAll, request, decodeJwt, startProviderChild, sleep } = require('./helpers');
const { dpopClient, oauth } = require('./dpop-client');
const { startRedis, stopAllRedis } = require('./redis');

jest.setTimeout(90000);

/** The public URL both instances serve (the proofs' `htu`); nothing listens there. */
const RESOURCE = 'https://mcp.example.com/mcp';

const children = new Set();

/** Starts `fixtures/dpop-server-child.js` with `env`; resolves `{ origin, stop() }` once it listens. */
function startInstance(env) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'dpop-server-child.js')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      resolve({
        origin: JSON.parse(line).origin,
        stop: () =>
          new Promise((done) => {
            children.delete(child);
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}: ${stderr}`)));
  });
}

let provider;
let redis;
let a;
let b;
let client;
beforeAll(async () => {
  [provider, redis] = await Promise.all([startProviderChild('oidc-dpop-child.mjs', { env: { RESOURCE } }), startRedis()]);
  const env = { ISSUER: provider.issuer, RESOURCE, REDIS: redis.url };
  [a, b] = await Promise.all([startInstance({ ...env, INSTANCE: 'a' }), startInstance({ ...env, INSTANCE: 'b' })]);
  client = await dpopClient({ issuer: provider.issuer, resource: RESOURCE });
});
afterAll(async () => {
  await Promise.all([...children].map((c) => new Promise((done) => (c.exitCode !== null ? done() : (c.once('exit', done), c.kill('SIGTERM'))))));
  await provider?.stop();
  await stopAllRedis();
  await closeAll();
});

/**
 * One call to RESOURCE through oauth4webapi (a fresh proof for the public URL), delivered to
 * `instance`; resolves `{ status, headers, body, proof }`.
 */
async function call(instance, { proof } = {}) {
  const o = await oauth();
  let sent;
  const lb = (href, init) => {
    const url = new URL(href);
    sent = init.headers.dpop;
    const headers = proof ? { ...init.headers, dpop: proof } : init.headers;
    return fetch(`${instance.origin}${url.pathname}${url.search}`, { ...init, headers });
  };
  let response;
  try {
    response = await o.protectedResourceRequest(client.token, 'GET', new URL(RESOURCE), new Headers(), undefined, {
      DPoP: client.dpop,
      [o.customFetch]: lb,
    });
  } catch (err) {
    if (!(err instanceof o.WWWAuthenticateChallengeError)) throw err;
    response = err.response;
  }
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body, text, proof: proof ?? sent };
}

test('both instances accept fresh proofs for the public URL, with the shared Redis store', async () => {
  const [ra, rb] = [await call(a), await call(b)];
  expect([ra.status, rb.status]).toEqual([200, 200]);
  expect(ra.body).toMatchObject({ instance: 'a', auth: { tokenType: 'DPoP', dpop: { jkt: client.jkt }, token: client.token } });
  expect(rb.body).toMatchObject({ instance: 'b', auth: { tokenType: 'DPoP', dpop: { jkt: client.jkt } } });
  expect(decodeJwt(ra.proof).payload.htu).toBe(RESOURCE);
});

test('a proof used on one instance is refused when replayed on the other (and on the same)', async () => {
  const first = await call(a);
  expect(first.status).toBe(200);
  for (const instance of [b, a]) {
    const replay = await call(instance, { proof: first.proof });
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: 'invalid_dpop_proof', error_description: 'The DPoP proof is missing, malformed or invalid.' });
    expect(replay.headers.get('www-authenticate')).toBe(
      'DPoP error="invalid_dpop_proof", error_description="The DPoP proof is missing, malformed or invalid.", ' +
        'algs="ES256 ES384 EdDSA RS256 PS256", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
    );
    expect(replay.text).not.toContain(client.token);
    expect(replay.text).not.toContain(first.proof);
  }
  // The jti is in Redis, under a digest of the key and the jti (never the jti itself).
  const keys = await redis.command('KEYS', '*');
  expect(keys.length).toBeGreaterThan(0);
  expect(keys.join(' ')).not.toContain(decodeJwt(first.proof).payload.jti);
});

test('Redis killed: 503 temporarily_unavailable with Retry-After and no challenge, never a pass; restarted: recovery', async () => {
  await redis.kill();
  for (const instance of [a, b]) {
    const res = await call(instance);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'The authorization service is temporarily unavailable. Please retry later.',
    });
    expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.text).not.toContain(client.token);
  }
  // A Bearer request does not touch the store: an unbound token still passes while Redis is down.
  const plain = await dpopClient({ issuer: provider.issuer, resource: RESOURCE, bound: false });
  const bearer = await request(`${a.origin}/mcp`, { authorization: `Bearer ${plain.token}` });
  expect(bearer.status).toBe(200);
  expect(bearer.body.auth).not.toHaveProperty('tokenType');

  await redis.restart();
  // The connection comes back on its own: allow it a few attempts.
  let recovered;
  for (let i = 0; i < 50; i++) {
    recovered = await call(b);
    if (recovered.status === 200) break;
    await sleep(100);
  }
  expect(recovered.status).toBe(200);
  expect(recovered.body).toMatchObject({ instance: 'b', auth: { tokenType: 'DPoP' } });
  const again = await call(a);
  expect(again.status).toBe(200);
  // And replays are refused again across instances.
  expect((await call(b, { proof: again.proof })).status).toBe(401);
});

test('a Redis URL is checked when the middleware is made; nothing connects before the first proof', () => {
  const auth = new MCPAuth({ protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer: provider.issuer }] } } });
  // A port where nothing listens: making the middleware neither fails nor waits.
  const started = Date.now();
  expect(typeof auth.bearerAuth('jwt', { resource: RESOURCE, dpop: { replayStore: { redis: 'redis://127.0.0.1:1' } } })).toBe('function');
  expect(Date.now() - started).toBeLessThan(1000);
});

test('with nonces on, a nonce one instance handed out is accepted by the other (the secret is shared through Redis)', async () => {
  const env = { ISSUER: provider.issuer, RESOURCE, REDIS: redis.url, NONCE: '1' };
  const [c, d] = await Promise.all([startInstance({ ...env, INSTANCE: 'c' }), startInstance({ ...env, INSTANCE: 'd' })]);
  const first = await call(c); // no nonce yet
  expect(first.status).toBe(401);
  expect(first.body.error).toBe('use_dpop_nonce');
  expect(first.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce", /);
  const nonce = first.headers.get('dpop-nonce');
  expect(nonce).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  // oauth4webapi kept the nonce for the origin; the "load balancer" sends the retry to the other instance.
  const second = await call(d);
  expect(second.status).toBe(200);
  expect(decodeJwt(second.proof).payload.nonce).toBe(nonce);
  expect(second.headers.get('dpop-nonce')).toBe(nonce);
  expect(second.body).toMatchObject({ instance: 'd', auth: { tokenType: 'DPoP' } });
  await Promise.all([c.stop(), d.stop()]);
});
