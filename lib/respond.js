'use strict'
// Writing the native side's refusals to the response, with plain `http.ServerResponse` calls.

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

module.exports = { reject, refuse, isPreflight }
