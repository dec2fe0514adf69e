'use strict';
// A tiny OAuth 2 / OpenID Connect issuer on 127.0.0.1, for the demo and the tests.
//
// It serves a discovery document (OIDC Discovery 1.0 or RFC 8414) and a JWKS, and signs
// access tokens with keys generated at start. It does not run any OAuth flow: it exists so
// that `mcp-auth-native` can be exercised against real HTTP endpoints without the network.
// Tests can also count the requests it received, rotate its keys and override any path
// (to make the JWKS hang, answer 500, serve HTML...). Node built-ins only.

const http = require('node:http');
const crypto = require('node:crypto');

const b64url = (input) => Buffer.from(input).toString('base64url');

// JWS algorithm -> [key slot in `keys`, digest, extra options for crypto.sign].
const ALGORITHMS = {
  RS256: ['RS256', 'sha256', {}],
  RS384: ['RS256', 'sha384', {}],
  RS512: ['RS256', 'sha512', {}],
  PS256: ['RS256', 'sha256', { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  PS384: ['RS256', 'sha384', { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
  PS512: ['RS256', 'sha512', { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
  ES256: ['ES256', 'sha256', { dsaEncoding: 'ieee-p1363' }],
  ES384: ['ES384', 'sha384', { dsaEncoding: 'ieee-p1363' }],
  EdDSA: ['EdDSA', null, {}],
};

// A key pair as DER, then as key objects of its own. Exporting a key object straight from
// `generateKeyPairSync` can hang Node 20 for good: a garbage collection during the export may
// destroy the generation job, whose destructor takes the mutex the export holds.
function keyPair(type, options) {
  const der = { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } };
  const { privateKey, publicKey } = crypto.generateKeyPairSync(type, { ...options, ...der });
  return {
    privateKey: crypto.createPrivateKey({ key: privateKey, format: 'der', type: 'pkcs8' }),
    publicKey: crypto.createPublicKey({ key: publicKey, format: 'der', type: 'spki' }),
  };
}

function generateKeys() {
  const pairs = {
    RS256: keyPair('rsa', { modulusLength: 2048 }),
    ES256: keyPair('ec', { namedCurve: 'P-256' }),
    ES384: keyPair('ec', { namedCurve: 'P-384' }),
    EdDSA: keyPair('ed25519'),
  };
  const keys = {};
  for (const [alg, { privateKey, publicKey }] of Object.entries(pairs)) {
    const kid = `${alg.toLowerCase()}-${crypto.randomBytes(6).toString('hex')}`;
    // The RSA key signs RS256/384/512 and PS256/384/512, so its JWK names no `alg`
    // (an `alg` member would restrict it to that one algorithm, RFC 7517 §4.4).
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' };
    if (alg !== 'RS256') jwk.alg = alg;
    keys[alg] = { kid, privateKey, publicKey, jwk };
  }
  return keys;
}

// Copies `base`, applies `overrides`, and drops keys whose value is undefined.
function merge(base, overrides) {
  const out = { ...base, ...overrides };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

// Signs `header`.`claims` with `privateKey`. `alg` picks the JWS algorithm; HS* algorithms take
// a secret (Buffer or string) instead of a key, which is what algorithm-confusion tests need.
function signWith(privateKey, alg, header, claims) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let signature;
  if (/^HS(256|384|512)$/.test(alg)) {
    signature = crypto.createHmac(`sha${alg.slice(2)}`, privateKey).update(input).digest();
  } else if (ALGORITHMS[alg]) {
    const [, digest, options] = ALGORITHMS[alg];
    signature = crypto.sign(digest, Buffer.from(input), { key: privateKey, ...options });
  } else {
    signature = Buffer.alloc(0); // e.g. 'none'
  }
  return `${input}.${b64url(signature)}`;
}

async function startLocalIssuer({ type = 'oidc', path = '' } = {}) {
  if (type !== 'oidc' && type !== 'oauth') throw new TypeError(`unknown issuer type: ${type}`);
  const requests = [];
  const handlers = new Map();
  let keys = generateKeys();
  let jwks = { keys: Object.values(keys).map((k) => k.jwk) };

  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url, 'http://127.0.0.1').pathname;
    requests.push({ method: req.method, path: urlPath });
    const custom = handlers.get(urlPath);
    if (custom) return custom(req, res);
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (urlPath === discoveryPath) return send(200, issuer.metadata);
    if (urlPath === jwksPath) return send(200, jwks);
    return send(404, { error: 'not_found' });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const origin = `http://127.0.0.1:${server.address().port}`;
  const issuerUrl = origin + path;
  const jwksPath = `${path}/jwks`;
  const discoveryPath =
    type === 'oidc'
      ? `${path}/.well-known/openid-configuration`
      : `/.well-known/oauth-authorization-server${path}`;

  const issuer = {
    type,
    origin,
    issuer: issuerUrl,
    jwksUri: origin + jwksPath,
    metadataUrl: origin + discoveryPath,
    metadata: {
      issuer: issuerUrl,
      jwks_uri: origin + jwksPath,
      authorization_endpoint: `${issuerUrl}/authorize`,
      token_endpoint: `${issuerUrl}/token`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'read', 'write'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'none'],
      ...(type === 'oidc'
        ? {
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256', 'ES256'],
          }
        : {}),
    },
    requests,
    get keys() {
      return keys;
    },

    sign(claims = {}, { alg = 'RS256', kid, header = {}, expiresIn = 300 } = {}) {
      const slot = ALGORITHMS[alg];
      if (!slot) throw new TypeError(`unsupported alg: ${alg}`);
      const key = keys[slot[0]];
      const now = Math.floor(Date.now() / 1000);
      const fullClaims = merge(
        { iss: issuerUrl, sub: 'user-1', client_id: 'client-1', iat: now, exp: now + expiresIn },
        claims,
      );
      const fullHeader = merge({ alg, typ: 'JWT', kid: kid ?? key.kid }, header);
      return signWith(key.privateKey, alg, fullHeader, fullClaims);
    },

    signWith,

    rotateKeys({ keepOld = false } = {}) {
      const old = jwks.keys;
      keys = generateKeys();
      jwks = { keys: [...Object.values(keys).map((k) => k.jwk), ...(keepOld ? old : [])] };
    },

    // `handlerPath` is a path ('/jwks') or a full URL of this server (issuer.jwksUri).
    setHandler(handlerPath, handler) {
      handlerPath = new URL(handlerPath, origin).pathname;
      if (handler) handlers.set(handlerPath, handler);
      else handlers.delete(handlerPath);
    },

    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return issuer;
}

module.exports = { startLocalIssuer };
