'use strict';
// Soak: `npm run soak [-- --duration S --min-requests N --connections C --only TEXT --iat-window S]`.
// Starts a local issuer and the server of bench/soak-server.js in its own process, and sends
// traffic with autocannon for at least `--duration` seconds (default 180) and at least
// `--min-requests` answers (default 200,000), whichever comes later, but never longer than
// `--max-duration` (default 5 × duration). The traffic mixes, request by request: valid, forged,
// missing-scope, missing-header and malformed JWTs, a custom verifier's valid and refused tokens,
// and DPoP (RFC 9449, memory replay store): bound tokens with a fresh proof per request, proofs
// replayed after they were accepted, bound tokens sent as Bearer, proofs for another URL and
// proofs by another key than the token's; and on a route with server nonces, proofs with the
// latest `DPoP-Nonce` the server sent (200, with the next nonce) and proofs without one (401
// `use_dpop_nonce`, with a nonce). `--only dpop` keeps only the kinds whose name contains
// the text. The server's RSS and open file descriptors (/proc/<pid>) are sampled every second.
//
// Passes (exit 0) when: every answer has its kind's status (and, for the refusals that say so,
// its `error` in WWW-Authenticate; `DPoP-Nonce` where nonces are on), nothing errored or timed
// out; after the warm-up (the first 20% of the run's seconds, at least 10 s and at least 3 × the
// proofs' iat window, which bounds the replay store) the medians of RSS over 30 s windows stay
// within 10% of each other (a garbage-collected heap is a sawtooth; the windows show its trend);
// and the open fds at the end of the load and after it are not above their count after the
// warm-up.
//
// The verdict does not depend on the machine's speed: warm-up and windows are spans of time, and
// the run lasts at least `--duration`, so the number of windows is fixed by the duration (a
// duration too short for two windows after the warm-up is refused before the run). A faster
// machine only sends more requests. Only a machine that cannot reach `--min-requests` within
// `--max-duration` fails for its speed, and the report says so.
// The samples are written to a JSON file in the temp directory.
// Linux only (reads /proc). Not part of `npm test`: it takes minutes.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const autocannon = require('autocannon');
const { startLocalIssuer } = require('../examples/local-issuer');
const { proofKey, proof } = require('./dpop-proofs');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const DURATION = Number(arg('duration', 180));
const MIN_REQUESTS = Number(arg('min-requests', 200_000));
const MAX_DURATION = Number(arg('max-duration', DURATION * 5));
const CONNECTIONS = Number(arg('connections', 50));
const ONLY = arg('only', undefined);
// The soak server's dpop.iatWindow: proofs (and so the memory replay store's entries) live this long.
const IAT_WINDOW = Number(arg('iat-window', 15));
const RESOURCE = 'https://soak.example/mcp';
const WINDOW = 30; // seconds per RSS window

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
/** Seconds of warm-up in a load of `seconds`. */
const warmupOf = (seconds) => Math.max(10, Math.floor(seconds * 0.2), 3 * IAT_WINDOW);

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const fds = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

async function startServer(issuer) {
  const child = spawn(process.execPath, [path.join(__dirname, 'soak-server.js'), issuer, RESOURCE], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SOAK_IAT_WINDOW: String(IAT_WINDOW) },
  });
  const line = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { child, port: JSON.parse(line).port };
}

async function main() {
  if (process.argv.includes('--requests')) throw new Error('--requests is gone: the soak runs for --duration seconds and at least --min-requests answers');
  for (const [name, v] of Object.entries({ DURATION, MIN_REQUESTS, MAX_DURATION, CONNECTIONS, IAT_WINDOW })) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name.toLowerCase().replace('_', '-')} must be a positive number`);
  }
  if (DURATION - warmupOf(DURATION) < 2 * WINDOW) {
    let least = DURATION;
    while (least - warmupOf(least) < 2 * WINDOW) least++;
    throw new Error(
      `--duration ${DURATION} s leaves fewer than two ${WINDOW} s RSS windows after the ${warmupOf(DURATION)} s warm-up: ` +
        `use at least ${least} s (or a smaller --iat-window)`,
    );
  }
  if (MAX_DURATION < DURATION) throw new Error('--max-duration must not be below --duration');

  const issuer = await startLocalIssuer();
  const { child, port } = await startServer(issuer.issuer);
  try {
    process.exitCode = await soak(issuer, child, `http://127.0.0.1:${port}`);
  } finally {
    child.kill('SIGTERM');
    await issuer.close();
  }
}

/** Sends the traffic, samples, judges and prints the report; resolves the exit code. */
async function soak(issuer, child, origin) {
  // Distinct tokens, so that most JWT requests are verified rather than answered from the cache.
  const sign = (claims, alg) => issuer.sign({ aud: RESOURCE, ...claims }, { alg, expiresIn: 7200 });
  const pool = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  const algs = ['EdDSA', 'ES256', 'RS256'];
  const valid = pool(30000, (i) => sign({ scope: 'read write', n: i }, algs[i % 3]));
  const noScope = pool(3000, (i) => sign({ scope: 'write', n: i }, 'EdDSA'));
  const forged = pool(3000, (i) => {
    const t = valid[i];
    return `${t.slice(0, -6)}${t.slice(-6) === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA'}`;
  });

  // DPoP: 1000 client keys (ES256 and EdDSA), three bound tokens each (cnf.jkt = the key's
  // thumbprint); every proof is signed when its request is set up, so each one is fresh.
  const keys = pool(1000, (i) => proofKey(i % 2 ? 'EdDSA' : 'ES256'));
  const bound = pool(3000, (i) => ({ key: i % keys.length, token: sign({ scope: 'read write', n: i, cnf: { jkt: keys[i % keys.length].jkt } }, algs[i % 3]) }));
  const dpopUrl = `${new URL(RESOURCE).origin}/dpop`;
  const nonceUrl = `${new URL(RESOURCE).origin}/dpop-nonce`;
  const fresh = (b, extra = {}) => proof(keys[b.key], { htm: 'GET', htu: dpopUrl, token: b.token, ...extra });
  // The latest DPoP-Nonce the nonce route sent; a client that always uses it is never stale
  // (a server accepts the current and the previous nonce).
  let nonce;
  // Proofs the server accepted (200), most recent last: the replay kind sends them again.
  const accepted = [];
  const remember = (p) => {
    accepted.push(p);
    if (accepted.length > 1024) accepted.shift();
  };

  // Kind of each request by its sequence number: name, path, headers for the n-th request of the
  // kind, expected status, and the `error` its WWW-Authenticate must carry (when the contract says).
  // `dpop valid` remembers its proof (context.proof) once answered 200.
  const dpopHeaders = (b, p) => ({ authorization: `DPoP ${b.token}`, dpop: p });
  const allKinds = [
    { name: 'jwt valid', path: '/jwt', headers: (n) => ({ authorization: `Bearer ${valid[n % valid.length]}` }), status: 200 },
    { name: 'jwt forged', path: '/jwt', headers: (n) => ({ authorization: `Bearer ${forged[n % forged.length]}` }), status: 401, error: 'invalid_token' },
    { name: 'jwt missing scope', path: '/jwt', headers: (n) => ({ authorization: `Bearer ${noScope[n % noScope.length]}` }), status: 403, error: 'insufficient_scope' },
    { name: 'jwt no header', path: '/jwt', headers: () => ({}), status: 401 },
    { name: 'jwt malformed', path: '/jwt', headers: (n) => ({ authorization: `Bearer not.a.jwt${n}` }), status: 401, error: 'invalid_token' },
    { name: 'custom valid', path: '/custom', headers: (n) => ({ authorization: `Bearer ok-${n}` }), status: 200 },
    { name: 'custom refused', path: '/custom', headers: (n) => ({ authorization: `Bearer bad-${n}` }), status: 401, error: 'invalid_token' },
    {
      name: 'dpop valid (fresh proof)',
      path: '/dpop',
      headers: (n, context) => {
        const b = bound[n % bound.length];
        context.proof = fresh(b);
        return dpopHeaders(b, context.proof);
      },
      status: 200,
      accepted: true,
    },
    {
      name: 'dpop replayed proof',
      path: '/dpop',
      // A proof the server accepted moments ago, with its own token.
      headers: (n) => {
        const { token, proof: p } = accepted[accepted.length - 1 - (n % accepted.length)];
        return { authorization: `DPoP ${token}`, dpop: p };
      },
      status: 401,
      error: 'invalid_dpop_proof',
    },
    { name: 'dpop bound token as Bearer', path: '/dpop', headers: (n) => ({ authorization: `Bearer ${bound[n % bound.length].token}` }), status: 401, error: 'invalid_token' },
    {
      name: 'dpop proof for another URL',
      path: '/dpop',
      headers: (n) => {
        const b = bound[n % bound.length];
        return dpopHeaders(b, fresh(b, { htu: `${dpopUrl}-other` }));
      },
      status: 401,
      error: 'invalid_dpop_proof',
    },
    {
      name: 'dpop proof by another key',
      path: '/dpop',
      headers: (n) => {
        const b = bound[n % bound.length];
        return dpopHeaders(b, fresh({ ...b, key: (b.key + 1) % keys.length }));
      },
      status: 401,
    },
    {
      name: 'dpop nonce (latest DPoP-Nonce)',
      path: '/dpop-nonce',
      headers: (n) => {
        const b = bound[n % bound.length];
        return dpopHeaders(b, fresh(b, { htu: nonceUrl, claims: { nonce } }));
      },
      status: 200,
      nonceHeader: true,
    },
    {
      name: 'dpop nonce missing',
      path: '/dpop-nonce',
      headers: (n) => {
        const b = bound[n % bound.length];
        return dpopHeaders(b, fresh(b, { htu: nonceUrl }));
      },
      status: 401,
      error: 'use_dpop_nonce',
      nonceHeader: true,
    },
  ];
  const kinds = allKinds.filter((k) => ONLY === undefined || k.name.includes(ONLY));
  if (kinds.length === 0) throw new Error(`--only ${ONLY}: no kind of traffic has that in its name`);

  // The replay kind needs accepted proofs from the start: a few valid DPoP requests first.
  if (kinds.some((k) => k.name === 'dpop replayed proof')) {
    for (let i = 0; i < 32; i++) {
      const b = bound[bound.length - 1 - i];
      const p = fresh(b);
      const res = await fetch(`${origin}/dpop`, { headers: dpopHeaders(b, p) });
      const text = await res.text();
      if (res.status !== 200) {
        throw new Error(`the soak server refused a valid DPoP request (${res.status} ${res.headers.get('www-authenticate')} ${text}): does this build have the dpop option?`);
      }
      remember({ token: b.token, proof: p });
    }
  }

  // The nonce kinds start with the server's nonce: one request without, answered 401 + DPoP-Nonce.
  if (kinds.some((k) => k.path === '/dpop-nonce')) {
    const b = bound[0];
    const res = await fetch(`${origin}/dpop-nonce`, { headers: dpopHeaders(b, fresh(b, { htu: nonceUrl })) });
    await res.text();
    nonce = res.headers.get('dpop-nonce') ?? undefined;
    if (res.status !== 401 || !nonce) {
      throw new Error(`the soak server's nonce route answered ${res.status} without a DPoP-Nonce (${res.headers.get('www-authenticate')})`);
    }
  }

  let seq = 0;
  let answered = 0;
  const perKind = new Array(kinds.length).fill(0);
  const mismatches = {}; // kind -> { "status[ error]": count } where the answer was not the kind's
  // One request in flight per connection (no pipelining): the response belongs to the request
  // last set up on the same connection, whose kind is kept in the connection's context.
  const setupRequest = (req, context) => {
    const i = seq++;
    const k = i % kinds.length;
    context.kind = k;
    context.proof = undefined;
    const headers = kinds[k].headers(Math.floor(i / kinds.length), context);
    context.token = headers.authorization?.slice(headers.authorization.indexOf(' ') + 1);
    return { ...req, path: kinds[k].path, headers };
  };
  const onResponse = (status, body, context, headers) => {
    answered++;
    const kind = kinds[context.kind];
    perKind[context.kind]++;
    const header = (name) => {
      for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return String(headers[k]);
      return undefined;
    };
    const challenge = header('www-authenticate') ?? '';
    const errorOk = !kind.error || challenge.includes(`error="${kind.error}"`);
    const next = header('dpop-nonce');
    if (next && kind.path === '/dpop-nonce') nonce = next;
    const nonceOk = !kind.nonceHeader || next !== undefined;
    if (status !== kind.status || !errorOk || !nonceOk) {
      const m = (mismatches[kind.name] ||= {});
      const key = `${status}${errorOk ? '' : ` ${challenge.slice(0, 120)}`}${nonceOk ? '' : ' without DPoP-Nonce'}`;
      m[key] = (m[key] || 0) + 1;
    } else if (kind.accepted && context.proof) {
      remember({ token: context.token, proof: context.proof });
    }
  };

  const samples = [];
  const sampler = setInterval(() => {
    samples.push({ t: (Date.now() - started) / 1000, n: answered, rss: rssKiB(child.pid), fds: fds(child.pid) });
  }, 1000);
  const startRss = rssKiB(child.pid);
  const started = Date.now();
  const instance = autocannon({
    url: origin,
    connections: CONNECTIONS,
    duration: MAX_DURATION,
    timeout: 10,
    requests: [{ method: 'GET', setupRequest, onResponse }],
  });
  // Stops once both the duration and the minimum count are reached.
  let stoppedBy = 'max-duration';
  const judge = setInterval(() => {
    if ((Date.now() - started) / 1000 >= DURATION && answered >= MIN_REQUESTS) {
      stoppedBy = 'duration and minimum count reached';
      clearInterval(judge);
      instance.stop();
    }
  }, 250);
  const result = await instance;
  clearInterval(judge);
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  // Let in-flight work settle, then the after-load sample.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  samples.push({ t: (Date.now() - started) / 1000, n: answered, rss: rssKiB(child.pid), fds: fds(child.pid) });

  // Expected counts per status from the sequence numbers actually sent.
  const expected = {};
  for (let i = 0; i < seq; i++) {
    const { status } = kinds[i % kinds.length];
    expected[status] = (expected[status] || 0) + 1;
  }
  const got = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats || {})) got[code] = count;

  // RSS under a garbage-collected load is a sawtooth: judge the trend on 30 s windows' medians.
  // By the samples' time, not their count: a busy event loop fires the 1 s sampler late, so a
  // run of S seconds has somewhat fewer than S samples. Only whole windows count.
  const loaded = samples.slice(0, -1); // the last sample is taken after the load stopped
  const warm = warmupOf(seconds);
  const after = loaded.filter((x) => x.t >= warm);
  const windows = [];
  const starved = [];
  for (let from = warm; from + WINDOW <= seconds; from += WINDOW) {
    const inWindow = after.filter((x) => x.t >= from && x.t < from + WINDOW);
    // A window needs most of its samples to say something.
    if (inWindow.length < WINDOW / 2) starved.push(`${Math.round(from)}-${Math.round(from + WINDOW)} s: ${inWindow.length} samples`);
    else windows.push(median(inWindow.map((x) => x.rss)));
  }
  const base = windows[0];
  const endRss = windows[windows.length - 1];
  const lowest = Math.min(...windows);
  const highest = Math.max(...windows);
  const maxRss = Math.max(...after.map((s) => s.rss));
  const fdsWarm = after.length ? after[0].fds : NaN;
  const fdsEnd = after.length ? after[after.length - 1].fds : NaN;
  const fdsAfter = samples[samples.length - 1].fds;

  const problems = [];
  if (answered < MIN_REQUESTS) {
    problems.push(`only ${answered} answers in ${Math.round(seconds)} s (--max-duration ${MAX_DURATION}), below --min-requests ${MIN_REQUESTS}: this machine is too slow for that minimum`);
  }
  // Cannot happen with a duration checked above, unless the sampler was starved for seconds.
  if (starved.length) problems.push(`the sampler was starved: ${starved.join(', ')}`);
  if (windows.length < 2) problems.push(`${windows.length} RSS windows of ${WINDOW} s after the ${warm} s warm-up, fewer than two`);
  if (result.errors || result.timeouts) problems.push(`${result.errors} errors, ${result.timeouts} timeouts`);
  for (const [kind, m] of Object.entries(mismatches)) problems.push(`${kind}: unexpected answers ${JSON.stringify(m)}`);
  for (const code of Object.keys(got)) if (!(code in expected)) problems.push(`unexpected status ${code} x${got[code]}`);
  // Requests set up but cut off by the stop are not answered: compare shares, not exact counts.
  for (const [code, n] of Object.entries(expected)) {
    if (Math.abs((got[code] || 0) - n) > CONNECTIONS * 2) problems.push(`status ${code}: ${got[code] || 0}, expected ~${n}`);
  }
  if (highest > lowest * 1.1) problems.push(`${WINDOW} s RSS medians range ${lowest}-${highest} KiB: more than 10% apart`);
  if (endRss > base * 1.1) problems.push(`RSS ended at ${endRss} KiB vs ${base} KiB after warm-up`);
  if (fdsEnd > fdsWarm) problems.push(`fds grew from ${fdsWarm} to ${fdsEnd} under load`);
  if (fdsAfter > fdsWarm) problems.push(`${fdsAfter} fds after the load, ${fdsWarm} during it`);

  const out = path.join(os.tmpdir(), `mcp-auth-native-soak-${process.pid}.json`);
  const mb = (k) => (k / 1024).toFixed(1);
  const curve = samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0).map((s) => mb(s.rss));
  const report = {
    command: `npm run soak -- --duration ${DURATION} --min-requests ${MIN_REQUESTS} --max-duration ${MAX_DURATION} --connections ${CONNECTIONS} --iat-window ${IAT_WINDOW}${ONLY ? ` --only '${ONLY}'` : ''}`,
    stoppedBy,
    requests: answered,
    seconds: Math.round(seconds),
    reqPerSec: Math.round(answered / seconds),
    perKind: Object.fromEntries(kinds.map((k, i) => [k.name, perKind[i]])),
    statuses: got,
    expected,
    mismatches,
    errors: result.errors,
    timeouts: result.timeouts,
    warmupSeconds: warm,
    rssMiB: { start: mb(startRss), afterWarmup: mb(base), end: mb(endRss), maxSample: mb(maxRss), afterLoad: mb(samples[samples.length - 1].rss) },
    rssWindowMediansMiB: windows.map(mb).join(' '),
    // RSS at the first sample after each 100,000 answers.
    rssMiBAtAnswers: Object.fromEntries(
      Array.from({ length: Math.floor(answered / 100_000) }, (_, i) => (i + 1) * 100_000).map((n) => [n, mb(loaded.find((x) => x.n >= n)?.rss ?? NaN)]),
    ),
    rssCurveMiB: curve.join(' '),
    fds: { afterWarmup: fdsWarm, endOfLoad: fdsEnd, afterLoad: fdsAfter },
    samplesFile: out,
    samples: samples.length,
    ok: problems.length === 0,
    problems,
  };
  fs.writeFileSync(out, JSON.stringify({ report, samples }));
  console.log(JSON.stringify(report, null, 2));
  return problems.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
