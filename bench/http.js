'use strict';
// HTTP benchmark: bare Express (no auth, the ceiling), mcp-auth 0.2.0 and mcp-auth-native, with
// the same route, the same issuer and the same tokens; and a custom verifier, called by this
// package or by a hand-written JS middleware. Servers run alternately (A B C A B C ...)
// in their own processes, pinned to CPU 0 when `taskset` exists, with autocannon on CPU 1.
// Every response's status is counted and every 200 body is checked against its token's `sub`.
//
//   npm run bench            5 rounds of 20000 requests per server and scenario
//   npm run bench -- --quick 2 rounds of 8000
//   npm run bench -- --only custom   only the scenarios whose name contains "custom" (`a|b`: either)
//   npm run bench -- --baseline DIR  also run the build of this package in DIR (before/after)
// Scenarios: GET with RS256/ES256 tokens (distinct, repeated, broken, lacking the scope), a custom
// verifier, POSTed `tools/call`s with `toolScopes` against plain `requiredScopes`, and what
// AsyncLocalStorage costs per request (with a sync and an async route handler), and opaque tokens
// by introspection (bearerAuth('introspection') against a custom verifier calling the same
// endpoint with fetch; the endpoint, in this process, counts its calls); and DPoP (RFC 9449):
// distinct bound tokens, each with its own client key and a fresh proof per request (signed
// before the run, like the tokens), and one bound token repeated with fresh proofs; in
// 'allowed' and 'required' mode with the memory replay store, with server nonces, and with the
// Redis store (a redis-server of its own, when installed); against the same tokens unbound as
// plain Bearer, to this package without and with the dpop option.

const { spawn, spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const fs = require('node:fs');
const autocannon = require('autocannon');
const http = require('node:http');
const { startLocalIssuer } = require('../examples/local-issuer');
const { proofKey, proof } = require('./dpop-proofs');
const { startRedis } = require('../__test__/redis');

/**
 * An RFC 7662 endpoint for the introspection scenarios: every token is active, with the claims of
 * its (unverified) JWT payload, as a provider's answer for an opaque token would be. Counts calls.
 */
async function startIntrospectionEndpoint() {
  const endpoint = { calls: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      endpoint.calls++;
      const token = new URLSearchParams(body).get('token') || '';
      let claims = {};
      try {
        claims = JSON.parse(Buffer.from(token.split('.')[1] || '', 'base64url').toString());
      } catch {
        // not one of ours: inactive
      }
      const answer = claims.sub ? { active: true, client_id: 'bench', token_type: 'Bearer', ...claims } : { active: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${server.address().port}/introspect`;
  endpoint.close = () => new Promise((resolve) => server.close(resolve));
  return endpoint;
}

const quick = process.argv.includes('--quick');
// `--only <text>`: run only the scenarios whose name contains <text>.
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
const ROUNDS = quick ? 2 : 5;
// Requests per round. A "distinct tokens" scenario gives every request of the whole run its own
// token (each round takes a fresh slice), so no cache can help it.
const AMOUNT = quick ? 8000 : 20000;
const WARMUP = 2000;
const CONNECTIONS = 50;
// `--baseline <dir>`: also run another build of this package (a directory with its index.js,
// binding.js and .node), as `native-baseline`, to measure a change before and after.
const baselineAt = process.argv.indexOf('--baseline');
const baseline = baselineAt > 0 ? path.resolve(process.argv[baselineAt + 1]) : undefined;
const KINDS = ['bare', 'mcp-auth', 'native', ...(baseline ? ['native-baseline'] : [])];
const CUSTOM_KINDS = ['bare', 'js-custom', 'native-custom', ...(baseline ? ['native-custom-baseline'] : [])];
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// The DPoP scenario's Redis replay store runs on a redis-server of its own (the Debian package).
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

function startServer(kind, issuer, resource, introspectionUrl, redisUrl) {
  const args = [path.join(__dirname, 'server.mjs'), kind, issuer, resource];
  const env = { ...process.env, BASELINE_DIR: baseline, INTROSPECTION_URL: introspectionUrl, REDIS_URL: redisUrl };
  const options = { stdio: ['ignore', 'pipe', 'inherit'], env };
  const child = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], options)
    : spawn(process.execPath, args, options);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    // A server that cannot start (say, a baseline build without an option) ends the run.
    const exited = (code) => reject(new Error(`the ${kind} server exited (${code}) before listening`));
    child.once('exit', exited);
    child.stdout.once('data', (d) => {
      child.off('exit', exited);
      resolve({ child, port: JSON.parse(String(d)).port });
    });
  });
}

function cpuMicros(statPath) {
  // utime + stime in microseconds, from a Linux /proc stat file.
  const stat = fs.readFileSync(statPath, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  return (ticks * 1e6) / 100;
}

/** CPU time of the whole server process and of its main (JS) thread, in microseconds. */
function cpuSample(pid) {
  return { all: cpuMicros(`/proc/${pid}/stat`), js: cpuMicros(`/proc/${pid}/task/${pid}/stat`) };
}

function rssKiB(pid) {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line.split(/\s+/)[1]);
}

/**
 * Sends `amount` requests with the tokens in `tokens` (in order; `reuse` allows wrapping around,
 * else running out of tokens fails the round) and measures the server.
 */
async function round(port, pid, tokens, expectStatus, { amount = AMOUNT, reuse = false, body } = {}) {
  const counts = {};
  let wrong = 0;
  let next = 0;
  let ranOut = false;
  const cpuBefore = cpuSample(pid);
  const started = process.hrtime.bigint();
  let lastAnswer = started;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/mcp`,
    connections: CONNECTIONS,
    amount,
    requests: [
      {
        // `body`: POST it as JSON (an MCP JSON-RPC message), else GET.
        ...(body === undefined ? {} : { method: 'POST', body }),
        setupRequest(req, context) {
          if (next >= tokens.length && !reuse) ranOut = true;
          const t = tokens[next++ % tokens.length];
          context.sub = t.sub;
          // A token may bring its own headers (DPoP: `Authorization: DPoP` and its proof).
          const headers = t.headers ? { ...t.headers } : { authorization: `Bearer ${t.token}` };
          if (body !== undefined) headers['content-type'] = 'application/json';
          return { ...req, headers };
        },
        onResponse(status, body, context) {
          // autocannon notices the end of an `amount` run only on its 1 s tick: time the last answer.
          lastAnswer = process.hrtime.bigint();
          counts[status] = (counts[status] || 0) + 1;
          if (status === 200 && JSON.parse(body).sub !== context.sub) wrong++;
        },
      },
    ],
  });
  const seconds = Number(lastAnswer - started) / 1e9;
  const cpuAfter = cpuSample(pid);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const ok = wrong === 0 && !ranOut && (counts[expectStatus] || 0) === total && result.errors === 0;
  return {
    rps: total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerReq: total ? (cpuAfter.all - cpuBefore.all) / total : NaN,
    jsCpuPerReq: total ? (cpuAfter.js - cpuBefore.js) / total : NaN,
    ok,
    counts,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const issuer = await startLocalIssuer({ type: 'oidc' });
  const resource = 'https://bench.example.com/mcp';
  // Tokens outlive the run (a full run takes minutes; mcp-auth allows no clock skew by default).
  const sign = (claims, opts) => issuer.sign({ aud: resource, scope: 'read', ...claims }, { expiresIn: 3600, ...opts });
  // Enough tokens for the warm-up and every round, plus what autocannon may set up beyond
  // `amount` (one request in flight per connection).
  const DISTINCT = WARMUP + ROUNDS * (AMOUNT + CONNECTIONS);
  const make = (n, fn) => Array.from({ length: n }, (_, i) => ({ sub: `user-${i}`, token: fn(i) }));
  // Token sets are signed when a scenario first needs them (RS256 signing takes a while).
  const once = (fn) => {
    let value;
    return () => (value ??= fn());
  };
  const rs256 = once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}` })));
  const scenarios = [
    { name: 'RS256, distinct tokens', expect: 200, tokens: rs256, check: true },
    { name: 'RS256, one token repeated', expect: 200, tokens: once(() => make(1, () => sign({ sub: 'user-0' }))) },
    {
      name: 'ES256, distinct tokens',
      expect: 200,
      check: true,
      tokens: once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}` }, { alg: 'ES256' }))),
    },
    {
      name: 'RS256, broken signatures (401)',
      expect: 401,
      // The exact contents of the valid tokens, with one bit of each signature flipped.
      tokens: once(() =>
        rs256().map(({ sub, token }) => {
          const [header, payload, signature] = token.split('.');
          const sig = Buffer.from(signature, 'base64url');
          sig[0] ^= 1;
          return { sub, token: `${header}.${payload}.${sig.toString('base64url')}` };
        }),
      ),
    },
    {
      name: 'RS256, missing scope (403)',
      expect: 403,
      tokens: once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}`, scope: 'other' }))),
    },
    {
      name: 'custom verifier, distinct tokens',
      expect: 200,
      kinds: CUSTOM_KINDS,
      peer: 'js-custom',
      // The verifier reads the payload without checking the signature: any algorithm will do.
      tokens: once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}` }, { alg: 'ES256' }))),
    },
  ];
  // Step-up: POSTed `tools/call`s, plain `requiredScopes` (native) against `toolScopes`.
  const toolCall = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } });
  const TOOL_KINDS = ['native', 'native-tools', ...(baseline ? ['native-baseline'] : [])];
  const oneToken = once(() => make(1, () => sign({ sub: 'user-0' })));
  scenarios.push(
    { name: 'tool scopes, one token repeated (POST tools/call)', expect: 200, kinds: TOOL_KINDS, peer: 'native', body: toolCall, tokens: oneToken },
    {
      name: 'tool scopes, distinct tokens (POST tools/call)',
      expect: 200,
      kinds: TOOL_KINDS,
      peer: 'native',
      body: toolCall,
      // Not the GET scenarios' tokens: a token a server saw before would be answered from its memo.
      tokens: once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}`, jti: `tools-${i}` }))),
    },
    // What AsyncLocalStorage (mcpAuth.authInfo) costs per request: a bare server with and
    // without it, and this package (compare with `--baseline` a copy whose request context
    // calls `next()` without `run`), each with a sync and an async route handler.
    {
      name: 'AsyncLocalStorage, sync handler',
      expect: 200,
      kinds: ['bare', 'bare-als', 'native', ...(baseline ? ['native-baseline'] : [])],
      peer: 'bare',
      tokens: oneToken,
    },
    {
      name: 'AsyncLocalStorage, async handler',
      expect: 200,
      kinds: ['bare-async', 'bare-als-async', 'native-async', ...(baseline ? ['native-async-baseline'] : [])],
      peer: 'bare-async',
      tokens: oneToken,
    },
  );
  // Opaque tokens: the payloads are only read by the introspection endpoint, never verified by the
  // server. The peer is a custom verifier calling the endpoint with fetch for each request.
  const INTROSPECTION_KINDS = ['custom-introspection', 'native-introspection'];
  scenarios.push(
    {
      name: 'introspection, one token repeated',
      expect: 200,
      kinds: INTROSPECTION_KINDS,
      peer: 'custom-introspection',
      introspection: true,
      tokens: once(() => make(1, () => sign({ sub: 'user-0', jti: 'introspection-0' }))),
    },
    {
      name: 'introspection, distinct tokens',
      expect: 200,
      kinds: INTROSPECTION_KINDS,
      peer: 'custom-introspection',
      introspection: true,
      // Not the other scenarios' tokens, so that no cache or memo knows them.
      tokens: once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}`, jti: `introspection-${i}` }, { alg: 'ES256' }))),
    },
  );
  // DPoP: each token has its own client key (ES256) and is bound to it (`cnf.jkt`); each request
  // brings the proof made for it (GET, `htu` = the resource, `ath`, a jti of its own), signed here
  // when the scenario starts. A memory replay store is per server process, so the servers of a
  // scenario can take the same proofs. The Bearer scenario: the same claims without `cnf`.
  const DPOP_KINDS = ['bare', 'native-dpop', 'native-dpop-required', ...(hasRedis ? ['native-dpop-redis'] : [])];
  const boundTokens = (tag) =>
    once(() =>
      Array.from({ length: DISTINCT }, (_, i) => {
        const key = proofKey('ES256');
        const token = sign({ sub: `user-${i}`, jti: `${tag}-${i}`, cnf: { jkt: key.jkt } }, { alg: 'ES256' });
        return { sub: `user-${i}`, token, key, headers: { authorization: `DPoP ${token}`, dpop: proof(key, { htm: 'GET', htu: resource, token }) } };
      }),
    );
  /** The server's current DPoP-Nonce: the answer to a proof without one (401 use_dpop_nonce). */
  async function serverNonce(port, { token, key }) {
    const res = await fetch(`http://127.0.0.1:${port}/mcp`, { headers: { authorization: `DPoP ${token}`, dpop: proof(key, { htm: 'GET', htu: resource, token }) } });
    await res.text();
    const nonce = res.headers.get('dpop-nonce');
    if (res.status !== 401 || !nonce) throw new Error(`no DPoP-Nonce from the nonce server (${res.status} ${res.headers.get('www-authenticate')})`);
    return nonce;
  }
  scenarios.push(
    {
      name: 'DPoP, distinct bound tokens, fresh proofs',
      expect: 200,
      kinds: DPOP_KINDS,
      peer: 'native-dpop',
      tokens: boundTokens('dpop'),
    },
    {
      // What a client does between refreshes: the same bound token, a fresh proof per request.
      name: 'DPoP, one bound token repeated, fresh proofs',
      expect: 200,
      kinds: ['bare', 'native-dpop', ...(baseline ? ['native-dpop-baseline'] : [])],
      peer: baseline ? 'native-dpop-baseline' : 'bare',
      tokens: once(() => {
        const key = proofKey('ES256');
        const token = sign({ sub: 'user-0', jti: 'dpop-repeated', cnf: { jkt: key.jkt } }, { alg: 'ES256' });
        return Array.from({ length: DISTINCT }, () => ({ sub: 'user-0', token, key, headers: { authorization: `DPoP ${token}`, dpop: proof(key, { htm: 'GET', htu: resource, token }) } }));
      }),
    },
    {
      // Nonces come from the server (a random secret per process, rotating each minute): the
      // proofs for `native-dpop-nonce` are signed with its current nonce just before each round
      // (not measured); the others take the precomputed proofs without one.
      name: 'DPoP with server nonces, distinct bound tokens, fresh proofs',
      expect: 200,
      kinds: ['bare', 'native-dpop', 'native-dpop-nonce'],
      peer: 'native-dpop',
      tokens: boundTokens('dpop-nonce'),
      async forServer(kind, port, tokens) {
        if (kind !== 'native-dpop-nonce') return tokens;
        const nonce = await serverNonce(port, tokens[0]);
        return tokens.map((t) => ({
          ...t,
          headers: { ...t.headers, dpop: proof(t.key, { htm: 'GET', htu: resource, token: t.token, claims: { nonce } }) },
        }));
      },
    },
    {
      name: 'DPoP peer: the same tokens unbound, as Bearer',
      expect: 200,
      kinds: ['bare', 'native', 'native-dpop'],
      peer: 'native',
      tokens: once(() => make(DISTINCT, (i) => sign({ sub: `user-${i}`, jti: `dpop-bearer-${i}` }, { alg: 'ES256' }))),
    },
  );
  const chosen = scenarios.filter((s) => only === undefined || only.split('|').some((part) => s.name.includes(part)));
  const allKinds = [...new Set(chosen.flatMap((s) => s.kinds || KINDS))];

  const endpoint = await startIntrospectionEndpoint();
  // The signature check's own cost for the scenarios marked `check`, in process, pinned like the
  // servers, with the issuer's keys and the scenario's tokens.
  const jwks = await (await fetch(issuer.jwksUri)).json();
  const checkCost = {};
  for (const scenario of chosen.filter((s) => s.check)) {
    const tokens = scenario.tokens().slice(0, 5000).map((t) => t.token);
    const args = [path.join(__dirname, 'check-cost.js')];
    const run = hasTaskset
      ? spawnSync('taskset', ['-c', '0', process.execPath, ...args], { input: JSON.stringify({ jwks, tokens }) })
      : spawnSync(process.execPath, args, { input: JSON.stringify({ jwks, tokens }) });
    if (run.status !== 0) throw new Error(`check-cost.js failed: ${run.stderr}`);
    checkCost[scenario.name] = JSON.parse(String(run.stdout));
  }

  // A redis-server for the Redis replay store, pinned with the servers (its CPU is not counted).
  const redis = allKinds.includes('native-dpop-redis') ? await startRedis() : undefined;
  if (redis && hasTaskset) spawnSync('taskset', ['-p', '-c', '0', String(redis.pid)]);
  const servers = {};
  for (const kind of allKinds) servers[kind] = await startServer(kind, issuer.issuer, resource, endpoint.url, redis?.url);
  const results = {};
  // The report is rewritten after each scenario, so a run that stops early keeps what it measured.
  const file = path.join(__dirname, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.md`);
  let finished = 0;
  try {
    for (const scenario of chosen) {
      // Warm up each server (discovery, JWKS, JIT) before measuring.
      const scenarioKinds = scenario.kinds || KINDS;
      const all = scenario.tokens();
      const reuse = all.length === 1;
      const slice = (from, n) => (reuse ? all : all.slice(from, from + n));
      for (const kind of scenarioKinds) {
        const { port, child } = servers[kind];
        // `forServer`: the scenario adapts its requests to this server just before they are sent.
        const warm = scenario.forServer ? await scenario.forServer(kind, port, slice(0, WARMUP)) : slice(0, WARMUP);
        await round(port, child.pid, warm, scenario.expect, { amount: WARMUP, reuse: true, body: scenario.body });
      }
      const kinds = scenario.expect === 200 ? scenarioKinds : scenarioKinds.filter((k) => k !== 'bare');
      for (let r = 0; r < ROUNDS; r++) {
        const tokens = slice(WARMUP + r * (AMOUNT + CONNECTIONS), AMOUNT + CONNECTIONS);
        for (const kind of kinds) {
          const callsBefore = endpoint.calls;
          const sent = scenario.forServer ? await scenario.forServer(kind, servers[kind].port, tokens) : tokens;
          const res = await round(servers[kind].port, servers[kind].child.pid, sent, scenario.expect, { reuse, body: scenario.body });
          // Introspection scenarios: how many calls the endpoint received in this round.
          if (scenario.introspection) res.calls = endpoint.calls - callsBefore;
          ((results[scenario.name] ||= { peer: scenario.peer || 'mcp-auth', byKind: {} }).byKind[kind] ||= []).push(res);
        }
      }
      finished++;
      if (finished < chosen.length) {
        fs.writeFileSync(file, `${render(`Partial: ${finished} of ${chosen.length} scenarios measured so far.`)}\n`);
      }
    }
  } finally {
    for (const kind of allKinds) servers[kind].peak = rssKiB(servers[kind].child.pid);
    for (const kind of allKinds) servers[kind].child.kill('SIGTERM');
    await issuer.close();
    await endpoint.close();
    await redis?.stop();
  }

  const report = render();
  console.log(report);
  fs.writeFileSync(file, `${report}\n`);
  console.log(`\nWritten to ${path.relative(process.cwd(), file)}`);
  if (!allOk(results)) process.exitCode = 1;

  /** The report of what `results` holds so far; `status`, when given, is its first line. */
  function render(status) {
    const lines = status ? [status, ''] : [];
    const cpuModel = (os.cpus()[0] || {}).model || 'unknown CPU';
    lines.push(`Machine: ${os.cpus().length} × ${cpuModel}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
    lines.push(`Command: npm run bench --${quick ? ' --quick' : ''}${only ? ` --only '${only}'` : ''}${baseline ? ` --baseline ${baseline}` : ''} (${ROUNDS} rounds × ${AMOUNT} requests, ${CONNECTIONS} connections, servers ${hasTaskset ? 'pinned to CPU 0, load on CPU 1' : 'not pinned'}; distinct-token scenarios never send a token twice)`);
    lines.push('');
    lines.push('| scenario | server | req/s (median) | p50 ms | p99 ms | server CPU µs/req | JS thread µs/req | vs bare | vs peer | checks |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const [name, { peer, byKind }] of Object.entries(results)) {
      const med = (kind, field) => (byKind[kind] ? median(byKind[kind].map((r) => r[field])) : NaN);
      for (const kind of Object.keys(byKind)) {
        const ok = byKind[kind].every((r) => r.ok);
        const rps = med(kind, 'rps');
        const ratio = (other) => (byKind[other] && other !== kind ? `${(rps / med(other, 'rps')).toFixed(2)}×` : '');
        lines.push(`| ${name} | ${kind} | ${Math.round(rps)} | ${med(kind, 'p50')} | ${med(kind, 'p99')} | ${med(kind, 'cpuPerReq').toFixed(0)} | ${med(kind, 'jsCpuPerReq').toFixed(0)} | ${ratio('bare')} | ${ratio(peer)} | ${ok ? 'OK' : `FAILED ${JSON.stringify(byKind[kind].map((r) => r.counts))}`} |`);
      }
    }
    lines.push('');
    const overheads = Object.entries(checkCost).filter(([name]) => results[name]);
    if (overheads.length) {
      lines.push('Overhead: server CPU µs per request over bare Express, minus the signature check\'s own cost as that server pays it (measured in process, pinned, same keys and tokens: the addon\'s aws-lc check for this package\'s servers, node:crypto for mcp-auth). The physical limit is bare plus the addon\'s check. JS thread: its CPU µs per request over bare.');
      lines.push('');
      lines.push('| scenario | server | check µs (own) | added over bare µs | overhead µs | JS thread over bare µs | limit CPU µs/req | CPU vs limit |');
      lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
      for (const [name, check] of overheads) {
        const { byKind } = results[name];
        const med = (kind, field) => median(byKind[kind].map((r) => r[field]));
        const limit = med('bare', 'cpuPerReq') + check.native;
        for (const kind of Object.keys(byKind).filter((k) => k !== 'bare')) {
          const own = kind.startsWith('native') ? check.native : check.node;
          const cpu = med(kind, 'cpuPerReq');
          const added = cpu - med('bare', 'cpuPerReq');
          const js = med(kind, 'jsCpuPerReq') - med('bare', 'jsCpuPerReq');
          lines.push(`| ${name} | ${kind} | ${own.toFixed(1)} | ${added.toFixed(1)} | ${(added - own).toFixed(1)} | ${js.toFixed(1)} | ${limit.toFixed(0)} | ${(cpu / limit).toFixed(2)}× |`);
        }
      }
      lines.push('');
    }
    lines.push('The peer is mcp-auth 0.2.0; for the custom verifier a hand-written JS middleware calling the same function; for tool scopes this package with plain `requiredScopes` on the same POST; for AsyncLocalStorage the bare server without it; for introspection a custom verifier calling the endpoint with fetch.');
    for (const [name, { byKind }] of Object.entries(results)) {
      const counted = Object.entries(byKind).filter(([, rounds]) => rounds.every((r) => r.calls !== undefined));
      if (counted.length === 0) continue;
      const sum = (rounds, field) => rounds.reduce((a, r) => a + (field === 'calls' ? r.calls : Object.values(r.counts).reduce((x, y) => x + y, 0)), 0);
      lines.push(`Introspection endpoint calls, ${name} (measured rounds, after warm-up): ${counted.map(([kind, rounds]) => `${kind} ${sum(rounds, 'calls')} for ${sum(rounds, 'requests')} requests`).join('; ')}`);
    }
    // What DPoP adds per request: bound tokens with proofs (dpop option on) against the same tokens
    // unbound as Bearer (this package without the option).
    const dpopRun = results['DPoP, distinct bound tokens, fresh proofs'];
    const bearerRun = results['DPoP peer: the same tokens unbound, as Bearer'];
    if (dpopRun && bearerRun) {
      const med = (run, kind, field) => median(run.byKind[kind].map((r) => r[field]));
      const base = med(bearerRun, 'native', 'cpuPerReq');
      const parts = Object.keys(dpopRun.byKind)
        .filter((k) => k !== 'bare')
        .map((k) => {
          const cpu = med(dpopRun, k, 'cpuPerReq');
          return `${k} ${cpu.toFixed(0)} µs (+${(cpu - base).toFixed(0)} µs, ${(cpu / base).toFixed(2)}×; req/s ${(med(dpopRun, k, 'rps') / med(bearerRun, 'native', 'rps')).toFixed(2)}×)`;
        });
      lines.push(`DPoP vs Bearer, server CPU per request against native with Bearer (${base.toFixed(0)} µs): ${parts.join('; ')}`);
    }
    // VmHWM is a high-water mark: read from the live process for a partial report.
    const peak = (k) => servers[k].peak ?? rssKiB(servers[k].child.pid);
    lines.push(`Peak RSS (MiB)${status ? ' so far' : ''}: ${allKinds.map((k) => `${k} ${(peak(k) / 1024).toFixed(0)}`).join(', ')}`);
    return lines.join('\n');
  }
}

/** Whether every round of every server passed its checks. */
const allOk = (results) => Object.values(results).every(({ byKind }) => Object.values(byKind).every((rounds) => rounds.every((r) => r.ok)));

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
