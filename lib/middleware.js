'use strict'
// The `bearerAuth` middlewares: JWT mode and custom mode. The native side decides; these only hand
// over the request's `Authorization` header and apply the outcome.

const { refuse, isPreflight } = require('./respond.js')
const { Pending } = require('./pending.js')
const { Answers } = require('./answers.js')
const { settler, forwardable } = require('./custom-verifier.js')

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

module.exports = { jwtMiddleware, customMiddleware }
