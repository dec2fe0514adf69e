// ESM entry: the same module as `index.js`.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const mcpAuth = require('./index.js')

export const {
  MCPAuth,
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
} = mcpAuth
export default mcpAuth
