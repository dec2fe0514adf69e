'use strict';
// A real DPoP client that no one here wrote: `oauth4webapi` (npm, by the author of jose and
// oidc-provider). It makes its own key pair, gets a token with the client-credentials grant and a
// DPoP proof (RFC 9449 §5), and calls protected URLs with a fresh proof per request
// (`protectedResourceRequest` with its `DPoP` handle), retrying once on `use_dpop_nonce` the way
// oauth4webapi's documentation shows (its handle caches the `DPoP-Nonce` of every answer).
//
// oauth4webapi and jose are ESM-only; jest loads them through `import()`, which needs Node's
// `--experimental-vm-modules` (`npm run test:js` passes it). Run a single suite with
// `node --experimental-vm-modules node_modules/jest/bin/jest.js __test__/x.test.js`.
//
//   const { dpopClient } = require('./dpop-client');
//   const client = await dpopClient({ issuer, resource });            // key pair + bound token
//   client.token, client.tokenType ('DPoP'), client.jkt (RFC 7638 thumbprint of its key)
//   await client.request(url, { method: 'POST', headers, body })     // { status, headers, body, text, proofs }
//   new StreamableHTTPClientTransport(new URL(url), { fetch: client.fetch })   // MCP SDK Client

/** `import()` of an ESM-only package, with a clear error when jest runs without VM modules. */
async function esm(name) {
  try {
    return await import(name);
  } catch (err) {
    if (/experimental-vm-modules/.test(String(err && err.message))) {
      throw new Error(
        `${name} is ESM-only: run jest with \`node --experimental-vm-modules\` (npm run test:js does): ${err.message}`,
      );
    }
    throw err;
  }
}

const oauth = () => esm('oauth4webapi');
const jose = () => esm('jose');

/** The RFC 7638 thumbprint (SHA-256, base64url) of a public key (a CryptoKey or a JWK), by jose. */
async function thumbprint(key) {
  const { calculateJwkThumbprint, exportJWK } = await jose();
  const jwk = key && key.type ? await exportJWK(key) : key;
  return calculateJwkThumbprint(jwk, 'sha256');
}

/**
 * Gets an access token from the provider at `issuer` (discovery first) with client credentials.
 * `dpop`: an oauth4webapi DPoP handle (bound token) or undefined (plain Bearer). Retries once on
 * the token endpoint's `use_dpop_nonce`. Resolves oauth4webapi's TokenEndpointResponse.
 */
async function clientCredentials({ issuer, clientId, clientSecret, resource, scope, dpop }) {
  const o = await oauth();
  const insecure = { [o.allowInsecureRequests]: true };
  const issuerUrl = new URL(issuer);
  const as = await o.processDiscoveryResponse(issuerUrl, await o.discoveryRequest(issuerUrl, { ...insecure, algorithm: 'oidc' }));
  const client = { client_id: clientId };
  const params = new URLSearchParams();
  if (resource) params.set('resource', resource);
  if (scope) params.set('scope', scope);
  const attempt = async () => {
    const response = await o.clientCredentialsGrantRequest(as, client, o.ClientSecretBasic(clientSecret), params, {
      ...insecure,
      DPoP: dpop,
    });
    return o.processClientCredentialsResponse(as, client, response);
  };
  try {
    return await attempt();
  } catch (err) {
    if (dpop && o.isDPoPNonceError(err)) return attempt();
    throw err;
  }
}

/**
 * A DPoP client: a fresh key pair (`alg`, default ES256), and a token for `resource` from the
 * provider at `issuer` (`__test__/fixtures/oidc-dpop-child.mjs`; default client `mcp-client`).
 * `bound: false` gets the same client's token without a proof (a plain Bearer token), sent with
 * the `Bearer` scheme. Resolves:
 * - `token`, `tokenType` (`DPoP` or `Bearer`), `tokenResponse`, `keyPair`, `jkt`, `dpop` (the
 *   oauth4webapi handle);
 * - `request(url, { method, headers, body, token })`: one call with a fresh proof (oauth4webapi
 *   picks `htu` = the URL's origin and path, without query and fragment), retried once with the
 *   server's nonce on `use_dpop_nonce`; resolves `{ status, headers, body, text, proofs }`
 *   (`proofs`: the `DPoP` headers sent, so a test can replay one);
 * - `fetch(input, init)`: the same as a fetch function, for the MCP SDK transports' `fetch` option.
 */
async function dpopClient({
  issuer,
  resource,
  clientId = 'mcp-client',
  clientSecret = 'mcp-secret',
  scope = 'read write',
  alg = 'ES256',
  bound = true,
} = {}) {
  const o = await oauth();
  const keyPair = await o.generateKeyPair(alg, { extractable: true });
  const dpop = bound ? o.DPoP({ client_id: clientId }, keyPair) : undefined;
  const tokenResponse = await clientCredentials({ issuer, clientId, clientSecret, resource, scope, dpop });
  const jkt = await thumbprint(keyPair.publicKey);

  /** One protected-resource request through oauth4webapi; the Response, whatever its status. */
  const send = async (url, { method = 'GET', headers, body, token = tokenResponse.access_token, signal } = {}, proofs = []) => {
    const h = new Headers(headers);
    // Records the proof oauth4webapi adds, then sends with the global fetch.
    const record = (href, init) => {
      if (init.headers.dpop) proofs.push(init.headers.dpop);
      return fetch(href, init);
    };
    const once = () =>
      o.protectedResourceRequest(token, method, new URL(url), new Headers(h), body, {
        DPoP: dpop,
        signal,
        [o.allowInsecureRequests]: true,
        [o.customFetch]: record,
      });
    try {
      return await once();
    } catch (err) {
      // oauth4webapi throws on any WWW-Authenticate challenge; a nonce challenge is retried once
      // (the handle has cached the DPoP-Nonce of that answer), the others are answers to return.
      if (dpop && o.isDPoPNonceError(err)) {
        try {
          return await once();
        } catch (again) {
          if (again instanceof o.WWWAuthenticateChallengeError) return again.response;
          throw again;
        }
      }
      if (err instanceof o.WWWAuthenticateChallengeError) return err.response;
      throw err;
    }
  };

  return {
    keyPair,
    dpop,
    jkt,
    tokenResponse,
    token: tokenResponse.access_token,
    tokenType: String(tokenResponse.token_type).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
    async request(url, init = {}) {
      const proofs = [];
      const res = await send(url, init, proofs);
      const text = await res.text();
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed, text, proofs };
    },
    fetch(input, init = {}) {
      const url = input instanceof Request ? input.url : String(input);
      return send(url, {
        method: init.method || 'GET',
        headers: init.headers,
        body: init.body,
        signal: init.signal,
      });
    },
  };
}

module.exports = { dpopClient, clientCredentials, thumbprint, oauth, jose };
