'use strict'
// The `MCPAuth` class: checks the configuration and makes middlewares and routers for it.

const native = require('./native.js')
const { fromNative, invalidConfig } = require('./errors.js')
const { plain } = require('./plain.js')
const { jwtMiddleware, customMiddleware } = require('./middleware.js')
const { metadataRouter, delegatedRouter } = require('./routers.js')
const { warnOnce } = require('./warnings.js')

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

module.exports = { MCPAuth }
