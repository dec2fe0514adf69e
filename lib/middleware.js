'use strict'
// The `bearerAuth` middlewares: JWT mode and custom mode. The native side decides; these only hand
// over the request's `Authorization` header (and, with per-operation scopes, its MCP operation)
// and apply the outcome.

const { refuse, isPreflight, setNonce } = require('./respond.js')
const { Pending } = require('./pending.js')
const { Answers } = require('./answers.js')
const { settler, forwardable } = require('./custom-verifier.js')
const { requestedOf, UNPARSED_BODY_WARNING } = require('./operation.js')
const { warnOnce } = require('./warnings.js')

/** A request that asks for no operation (GET, DELETE, a POST without a body). */
const NO_OPERATION = Object.freeze({ operations: Object.freeze([]) })

/** How many operations' decisions a remembered identity keeps. */
const DECISIONS_KEPT = 32

/**
 * The memo key of a request's operations: without `scopesFor`, what a request needs depends only
 * on them, so the native side's decision for one identity can be reused for the same key. JSON
 * of the operations (and the unreadable flag), so that different operations never share a key.
 */
const decisionKey = (requested) => (requested.unreadable ? '!' : JSON.stringify(requested.operations))

/**
 * The request's MCP operation when the guard has per-operation scopes, else undefined (the plain
 * `requiredScopes` path reads nothing more than the `Authorization` header).
 */
function operationReader(guard, scopesFor) {
  if (!guard.perOperation) return () => undefined
  return (req) => {
    const requested = requestedOf(req, scopesFor)
    if (requested !== undefined && requested.unreadable) warnOnce(UNPARSED_BODY_WARNING)
    return requested
  }
}

/** Whether an `Authorization` header uses the `DPoP` scheme (RFC 9449 §7.1; case-insensitive). */
const isDpopScheme = (header) =>
  typeof header === 'string' && header.length > 5 && header.charCodeAt(4) === 32 && header.slice(0, 4).toLowerCase() === 'dpop'

/**
 * Every `DPoP` request header's value, in order. `req.headers.dpop` would join two headers with
 * ", ", hiding that there were two; `rawHeaders` keeps them apart.
 */
function dpopProofs(req) {
  const raw = req.rawHeaders
  const proofs = []
  if (!Array.isArray(raw)) return proofs
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]
    if (name.length === 4 && name.toLowerCase() === 'dpop') proofs.push(raw[i + 1])
  }
  return proofs
}

/** The native guard of JWT mode. */
const jwtGuard = (nativeAuth, done, options) => nativeAuth.jwtGuard(done, options)

/**
 * `req.auth` from an outcome's identity, JSON text whose `token` is empty (the native side does
 * not send the token back), and the request's `Authorization` header: one `JSON.parse` makes a
 * plain object of its own for the request, then the token after the scheme is filled in.
 */
function identity(json, header) {
  const auth = JSON.parse(json)
  auth.token = header.slice(header.indexOf(' ') + 1)
  return auth
}

/**
 * The middleware of `bearerAuth('jwt', options)`, made from the native configuration; `context`
 * is the `MCPAuth`'s request context, `scopesFor` the option's function, if any. `makeGuard`
 * builds another native guard with the JWT guard's interface (introspection mode).
 */
function jwtMiddleware(nativeAuth, options, { context, scopesFor, makeGuard = jwtGuard }) {
  const pending = new Pending()
  let guard
  const apply = (outcome, req, res, next) => {
    if (outcome.status !== 200) return refuse(res, outcome)
    if (outcome.dpopNonce !== undefined) setNonce(res, outcome.dpopNonce)
    const auth = outcome.auth
    req.auth = auth
    context.run(auth, guard, next)
  }
  let answers
  const settle = (outcome) => {
    const call = pending.close(outcome.callId)
    if (call === undefined) return
    try {
      if (outcome.auth !== undefined) outcome.auth = identity(outcome.auth, call.header)
      if (!call.dpop) answers.remember(call.header, outcome)
      apply(outcome, call.req, call.res, call.next)
    } catch (error) {
      call.next(error)
    }
  }
  // Every outcome that was ready when the JS thread got to them, in one call.
  const done = (outcomes) => {
    for (let i = 0; i < outcomes.length; i++) settle(outcomes[i])
  }
  guard = makeGuard(nativeAuth, done, options)
  for (const warning of guard.warnings()) warnOnce(warning)
  answers = new Answers(guard)
  const operation = operationReader(guard, scopesFor)
  const perOperation = guard.perOperation
  // With the `dpop` option on, a request with the `DPoP` scheme goes to `verifyDpop` with its
  // method, URL and proofs, every time (each proof is new: no memo); all others, and every
  // request without the option, take the Bearer path below unchanged.
  const dpop = guard.dpop
  const verifyDpop = (header, req, res, next, requested) => {
    const callId = pending.open({ header, req, res, next, dpop: true })
    let outcome
    try {
      const url = typeof req.originalUrl === 'string' ? req.originalUrl : req.url
      outcome = guard.verifyDpop(header, callId, req.method, url, dpopProofs(req), requested)
    } catch (error) {
      pending.close(callId)
      return next(error)
    }
    if (outcome) {
      pending.close(callId)
      apply(outcome, req, res, next)
    }
  }
  return function bearerAuth(req, res, next) {
    if (isPreflight(req)) return next()
    let requested
    try {
      requested = operation(req)
    } catch (error) {
      return next(error) // `scopesFor` threw: the application's error
    }
    const header = req.headers.authorization
    if (dpop && isDpopScheme(header)) return verifyDpop(header, req, res, next, requested)
    const known = answers.get(header)
    if (known !== undefined) {
      // A token verified before: with per-operation scopes, whether it may do *this* operation
      // is decided again (one token may be allowed one tool and refused another).
      // The memo then also keeps identities that were refused for lack of scopes: each request,
      // GET and DELETE included (no operation: `requiredScopes` alone), is checked again.
      if (known.status === 200 && perOperation) {
        const operation = requested ?? NO_OPERATION
        const key = scopesFor === undefined ? decisionKey(operation) : undefined
        let refusal = key === undefined ? undefined : known.decisions.get(key)
        if (refusal === undefined) {
          refusal = guard.check(known.auth.scopes, operation)
          if (key !== undefined && known.decisions.size < DECISIONS_KEPT) known.decisions.set(key, refusal)
        }
        if (refusal !== null) return refuse(res, refusal)
      }
      return apply(known, req, res, next)
    }
    const callId = pending.open({ header, req, res, next })
    let outcome
    try {
      outcome = requested === undefined ? guard.verify(header, callId) : guard.verify(header, callId, requested)
    } catch (error) {
      pending.close(callId)
      return next(error)
    }
    if (outcome) {
      // Answered at once (a problem with the header or the operation): nothing went to the native side.
      pending.close(callId)
      apply(outcome, req, res, next)
    }
  }
}

/**
 * The middleware of `bearerAuth(verify, options)`. Each waiting request's record also receives
 * the user's own result (which becomes `req.auth`) or error (for `next`) from the wrapper.
 */
function customMiddleware(nativeAuth, verify, options, { context, scopesFor }) {
  const pending = new Pending()
  let guard
  const apply = (outcome, call) => {
    if (outcome.status === 200) {
      call.req.auth = call.value
      context.run(call.value, guard, call.next)
    } else if (outcome.forward) {
      call.next(forwardable(call.error))
    } else {
      refuse(call.res, outcome)
    }
  }
  const settle = (outcome) => {
    const call = pending.close(outcome.callId)
    if (call === undefined) return
    try {
      apply(outcome, call)
    } catch (error) {
      call.next(error)
    }
  }
  const done = (outcomes) => {
    for (let i = 0; i < outcomes.length; i++) settle(outcomes[i])
  }
  const report = (callId, verdict) => guard.settled(callId, verdict)
  guard = nativeAuth.customGuard(settler(verify, pending, report), done, options)
  for (const warning of guard.warnings()) warnOnce(warning)
  const operation = operationReader(guard, scopesFor)
  return function bearerAuth(req, res, next) {
    if (isPreflight(req)) return next()
    let requested
    try {
      requested = operation(req)
    } catch (error) {
      return next(error) // `scopesFor` threw: the application's error
    }
    const call = { req, res, next, value: undefined, error: undefined }
    const callId = pending.open(call)
    let outcome
    try {
      const header = req.headers.authorization
      outcome = requested === undefined ? guard.verify(header, callId) : guard.verify(header, callId, requested)
    } catch (error) {
      pending.close(callId)
      return next(error)
    }
    if (outcome) {
      // Answered at once (a problem with the header or the operation): nothing went to the native side.
      pending.close(callId)
      apply(outcome, call)
    }
  }
}

module.exports = { jwtMiddleware, customMiddleware }
