'use strict';
// In-process verification throughput: this package's `bearerAuth('jwt')` middleware (called
// directly, without HTTP) against `jose`'s `jwtVerify` (what mcp-auth uses) on the same tokens,
// with the same checks (signature, issuer, audience, expiry). Every token is distinct, so no
// cache helps. Each measurement runs in its own process, alternating implementations:
// "1 CPU" pins the process to CPU 0 (`taskset`), "all CPUs" leaves it free.
//
//   npm run bench:verify              3 rounds of 20000 tokens
//   npm run bench:verify -- --quick   2 rounds of 5000

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 3;
const TOKENS = quick ? 5000 : 20000;
const CONCURRENCY = 64;
const RESOURCE = 'https://bench.example.com/mcp';
const IMPLS = ['jose', 'native'];
const ALGS = ['RS256', 'ES256'];
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

// ---------------------------------------------------------------------------------------------
// Child: `node verify.js --child <impl> <alg> <fixture.json>` prints one JSON line.

async function child(impl, alg, fixturePath) {
  const { issuer, jwks, tokens } = JSON.parse(fs.readFileSync(fixturePath, 'utf8'))[alg];
  let verify;
  if (impl === 'jose') {
    const { jwtVerify, createLocalJWKSet } = await import('jose');
    const keySet = createLocalJWKSet(jwks);
    verify = async (token) => (await jwtVerify(token, keySet, { issuer, audience: RESOURCE })).payload.sub;
  } else {
    const { MCPAuth } = require('..');
    const auth = new MCPAuth({
      protectedResources: { metadata: { resource: RESOURCE, authorizationServers: [{ type: 'oidc', issuer }] } },
    });
    const middleware = auth.bearerAuth('jwt', { resource: RESOURCE });
    const res = { setHeader() {}, getHeader() {}, end() {} };
    verify = (token) =>
      new Promise((resolve, reject) => {
        const req = { method: 'GET', headers: { authorization: `Bearer ${token}` } };
        res.end = () => reject(new Error('refused'));
        middleware(req, res, (err) => (err ? reject(err) : resolve(req.auth.subject)));
      });
  }
  // Warm up (JIT, discovery and JWKS) on tokens that are not measured.
  for (const { token } of tokens.slice(0, 200)) await verify(token);
  const measured = tokens.slice(200);
  let next = 0;
  let wrong = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < measured.length) {
        const { sub, token } = measured[next++];
        if ((await verify(token)) !== sub) wrong++;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ perSecond: measured.length / seconds, cpuMicros: (cpu.user + cpu.system) / measured.length, wrong })}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Parent

function run(impl, alg, fixturePath, pinned) {
  const args = [__filename, '--child', impl, alg, fixturePath];
  const [cmd, argv] = pinned && hasTaskset ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${impl} ${alg} exited ${code}`))));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const { startLocalIssuer } = require('../examples/local-issuer');
  const issuer = await startLocalIssuer({ type: 'oidc' });
  const fixturePath = path.join(os.tmpdir(), `mcp-auth-native-verify-${process.pid}.json`);
  const fixture = {};
  for (const alg of ALGS) {
    const tokens = Array.from({ length: TOKENS + 200 }, (_, i) => ({
      sub: `user-${i}`,
      token: issuer.sign({ sub: `user-${i}`, aud: RESOURCE }, { alg, expiresIn: 3600 }),
    }));
    fixture[alg] = { issuer: issuer.issuer, jwks: { keys: Object.values(issuer.keys).map((k) => k.jwk) }, tokens };
  }
  fs.writeFileSync(fixturePath, JSON.stringify(fixture));
  const results = {};
  let ok = true;
  try {
    for (const pinned of [true, false]) {
      for (const alg of ALGS) {
        for (let r = 0; r < ROUNDS; r++) {
          for (const impl of IMPLS) {
            const res = await run(impl, alg, fixturePath, pinned);
            if (res.wrong) ok = false;
            ((results[`${alg}|${pinned ? '1 CPU' : 'all CPUs'}`] ||= {})[impl] ||= []).push(res);
          }
        }
      }
    }
  } finally {
    fs.rmSync(fixturePath, { force: true });
    await issuer.close();
  }
  const lines = [];
  const cpuModel = (os.cpus()[0] || {}).model || 'unknown CPU';
  lines.push(`Machine: ${os.cpus().length} × ${cpuModel}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  lines.push(`Command: npm run bench:verify${quick ? ' -- --quick' : ''} (${ROUNDS} rounds × ${TOKENS} distinct tokens, ${CONCURRENCY} in flight, implementations alternated, one process per measurement)`);
  lines.push('');
  lines.push('| algorithm | CPUs | implementation | verifications/s (median) | CPU µs per verification | vs jose |');
  lines.push('|---|---|---|---:|---:|---:|');
  for (const [key, byImpl] of Object.entries(results)) {
    const [alg, cpus] = key.split('|');
    const rate = (impl) => median(byImpl[impl].map((r) => r.perSecond));
    for (const impl of IMPLS) {
      const cpu = median(byImpl[impl].map((r) => r.cpuMicros));
      const ratio = impl === 'jose' ? '' : `${(rate(impl) / rate('jose')).toFixed(2)}×`;
      lines.push(`| ${alg} | ${cpus} | ${impl} | ${Math.round(rate(impl))} | ${cpu.toFixed(1)} | ${ratio} |`);
    }
  }
  if (!ok) lines.push('', 'FAILED: some verification returned the wrong subject.');
  const report = lines.join('\n');
  console.log(report);
  const file = path.join(__dirname, 'results', `verify-${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : ''}.md`);
  fs.writeFileSync(file, `${report}\n`);
  console.log(`\nWritten to ${path.relative(process.cwd(), file)}`);
  if (!ok) process.exitCode = 1;
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5]).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
