'use strict';
// The signature check's own cost, in process: `node bench/check-cost.js` reads `{ jwks, tokens }`
// as JSON on stdin and prints `{"native":N,"node":M}`: CPU µs per check (median of 5 passes) with
// - native: the addon's own check (aws-lc, the keys parsed once as the guard parses them; the
//   bench-only `SignatureChecks` export of the binding), which is what the native server pays;
// - node: node:crypto (OpenSSL), each JWK imported once, which is what `mcp-auth` (jose) pays.
// bench/http.js runs it pinned like the servers, with the servers' keys and tokens, to subtract
// each server's own check from what it adds over bare Express.

const crypto = require('node:crypto');
const { SignatureChecks } = require('../binding.js');

const HASH = { RS256: 'sha256', ES256: 'sha256', RS384: 'sha384', ES384: 'sha384', RS512: 'sha512', PS256: 'sha256' };

function nodeChecks(jwks, tokens) {
  const keys = new Map(jwks.keys.map((jwk) => [jwk.kid, crypto.createPublicKey({ key: jwk, format: 'jwk' })]));
  const checks = tokens.map((token) => {
    const [h, p, s] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const key = header.kid === undefined ? [...keys.values()][0] : keys.get(header.kid);
    const options = header.alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : header.alg.startsWith('PS') ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING } : key;
    return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url'), hash: HASH[header.alg], options };
  });
  return () => {
    for (const c of checks) {
      if (!crypto.verify(c.hash, c.input, c.options, c.signature)) throw new Error('a bench token failed its signature check');
    }
    return checks.length;
  };
}

function nativeChecks(jwks, tokens) {
  const checks = new SignatureChecks(JSON.stringify(jwks), tokens);
  return () => checks.run();
}

/** CPU µs per check: the median of 5 timed passes after one warm-up pass. */
function micros(runAll) {
  const pass = () => {
    const before = process.cpuUsage();
    const n = runAll();
    const used = process.cpuUsage(before);
    return (used.user + used.system) / n;
  };
  pass();
  return Array.from({ length: 5 }, pass).sort((a, b) => a - b)[2];
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const { jwks, tokens } = JSON.parse(input);
  const result = { native: micros(nativeChecks(jwks, tokens)), node: micros(nodeChecks(jwks, tokens)) };
  process.stdout.write(`${JSON.stringify(result)}\n`);
});
