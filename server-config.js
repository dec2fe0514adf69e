'use strict'
// fetchServerConfig, fetchServerConfigByWellKnownUrl and validateServerConfig: the JS half of the
// discovery API. The fetch (on the Rust side's tokio runtime) and every check run in the same Rust
// code as request handling; this file only calls the user's `transpileData` between the fetch and
// the checks, and turns failures into the error classes that `index.js` defines.

const native = require('./native.js')

const OPTION_NAMES = ['type', 'transpileData', 'timeoutDuration']

/**
 * Builds the public functions around the error classes of `index.js` and its `plain` copier
 * (passed in, so that this file and `index.js` do not require each other).
 */
module.exports = function serverConfigApi({ MCPAuthConfigError, MCPAuthAuthServerError, plain }) {
  function typeError(message) {
    const error = new TypeError(message)
    error.code = 'ERR_INVALID_ARG_TYPE'
    return error
  }

  /** The error class a native failure stands for; `metadata` is the fetched document, if any. */
  function failure({ code, message, cause }, metadata) {
    if (code === 'fetch_server_config_error') {
      const error = new MCPAuthConfigError(code, message)
      error.cause = cause
      return error
    }
    if (code === 'invalid_server_metadata') {
      return new MCPAuthAuthServerError(code, metadata === undefined ? cause : { ...cause, metadata })
    }
    return typeError(message)
  }

  /** Checks `{ type, transpileData?, timeoutDuration? }`. */
  function options(config, fn) {
    if (config === null || typeof config !== 'object') {
      throw typeError(`${fn}: the second argument must be an object such as { type: 'oidc' }.`)
    }
    const unknown = Object.keys(config).find((key) => !OPTION_NAMES.includes(key))
    if (unknown !== undefined) {
      throw typeError(`${fn}: unknown option \`${unknown}\`; expected one of: ${OPTION_NAMES.join(', ')}.`)
    }
    const { type, transpileData, timeoutDuration } = config
    if (type !== 'oidc' && type !== 'oauth') {
      throw typeError(`${fn}: \`type\` must be 'oidc' or 'oauth'; got ${JSON.stringify(type)}.`)
    }
    if (transpileData !== undefined && typeof transpileData !== 'function') {
      throw typeError(`${fn}: \`transpileData\` must be a function.`)
    }
    if (timeoutDuration !== undefined && !(typeof timeoutDuration === 'number' && timeoutDuration > 0)) {
      throw typeError(`${fn}: \`timeoutDuration\` must be a positive number of milliseconds.`)
    }
    return { type, transpileData, timeoutDuration }
  }

  function urlString(value, what, fn) {
    if (value instanceof URL) return value.href
    if (typeof value === 'string') return value
    throw typeError(`${fn}: the ${what} must be a string or a URL.`)
  }

  async function fetchAndResolve(url, { type, transpileData, timeoutDuration }, expectedIssuer) {
    const fetched = await native.fetchServerDocument(url, timeoutDuration)
    if (fetched.error) throw failure(fetched.error)
    const raw = fetched.document
    // As in mcp-auth: `transpileData` sees the raw snake_case document; a nullish result keeps it.
    const data = transpileData ? ((await transpileData(raw)) ?? raw) : raw
    const resolved = native.resolveServerDocument(plain(data, 'transpileData()'), expectedIssuer)
    if (resolved.error) throw failure(resolved.error, raw)
    return { metadata: resolved.document, type }
  }

  /**
   * Fetches authorization server metadata from an explicit well-known URL and returns it as a
   * resolved configuration `{ type, metadata }` (camelCase). The document is not compared with an
   * issuer (there is none to compare with); `transpileData` may rewrite it first.
   */
  async function fetchServerConfigByWellKnownUrl(wellKnownUrl, config) {
    const fn = 'fetchServerConfigByWellKnownUrl'
    const checked = options(config, fn)
    return fetchAndResolve(urlString(wellKnownUrl, 'well-known URL', fn), checked, undefined)
  }

  /**
   * Fetches an issuer's metadata from its well-known URL (`oauth`: RFC 8414 §3.1, the segment
   * inserted before the issuer's path; `oidc`: appended) and returns `{ type, metadata }`. The
   * document's `issuer` must equal `issuer` exactly (after `transpileData`).
   */
  async function fetchServerConfig(issuer, config) {
    const fn = 'fetchServerConfig'
    const checked = options(config, fn)
    const expected = urlString(issuer, 'issuer', fn)
    let url
    try {
      url = native.serverMetadataUrl(expected, checked.type)
    } catch (error) {
      throw typeError(`${fn}: ${error.message}`)
    }
    return fetchAndResolve(url, checked, expected)
  }

  /**
   * Checks resolved metadata against what MCP clients need, with mcp-auth's result shape
   * `{ isValid, errors?, warnings, successes? }`. Advice only: it rejects nothing by itself.
   */
  function validateServerConfig(config, verbose = false) {
    if (config === null || typeof config !== 'object') {
      throw typeError('validateServerConfig: `config` must be an object such as { type, metadata }.')
    }
    const metadata = plain(config.metadata, 'config.metadata')
    const result = native.validateServerConfig({ metadata: metadata ?? null }, Boolean(verbose))
    for (const error of result.errors ?? []) {
      if (typeof error.cause === 'string') error.cause = new Error(error.cause)
    }
    return result
  }

  return { fetchServerConfig, fetchServerConfigByWellKnownUrl, validateServerConfig }
}
