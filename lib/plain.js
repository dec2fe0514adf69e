'use strict'
// Configuration copied into JSON data for the native side.

/**
 * Copies configuration into plain JSON data for the binding: `URL` objects become strings and
 * `Infinity` the largest number (a duration that never ends); anything JSON cannot carry
 * (functions, symbols, NaN, cycles) is a `TypeError` naming its path.
 */
function plain(value, path, seen = new Set()) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value
    case 'number':
      if (Number.isNaN(value)) throw new TypeError(`\`${path}\` must be a number, not NaN.`)
      return Number.isFinite(value) ? value : Math.sign(value) * Number.MAX_VALUE
    case 'object': {
      if (value === null) return null
      if (value instanceof URL) return value.href
      if (seen.has(value)) throw new TypeError(`\`${path}\` refers back to an object that contains it.`)
      seen.add(value)
      const at = (key) => (path ? `${path}.${key}` : key)
      const out = Array.isArray(value)
        ? value.map((item, i) => plain(item, `${path}[${i}]`, seen))
        : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item, at(key), seen)]))
      seen.delete(value)
      return out
    }
    default:
      throw new TypeError(`\`${path || 'config'}\` must be JSON data, not a ${typeof value}.`)
  }
}

module.exports = { plain }
