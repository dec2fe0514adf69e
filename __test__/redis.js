'use strict';
// A real redis-server for the tests (the Debian package; .ci/run installs it when missing). Each
// instance listens on 127.0.0.1 on a free port, keeps nothing on disk (`--save ''`,
// `--appendonly no`) and works in its own temp dir. `kill()` and `restart()` act on the same
// port, so a client configured with the URL sees Redis go away and come back. A missing
// redis-server fails the test that asks for one, with a message saying so: never a silent skip.
//
//   const { startRedis, stopAllRedis } = require('./redis');
//   const redis = await startRedis();           // { url, port, pid, dir, command, kill, restart, stop }
//   afterAll(stopAllRedis);                     // also done on process exit, and redis-server gets
//                                               // SIGKILL if this process dies (setpriv --pdeathsig)

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const running = new Set();

/** The redis-server binary, or an Error saying how to install it. */
function findRedisServer() {
  // process.env explicitly: under jest it is the test's own copy, which spawn would not read.
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', env: process.env });
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed, and the DPoP replay-store tests need a real one: ' +
        '`apt-get install redis-server` (.ci/run does this when it is missing)',
    );
  }
  return 'redis-server';
}

// `setpriv --pdeathsig KILL` (util-linux) makes the kernel kill redis-server when the process that
// spawned it dies, even by SIGKILL, so a crashed jest worker leaves no Redis behind.
const hasSetpriv = spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true']).status === 0;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** RESP encoding of one command. */
function encode(args) {
  const parts = args.map((a) => {
    const s = Buffer.from(String(a));
    return `$${s.length}\r\n${s}\r\n`;
  });
  return `*${args.length}\r\n${parts.join('')}`;
}

/**
 * Parses one RESP2 reply at the start of `buf`: `{ value, rest }`, or undefined when incomplete.
 * Errors become `{ error: '...' }`, nil becomes null.
 */
function parse(buf) {
  const end = buf.indexOf('\r\n');
  if (end < 0) return undefined;
  const type = buf[0];
  const line = buf.slice(1, end).toString();
  const rest = buf.slice(end + 2);
  if (type === 0x2b) return { value: line, rest }; // +
  if (type === 0x2d) return { value: { error: line }, rest }; // -
  if (type === 0x3a) return { value: Number(line), rest }; // :
  if (type === 0x24) {
    // $
    const n = Number(line);
    if (n < 0) return { value: null, rest };
    if (rest.length < n + 2) return undefined;
    return { value: rest.slice(0, n).toString(), rest: rest.slice(n + 2) };
  }
  if (type === 0x2a) {
    // *
    const n = Number(line);
    if (n < 0) return { value: null, rest };
    const items = [];
    let left = rest;
    for (let i = 0; i < n; i++) {
      const item = parse(left);
      if (!item) return undefined;
      items.push(item.value);
      left = item.rest;
    }
    return { value: items, rest: left };
  }
  throw new Error(`unexpected RESP reply from redis: ${buf.slice(0, 40).toString()}`);
}

/**
 * Sends one command to the Redis on `port` over a fresh connection; resolves its reply (a string,
 * number, array, null, or `{ error }`). Rejects when Redis does not answer within `timeout` ms.
 */
function redisCommand(port, args, timeout = 2000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on port ${port} did not answer ${args[0]} within ${timeout} ms`));
    }, timeout);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      let reply;
      try {
        reply = parse(buf);
      } catch (err) {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
        return;
      }
      if (!reply) return;
      clearTimeout(timer);
      socket.end();
      resolve(reply.value);
    });
    socket.write(encode(args));
  });
}

/** Waits until the Redis on `port` answers PING with PONG, or rejects after `timeout` ms. */
async function waitForPong(port, child, output, timeout = 10000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING: ${output()}`);
    }
    try {
      if ((await redisCommand(port, ['PING'], 500)) === 'PONG') return;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeout} ms (${last && last.message}): ${output()}`);
}

function spawnRedis(bin, port, dir) {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
    '--databases', '1',
  ];
  const child = hasSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'KILL', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let log = '';
  const keep = (d) => {
    log = (log + d).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return { child, output: () => log };
}

function waitExit(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a redis-server on a free 127.0.0.1 port (or `port`). Resolves a handle:
 * - `url` (`redis://127.0.0.1:<port>`), `port`, `pid`, `dir` (its temp dir);
 * - `command(...args)`: one command over a fresh connection (`command('GET', 'k')`);
 * - `kill(signal = 'SIGKILL')`: stops it and waits for the exit; the port is free afterwards;
 * - `restart()`: starts it again on the same port, empty, and waits for PONG;
 * - `stop()`: kills it for good and removes its dir.
 */
async function startRedis({ port } = {}) {
  const bin = findRedisServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-native-redis-'));
  const handle = { dir, port: port ?? (await freePort()), child: undefined };
  handle.url = `redis://127.0.0.1:${handle.port}`;

  const launch = async () => {
    const { child, output } = spawnRedis(bin, handle.port, dir);
    handle.child = child;
    handle.pid = child.pid;
    await waitForPong(handle.port, child, output);
  };
  handle.command = (...args) => redisCommand(handle.port, args);
  handle.kill = async (signal = 'SIGKILL') => {
    const { child } = handle;
    if (!child) return;
    child.kill(signal);
    await waitExit(child);
  };
  handle.restart = async () => {
    await handle.kill();
    // The kernel releases the listening socket with the process; retry briefly if it lingers.
    let error;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await launch();
        return handle;
      } catch (err) {
        error = err;
        await handle.kill();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw error;
  };
  handle.stop = async () => {
    running.delete(handle);
    await handle.kill();
    handle.child = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  };

  running.add(handle);
  try {
    await launch();
  } catch (err) {
    if (port !== undefined) {
      await handle.stop();
      throw err;
    }
    // Another process took the free port: once more on a new one.
    await handle.kill();
    handle.port = await freePort();
    handle.url = `redis://127.0.0.1:${handle.port}`;
    try {
      await launch();
    } catch (again) {
      await handle.stop();
      throw again;
    }
  }
  return handle;
}

/** Stops every Redis started here (for afterAll). */
async function stopAllRedis() {
  await Promise.all([...running].map((h) => h.stop()));
}

// Last resort when a test file forgot stopAllRedis: nothing survives this process.
process.on('exit', () => {
  for (const h of running) {
    try {
      h.child?.kill('SIGKILL');
      fs.rmSync(h.dir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  }
});

module.exports = { startRedis, stopAllRedis, redisCommand, findRedisServer };
