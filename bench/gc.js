'use strict';
// What each benchmark server's garbage collector does per request: every kind of bench/server.mjs
// runs in its own process (pinned to CPU 0 when `taskset` exists) with `--trace-gc-nvp`, takes a
// warm-up, then distinct RS256 tokens over 50 connections, and the GC lines of the measured
// requests are summed: collections, bytes allocated, bytes promoted to the old generation.
//
//   npm run bench:gc                         bare, js-custom, native-custom, native
//   npm run bench:gc -- --connections 1      one request in flight at a time
//   npm run bench:gc -- native mcp-auth      other kinds (those a Bearer RS256 token suits: not
//                                            the introspection or DPoP ones)
//
// Promoted bytes show what survives in young objects between collections: a request that waits
// across an event-loop turn (for the worker thread, or for a thread-safe call) keeps Express's
// `req` and `res` alive through the collections of that turn.

const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const autocannon = require('autocannon');
const { startLocalIssuer } = require('../examples/local-issuer');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  args.splice(at, 2);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive whole number`);
  return value;
};
const CONNECTIONS = option('--connections', 50);
const REQUESTS = option('--requests', 40000);
const WARMUP = 2000;
const kinds = args.length > 0 ? args : ['bare', 'js-custom', 'native-custom', 'native'];
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Starts `kind` with `--trace-gc-nvp`; resolves with its port and the GC lines it prints. */
function startServer(kind, issuer, resource) {
  const nodeArgs = ['--trace-gc-nvp', path.join(__dirname, 'server.mjs'), kind, issuer, resource];
  const options = { stdio: ['ignore', 'pipe', 'inherit'] };
  const child = hasTaskset
    ? spawn('taskset', ['-c', '0', process.execPath, ...nodeArgs], options)
    : spawn(process.execPath, nodeArgs, options);
  const gcLines = [];
  return new Promise((resolve, reject) => {
    const exited = (code) => reject(new Error(`the ${kind} server exited (${code}) before listening`));
    child.once('exit', exited);
    let buffered = '';
    child.stdout.on('data', (data) => {
      buffered += data;
      let end;
      while ((end = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.startsWith('{"port"')) {
          child.off('exit', exited);
          resolve({ child, port: JSON.parse(line).port, gcLines });
        } else if (line.includes('gc=')) {
          gcLines.push(line);
        }
      }
    });
  });
}

/** The sum of `name=<bytes>` over GC lines. */
const total = (lines, name) =>
  lines.reduce((sum, line) => sum + Number((line.match(new RegExp(`\\b${name}=(\\d+)`)) || [0, 0])[1]), 0);

async function main() {
  const issuer = await startLocalIssuer({ type: 'oidc' });
  const resource = 'https://bench.example.com/mcp';
  // Each load may set up one request per connection beyond its amount.
  const tokens = Array.from({ length: WARMUP + REQUESTS + 2 * CONNECTIONS }, (_, i) =>
    issuer.sign({ aud: resource, scope: 'read', sub: `user-${i}` }, { expiresIn: 3600 }),
  );
  const described = `${REQUESTS} distinct RS256 tokens, ${CONNECTIONS} connection${CONNECTIONS === 1 ? '' : 's'}`;
  console.log(`| server | collections | allocated B/req | promoted B/req |  (${described})`);
  console.log('|---|---:|---:|---:|');
  for (const kind of kinds) {
    const { child, port, gcLines } = await startServer(kind, issuer.issuer, resource);
    let next = 0;
    let failed = 0;
    const load = (amount) =>
      autocannon({
        url: `http://127.0.0.1:${port}/mcp`,
        connections: CONNECTIONS,
        amount,
        requests: [{ setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${tokens[next++]}` } }) }],
        setupClient: (client) => client.on('response', (status) => status !== 200 && failed++),
      });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await load(WARMUP);
      const before = gcLines.length;
      await load(REQUESTS);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const measured = gcLines.slice(before);
      if (failed > 0) throw new Error(`${kind}: ${failed} answers were not 200`);
      const perRequest = (name) => (total(measured, name) / REQUESTS).toFixed(0);
      console.log(`| ${kind} | ${measured.length} | ${perRequest('allocated')} | ${perRequest('promoted')} |`);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }
  await issuer.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
