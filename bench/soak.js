'use strict';
// Soak: `npm run soak [-- --requests N --connections C]`. Starts a local issuer and the server of
// bench/soak-server.js in its own process, sends N requests (default 1,000,000) mixing valid,
// invalid, missing-scope, missing-header and custom-verifier traffic with autocannon, and samples
// the server's RSS and open file descriptors (/proc/<pid>) every second.
//
// Passes (exit 0) when: every status is the expected one for its kind, nothing errored or timed
// out (each response is checked against its request's kind); after the warm-up (the first 20% of
// the samples, at least 10 s) the medians of 30 s windows of RSS samples stay within 10% of each
// other (a garbage-collected heap is a sawtooth; the windows show its trend); and the open fds at
// the end of the load and after it are not above their count after the warm-up. The samples are
// written to a JSON file in the temp directory.
// Linux only (reads /proc). Not part of `npm test`: it takes minutes.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const autocannon = require('autocannon');
const { startLocalIssuer } = require('../examples/local-issuer');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const TOTAL = arg('requests', 1_000_000);
const CONNECTIONS = arg('connections', 50);
const RESOURCE = 'https://soak.example/mcp';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const fds = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

async function startServer(issuer) {
  const child = spawn(process.execPath, [path.join(__dirname, 'soak-server.js'), issuer, RESOURCE], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    readline.createInterface({ input: child.stdout }).once('line', resolve);
  });
  return { child, port: JSON.parse(line).port };
}

async function main() {
  const issuer = await startLocalIssuer();
  const { child, port } = await startServer(issuer.issuer);
  const origin = `http://127.0.0.1:${port}`;

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

  // Kind of each request by its sequence number: path, header, expected status.
  const kinds = [
    ['jwt valid', '/jwt', (i) => `Bearer ${valid[i % valid.length]}`, 200],
    ['jwt forged', '/jwt', (i) => `Bearer ${forged[i % forged.length]}`, 401],
    ['jwt missing scope', '/jwt', (i) => `Bearer ${noScope[i % noScope.length]}`, 403],
    ['jwt no header', '/jwt', () => undefined, 401],
    ['jwt malformed', '/jwt', (i) => `Bearer not.a.jwt${i}`, 401],
    ['custom valid', '/custom', (i) => `Bearer ok-${i}`, 200],
    ['custom refused', '/custom', (i) => `Bearer bad-${i}`, 401],
  ];
  const expected = {};
  let seq = 0;
  const mismatches = {}; // kind -> { status: count } where the status was not the kind's
  // One request in flight per connection (no pipelining): the response belongs to the request
  // last set up on the same connection, whose kind is kept in the connection's context.
  const setupRequest = (req, context) => {
    const i = seq++;
    const [, p, header] = kinds[i % kinds.length];
    context.kind = i % kinds.length;
    const h = header(Math.floor(i / kinds.length));
    return { ...req, path: p, headers: h ? { authorization: h } : {} };
  };
  const onResponse = (status, body, context) => {
    const [name, , , want] = kinds[context.kind];
    if (status !== want) {
      const m = (mismatches[name] ||= {});
      m[status] = (m[status] || 0) + 1;
    }
  };

  const samples = [];
  const sampler = setInterval(() => {
    samples.push({ t: samples.length, rss: rssKiB(child.pid), fds: fds(child.pid) });
  }, 1000);
  const startRss = rssKiB(child.pid);
  const started = Date.now();
  const result = await autocannon({
    url: origin,
    connections: CONNECTIONS,
    amount: TOTAL,
    timeout: 10,
    requests: [{ method: 'GET', setupRequest, onResponse }],
  });
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  samples.push({ t: samples.length, rss: rssKiB(child.pid), fds: fds(child.pid) });

  // Expected counts per status from the sequence numbers actually sent.
  for (let i = 0; i < seq; i++) {
    const status = kinds[i % kinds.length][3];
    expected[status] = (expected[status] || 0) + 1;
  }
  const got = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats || {})) got[code] = count;

  // RSS under a garbage-collected load is a sawtooth: judge the trend on 30 s windows' medians.
  const loaded = samples.slice(0, -1); // the last sample is taken after the load stopped
  const warm = Math.max(10, Math.floor(loaded.length * 0.2));
  const after = loaded.slice(warm);
  const windows = [];
  for (let i = 0; i + 30 <= after.length; i += 30) windows.push(median(after.slice(i, i + 30).map((s) => s.rss)));
  const base = windows[0];
  const endRss = windows[windows.length - 1];
  const lowest = Math.min(...windows);
  const highest = Math.max(...windows);
  const maxRss = Math.max(...after.map((s) => s.rss));
  const fdsWarm = after.length ? after[0].fds : NaN;
  const fdsEnd = after.length ? after[after.length - 1].fds : NaN;
  const fdsAfter = samples[samples.length - 1].fds;
  const answered = Object.values(got).reduce((a, b) => a + b, 0);

  const problems = [];
  if (windows.length < 2) problems.push(`too few samples after warm-up (${after.length}); send more requests`);
  if (result.errors || result.timeouts) problems.push(`${result.errors} errors, ${result.timeouts} timeouts`);
  for (const [kind, m] of Object.entries(mismatches)) problems.push(`${kind}: unexpected statuses ${JSON.stringify(m)}`);
  for (const code of Object.keys(got)) if (!(code in expected)) problems.push(`unexpected status ${code} x${got[code]}`);
  // Requests set up but cut off by `amount` are not answered: compare shares, not exact counts.
  for (const [code, n] of Object.entries(expected)) {
    if (Math.abs((got[code] || 0) - n) > CONNECTIONS * 2) problems.push(`status ${code}: ${got[code] || 0}, expected ~${n}`);
  }
  if (highest > lowest * 1.1) problems.push(`30 s RSS medians range ${lowest}-${highest} KiB: more than 10% apart`);
  if (endRss > base * 1.1) problems.push(`RSS ended at ${endRss} KiB vs ${base} KiB after warm-up`);
  if (fdsEnd > fdsWarm) problems.push(`fds grew from ${fdsWarm} to ${fdsEnd} under load`);
  if (fdsAfter > fdsWarm) problems.push(`${fdsAfter} fds after the load, ${fdsWarm} during it`);

  const out = path.join(require('node:os').tmpdir(), `mcp-auth-native-soak-${process.pid}.json`);
  const mb = (k) => (k / 1024).toFixed(1);
  const curve = samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0).map((s) => mb(s.rss));
  const report = {
    requests: answered,
    seconds: Math.round(seconds),
    reqPerSec: Math.round(answered / seconds),
    statuses: got,
    expected,
    mismatches,
    errors: result.errors,
    timeouts: result.timeouts,
    rssMiB: { start: mb(startRss), afterWarmup: mb(base), end: mb(endRss), maxSample: mb(maxRss) },
    rssWindowMediansMiB: windows.map(mb).join(' '),
    rssCurveMiB: curve.join(' '),
    fds: { afterWarmup: fdsWarm, endOfLoad: fdsEnd, afterLoad: fdsAfter },
    samplesFile: out,
    samples: samples.length,
    ok: problems.length === 0,
    problems,
  };
  fs.writeFileSync(out, JSON.stringify({ report, samples }));
  console.log(JSON.stringify(report, null, 2));

  child.kill('SIGTERM');
  await issuer.close();
  process.exitCode = problems.length ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
