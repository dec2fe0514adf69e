'use strict'
// Metadata routers: RFC 9728 resource metadata, and the legacy authorization server metadata.

const native = require('./native.js')
const { reject } = require('./respond.js')

/**
 * The common part of the metadata routers: `Access-Control-Allow-Origin: *`, a CORS preflight
 * answered 204, methods other than GET/HEAD/OPTIONS answered 405 with `Allow`. Returns true when it
 * answered the request.
 */
function metadataPreamble(req, res) {
  res.setHeader('Access-Control-Allow-Origin', '*')
  if (req.method === 'OPTIONS') {
    res.statusCode = 204
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS')
    const requested = req.headers['access-control-request-headers']
    if (requested) res.setHeader('Access-Control-Allow-Headers', requested)
    res.setHeader('Access-Control-Max-Age', '86400')
    res.end()
    return true
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.statusCode = 405
    res.setHeader('Allow', 'GET, HEAD, OPTIONS')
    res.setHeader('Content-Type', 'application/json; charset=utf-8')
    res.end(JSON.stringify({ error: 'method_not_allowed', error_description: `${req.method} is not allowed here.` }))
    return true
  }
  return false
}

/** Sends a metadata document (JSON text) with caching allowed. */
function sendDocument(req, res, body) {
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Cache-Control', 'public, max-age=3600')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** The documents by path: several resources may share a path on different hosts. */
function byPathOf(entries) {
  const byPath = new Map()
  for (const { url, body } of entries) {
    const list = byPath.get(url.pathname) || []
    list.push({ host: url.host.toLowerCase(), body })
    byPath.set(url.pathname, list)
  }
  return byPath
}

/**
 * Serves JSON documents by well-known path, with CORS, for GET and HEAD (RFC 9728 §3).
 * `source.entries()` gives the documents; they are asked for again when `source.version()` changes.
 */
function metadataRouter(source) {
  let version = source.version()
  let byPath = byPathOf(source.entries())
  return function metadataRouter(req, res, next) {
    const now = source.version()
    if (now !== version) {
      version = now
      byPath = byPathOf(source.entries())
    }
    const path = (req.url || '').split('?')[0]
    const candidates = byPath.get(path)
    if (!candidates) return next()
    const host = String(req.headers.host || '').toLowerCase()
    const entry = candidates.length === 1 ? candidates[0] : candidates.find((c) => c.host === host)
    if (!entry) return next()
    if (metadataPreamble(req, res)) return
    sendDocument(req, res, entry.body)
  }
}

/** RFC 8414 §3: where `delegatedRouter()` serves the authorization server metadata. */
const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server'

/**
 * Serves the legacy mode's authorization server metadata, discovered on first request through the
 * native discovery that token verification shares. A failed discovery is answered as for tokens:
 * 503 `temporarily_unavailable` with `Retry-After`, or 500 `server_error`.
 */
function delegatedRouter(nativeAuth) {
  return function delegatedRouter(req, res, next) {
    if ((req.url || '').split('?')[0] !== AUTHORIZATION_SERVER_METADATA_PATH) return next()
    if (metadataPreamble(req, res)) return
    native
      .authorizationServerDocument(nativeAuth)
      .then((outcome) => {
        if (res.headersSent) return
        if (outcome.status === 200) sendDocument(req, res, outcome.body)
        else reject(res, outcome)
      })
      .catch(next)
  }
}

module.exports = { metadataRouter, delegatedRouter }
