'use strict';
// Abort safety (issue 6): every native export, called with malformed input of every kind, throws
// or answers; none takes the process down. A Rust panic or an unchecked napi conversion would
// abort the jest worker, failing this suite. The exports are audited in SECURITY.md.

const native = require('../binding.js');

const cyclic = {};
cyclic.self = cyclic;
const deep = {};
for (let i = 0, o = deep; i < 100000; i++, o = o.a) o.a = {};
const throwing = {
  get metadata() {
    throw new Error('getter');
  },
  get resource() {
    throw new Error('getter');
  },
};
const hostile = new Proxy(
  {},
  {
    get() {
      throw new Error('proxy get');
    },
    ownKeys() {
      throw new Error('proxy keys');
    },
  },
);

// Every kind of JS value an export could be handed.
const VALUES = [
  undefined, null, 0, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 64, true, '', 'x', 'x'.repeat(1 << 20),
  '\u0000\r\n', 'https://', 'http://127.0.0.1:1/', Symbol('s'), 10n, () => 1, [], [[[]]], {}, cyclic, deep,
  throwing, hostile, new Date(), Buffer.from('x'), new Map(), { protectedResources: cyclic },
  { protectedResources: { metadata: { resource: 'https://r', authorizationServers: [hostile] } } },
  { server: { type: 'oidc', metadata: { issuer: 'https://i', jwksUri: 'https://i/j' } } },
];

/** Calls `f`; a throw or a settled promise is fine. Returns what happened, for the record. */
async function survive(f) {
  try {
    const r = f();
    if (r && typeof r.then === 'function') await r.then(() => 'resolved', () => 'rejected');
    return 'returned';
  } catch (e) {
    // Errors made by napi belong to Node's realm, not jest's: check the brand, not instanceof.
    expect(Object.prototype.toString.call(e)).toBe('[object Error]');
    return 'threw';
  }
}

const legacy = new native.NativeMCPAuth({
  server: { type: 'oidc', metadata: { issuer: 'https://i.example', jwksUri: 'http://127.0.0.1:1/jwks' } },
});

/** A `done(outcomes)` callback (a batch of outcomes, each with its `callId`) and a way to await the outcome of one call. */
function outcomes() {
  const waiting = new Map();
  const arrived = new Map();
  return {
    done(batch) {
      for (const outcome of batch) {
        const w = waiting.get(outcome.callId);
        if (w) w(outcome);
        else arrived.set(outcome.callId, outcome);
      }
    },
    next(callId) {
      if (arrived.has(callId)) return Promise.resolve(arrived.get(callId));
      return new Promise((resolve) => waiting.set(callId, resolve));
    },
  };
}

describe('native exports survive malformed input', () => {
  test('errorCodes and the no-argument methods', () => {
    expect(native.errorCodes().length).toBeGreaterThan(10);
    expect(legacy.resourceDocuments()).toEqual([]);
    expect(legacy.legacy).toBe(true);
  });

  test('NativeMCPAuth constructor', async () => {
    for (const v of VALUES) await survive(() => new native.NativeMCPAuth(v));
  });

  test('jwtGuard and customGuard', async () => {
    const { done } = outcomes();
    for (const v of VALUES) {
      await survive(() => legacy.jwtGuard(v, v));
      await survive(() => legacy.jwtGuard(done, v));
      await survive(() => legacy.customGuard(v, v, v));
      await survive(() => legacy.customGuard(() => {}, done, v));
    }
  });

  test('NativeGuard.verify, settled and keyEpoch', async () => {
    const o = outcomes();
    const guard = legacy.jwtGuard(o.done, { remoteJwkSet: { timeoutDuration: 200 } });
    let id = 0;
    for (const v of VALUES) {
      await survive(() => guard.verify(v, ++id));
      await survive(() => guard.verify('Bearer a.b.c', v));
      await survive(() => guard.settled(v, v));
      await survive(() => guard.settled(1, v));
    }
    // A token goes to the runtime and its outcome comes back through done.
    expect(guard.verify('Bearer a.b.c', 4242)).toBeNull();
    expect((await o.next(4242)).status).toBe(401);
    expect(typeof guard.keyEpoch()).toBe('number');
  });

  test('NativeGuard.check, grants and verify with an operation (issue 12)', async () => {
    const o = outcomes();
    const guard = legacy.jwtGuard(o.done, { toolScopes: { t: ['a'] }, scopesFor: true, scopeHierarchy: { b: ['a'] } });
    expect(guard.perOperation).toBe(true);
    expect(guard.warnings()).toEqual([]);
    let id = 10000;
    for (const v of VALUES) {
      await survive(() => guard.check(v, v));
      await survive(() => guard.check(['a'], v));
      await survive(() => guard.check(v, { operations: [] }));
      await survive(() => guard.check(['a'], { operations: [{ method: 'tools/call', name: 't' }], scopesFor: [v] }));
      await survive(() => guard.grants(v, v));
      await survive(() => guard.grants(['b'], v));
      await survive(() => guard.verify('Bearer a.b.c', ++id, v));
      await survive(() => guard.verify('Bearer a.b.c', ++id, { operations: v }));
    }
    expect(guard.grants(['b'], ['a'])).toBe(true);
    expect(guard.grants(['a'], ['b'])).toBe(false);
    expect(guard.check(['a'], { operations: [{ method: 'tools/call', name: 't' }] })).toBeNull();
    expect(guard.check([], { operations: [{ method: 'tools/call', name: 't' }] }).status).toBe(403);
    expect(guard.check(['a'], { operations: [], scopesFor: ['no'] }).status).toBe(500);
    expect(guard.check(['a'], { operations: [], unreadable: true }).status).toBe(500);
  });

  test('custom guard whose settle function misbehaves or reports nonsense', async () => {
    const verdicts = [
      { json: 42 },
      { json: '{' },
      { json: 'null' },
      { json: '{"token":1}' },
      { errorClass: {}, code: [] },
      { errorClass: 'MCPAuthTokenVerificationError', code: 'no_such_code', cause: '{' },
      { errorClass: 'NoSuchClass', code: 'invalid_token' },
      { missingScopes: [1, 2] },
      {},
      null,
      'verdict',
    ];
    let id = 0;
    for (const verdict of verdicts) {
      const o = outcomes();
      let guard;
      const settle = (token, callId) => {
        // Reports nonsense, then again for the same call, then for a call that does not exist.
        for (const [c, v] of [[callId, verdict], [callId, { json: '{}' }], [callId + 1e6, {}]]) {
          try {
            guard.settled(c, v);
          } catch {
            // a conversion error is fine; an abort is not
          }
        }
      };
      guard = legacy.customGuard(settle, o.done, { verifyTimeout: 300 });
      const callId = ++id;
      expect(guard.verify('Bearer abc', callId)).toBeNull();
      expect([401, 500, 503, 0]).toContain((await o.next(callId)).status);
    }
  });

  test('custom guard whose settle never reports: 503 after verifyTimeout', async () => {
    for (const settle of [
      () => {},
      () => Promise.reject(new Error('ignored')).catch(() => {}),
    ]) {
      const o = outcomes();
      const guard = legacy.customGuard(settle, o.done, { verifyTimeout: 100 });
      expect(guard.verify('Bearer abc', 7)).toBeNull();
      expect((await o.next(7)).status).toBe(503);
    }
  });

  test('a throwing settle or done is an uncaughtException in Node, not an abort; the request still ends', () => {
    // index.js's wrappers never throw; this pins what would happen if one did. In a child
    // process, so the uncaught exception cannot disturb jest.
    const script = `
      const native = require(${JSON.stringify(require.resolve('../binding.js'))});
      const auth = new native.NativeMCPAuth({ server: { type: 'oidc', metadata: { issuer: 'https://i.example', jwksUri: 'http://127.0.0.1:1/jwks' } } });
      let uncaught = 0;
      process.on('uncaughtException', () => uncaught++);
      const results = [];
      const g1 = auth.customGuard(() => { throw new Error('settle'); }, (batch) => batch.forEach((o) => results.push(o.status)), { verifyTimeout: 100 });
      g1.verify('Bearer abc', 1);
      const g2 = auth.jwtGuard(() => { throw new Error('done'); }, { remoteJwkSet: { timeoutDuration: 100 } });
      g2.verify('Bearer a.b.c', 2);
      setTimeout(() => { console.log(JSON.stringify({ uncaught, results })); }, 600);
    `;
    const r = require('node:child_process').spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({ uncaught: 2, results: [503] });
  });

  test('the discovery functions', async () => {
    for (const v of VALUES) {
      await survive(() => native.serverMetadataUrl(v, v));
      await survive(() => native.serverMetadataUrl('https://i.example', v));
      await survive(() => native.fetchServerDocument(v, v));
      await survive(() => native.fetchServerDocument('http://127.0.0.1:1/x', v));
      await survive(() => native.resolveServerDocument(v, v));
      await survive(() => native.validateServerConfig(v, v));
      await survive(() => native.configWarnings(v));
      await survive(() => native.authorizationServerDocument(v));
    }
    await survive(() => native.authorizationServerDocument(legacy));
    // The inspect CLI's export (added with issue 5).
    for (const v of VALUES) {
      await survive(() => native.inspect(v));
      await survive(() => native.inspect({ token: v, issuer: v, serverType: v, audience: v, scopes: v, resource: v }));
    }
    for (const token of ['', 'a.b.c', 'x'.repeat(1 << 20), '\u0000.\r\n.', `${'e30'}.${'e30'}.`]) {
      await survive(() => native.inspect({ token, issuer: 'http://127.0.0.1:1', audience: ['\u0000'], scopes: [''] }));
    }
    expect(native.configWarnings(legacy)).toEqual(expect.any(Array));
  });

  // bearerAuth('introspection') (issue 14).
  const creds = { clientId: 'rs', clientSecret: 's', endpoint: 'http://127.0.0.1:1/introspect', timeoutDuration: 200 };

  test('introspectionGuard', async () => {
    const { done } = outcomes();
    for (const v of VALUES) {
      await survive(() => native.introspectionGuard(v, v, v));
      await survive(() => native.introspectionGuard(legacy, v, v));
      await survive(() => native.introspectionGuard(legacy, done, v));
      await survive(() => native.introspectionGuard(legacy, done, { introspection: v }));
      await survive(() => native.introspectionGuard(legacy, done, { introspection: { ...creds, clientSecret: v } }));
      await survive(() => native.introspectionGuard(legacy, done, { introspection: { ...creds, endpoint: v } }));
      await survive(() => native.introspectionGuard(legacy, done, { introspection: { ...creds, cacheMaxAge: v } }));
    }
  });

  test('the introspection NativeGuard: verify, check, grants and keyEpoch', async () => {
    const o = outcomes();
    const guard = native.introspectionGuard(legacy, o.done, { introspection: creds, toolScopes: { t: ['a'] }, scopeHierarchy: { b: ['a'] } });
    expect(guard.perOperation).toBe(true);
    expect(guard.warnings()).toEqual([]);
    let id = 20000;
    for (const v of VALUES) {
      await survive(() => guard.verify(v, ++id));
      await survive(() => guard.verify('Bearer opaque', v));
      await survive(() => guard.verify('Bearer opaque', ++id, v));
      await survive(() => guard.verify('Bearer opaque', ++id, { operations: v }));
      await survive(() => guard.check(v, v));
      await survive(() => guard.check(['a'], v));
      await survive(() => guard.grants(v, v));
    }
    // A token goes to the runtime; the endpoint is down: 503 through done.
    expect(guard.verify('Bearer opaque', 4343)).toBeNull();
    const outcome = await o.next(4343);
    expect(outcome.status).toBe(503);
    expect(outcome.retryAfter).toBe(1);
    expect(guard.keyEpoch()).toBe(0);
    expect(guard.grants(['b'], ['a'])).toBe(true);
    expect(guard.check([], { operations: [{ method: 'tools/call', name: 't' }] }).status).toBe(403);
  });

  test('inspectIntrospection', async () => {
    for (const v of VALUES) {
      await survive(() => native.inspectIntrospection(v));
      await survive(() =>
        native.inspectIntrospection({ token: v, issuer: v, clientId: v, clientSecret: v, endpoint: v, authMethod: v, audience: v, scopes: v, resource: v, serverType: v }),
      );
    }
    const r = await native.inspectIntrospection({ token: 't', issuer: 'https://i.example', clientId: 'rs', clientSecret: 'zz-secret', endpoint: 'http://127.0.0.1:1/i' });
    expect(r.accepted).toBe(false);
    expect(JSON.stringify(r)).not.toContain('zz-secret');
  });
});
