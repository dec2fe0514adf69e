'use strict'
// Custom verification: the user's function is called from Rust through a thread-safe function,
// wrapped here so that it reports a plain verdict and keeps its own result for `req.auth`.

const {
  MCPAuthAuthServerError,
  MCPAuthConfigError,
  MCPAuthBearerAuthError,
  MCPAuthTokenVerificationError,
  MCPAuthJwtVerificationError,
} = require('./errors.js')

/** The class name Rust reads a thrown error's `code` with; undefined for errors it forwards. */
function tokenErrorClass(error) {
  if (error instanceof MCPAuthJwtVerificationError) return 'MCPAuthJwtVerificationError'
  if (error instanceof MCPAuthTokenVerificationError) return 'MCPAuthTokenVerificationError'
  if (error instanceof MCPAuthBearerAuthError) return 'MCPAuthBearerAuthError'
  if (error instanceof MCPAuthAuthServerError) return 'MCPAuthAuthServerError'
  if (error instanceof MCPAuthConfigError) return 'MCPAuthConfigError'
  return undefined
}

const SERVER_CLASSES = new Set(['MCPAuthAuthServerError', 'MCPAuthConfigError'])

/** `camelCase` keys as `snake_case`, deeply, as `mcp-auth` sends them (`snakecase-keys`). */
function snakeKeys(value) {
  if (Array.isArray(value)) return value.map(snakeKeys)
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(v)]),
  )
}

/** A `cause` as JSON text (nested errors as name and message); undefined when it has none. */
function causeJson(cause) {
  if (cause === undefined) return undefined
  try {
    return JSON.stringify(cause, (_key, v) => (v instanceof Error ? { name: v.name, message: v.message } : v))
  } catch {
    return undefined
  }
}

/**
 * What `next()` gets for a verifier's own error. Express treats a falsy value as "no error" and
 * the strings 'route' and 'router' as jumps past the middleware, so primitives are wrapped.
 */
function forwardable(error) {
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') return error
  const e = new Error(`The custom verification function threw ${typeof error === 'string' ? JSON.stringify(error) : String(error)}.`)
  e.cause = error
  return e
}

const AUTH_INFO_FIELDS = ['token', 'issuer', 'clientId', 'scopes', 'subject', 'audience', 'expiresAt', 'claims']

/**
 * The `AuthInfo` fields of a verifier's result as JSON data, so that Rust checks exactly what
 * becomes `req.auth`: the object's own values, not what a `toJSON()` makes of them. A value JSON
 * would change (a URL, a Date, a Set, a function, NaN) becomes something of another type, which
 * the check refuses. Results that are not objects are returned as they are, for the check to refuse.
 */
function authInfoData(value) {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const data = {}
  for (const field of AUTH_INFO_FIELDS) {
    const v = value[field]
    if (v !== undefined) data[field] = fieldData(v)
  }
  return data
}

function fieldData(v) {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : String(v)
    case 'function':
    case 'symbol':
      return {}
    case 'object': {
      if (v === null) return v
      if (Array.isArray(v)) return v.map(fieldData)
      const proto = Object.getPrototypeOf(v)
      return proto === Object.prototype || proto === null ? v : {}
    }
    default:
      return v
  }
}

/** A thrown value's message, without trusting it to be readable. */
function messageOf(error) {
  try {
    return String(error && error.message)
  } catch {
    return 'unreadable error'
  }
}

/**
 * Wraps a user's verification function for the native side. `settle(token, callId)` never throws:
 * once the function settles it reports a plain verdict to Rust with `report(callId, verdict)`,
 * while the waiting request (in `pending`, by `callId`) keeps the function's own result, which
 * becomes `req.auth`, or its error, for `next`. A request waits only until it is answered, so a
 * late result is dropped, not kept.
 */
function settler(verify, pending, report) {
  const returned = (callId, value) => {
    const call = pending.get(callId)
    if (call === undefined) return {} // answered already (timed out): nothing to report
    call.value = value
    let json
    try {
      json = JSON.stringify(authInfoData(value))
    } catch (error) {
      return { invalid: `It is not JSON data (${messageOf(error)}).` }
    }
    return json === undefined ? { invalid: `It is not an object but ${typeof value}.` } : { json }
  }
  const threw = (callId, error) => {
    try {
      const errorClass = tokenErrorClass(error)
      if (errorClass !== undefined) {
        const missing = error.cause !== null && typeof error.cause === 'object' ? error.cause.missingScopes : undefined
        return {
          errorClass,
          code: String(error.code),
          // A server-side error is answered 500 with its `toJson()` as the cause, as in mcp-auth.
          cause: SERVER_CLASSES.has(errorClass) ? causeJson(snakeKeys(error.toJson())) : causeJson(error.cause),
          missingScopes: Array.isArray(missing) && missing.every((s) => typeof s === 'string') ? missing : undefined,
        }
      }
    } catch {
      // An error object that throws when read (a hostile Proxy) is just "another error".
    }
    const call = pending.get(callId)
    if (call !== undefined) call.error = error
    return {}
  }
  const reportSafely = (callId, verdict) => {
    try {
      report(callId, verdict)
    } catch {
      // Only while Node shuts down; the native side gives up on the request by itself.
    }
  }
  return (token, callId) => {
    new Promise((resolve) => resolve(verify(token))).then(
      (value) => reportSafely(callId, returned(callId, value)),
      (error) => reportSafely(callId, threw(callId, error)),
    )
  }
}

module.exports = { settler, forwardable }
