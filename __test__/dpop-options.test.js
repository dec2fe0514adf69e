'use strict';
// The `dpop` option of bearerAuth: checked when the middleware is made (TypeErrors naming the
// field), and advertised in the resource's metadata document (RFC 9449 §5.1, RFC 9728 §2)
// whether the router was made before or after the middlewares.

const express = require('express');
const { MCPAuth, MCPAuthAuthServerError } = require('..');
const { closeAll, listen, request } = require('./helpers');

afterEach(closeAll);

const RESOURCE = 'https://api.example.com/mcp';
const OTHER = 'https://api.example.com/other';
const ISSUER = 'https://auth.example.com';
const server = { type: 'oauth', metadata: { issuer: ISSUER, jwksUri: `${ISSUER}/jwks`, introspectionEndpoint: `${ISSUER}/introspect` } };
const config = () => ({
  protectedResources: [
    { metadata: { resource: RESOURCE, authorizationServers: [server], scopesSupported: ['read'] } },
    { metadata: { resource: OTHER, authorizationServers: [server] } },
  ],
});
const CONFIG_MISMATCH = 'The server configuration does not match the MCP specification.';
const introspection = { clientId: 'rs', clientSecret: 's3cret' };

describe('options.dpop is checked when the middleware is made', () => {
  const auth = new MCPAuth(config());
  const cases = [
    [true, '`options.dpop` must be an object.'],
    [{ nonces: true }, 'Unknown option `options.dpop.nonces`; expected one of: mode, algorithms, iatWindow, nonce, replayStore.'],
    [{ mode: 'optional' }, "`options.dpop.mode` must be 'allowed', 'required' or 'disabled'."],
    [{ algorithms: 'ES256' }, '`options.dpop.algorithms` must be an array of strings.'],
    [{ algorithms: [] }, '`options.dpop.algorithms` must be a non-empty array of algorithm names.'],
    [
      { algorithms: ['HS256'] },
      '`options.dpop.algorithms` entry "HS256" is not supported; use asymmetric algorithms: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA.',
    ],
    [
      { algorithms: ['none'] },
      '`options.dpop.algorithms` entry "none" is not supported; use asymmetric algorithms: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA.',
    ],
    [{ iatWindow: 0 }, '`options.dpop.iatWindow` must be a number of seconds from 1 to 3600.'],
    [{ iatWindow: 86400 }, '`options.dpop.iatWindow` must be a number of seconds from 1 to 3600.'],
    [{ iatWindow: -5 }, '`options.dpop.iatWindow` must be a non-negative number of seconds or a duration string such as "30s" or "5m".'],
    [{ nonce: 'yes' }, '`options.dpop.nonce` must be a boolean.'],
    [{ replayStore: 'redis' }, "`options.dpop.replayStore` must be 'memory' or `{ redis: 'redis://…' }`."],
    [{ replayStore: { url: 'redis://127.0.0.1' } }, 'Unknown option `options.dpop.replayStore.url`; expected one of: redis.'],
    [{ replayStore: { redis: 6379 } }, '`options.dpop.replayStore.redis` must be a `redis://` or `rediss://` URL string.'],
    [{ mode: 'disabled', nonce: 1 }, '`options.dpop.nonce` must be a boolean.'],
  ];
  for (const mode of ['jwt', 'introspection']) {
    test.each(cases)(`${mode} mode: dpop %j throws a TypeError naming the field`, (dpop, message) => {
      const options = mode === 'jwt' ? { resource: RESOURCE, dpop } : { resource: RESOURCE, introspection, dpop };
      expect(() => auth.bearerAuth(mode, options)).toThrow(new TypeError(message));
    });
  }

  test('a replay store URL that is not redis:// or rediss:// is refused without echoing it (it may hold a password)', () => {
    const make = () => auth.bearerAuth('jwt', { resource: RESOURCE, dpop: { replayStore: { redis: 'http://:hunter2@cache:6379' } } });
    expect(make).toThrow(MCPAuthAuthServerError);
    let error;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error.code).toBe('invalid_server_config');
    expect(error.message).toBe(`${CONFIG_MISMATCH} \`options.dpop.replayStore.redis\` must be a \`redis://\` or \`rediss://\` URL with a host.`);
    expect(JSON.stringify(error.toJson(true))).not.toContain('hunter2');
  });

  test('a custom verification function takes no dpop option', () => {
    expect(() => auth.bearerAuth(async () => ({}), { resource: RESOURCE, dpop: {} })).toThrow(
      new TypeError("`options.dpop` applies to `bearerAuth('jwt')` and `bearerAuth('introspection')`, not to a custom verification function."),
    );
  });

  test('DPoP needs the resource: the legacy { server } form without `resource` is refused', () => {
    const legacy = new MCPAuth({ server: { type: 'oauth', metadata: server.metadata } });
    expect(() => legacy.bearerAuth('jwt', { dpop: {} })).toThrow(
      expect.objectContaining({
        name: 'MCPAuthAuthServerError',
        code: 'invalid_server_config',
        message:
          `${CONFIG_MISMATCH} ` +
          '`options.dpop` needs `options.resource`, an http(s) URL: a proof\'s `htu` is checked against its origin and the request path, never against the `Host` header.',
      }),
    );
    expect(typeof legacy.bearerAuth('jwt', { dpop: { mode: 'disabled' } })).toBe('function');
  });

  test('valid options make a middleware in both modes', () => {
    const dpop = { mode: 'required', algorithms: ['ES256', 'EdDSA'], iatWindow: '2m', nonce: true, replayStore: { redis: 'redis://127.0.0.1:1' } };
    expect(typeof auth.bearerAuth('jwt', { resource: RESOURCE, dpop })).toBe('function');
    expect(typeof auth.bearerAuth('introspection', { resource: RESOURCE, introspection, dpop: { replayStore: 'memory' } })).toBe('function');
  });
});

describe('the resource metadata advertises DPoP', () => {
  const documentOf = async (app, path) => (await request(`${app.origin}/.well-known/oauth-protected-resource${path}`)).body;

  test('once a middleware of the resource has DPoP on, with a router made before or after it', async () => {
    const auth = new MCPAuth(config());
    const early = express();
    early.use(auth.protectedResourceMetadataRouter());
    const before = await listen(early);
    expect(await documentOf(before, '/mcp')).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ['read'],
    });
    auth.bearerAuth('jwt', { resource: RESOURCE }); // no DPoP: nothing changes
    auth.bearerAuth('jwt', { resource: RESOURCE, dpop: { mode: 'disabled' } });
    expect(await documentOf(before, '/mcp')).not.toHaveProperty('dpop_signing_alg_values_supported');
    auth.bearerAuth('jwt', { resource: RESOURCE, dpop: {} });
    const allowed = {
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      scopes_supported: ['read'],
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    };
    expect(await documentOf(before, '/mcp')).toEqual(allowed);
    const late = express();
    late.use(auth.protectedResourceMetadataRouter());
    const after = await listen(late);
    expect(await documentOf(after, '/mcp')).toEqual(allowed);
    expect(await documentOf(after, '/other')).toEqual({ resource: OTHER, authorization_servers: [ISSUER] });
  });

  test('dpop_bound_access_tokens_required once one middleware of the resource requires DPoP; algorithms are the union', async () => {
    const auth = new MCPAuth(config());
    const app = express();
    app.use(auth.protectedResourceMetadataRouter());
    const handle = await listen(app);
    auth.bearerAuth('jwt', { resource: OTHER, dpop: { algorithms: ['EdDSA'] } });
    auth.bearerAuth('introspection', { resource: OTHER, introspection, dpop: { mode: 'required', algorithms: ['PS256', 'EdDSA'] } });
    const res = await request(`${handle.origin}/.well-known/oauth-protected-resource/other`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.body).toEqual({
      resource: OTHER,
      authorization_servers: [ISSUER],
      dpop_signing_alg_values_supported: ['EdDSA', 'PS256'],
      dpop_bound_access_tokens_required: true,
    });
    expect(await documentOf(handle, '/mcp')).toEqual({ resource: RESOURCE, authorization_servers: [ISSUER], scopes_supported: ['read'] });
  });
});
