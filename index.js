'use strict'
// mcp-auth-native: bearer-token authentication for Express MCP servers, verified in Rust.
// This file only assembles the package; each concern lives in `lib/`, named after it:
//   errors.js           the error classes and description tables
//   mcp-auth.js         the MCPAuth class
//   middleware.js       the JWT and custom-mode middlewares
//   answers.js          the memo of answers for repeated tokens
//   custom-verifier.js  the wrapper around a custom verification function
//   pending.js          requests waiting for the native side
//   respond.js          writing refusals
//   routers.js          the metadata routers
//   plain.js, warnings.js, native.js (the one place the generated binding is required)

const {
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
} = require('./lib/errors.js')
const { MCPAuth } = require('./lib/mcp-auth.js')
const { plain } = require('./lib/plain.js')

const { fetchServerConfig, fetchServerConfigByWellKnownUrl, validateServerConfig } = require('./server-config.js')({
  MCPAuthConfigError,
  MCPAuthAuthServerError,
  plain,
})

// Plain names (not `errors.X`), so that Node's ESM loader finds every named export of this file.
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
