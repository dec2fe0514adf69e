'use strict';
// A loopback npm registry for tests: serves the packuments and tarballs of the packages given,
// nothing else (any other name is a 404). Enough for `npm install`; no publishing, no auth.
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

/** Starts it on 127.0.0.1; `packages` is [{ manifest, tarball }]. Resolves to { url, close, requests }. */
async function startRegistry(packages) {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const docs = new Map();
  const files = new Map();
  for (const { manifest, tarball } of packages) {
    const data = fs.readFileSync(tarball);
    const file = `${manifest.name}-${manifest.version}.tgz`;
    files.set(`/-/${file}`, data);
    const dist = { tarball: `${url}/-/${file}`, shasum: crypto.createHash('sha1').update(data).digest('hex'), integrity: `sha512-${crypto.createHash('sha512').update(data).digest('base64')}` };
    const doc = docs.get(manifest.name) || { name: manifest.name, 'dist-tags': {}, versions: {} };
    doc.versions[manifest.version] = { ...manifest, _id: `${manifest.name}@${manifest.version}`, dist };
    doc['dist-tags'].latest = manifest.version;
    docs.set(manifest.name, doc);
  }
  const requests = [];
  server.on('request', (req, res) => {
    const name = decodeURIComponent(req.url.split('?')[0].slice(1));
    requests.push(req.url);
    const body = files.get(req.url) || (docs.has(name) ? JSON.stringify(docs.get(name)) : null);
    res.writeHead(body ? 200 : 404, { 'content-type': files.has(req.url) ? 'application/octet-stream' : 'application/json' });
    res.end(body || '{"error":"not found"}');
  });
  return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

module.exports = { startRegistry };
