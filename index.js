'use strict'
// The hand-written half of mcp-auth-native: JS error classes and the Express glue around the
// generated native binding (`binding.js`). Every decision is made in Rust; this file only moves
// the `Authorization` header in and the outcome out.

const native = require('./native.js')

// ---------------------------------------------------------------------------------------------
// Errors: classes mirror mcp-auth 0.2.0; their description tables come from the Rust code table.

const table = native.errorCodes()
const descriptionsOf = (className) =>
  Object.freeze(Object.fromEntries(table.filter((e) => e.className === className).map((e) => [e.code, e.description])))

const authServerErrorDescription = descriptionsOf('MCPAuthAuthServerError')
const bearerAuthErrorDescription = descriptionsOf('MCPAuthBearerAuthError')
const tokenVerificationErrorDescription = descriptionsOf('MCPAuthTokenVerificationError')
const jwtVerificationErrorDescription = descriptionsOf('MCPAuthJwtVerificationError')

/** Base class of every mcp-auth error: a snake_case `code` and a message. */
class MCPAuthError extends Error {
  constructor(code, message) {
    super(message)
    this.code = code
    this.name = 'MCPAuthError'
  }

  /** The error as JSON for an HTTP response; `cause` only when `showCause`. */
  toJson(showCause = false) {
    const json = { error: this.code, errorDescription: this.message }
    if (showCause && this.cause !== undefined) json.cause = this.cause
    return json
  }
}

/** A problem with mcp-auth's configuration or with fetching it. */
class MCPAuthConfigError extends MCPAuthError {
  constructor(code, message) {
    super(code, message)
    this.name = 'MCPAuthConfigError'
  }
}

/** A problem with the authorization server's configuration or metadata. */
class MCPAuthAuthServerError extends MCPAuthError {
  constructor(code, cause) {
    super(code, authServerErrorDescription[code] || 'An error occurred with the authorization server.')
    this.cause = cause
    this.name = 'MCPAuthAuthServerError'
  }
}

/** A problem with the request's bearer credentials or the token's grants. */
class MCPAuthBearerAuthError extends MCPAuthError {
  constructor(code, cause) {
    super(code, bearerAuthErrorDescription[code] || 'An error occurred with the Bearer auth.')
    this.cause = cause
    this.name = 'MCPAuthBearerAuthError'
  }

  toJson(showCause = false) {
    const json = super.toJson(showCause)
    if (this.cause && this.cause.uri && this.cause.uri.href) json.errorUri = this.cause.uri.href
    if (this.cause && this.cause.missingScopes) json.missingScopes = this.cause.missingScopes
    return json
  }
}

/** The token failed verification. */
class MCPAuthTokenVerificationError extends MCPAuthError {
  constructor(code, cause) {
    super(
      code,
      tokenVerificationErrorDescription[code] ||
        jwtVerificationErrorDescription[code] ||
        'An error occurred while verifying the token.',
    )
    this.cause = cause
    this.name = 'MCPAuthTokenVerificationError'
  }
}

/** A JWT failed verification (`jwt_verification_failed`, `invalid_jwt`). */
class MCPAuthJwtVerificationError extends MCPAuthTokenVerificationError {
  constructor(code, cause) {
    super(code, cause)
    this.name = 'MCPAuthJwtVerificationError'
  }
}

/** Rethrows a binding error as the JS class its code names. */
function fromNative(error) {
  if (error && (error.code === 'ERR_INVALID_ARG_TYPE' || error.code === 'InvalidArg')) {
    const typeError = new TypeError(error.message)
    typeError.code = 'ERR_INVALID_ARG_TYPE'
    return typeError
  }
  if (error && error.code === 'invalid_server_config') return invalidConfig(error.message)
  return error
}

/** `MCPAuthAuthServerError('invalid_server_config')` whose message also says what is wrong. */
function invalidConfig(detail) {
  const e = new MCPAuthAuthServerError('invalid_server_config', { cause: detail })
  e.message = `${e.message} ${detail}`
  return e
}

/**
 * Copies configuration into plain JSON data for the binding: `URL` objects become strings and
 * `Infinity` the largest number (a duration that never ends); anything JSON cannot carry
 * (functions, symbols, NaN, cycles) is a `TypeError` naming its path.
 */
function plain(value, path, seen = new Set()) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value
    case 'number':
      if (Number.isNaN(value)) throw new TypeError(`\`${path}\` must be a number, not NaN.`)
      return Number.isFinite(value) ? value : Math.sign(value) * Number.MAX_VALUE
    case 'object': {
      if (value === null) return null
      if (value instanceof URL) return value.href
      if (seen.has(value)) throw new TypeError(`\`${path}\` refers back to an object that contains it.`)
      seen.add(value)
      const at = (key) => (path ? `${path}.${key}` : key)
      const out = Array.isArray(value)
        ? value.map((item, i) => plain(item, `${path}[${i}]`, seen))
        : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item, at(key), seen)]))
      seen.delete(value)
      return out
    }
    default:
      throw new TypeError(`\`${path || 'config'}\` must be JSON data, not a ${typeof value}.`)
  }
}

// ---------------------------------------------------------------------------------------------
// Express glue.

const EXPOSE = 'Access-Control-Expose-Headers'

/** Sends an error outcome with plain `http.ServerResponse` calls (Express 4 and 5 alike). */
function reject(res, outcome) {
  res.statusCode = outcome.status
  if (outcome.wwwAuthenticate !== undefined) {
    res.setHeader('WWW-Authenticate', outcome.wwwAuthenticate)
    const exposed = res.getHeader(EXPOSE)
    if (exposed === undefined) res.setHeader(EXPOSE, 'WWW-Authenticate')
    else if (!/(^|,)\s*www-authenticate\s*(,|$)/i.test(String(exposed))) res.setHeader(EXPOSE, `${exposed}, WWW-Authenticate`)
  }
  if (outcome.retryAfter !== undefined) res.setHeader('Retry-After', String(outcome.retryAfter))
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.end(outcome.body)
}

/** A CORS preflight carries no credentials; the app's CORS handling answers it. */
const isPreflight = (req) => req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined

/** Answers a refusal, unless something else (a timeout middleware, say) answered meanwhile. */
function refuse(res, outcome) {
  if (!res.headersSent) reject(res, outcome)
}

/** A copy of `req.auth` for one request, so that what one handler changes no other one sees. */
function copyAuth(auth) {
  const copy = { ...auth, scopes: auth.scopes.slice() }
  if (Array.isArray(auth.audience)) copy.audience = auth.audience.slice()
  if (auth.claims !== undefined) copy.claims = { ...auth.claims }
  return copy
}

// While verifications are pending on the native side, this timer keeps Node alive: the native
// callback that delivers outcomes is weak, so that a server that closed can exit.
let keepAlive
let holding = 0
function hold() {
  if (holding++ === 0) (keepAlive ??= setInterval(() => {}, 0x7fffffff)).ref()
}
function release() {
  if (--holding === 0) keepAlive.unref()
}

/** The requests of one middleware that wait for the native side, by call id. */
class Pending {
  constructor() {
    this.calls = new Map()
    this.nextId = 0
  }

  /** Registers a waiting request; returns its call id. */
  open(call) {
    const id = this.nextId
    this.nextId = (id + 1) >>> 0
    this.calls.set(id, call)
    hold()
    return id
  }

  /** The request waiting under `id`, now no longer waiting; undefined if there is none. */
  close(id) {
    const call = this.calls.get(id)
    if (call !== undefined) {
      this.calls.delete(id)
      release()
    }
    return call
  }

  /** The request waiting under `id`, still waiting. */
  get(id) {
    return this.calls.get(id)
  }
}

/** How many answers a JWT middleware keeps, per generation (two are kept). */
const ANSWERS_KEPT = 2048

/**
 * The answers the native side gave for tokens that passed verification and came back, reused
 * for the same `Authorization` header for as long as it said they hold (`reuseUntil`, while
 * `keyEpoch()` is unchanged): a repeated token is answered on the spot, without a signature check
 * or a thread hop, and still exactly as the native side decided. Two generations of
 * `ANSWERS_KEPT` at most.
 */
class Answers {
  constructor(guard) {
    this.guard = guard
    this.current = new Map()
    this.previous = new Map()
  }

  /** The answer for `header`, if one still holds; each call gets its own `auth` object. */
  get(header) {
    if (header === undefined) return undefined
    let entry = this.current.get(header)
    if (entry === undefined) {
      entry = this.previous.get(header)
      if (entry === undefined) return undefined
      this.previous.delete(header)
      this.put(header, entry)
    }
    if (entry.until <= Date.now() || entry.keyEpoch !== this.guard.keyEpoch()) {
      this.current.delete(header)
      return undefined
    }
    return entry.auth === undefined ? entry.refusal : { status: 200, auth: copyAuth(entry.auth) }
  }

  /**
   * Keeps `outcome` for `header` when the native side marked it reusable (it does so for tokens
   * that come back). An identity is kept as a copy: the request's own `req.auth` may change.
   */
  remember(header, outcome) {
    if (outcome.reuseUntil === undefined) return
    const accepted = outcome.status === 200
    this.put(header, {
      until: outcome.reuseUntil,
      keyEpoch: outcome.keyEpoch,
      auth: accepted ? copyAuth(outcome.auth) : undefined,
      refusal: accepted ? undefined : outcome,
    })
  }

  put(header, entry) {
    if (this.current.size >= ANSWERS_KEPT && !this.current.has(header)) {
      this.previous = this.current
      this.current = new Map()
    }
    this.current.set(header, entry)
  }
}

/** The middleware of `bearerAuth('jwt', options)`, made from the native configuration. */
function jwtMiddleware(nativeAuth, options) {
  const pending = new Pending()
  const apply = (outcome, req, res, next) => {
    if (outcome.status !== 200) return refuse(res, outcome)
    req.auth = outcome.auth
    next()
  }
  let answers
  const done = (callId, outcome) => {
    const call = pending.close(callId)
    if (call === undefined) return
    try {
      answers.remember(call.header, outcome)
      apply(outcome, call.req, call.res, call.next)
    } catch (error) {
      call.next(error)
    }
  }
  const guard = nativeAuth.jwtGuard(done, options)
  answers = new Answers(guard)
  return function bearerAuth(req, res, next) {
    if (isPreflight(req)) return next()
    const header = req.headers.authorization
    const known = answers.get(header)
    if (known !== undefined) return apply(known, req, res, next)
    const callId = pending.open({ header, req, res, next })
    let outcome
    try {
      outcome = guard.verify(header, callId)
    } catch (error) {
      pending.close(callId)
      return next(error)
    }
    if (outcome) {
      // Answered at once (a problem with the header): nothing went to the native side.
      pending.close(callId)
      apply(outcome, req, res, next)
    }
  }
}

/**
 * The middleware of `bearerAuth(verify, options)`. Each waiting request's record also receives
 * the user's own result (which becomes `req.auth`) or error (for `next`) from the wrapper.
 */
function customMiddleware(nativeAuth, verify, options) {
  const pending = new Pending()
  const apply = (outcome, call) => {
    if (outcome.status === 200) {
      call.req.auth = call.value
      call.next()
    } else if (outcome.forward) {
      call.next(forwardable(call.error))
    } else {
      refuse(call.res, outcome)
    }
  }
  const done = (callId, outcome) => {
    const call = pending.close(callId)
    if (call === undefined) return
    try {
      apply(outcome, call)
    } catch (error) {
      call.next(error)
    }
  }
  let guard
  const report = (callId, verdict) => guard.settled(callId, verdict)
  guard = nativeAuth.customGuard(settler(verify, pending, report), done, options)
  return function bearerAuth(req, res, next) {
    if (isPreflight(req)) return next()
    const call = { req, res, next, value: undefined, error: undefined }
    const callId = pending.open(call)
    let outcome
    try {
      outcome = guard.verify(req.headers.authorization, callId)
    } catch (error) {
      pending.close(callId)
      return next(error)
    }
    if (outcome) {
      // Answered at once (a problem with the header): nothing went to the native side.
      pending.close(callId)
      apply(outcome, call)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Custom verification: the user's function is called from Rust through a thread-safe function.

/** The class name Rust reads a thrown error's `code` with; undefined for errors it forwards. */
function tokenErrorClass(error) {
  if (error instanceof MCPAuthJwtVerificationError) return 'MCPAuthJwtVerificationError'
  if (error instanceof MCPAuthTokenVerificationError) return 'MCPAuthTokenVerificationError'
  if (error instanceof MCPAuthBearerAuthError) return 'MCPAuthBearerAuthError'
  return undefined
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
          cause: causeJson(error.cause),
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

// ---------------------------------------------------------------------------------------------
// Metadata routers: RFC 9728 resource metadata, and the legacy authorization server metadata.

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

/** Serves JSON documents by well-known path, with CORS, for GET and HEAD (RFC 9728 §3). */
function metadataRouter(entries) {
  // Several resources may share a path on different hosts: the Host header picks among them.
  const byPath = new Map()
  for (const { url, body } of entries) {
    const list = byPath.get(url.pathname) || []
    list.push({ host: url.host.toLowerCase(), body })
    byPath.set(url.pathname, list)
  }
  return function metadataRouter(req, res, next) {
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

// Each warning is printed once per process, however many MCPAuth instances repeat it.
const warned = new Set()
function warnOnce(message) {
  if (warned.has(message)) return
  warned.add(message)
  console.warn(`mcp-auth-native: ${message}`)
}

/**
 * The entry point: checks the configuration, then makes `bearerAuth` middlewares for it.
 */
class MCPAuth {
  #native

  constructor(config) {
    try {
      this.#native = new native.NativeMCPAuth(plain(config, ''))
    } catch (error) {
      throw fromNative(error)
    }
    this.config = config
    for (const warning of native.configWarnings(this.#native)) warnOnce(warning)
  }

  /**
   * A router serving the RFC 9728 protected resource metadata of every configured resource at
   * `/.well-known/oauth-protected-resource` + the resource's path.
   */
  protectedResourceMetadataRouter() {
    if (this.#native.legacy) {
      throw invalidConfig('`protectedResourceMetadataRouter` is not available in `authorization server` mode.')
    }
    return metadataRouter(
      this.#native.resourceDocuments().map((d) => ({ url: new URL(d.metadataUrl), body: d.document })),
    )
  }

  /**
   * Deprecated (legacy `{ server }` mode only): a router serving the authorization server's
   * metadata at `/.well-known/oauth-authorization-server`, discovered lazily when configured by
   * issuer. Use `protectedResources` and `protectedResourceMetadataRouter()` instead.
   */
  delegatedRouter() {
    if (!this.#native.legacy) {
      throw invalidConfig('`delegatedRouter` is not available in `resource server` mode.')
    }
    warnOnce(
      '`delegatedRouter()` and the `{ server }` configuration are deprecated: configure `protectedResources` and serve `protectedResourceMetadataRouter()` (RFC 9728), as the MCP specification requires.',
    )
    return delegatedRouter(this.#native)
  }

  /**
   * An Express middleware that requires a valid bearer token: `'jwt'` verifies JWTs against the
   * issuers' key sets; a function `(token) => AuthInfo | Promise<AuthInfo>` verifies them itself.
   */
  bearerAuth(mode, options) {
    if (typeof mode === 'function') {
      try {
        return customMiddleware(this.#native, mode, plain(options, 'options'))
      } catch (error) {
        throw fromNative(error)
      }
    }
    if (mode !== 'jwt') {
      throw new TypeError(
        `bearerAuth: the mode must be 'jwt' or a verification function; got ${typeof mode === 'string' ? `'${mode}'` : typeof mode}.`,
      )
    }
    try {
      return jwtMiddleware(this.#native, plain(options, 'options'))
    } catch (error) {
      throw fromNative(error)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Discovery API: fetchServerConfig, fetchServerConfigByWellKnownUrl, validateServerConfig.

const { fetchServerConfig, fetchServerConfigByWellKnownUrl, validateServerConfig } = require('./server-config.js')({
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  plain,
})

module.exports = {
  MCPAuth,
  fetchServerConfig,
  fetchServerConfigByWellKnownUrl,
  validateServerConfig,
  MCPAuthError,
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  MCPAuthBearerAuthError,
  MCPAuthTokenVerificationError,
  MCPAuthJwtVerificationError,
  authServerErrorDescription,
  bearerAuthErrorDescription,
  tokenVerificationErrorDescription,
  jwtVerificationErrorDescription,
}
