'use strict'

// Each warning is printed once per process, however many MCPAuth instances repeat it.
const warned = new Set()
function warnOnce(message) {
  if (warned.has(message)) return
  warned.add(message)
  console.warn(`mcp-auth-native: ${message}`)
}

module.exports = { warnOnce }
