'use strict'
// The `MCPAuth` class: checks the configuration and makes middlewares and routers for it.

const native = require('./native.js')
const { fromNative, invalidConfig } = require('./errors.js')
const { plain } = require('./plain.js')
const { jwtMiddleware, customMiddleware } = require('./middleware.js')
const { metadataRouter, delegatedRouter } = require('./routers.js')
const { warnOnce } = require('./warnings.js')
const { RequestContext } = require('./request-context.js')

/**
 * The entry point: checks the configuration, then makes `bearerAuth` middlewares for it.
 */
class MCPAuth {
  #native
  #context = new RequestContext()

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
    // The documents change when a middleware with DPoP on is made (RFC 9449 §5.1): the router
    // asks for them again whenever their version changed, before or after it was made.
    const nativeAuth = this.#native
    return metadataRouter({
      version: () => nativeAuth.documentsVersion,
      entries: () => nativeAuth.resourceDocuments().map((d) => ({ url: new URL(d.metadataUrl), body: d.document })),
    })
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
   * issuers' key sets; `'introspection'` asks the issuer's introspection endpoint (RFC 7662); a
   * function `(token) => AuthInfo | Promise<AuthInfo>` verifies them itself.
   */
  bearerAuth(mode, options) {
    if (typeof mode !== 'function' && mode !== 'jwt' && mode !== 'introspection') {
      throw new TypeError(
        `bearerAuth: the mode must be 'jwt', 'introspection' or a verification function; got ${typeof mode === 'string' ? `'${mode}'` : typeof mode}.`,
      )
    }
    const { data, scopesFor } = nativeOptions(options)
    const glue = { context: this.#context, scopesFor }
    if (mode === 'introspection') glue.makeGuard = native.introspectionGuard
    try {
      return typeof mode === 'function'
        ? customMiddleware(this.#native, mode, data, glue)
        : jwtMiddleware(this.#native, data, glue)
    } catch (error) {
      throw fromNative(error)
    }
  }

  /**
   * The `AuthInfo` of the request being handled (the same object as its `req.auth`), in every
   * callback that descends from a `bearerAuth` middleware's `next()`; undefined elsewhere.
   */
  get authInfo() {
    return this.#context.authInfo
  }

  /**
   * Whether the current request's token grants every scope of `scopes`, under the
   * `scopeHierarchy` of the middleware that admitted it; false outside a protected request.
   */
  hasScopes(scopes) {
    return this.#context.hasScopes(scopes)
  }
}

/**
 * The options as JSON data for the native side: `scopesFor`, a function, stays in JS (the glue
 * calls it per request and the native side checks its answers); the native side gets `true`.
 */
function nativeOptions(options) {
  if (options === null || typeof options !== 'object' || !('scopesFor' in options)) {
    return { data: plain(options, 'options'), scopesFor: undefined }
  }
  const { scopesFor, ...rest } = options
  if (scopesFor !== undefined && typeof scopesFor !== 'function') {
    throw new TypeError('`options.scopesFor` must be a function `(operation, req) => string[] | undefined`.')
  }
  const data = plain(rest, 'options')
  if (scopesFor !== undefined) data.scopesFor = true
  return { data, scopesFor }
}

module.exports = { MCPAuth }
