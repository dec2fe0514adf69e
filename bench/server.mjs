// One benchmark server in its own process: `node bench/server.mjs <kind> <issuer> <resource>`.
// kind: `bare` (Express, no auth: the ceiling), `native` (this package), `mcp-auth` (0.2.0, the
// pure-JS original); `native-custom` (this package with a custom verifier) and `js-custom` (a
// hand-written JS middleware calling the same verifier); `native-tools` (this package with
// `toolScopes`, for POSTed `tools/call`s); `bare-als` (the bare one plus an AsyncLocalStorage
// `run` around `next`, as this package does); any kind with `-async` (`bare-async`,
// `native-async`, ...) answers from an async route handler, to measure what AsyncLocalStorage
// costs. `native-introspection` (this package's `bearerAuth('introspection')`) and
// `custom-introspection` (this package with a hand-written custom verifier that calls the same
// endpoint with `fetch`) ask the introspection endpoint at $INTROSPECTION_URL (client `rs`,
// secret `bench-secret`). `native-dpop` is this package with `dpop` in 'allowed' mode and the
// memory replay store, `native-dpop-required` in 'required' mode, `native-dpop-nonce` with
// `nonce: true`, `native-dpop-redis` 'allowed' with the Redis store at $REDIS_URL; their `iatWindow` is 900 s, since bench/http.js signs every
// proof before the run (a default 300 s window would expire proofs of a long scenario).
// Every kind answers GET /mcp,
// and POST /mcp behind `express.json()`, with `{ sub }`; the bare ones echo the token's `sub`
// unverified, so all do the same JSON work. Prints `{"port":N}` when listening.

import http from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';

const require = createRequire(import.meta.url);
const [kind, issuer, resource] = process.argv.slice(2);

const config = {
  protectedResources: {
    metadata: { resource, authorizationServers: [{ type: 'oidc', issuer }], scopesSupported: ['read'] },
  },
};
const options = { resource, audience: resource, requiredScopes: ['read'] };
/** The `native-tools` options: the POSTed `tools/call` of `echo` needs `read`, `admin` more. */
const toolOptions = { ...options, toolScopes: { echo: ['read'], admin: ['admin'] } };

/** The custom verifier of the `*-custom` kinds: reads the unsigned JWT payload, no crypto. */
async function verifyOpaque(token) {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] || '', 'base64url').toString() || '{}');
  return { token, issuer: claims.iss, clientId: '', scopes: claims.scope.split(' '), subject: claims.sub, audience: claims.aud };
}

/** The `custom-introspection` verifier: what an application would write by hand (RFC 7662). */
const introspectionUrl = process.env.INTROSPECTION_URL;
const basic = `Basic ${Buffer.from('rs:bench-secret').toString('base64')}`;
async function introspectWithFetch(token) {
  const response = await fetch(introspectionUrl, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`Token introspection answered HTTP ${response.status}.`);
  const answer = await response.json();
  if (answer.active !== true) {
    const { MCPAuthTokenVerificationError } = native();
    throw new MCPAuthTokenVerificationError('invalid_token');
  }
  return {
    token,
    issuer: answer.iss ?? issuer,
    clientId: answer.client_id ?? '',
    scopes: typeof answer.scope === 'string' ? answer.scope.split(' ').filter(Boolean) : [],
    subject: answer.sub,
    audience: answer.aud,
    expiresAt: answer.exp,
  };
}

// `*-baseline` kinds load another build of this package (`--baseline <dir>` of bench/http.js),
// to measure a change before and after in the same run.
const packageDir = kind.endsWith('-baseline') ? process.env.BASELINE_DIR : '..';
// `-async` kinds answer from an async route handler; otherwise as their base kind.
const asyncHandler = kind.includes('-async');
const native = () => require(`${packageDir}/index.js`);

function bare(req, res, next) {
  const token = String(req.headers.authorization || '').slice(7);
  const payload = token.split('.')[1] || '';
  req.auth = { subject: JSON.parse(Buffer.from(payload, 'base64url').toString() || '{}').sub };
  next();
}

async function authMiddleware() {
  const base = kind.replace(/-baseline$/, '').replace(/-async$/, '');
  switch (base) {
    case 'native': {
      const { MCPAuth } = native();
      return new MCPAuth(config).bearerAuth('jwt', options);
    }
    case 'mcp-auth': {
      const { MCPAuth } = await import('mcp-auth');
      return new MCPAuth(config).bearerAuth('jwt', options);
    }
    case 'native-custom': {
      const { MCPAuth } = native();
      return new MCPAuth(config).bearerAuth(verifyOpaque, options);
    }
    case 'js-custom':
      // What an application would write by hand around the same verifier.
      return (req, res, next) => {
        const token = String(req.headers.authorization || '').slice(7);
        Promise.resolve(verifyOpaque(token)).then((info) => {
          req.auth = info;
          next();
        }, next);
      };
    case 'native-tools': {
      const { MCPAuth } = native();
      return new MCPAuth(config).bearerAuth('jwt', toolOptions);
    }
    case 'native-introspection': {
      const { MCPAuth } = native();
      return new MCPAuth(config).bearerAuth('introspection', {
        ...options,
        introspection: { endpoint: introspectionUrl, clientId: 'rs', clientSecret: 'bench-secret' },
      });
    }
    case 'custom-introspection': {
      const { MCPAuth } = native();
      return new MCPAuth(config).bearerAuth(introspectWithFetch, options);
    }
    case 'native-dpop':
    case 'native-dpop-required':
    case 'native-dpop-nonce':
    case 'native-dpop-redis': {
      const { MCPAuth } = native();
      const dpop = { iatWindow: 900, replayStore: 'memory' };
      if (base === 'native-dpop-required') dpop.mode = 'required';
      if (base === 'native-dpop-nonce') dpop.nonce = true;
      if (base === 'native-dpop-redis') dpop.replayStore = { redis: process.env.REDIS_URL };
      return new MCPAuth(config).bearerAuth('jwt', { ...options, dpop });
    }
    case 'bare':
      return bare;
    case 'bare-als': {
      const storage = new AsyncLocalStorage();
      return (req, res, next) => bare(req, res, () => storage.run({ auth: req.auth }, next));
    }
    default:
      throw new Error(`unknown server kind ${kind}`);
  }
}

const app = express();
const auth = await authMiddleware();
const handler = asyncHandler
  ? async (req, res) => {
      // What an async tool handler does: awaits, across a turn of the event loop.
      await Promise.resolve();
      await new Promise((resolve) => setImmediate(resolve));
      res.json({ sub: req.auth.subject });
    }
  : (req, res) => res.json({ sub: req.auth.subject });
app.get('/mcp', auth, handler);
app.post('/mcp', express.json(), auth, handler);
const server = http.createServer(app);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
