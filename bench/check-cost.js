'use strict';
// The signature check's own cost, in process: `node bench/check-cost.js` reads `{ jwks, tokens }`
// as JSON on stdin, imports each JWK once (node:crypto, OpenSSL), verifies every token's signature
// with its key, and prints `{"micros":N}`: CPU µs per check (median of 5 passes). bench/http.js
// runs it pinned like the servers, with the servers' keys and tokens, to subtract the check from
// what a server adds over bare Express.

const crypto = require('node:crypto');

const HASH = { RS256: 'sha256', ES256: 'sha256', RS384: 'sha384', ES384: 'sha384', RS512: 'sha512', PS256: 'sha256' };

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const { jwks, tokens } = JSON.parse(input);
  const keys = new Map(jwks.keys.map((jwk) => [jwk.kid, crypto.createPublicKey({ key: jwk, format: 'jwk' })]));
  const checks = tokens.map((token) => {
    const [h, p, s] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const key = header.kid === undefined ? [...keys.values()][0] : keys.get(header.kid);
    const options = header.alg.startsWith('ES') ? { key, dsaEncoding: 'ieee-p1363' } : header.alg.startsWith('PS') ? { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING } : key;
    return { input: Buffer.from(`${h}.${p}`), signature: Buffer.from(s, 'base64url'), hash: HASH[header.alg], options };
  });
  const pass = () => {
    const before = process.cpuUsage();
    for (const c of checks) {
      if (!crypto.verify(c.hash, c.input, c.options, c.signature)) throw new Error('a bench token failed its signature check');
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / checks.length;
  };
  pass(); // warm-up
  const passes = Array.from({ length: 5 }, pass).sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ micros: passes[2] })}\n`);
});
