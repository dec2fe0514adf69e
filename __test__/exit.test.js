'use strict';
// A process that has used the package must exit by itself once its servers are closed: no
// handle, thread-safe function or runtime thread may keep Node alive.

const path = require('node:path');
const { spawn } = require('node:child_process');

const CHILD = path.join(__dirname, 'fixtures', 'exit-child.js');
const CUSTOM_CHILD = path.join(__dirname, 'fixtures', 'exit-custom-child.js');
const DEADLINE_MS = 10000;

function runChild(args = [], script = CHILD) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, DEADLINE_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

test.each([
  ['a valid and an invalid token', [], { valid: 200, subject: 'user-1', invalid: 401, missing: 401 }],
  ['a failing JWKS fetch', ['unavailable'], { valid: 503, invalid: 401, missing: 401 }],
])('a process that used bearerAuth("jwt") exits by itself after %s', async (_, args, statuses) => {
  const started = Date.now();
  const { code, signal, timedOut, stdout, stderr } = await runChild(args);
  const elapsed = Date.now() - started;

  expect({ timedOut, signal, stderr }).toEqual({ timedOut: false, signal: null, stderr: '' });
  expect(code).toBe(0);
  expect(JSON.parse(stdout.trim())).toEqual(statuses);
  expect(elapsed).toBeLessThan(DEADLINE_MS);
}, DEADLINE_MS + 5000);

test('a process that used bearerAuth(verifyFn) exits by itself, with verifications still pending', async () => {
  const started = Date.now();
  const { code, signal, timedOut, stdout, stderr } = await runChild([], CUSTOM_CHILD);
  const elapsed = Date.now() - started;

  expect({ timedOut, signal, stderr }).toEqual({ timedOut: false, signal: null, stderr: '' });
  expect(code).toBe(0);
  expect(JSON.parse(stdout.trim())).toEqual({
    good: 200,
    subject: 'user-1',
    bad: 401,
    other: 599,
    appError: 'database down',
    hang: 503,
    late: 503,
    lateReject: 503,
    missing: 401,
  });
  expect(elapsed).toBeLessThan(DEADLINE_MS);
}, DEADLINE_MS + 5000);
