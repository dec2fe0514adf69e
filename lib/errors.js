'use strict'
// The error classes of mcp-auth 0.2.0 and their description tables, built from the Rust code table.

const native = require('./native.js')

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

module.exports = {
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
  fromNative,
  invalidConfig,
}
