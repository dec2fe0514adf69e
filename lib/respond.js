'use strict'
// Writing the native side's refusals to the response, with plain `http.ServerResponse` calls.

const EXPOSE = 'Access-Control-Expose-Headers'

/** The headers the glue exposes to browser clients, with the test whether a list names them. */
const LISTED = {
  'WWW-Authenticate': /(^|,)\s*www-authenticate\s*(,|$)/i,
  'DPoP-Nonce': /(^|,)\s*dpop-nonce\s*(,|$)/i,
}

/** Adds `name` to `Access-Control-Expose-Headers`, once, so that browser clients can read it. */
function expose(res, name) {
  const exposed = res.getHeader(EXPOSE)
  if (exposed === undefined) res.setHeader(EXPOSE, name)
  else if (!LISTED[name].test(String(exposed))) res.setHeader(EXPOSE, `${exposed}, ${name}`)
}

/** `DPoP-Nonce`: the nonce the client's next proof must carry (RFC 9449 §8). */
function setNonce(res, nonce) {
  res.setHeader('DPoP-Nonce', nonce)
  expose(res, 'DPoP-Nonce')
}

/** Sends an error outcome with plain `http.ServerResponse` calls (Express 4 and 5 alike). */
function reject(res, outcome) {
  res.statusCode = outcome.status
  if (outcome.wwwAuthenticate !== undefined) {
    res.setHeader('WWW-Authenticate', outcome.wwwAuthenticate)
    expose(res, 'WWW-Authenticate')
  }
  if (outcome.dpopNonce !== undefined) setNonce(res, outcome.dpopNonce)
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

module.exports = { reject, refuse, isPreflight, setNonce }
