'use strict';
// Test helpers: real Express servers on 127.0.0.1 and a small fetch wrapper. Nothing here
// stands in for the library; every test goes through HTTP.

const http = require('node:http');
const { spawn } = require('node:child_process');
const path = require('node:path');
const express = require('express');
const { startLocalIssuer } = require('../examples/local-issuer');

// Everything started through these helpers, so `closeAll()` can stop it in afterAll/afterEach.
const open = new Set();

/**
 * Starts an Express 5 app with `middleware` in front of a route that answers
 * `{ auth: req.auth }`. `GET /` and `POST /` (any path, in fact) reach the route; an `OPTIONS`
 * request that got through the middleware is answered `204` with `x-reached-next: 1`.
 * Errors passed to `next(err)` are answered `599 { app_error: err.message }`, so tests can see
 * that the app's error handler (not the middleware) decided.
 * Returns `{ url, app, close }`.
 */
async function startApp(middleware, { path = '/mcp' } = {}) {
  const app = express();
  app.use(path, middleware);
  app.options(path, (req, res) => {
    res.set('x-reached-next', '1').status(204).end();
  });
  app.all(path, (req, res) => {
    res.json({ auth: req.auth });
  });
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    res.status(599).json({ app_error: String(err && err.message) });
  });
  const handle = await listen(app);
  return { ...handle, app, url: `${handle.origin}${path}` };
}

/**
 * Serves any request handler (an Express 4 or 5 app) on 127.0.0.1 until `closeAll()`.
 * Returns `{ origin, server, close }`.
 */
async function listen(app) {
  // Node's default limit on request headers is 16 KiB in total, too small for the 16 KiB
  // tokens the library must handle.
  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const handle = {
    server,
    origin: `http://127.0.0.1:${server.address().port}`,
    close() {
      open.delete(handle);
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  open.add(handle);
  return handle;
}

/** Starts a local issuer (see examples/local-issuer.js) that `closeAll()` will close. */
async function startIssuer(options) {
  const issuer = await startLocalIssuer(options);
  const handle = {
    close() {
      open.delete(handle);
      return issuer.close();
    },
  };
  open.add(handle);
  return issuer;
}

/** Closes every app and issuer started through these helpers. */
async function closeAll() {
  await Promise.all([...open].map((h) => h.close()));
}

/**
 * `fetch(url)` with the given headers (and `{ method }` in `init`). Returns
 * `{ status, headers, body, text }`; `body` is the parsed JSON, or the text when it is not JSON.
 */
async function request(url, headers = {}, init = {}) {
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** `request` with `Authorization: Bearer <token>`. */
function withToken(url, token, init) {
  return request(url, { authorization: `Bearer ${token}` }, init);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 20 ms until it is true or `timeout` ms passed; returns its last value. */
async function waitFor(predicate, timeout = 2000) {
  const deadline = Date.now() + timeout;
  while (!predicate() && Date.now() < deadline) await sleep(20);
  return predicate();
}

/**
 * The `WWW-Authenticate` value the contract prescribes for these parameters: in its fixed order,
 * quoted-string escaped, the empty ones left out; `Bearer` alone when none is left.
 */
function bearerChallenge({ error, description, scope, resourceMetadata } = {}) {
  const quote = (v) => v.replace(/[\\"]/g, (c) => `\\${c}`);
  const params = [
    ['error', error],
    ['error_description', description],
    ['scope', scope],
    ['resource_metadata', resourceMetadata],
  ]
    .filter(([, value]) => value)
    .map(([name, value]) => `${name}="${quote(value)}"`);
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/** Decodes a compact JWS's header and payload, without any check. */
function decodeJwt(token) {
  const [header, payload] = token.split('.');
  const part = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: part(header), payload: part(payload) };
}

/** Requests in `issuer.requests` whose path is `path` (a path or a full URL). */
function countRequests(issuer, path) {
  const wanted = new URL(path, issuer.origin).pathname;
  return issuer.requests.filter((r) => r.path === wanted).length;
}

/**
 * Starts an oidc-provider fixture (`__test__/fixtures/<script>`, a child process: the package is
 * ESM-only) on `port` (0: any) with `env` added; resolves `{ issuer, port, stop() }` once it
 * printed its issuer.
 */
function startProviderChild(script, { port = 0, env = {} } = {}) {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script)], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const { issuer } = JSON.parse(line);
      resolve({
        issuer,
        port: Number(new URL(issuer).port),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => reject(new Error(`oidc-provider exited with ${code}: ${stderr}`)));
  });
}

module.exports = {
  startApp,
  listen,
  startIssuer,
  closeAll,
  request,
  withToken,
  sleep,
  waitFor,
  decodeJwt,
  countRequests,
  bearerChallenge,
  startProviderChild,
};
