'use strict'
// `mcpAuth.authInfo`: the identity of the request being handled, kept with AsyncLocalStorage from
// the middleware's `next()` on, so that every callback descending from it (MCP SDK tool handlers
// included, across `await`s) reads its own request's identity.

const { AsyncLocalStorage } = require('node:async_hooks')

/** One `MCPAuth`'s request context: `{ auth, guard }` of the current request, or none. */
class RequestContext {
  constructor() {
    this.storage = new AsyncLocalStorage()
  }

  /** Calls `next()` with `auth` (the very `req.auth` object) as the current identity. */
  run(auth, guard, next) {
    return this.storage.run({ auth, guard }, next)
  }

  /** The current request's `AuthInfo`; undefined outside a protected request. */
  get authInfo() {
    return this.storage.getStore()?.auth
  }

  /** Whether the current request's token grants every scope of `scopes` under its middleware's hierarchy. */
  hasScopes(scopes) {
    if (!Array.isArray(scopes) || !scopes.every((s) => typeof s === 'string')) {
      throw new TypeError('hasScopes: `scopes` must be an array of strings.')
    }
    const store = this.storage.getStore()
    if (store === undefined || !Array.isArray(store.auth?.scopes)) return false
    const granted = store.auth.scopes.filter((s) => typeof s === 'string')
    return store.guard.grants(granted, scopes)
  }
}

module.exports = { RequestContext }
