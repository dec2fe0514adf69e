'use strict';
// The package loads by its name from CommonJS and from ESM, with the same exports.

const path = require('node:path');
const { execFileSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const EXPORTS = [
  'MCPAuth',
  'MCPAuthAuthServerError',
  'MCPAuthBearerAuthError',
  'MCPAuthConfigError',
  'MCPAuthError',
  'MCPAuthJwtVerificationError',
  'MCPAuthTokenVerificationError',
  'authServerErrorDescription',
  'bearerAuthErrorDescription',
  'fetchServerConfig',
  'fetchServerConfigByWellKnownUrl',
  'jwtVerificationErrorDescription',
  'tokenVerificationErrorDescription',
  'validateServerConfig',
];

function run(args, source) {
  return JSON.parse(execFileSync(process.execPath, [...args, '-e', source], { cwd: ROOT, encoding: 'utf8' }));
}

test("require('mcp-auth-native') gives every export", () => {
  const names = run([], "console.log(JSON.stringify(Object.keys(require('mcp-auth-native')).sort()))");
  expect(names).toEqual(EXPORTS);
});

test("import { MCPAuth } from 'mcp-auth-native' gives the same classes as require", () => {
  const out = run(
    ['--input-type=module'],
    `import * as esm from 'mcp-auth-native';
     import { createRequire } from 'node:module';
     const cjs = createRequire(import.meta.url)('mcp-auth-native');
     const names = Object.keys(esm).filter((k) => k !== 'default').sort();
     const same = names.every((k) => esm[k] === cjs[k]);
     const auth = new esm.MCPAuth({ protectedResources: { metadata: { resource: 'https://api.example.com/mcp' } } });
     console.log(JSON.stringify({ names, same, middleware: typeof auth.bearerAuth('jwt', { resource: 'https://api.example.com/mcp' }) }));`,
  );
  expect(out).toEqual({ names: EXPORTS, same: true, middleware: 'function' });
});

test('error classes keep mcp-auth semantics: instanceof, code, name and toJson', () => {
  const {
    MCPAuthError,
    MCPAuthTokenVerificationError,
    MCPAuthJwtVerificationError,
    MCPAuthBearerAuthError,
    MCPAuthAuthServerError,
    MCPAuthConfigError,
    jwtVerificationErrorDescription,
    bearerAuthErrorDescription,
    authServerErrorDescription,
  } = require('..');
  const jwt = new MCPAuthJwtVerificationError('jwt_verification_failed');
  expect(jwt).toBeInstanceOf(Error);
  expect(jwt).toBeInstanceOf(MCPAuthError);
  expect(jwt).toBeInstanceOf(MCPAuthTokenVerificationError);
  expect({ name: jwt.name, code: jwt.code, message: jwt.message }).toEqual({
    name: 'MCPAuthJwtVerificationError',
    code: 'jwt_verification_failed',
    message: jwtVerificationErrorDescription.jwt_verification_failed,
  });
  expect(jwt.toJson()).toEqual({ error: 'jwt_verification_failed', errorDescription: jwt.message });

  const scopes = new MCPAuthBearerAuthError('missing_required_scopes', { missingScopes: ['write'] });
  expect(scopes.toJson()).toEqual({
    error: 'missing_required_scopes',
    errorDescription: bearerAuthErrorDescription.missing_required_scopes,
    missingScopes: ['write'],
  });
  expect(scopes.toJson(true).cause).toEqual({ missingScopes: ['write'] });

  const server = new MCPAuthAuthServerError('missing_jwks_uri');
  expect(server.message).toBe(authServerErrorDescription.missing_jwks_uri);
  const config = new MCPAuthConfigError('fetch_server_config_error', 'Failed to fetch.');
  expect({ name: config.name, code: config.code, message: config.message }).toEqual({
    name: 'MCPAuthConfigError',
    code: 'fetch_server_config_error',
    message: 'Failed to fetch.',
  });
  expect(Object.isFrozen(bearerAuthErrorDescription)).toBe(true);
  expect(bearerAuthErrorDescription.invalid_token).toBe('The provided token is not valid or has expired.');
});

test('a bad configuration throws MCPAuthAuthServerError naming the field; a wrong type throws TypeError', () => {
  const { MCPAuth, MCPAuthAuthServerError } = require('..');
  let error;
  try {
    new MCPAuth({ protectedResources: { metadata: { resource: 'https://a.example.com', authorizationServers: [{ type: 'oidc', issuer: 'nope' }] } } });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(MCPAuthAuthServerError);
  expect(error.code).toBe('invalid_server_config');
  expect(error.message).toContain('protectedResources.metadata.authorizationServers[0].issuer');
  expect(() => new MCPAuth('https://auth.example.com')).toThrow(TypeError);
  expect(() => new MCPAuth({ protectedResources: { metadata: { resource: 'https://a.example.com' } } }).bearerAuth('opaque')).toThrow(TypeError);
});

test('configuration JSON cannot carry is a TypeError naming its path; URL objects and Infinity are accepted', () => {
  const { MCPAuth } = require('..');
  const resource = 'https://a.example.com/mcp';
  const throwsType = (fn, message) => {
    expect(fn).toThrow(TypeError);
    expect(fn).toThrow(message);
  };
  throwsType(() => new MCPAuth(), 'The MCPAuth configuration must be an object');
  throwsType(() => new MCPAuth({ server: { type: 'oidc', issuer: Symbol('x') } }), '`server.issuer` must be JSON data, not a symbol.');
  throwsType(() => new MCPAuth({ server: { type: 'oidc', issuer: () => 'x' } }), '`server.issuer` must be JSON data, not a function.');
  const cyclic = { protectedResources: { metadata: { resource } } };
  cyclic.protectedResources.metadata.self = cyclic;
  throwsType(() => new MCPAuth(cyclic), '`protectedResources.metadata.self` refers back to an object that contains it.');

  const auth = new MCPAuth({ protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oidc', issuer: new URL('https://auth.example.com') }] } } });
  throwsType(() => auth.bearerAuth('jwt', { resource, jwtVerify: { clockTolerance: NaN } }), '`options.jwtVerify.clockTolerance` must be a number, not NaN.');
  expect(typeof auth.bearerAuth('jwt', { resource, remoteJwkSet: { cacheMaxAge: Infinity, timeoutDuration: 1e300 } })).toBe('function');
});

test("bearerAuth('jwt') on resolved metadata without jwksUri throws at once, naming the issuer and the field", () => {
  const { MCPAuth, MCPAuthAuthServerError } = require('..');
  const resource = 'https://a.example.com/mcp';
  const auth = new MCPAuth({
    protectedResources: { metadata: { resource, authorizationServers: [{ type: 'oauth', metadata: { issuer: 'https://auth.example.com' } }] } },
  });
  const build = () => auth.bearerAuth('jwt', { resource });
  expect(build).toThrow(MCPAuthAuthServerError);
  expect(build).toThrow("The resolved metadata of `https://auth.example.com` has no `jwksUri`, which `bearerAuth('jwt')` needs to verify tokens.");
});
