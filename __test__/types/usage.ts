// Compile-only check of index.d.ts: `npm run test:types` (tsc --strict --noEmit).
// Nothing here runs; it uses every export the way a user would.

import express, { type NextFunction, type Request, type Response } from 'express';
import {
  MCPAuth,
  MCPAuthError,
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  MCPAuthBearerAuthError,
  MCPAuthTokenVerificationError,
  MCPAuthJwtVerificationError,
  authServerErrorDescription,
  bearerAuthErrorDescription,
  tokenVerificationErrorDescription,
  jwtVerificationErrorDescription,
  fetchServerConfig,
  fetchServerConfigByWellKnownUrl,
  validateServerConfig,
  type AuthInfo,
  type AuthServerConfig,
  type AuthServerErrorCode,
  type BearerAuthErrorCode,
  type BearerAuthJwtOptions,
  type BearerAuthIntrospectionOptions,
  type IntrospectionOptions,
  type BearerAuthOptions,
  type DpopOptions,
  type MCPAuthConfig,
  type MCPAuthJwtVerificationErrorCode,
  type McpOperation,
  type MCPAuthTokenVerificationErrorCode,
  type ResolvedAuthServerConfig,
  type ResourceServerConfig,
  type VerifyAccessTokenFunction,
} from '../..';

const resource = 'https://api.example.com/mcp';
const issuer = 'https://auth.example.com/oidc';

// --- Configuration: both forms, both kinds of authorization server -------------------------

const discovery: AuthServerConfig = { type: 'oidc', issuer };
const resolved: ResolvedAuthServerConfig = {
  type: 'oauth',
  metadata: {
    issuer: 'https://auth.example.com',
    authorizationEndpoint: 'https://auth.example.com/authorize',
    tokenEndpoint: 'https://auth.example.com/token',
    responseTypesSupported: ['code'],
    jwksUri: 'https://auth.example.com/jwks',
    codeChallengeMethodsSupported: ['S256'],
  },
};

const resourceConfig: ResourceServerConfig = {
  metadata: {
    resource,
    authorizationServers: [discovery, resolved],
    scopesSupported: ['read', 'write'],
    resourceName: 'Example MCP server',
    bearerMethodsSupported: ['header'],
  },
};

const mcpAuth = new MCPAuth({ protectedResources: resourceConfig });
const many = new MCPAuth({ protectedResources: [resourceConfig] });
const legacy = new MCPAuth({ server: discovery });
const legacyResolved: MCPAuthConfig = { server: resolved };
void new MCPAuth(legacyResolved);

// --- Middleware: JWT mode with every option ------------------------------------------------

const jwtOptions: BearerAuthJwtOptions = {
  resource,
  audience: [resource, 'https://api.example.com/'],
  requiredScopes: ['read', 'write'],
  showErrorDetails: false,
  jwtVerify: {
    clockTolerance: '30s',
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    typ: 'at+jwt',
    maxTokenAge: 3600,
    requiredClaims: ['iss', 'exp'],
  },
  remoteJwkSet: { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 },
};
const jwtAuth = mcpAuth.bearerAuth('jwt', jwtOptions);

// The product documentation's spelling.
const documented = mcpAuth.bearerAuth('jwt', {
  resource,
  audience: resource,
  requiredScopes: ['read', 'write'],
  jwtVerify: { clockTolerance: 60 },
  remoteJwtSet: { timeoutDuration: 10 * 1000 },
});
const noAudience = many.bearerAuth('jwt', { resource, audience: false });
const legacyAuth = legacy.bearerAuth('jwt', { requiredScopes: ['read', 'write'] });

// --- Middleware: custom verifier -----------------------------------------------------------

declare function lookUp(token: string): Promise<{ user: string; client: string } | undefined>;

const customAuth = mcpAuth.bearerAuth(
  async (token) => {
    const info = await lookUp(token);
    if (!info) {
      throw new MCPAuthJwtVerificationError('jwt_verification_failed');
    }
    return { token, issuer, clientId: info.client, scopes: ['read'], subject: info.user };
  },
  { resource, requiredScopes: ['read'], verifyTimeout: 2000 },
);

const syncVerify: VerifyAccessTokenFunction = (token) => ({
  token,
  issuer,
  clientId: '',
  scopes: [],
  audience: resource,
  expiresAt: 1_900_000_000,
  claims: { tenant: 't1' },
  resource: new URL(resource),
  extra: { plan: 'pro' },
});
const customOptions: BearerAuthOptions = { resource, showErrorDetails: true };
const syncAuth = mcpAuth.bearerAuth(syncVerify, customOptions);

// --- Express: Express 4/5 handlers see `req.auth` -------------------------------------------

const app = express();
app.use(mcpAuth.protectedResourceMetadataRouter());
app.use(legacy.delegatedRouter());
app.use('/mcp', jwtAuth, (req, res) => {
  const subject: string | undefined = req.auth?.subject;
  const scopes: string[] = req.auth?.scopes ?? [];
  res.json({ subject, scopes });
});
app.get('/docs', documented, noAudience, legacyAuth, customAuth, syncAuth);
app.post('/typed', jwtAuth, (req: Request, res: Response, next: NextFunction) => {
  if (!req.auth) return next(new Error('unreachable'));
  const info: AuthInfo = req.auth;
  res.json({ client: info.clientId, expires: info.expiresAt });
});

// --- AuthInfo is what @modelcontextprotocol/sdk passes to tool handlers ---------------------

type SdkAuthInfo = {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  resource?: URL;
  extra?: Record<string, unknown>;
};
declare const fromRequest: AuthInfo;
const forSdk: SdkAuthInfo = fromRequest;
void forSdk;

// --- Errors ---------------------------------------------------------------------------------

function describe(error: unknown): string {
  if (error instanceof MCPAuthJwtVerificationError) {
    const code: MCPAuthJwtVerificationErrorCode = error.code;
    return jwtVerificationErrorDescription[code];
  }
  if (error instanceof MCPAuthTokenVerificationError) {
    const code: MCPAuthTokenVerificationErrorCode | MCPAuthJwtVerificationErrorCode = error.code;
    return code === 'invalid_token' || code === 'token_verification_failed'
      ? tokenVerificationErrorDescription[code]
      : jwtVerificationErrorDescription[code];
  }
  if (error instanceof MCPAuthBearerAuthError) {
    const code: BearerAuthErrorCode = error.code;
    const missing: string[] | undefined = error.cause?.missingScopes;
    return `${bearerAuthErrorDescription[code]} ${missing?.join(' ') ?? ''}`;
  }
  if (error instanceof MCPAuthAuthServerError) {
    const code: AuthServerErrorCode = error.code;
    return authServerErrorDescription[code];
  }
  if (error instanceof MCPAuthConfigError) {
    return error.code; // e.g. 'fetch_server_config_error'
  }
  if (error instanceof MCPAuthError) {
    const body: Record<string, unknown> = error.toJson();
    const detailed: Record<string, unknown> = error.toJson(true);
    return JSON.stringify({ body, detailed });
  }
  return String(error);
}

const bearerError = new MCPAuthBearerAuthError('missing_required_scopes', {
  missingScopes: ['write'],
  expected: ['read', 'write'],
  actual: ['read'],
});
const asError: Error = bearerError;
const base: MCPAuthError = new MCPAuthTokenVerificationError('invalid_token', new Error('bad'));
void [asError, base, new MCPAuthAuthServerError('missing_jwks_uri'), new MCPAuthError('x', 'y')];
void describe(bearerError);

// --- Server metadata helpers -----------------------------------------------------------------

async function startup(): Promise<void> {
  const fetched = await fetchServerConfig(issuer, { type: 'oidc' });
  const jwksUri: string | undefined = fetched.metadata.jwksUri;
  const byUrl = await fetchServerConfigByWellKnownUrl(
    new URL('https://auth.example.com/.well-known/oauth-authorization-server'),
    {
      type: 'oauth',
      transpileData: (data) => ({ ...data, response_types_supported: ['code'] }),
      timeoutDuration: 2000,
    },
  );
  const asyncTranspiled = await fetchServerConfig(new URL(issuer), {
    type: 'oauth',
    transpileData: async (data) => data,
  });
  const result = validateServerConfig(byUrl);
  if (!result.isValid) {
    for (const e of result.errors) console.error(e.code, e.description, e.cause?.message);
  }
  const verbose = validateServerConfig(fetched, true);
  for (const s of verbose.successes) console.log(s.code);
  const maybe = validateServerConfig(fetched, process.env.VERBOSE === '1');
  void [jwksUri, result.warnings, maybe.successes, asyncTranspiled];
  const config: MCPAuthConfig = { protectedResources: { metadata: { resource, authorizationServers: [fetched] } } };
  void config;

  try {
    await fetchServerConfig('https://down.example.com', { type: 'oauth' });
  } catch (error) {
    if (error instanceof MCPAuthConfigError) console.error(error.code, error.toJson(true));
  }
}
void startup;

// --- Step-up: per-operation scopes, hierarchy, request-scoped identity ----------------------

const scopesFor = (operation: McpOperation, req: Request): string[] | undefined => {
  const name: string | undefined = operation.name;
  if (operation.method === 'resources/read' && name?.startsWith('secret://')) return ['secrets:read'];
  return req.method === 'POST' && operation.params !== undefined ? undefined : [];
};
const stepUp = mcpAuth.bearerAuth('jwt', {
  resource,
  requiredScopes: ['mcp'],
  toolScopes: { delete_file: ['files:write'], read_file: ['files:read'] },
  scopesFor,
  scopeHierarchy: { 'files:admin': ['files:write'], 'files:write': ['files:read'] },
});
const customStepUp = mcpAuth.bearerAuth(syncVerify, { resource, toolScopes: { admin: ['admin'] } });
app.post('/step-up', express.json(), stepUp, customStepUp, async (_req: Request, res: Response) => {
  await Promise.resolve();
  const current: AuthInfo | undefined = mcpAuth.authInfo;
  const allowed: boolean = mcpAuth.hasScopes(['files:read']);
  res.json({ subject: current?.subject, allowed });
});

// --- Misuse that must not compile ----------------------------------------------------------

// @ts-expect-error toolScopes values are arrays of scopes
mcpAuth.bearerAuth('jwt', { resource, toolScopes: { admin: 'admin' } });
// @ts-expect-error scopesFor returns scopes, not a boolean
mcpAuth.bearerAuth('jwt', { resource, scopesFor: () => true });
// @ts-expect-error scopeHierarchy maps a scope to the scopes it implies
mcpAuth.bearerAuth('jwt', { resource, scopeHierarchy: ['admin'] });
// @ts-expect-error authInfo is read-only
mcpAuth.authInfo = undefined;
// @ts-expect-error hasScopes takes an array
mcpAuth.hasScopes('read');
// @ts-expect-error authInfo may be undefined
void mcpAuth.authInfo.subject;

// @ts-expect-error unknown option name
mcpAuth.bearerAuth('jwt', { resource, requiredScope: ['read'] });
// @ts-expect-error clockTolerance is a number or a string
mcpAuth.bearerAuth('jwt', { jwtVerify: { clockTolerance: true } });
// @ts-expect-error only 'jwt' is a built-in mode
mcpAuth.bearerAuth('opaque');
// @ts-expect-error audience may be false but not true
mcpAuth.bearerAuth('jwt', { audience: true });
// @ts-expect-error a custom verifier must return an AuthInfo (scopes missing)
mcpAuth.bearerAuth(async (token: string) => ({ token, issuer, clientId: 'c' }));
// @ts-expect-error JWT options do not apply to a custom verifier
mcpAuth.bearerAuth(syncVerify, { jwtVerify: { clockTolerance: 60 } });
// @ts-expect-error fetchServerConfig needs a type
void fetchServerConfig(issuer, {});
// @ts-expect-error validateServerConfig needs resolved metadata
validateServerConfig({ type: 'oidc', issuer });
// @ts-expect-error unsupported algorithm
mcpAuth.bearerAuth('jwt', { jwtVerify: { algorithms: ['HS256'] } });
// @ts-expect-error the config needs protectedResources or server
new MCPAuth({ resources: [] });
// @ts-expect-error an authorization server type is 'oidc' or 'oauth'
new MCPAuth({ server: { type: 'saml', issuer } });
// @ts-expect-error MCPAuthJwtVerificationError takes its own codes
new MCPAuthJwtVerificationError('missing_auth_header');
// @ts-expect-error req.auth may be undefined
app.get('/strict', (req) => req.auth.subject);

// --- Middleware: introspection (opaque tokens) --------------------------------------------

const introspection: IntrospectionOptions = {
  clientId: 'mcp-server',
  clientSecret: process.env.MCP_CLIENT_SECRET ?? '',
  authMethod: 'client_secret_post',
  endpoint: 'https://auth.example.com/introspect',
  issuer: 'https://auth.example.com',
  cacheMaxAge: 30_000,
  timeoutDuration: 2000,
};
const introspectionOptions: BearerAuthIntrospectionOptions = {
  resource,
  requiredScopes: ['read'],
  toolScopes: { admin: ['admin'] },
  jwtVerify: { clockTolerance: 30 },
  introspection,
};
const opaqueAuth: express.RequestHandler = mcpAuth.bearerAuth('introspection', introspectionOptions);
app.use('/opaque', mcpAuth.bearerAuth('introspection', { resource, introspection: { clientId: 'rs', clientSecret: 's' } }));
const introspectionCode: AuthServerErrorCode = 'missing_introspection_endpoint';
void [opaqueAuth, introspectionCode];
// @ts-expect-error introspection mode needs its options
mcpAuth.bearerAuth('introspection');
// @ts-expect-error the credentials are required
mcpAuth.bearerAuth('introspection', { resource, introspection: { clientId: 'rs' } });
// @ts-expect-error only two client authentication methods
mcpAuth.bearerAuth('introspection', { resource, introspection: { clientId: 'rs', clientSecret: 's', authMethod: 'private_key_jwt' } });
// @ts-expect-error only clockTolerance of jwtVerify applies
mcpAuth.bearerAuth('introspection', { resource, introspection, jwtVerify: { algorithms: ['RS256'] } });
// @ts-expect-error the key set options are JWT mode's
mcpAuth.bearerAuth('introspection', { resource, introspection, remoteJwkSet: { cacheMaxAge: 1 } });

// --- DPoP (RFC 9449) ------------------------------------------------------------------------

const dpop: DpopOptions = {
  mode: 'required',
  algorithms: ['ES256', 'EdDSA'],
  iatWindow: '2m',
  nonce: true,
  replayStore: { redis: 'redis://127.0.0.1:6379' },
};
const dpopAuth: express.RequestHandler = mcpAuth.bearerAuth('jwt', { resource, dpop });
app.use('/dpop-memory', mcpAuth.bearerAuth('jwt', { resource, dpop: {} }));
app.use('/dpop-opaque', mcpAuth.bearerAuth('introspection', { resource, introspection, dpop: { replayStore: 'memory' } }));
app.get('/dpop', dpopAuth, (req) => {
  const kind: 'DPoP' | undefined = req.auth?.tokenType;
  const jkt: string | undefined = req.auth?.dpop?.jkt;
  void [kind, jkt];
});
// @ts-expect-error three modes only
mcpAuth.bearerAuth('jwt', { resource, dpop: { mode: 'optional' } });
// @ts-expect-error symmetric algorithms cannot sign proofs
mcpAuth.bearerAuth('jwt', { resource, dpop: { algorithms: ['HS256'] } });
// @ts-expect-error a replay store is 'memory' or { redis }
mcpAuth.bearerAuth('jwt', { resource, dpop: { replayStore: 'redis' } });
// @ts-expect-error custom verifiers take no dpop option
mcpAuth.bearerAuth(syncVerify, { dpop: {} });
