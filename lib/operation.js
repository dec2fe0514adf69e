'use strict'
// The MCP operation of a request, read from what Express already parsed (`req.body`) and from the
// `Mcp-Method` / `Mcp-Name` headers, for the native side to decide which scopes it needs. The
// request stream is never read here.

/** The `params` member that names what an operation acts on. */
const NAMED_BY = new Map([
  ['tools/call', 'name'],
  ['prompts/get', 'name'],
  ['resources/read', 'uri'],
])

/** `{ method, name?, params? }` of one JSON-RPC message; undefined for notifications and responses. */
function operationOf(message) {
  if (message === null || typeof message !== 'object' || typeof message.method !== 'string') return undefined
  if (message.method.startsWith('notifications/')) return undefined
  const op = { method: message.method }
  const params = message.params
  if (params !== null && typeof params === 'object') {
    const key = NAMED_BY.get(op.method)
    if (key !== undefined && typeof params[key] === 'string') op.name = params[key]
    op.params = params
  }
  return op
}

const isParsed = (body) => body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && !ArrayBuffer.isView(body)

/** Whether the request has a body at all (RFC 9112 §6.3): a non-zero length, or chunks. */
const hasBody = (req) =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0').trim() !== '0'

/** A `scopesFor` answer as JSON data for the native side, which checks it. */
function scopesData(value) {
  if (value === undefined || value === null) return null
  if (Array.isArray(value)) return value.map((s) => (typeof s === 'string' ? s : null))
  if (typeof value === 'object' || typeof value === 'function') return {}
  return typeof value === 'bigint' ? 0 : value
}

/**
 * What a request asks to do, for `verify` and `check` of the native guard: its operations (body
 * and headers, both counted), `scopesFor`'s answer for each, and whether a POST could not be read
 * (it has a body that was not parsed: then the headers alone do not decide). A POST without any
 * body asks for the operation its headers name, if any. GET, DELETE and others: undefined, so only `requiredScopes` apply. `scopesFor`
 * throwing propagates (the app's error).
 */
function requestedOf(req, scopesFor) {
  if (req.method !== 'POST') return undefined
  const operations = []
  const body = req.body
  const parsed = isParsed(body)
  if (parsed) {
    for (const message of Array.isArray(body) ? body : [body]) {
      const op = operationOf(message)
      if (op !== undefined) operations.push(op)
    }
  }
  if (!parsed && hasBody(req)) {
    // A body nobody parsed: its operation is unknown, so the request cannot pass (fail closed),
    // whatever the headers say (they could name another operation than the body, which the MCP
    // transport may parse and run later).
    return { operations, unreadable: true }
  }
  const headerMethod = req.headers['mcp-method']
  if (typeof headerMethod === 'string') {
    const headerName = req.headers['mcp-name']
    const op = { method: headerMethod }
    if (typeof headerName === 'string') op.name = headerName
    if (!operations.some((o) => o.method === op.method && o.name === op.name)) operations.push(op)
  }
  const requested = { operations: operations.map(({ method, name }) => (name === undefined ? { method } : { method, name })) }
  if (scopesFor !== undefined) requested.scopesFor = operations.map((op) => scopesData(scopesFor(op, req)))
  return requested
}

/** The warning, once per process, for the misconfiguration `unreadable` stands for. */
const UNPARSED_BODY_WARNING =
  '`bearerAuth` with `toolScopes` or `scopesFor` got a POST without a parsed body: add `express.json()` before `bearerAuth`, or every such request is answered 500.'

module.exports = { requestedOf, UNPARSED_BODY_WARNING }
