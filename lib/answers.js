'use strict'
// The memo of native answers for repeated tokens (JWT mode).

/** A copy of `req.auth` for one request, so that what one handler changes no other one sees. */
function copyAuth(auth) {
  const copy = { ...auth, scopes: auth.scopes.slice() }
  if (Array.isArray(auth.audience)) copy.audience = auth.audience.slice()
  if (auth.claims !== undefined) copy.claims = { ...auth.claims }
  return copy
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
    if (entry.auth === undefined) return entry.refusal
    return { status: 200, auth: copyAuth(entry.auth), decisions: entry.decisions }
  }

  /**
   * Keeps `outcome` for `header` when the native side marked it reusable (it does so for tokens
   * that come back). An identity is kept as a copy: the request's own `req.auth` may change.
   * `get` answers a kept identity as a 200 with its `decisions`; with per-operation scopes the
   * middleware then asks the native side whether it covers the request's operation, and keeps
   * that answer there by operation (see `decisionKey`).
   */
  remember(header, outcome) {
    if (outcome.reuseUntil === undefined) return
    // An identity comes with a 200, and with a 403 for lack of per-operation scopes: then the
    // identity is kept, and each request's operation is checked against it again.
    const accepted = outcome.auth !== undefined && outcome.auth !== null
    this.put(header, {
      until: outcome.reuseUntil,
      keyEpoch: outcome.keyEpoch,
      auth: accepted ? copyAuth(outcome.auth) : undefined,
      refusal: accepted ? undefined : outcome,
      // With per-operation scopes: the native side's decision for this identity, by operation.
      decisions: accepted ? new Map() : undefined,
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

module.exports = { Answers, copyAuth }
