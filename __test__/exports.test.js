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
    for (const v of VALUES) {
      await survive(() => legacy.jwtGuard(v));
      await survive(() => legacy.customGuard(v, v));
      await survive(() => legacy.customGuard(async () => ({}), v));
    }
  });

  test('NativeGuard.verify and keyEpoch', async () => {
    const guard = legacy.jwtGuard({ remoteJwkSet: { timeoutDuration: 200 } });
    for (const v of VALUES) {
      await survive(() => guard.verify(v));
      await survive(() => guard.verify('Bearer a.b.c', v));
    }
    expect(typeof guard.keyEpoch()).toBe('number');
  });

  test('custom guard whose settle function misbehaves', async () => {
    const settles = [
      () => {
        throw new Error('sync');
      },
      () => Promise.reject(new Error('async')),
      () => 42,
      () => ({ json: 42 }),
      () => ({ json: '{' }),
      () => ({ errorClass: {}, code: [] }),
      () => ({ errorClass: 'MCPAuthTokenVerificationError', code: 'no_such_code', cause: '{' }),
      () => ({ missingScopes: [1, 2] }),
    ];
    for (const settle of settles) {
      // As given (a sync throw, a non-Promise result) and wrapped in an async function.
      for (const fn of [settle, async (...a) => settle(...a)]) {
        const guard = legacy.customGuard(fn, { verifyTimeout: 200 });
        const outcome = await guard.verify('Bearer abc').catch((e) => e);
        expect(outcome).toBeDefined();
      }
    }
    // One that never settles is cut off by verifyTimeout: a 503 outcome.
    const hanging = legacy.customGuard(() => new Promise(() => {}), { verifyTimeout: 100 });
    expect((await hanging.verify('Bearer abc')).status).toBe(503);
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
    expect(native.configWarnings(legacy)).toEqual(expect.any(Array));
  });
});
