'use strict'
// The one place the generated binding is required; every other file imports it from here.
// Loads the native addon through the generated loader (`binding.js`, which picks
// `mcp-auth-native.<platform>.node` beside it, else the `mcp-auth-native-<platform>` package that
// npm installed from `optionalDependencies`). When nothing loads, throws one error that names the
// platform it detected, the platforms with a prebuilt binary, and how to build one from source.

const fs = require('node:fs')
const { napi } = require('../package.json')

/** npm platform name (`linux-x64-gnu`, the `npm/` folder and package suffix) of a Rust target. */
function platformOfTarget(triple) {
  const [arch, , os, abi] = triple.split('-')
  const cpu = { x86_64: 'x64', aarch64: 'arm64' }[arch] || arch
  if (os === 'darwin') return `darwin-${cpu}`
  if (os === 'windows') return `win32-${cpu}-${abi}`
  return `${os}-${cpu}-${abi}`
}

/** The platforms with a prebuilt binary, from `napi.targets` in package.json. */
const SUPPORTED = napi.targets.map(platformOfTarget)

/** The oldest glibc the linux gnu binaries run on (they are linked against it). */
const MIN_GLIBC = '2.17'

/** This process's platform in the same naming, with the C library on Linux (as the loader decides it). */
function detectPlatform() {
  const { platform, arch } = process
  if (platform === 'win32') return { name: `win32-${arch}-msvc`, detail: '' }
  if (platform !== 'linux') return { name: `${platform}-${arch}`, detail: '' }
  let musl = null
  try {
    musl = fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {}
  const report = process.report && typeof process.report.getReport === 'function' ? process.report.getReport() : null
  const glibc = report && report.header ? report.header.glibcVersionRuntime : undefined
  if (musl === null) musl = !glibc
  if (musl) return { name: `linux-${arch}-musl`, detail: ' (musl)' }
  return { name: `linux-${arch}-gnu`, detail: glibc ? ` (glibc ${glibc})` : '', glibc }
}

const older = (a, b) => {
  const x = a.split('.').map(Number)
  const y = b.split('.').map(Number)
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0)
  return false
}

/** The load errors the loader chained as causes, in the order it tried, one line each. */
function causes(error) {
  const lines = []
  for (let e = error && error.cause; e && lines.length < 8; e = e.cause) {
    lines.unshift(`  - ${String(e.message || e).split('\n')[0]}`)
  }
  return lines
}

function unsupported(loadError) {
  const here = detectPlatform()
  const known = SUPPORTED.includes(here.name)
  const list = SUPPORTED.map((p) => (p.endsWith('-gnu') ? `${p} (glibc >= ${MIN_GLIBC})` : p)).join(', ')
  const lines = [`mcp-auth-native could not load its native binary on ${here.name}${here.detail}, Node ${process.version}.`]
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) {
    lines.push(`NAPI_RS_NATIVE_LIBRARY_PATH is set (${process.env.NAPI_RS_NATIVE_LIBRARY_PATH}): the loader tried that file only.`)
  } else if (!known) {
    lines.push(`There is no prebuilt binary for ${here.name}. Prebuilt binaries: ${list}.`)
  } else if (here.glibc && older(here.glibc, MIN_GLIBC)) {
    lines.push(`The ${here.name} binary needs glibc ${MIN_GLIBC} or newer; this system has ${here.glibc}.`)
  } else {
    lines.push(
      `${here.name} has a prebuilt binary, in the package mcp-auth-native-${here.name}, but it did not load. ` +
        'It is an optional dependency: install without --omit=optional / --no-optional, and if npm skipped it ' +
        '(npm/cli#4828), remove node_modules and package-lock.json and run npm install again.',
    )
  }
  lines.push(
    'To build the binary from source: install Rust (cargo, from rustup) and Node >= 20, then in a clone of the ' +
      'mcp-auth-native repository run `npm install && npm run build`. That leaves ' +
      `mcp-auth-native.${here.name}.node in the clone, beside binding.js, where the loader looks first. Use the clone ` +
      'as the dependency (npm install <path to clone>), copy that file into node_modules/mcp-auth-native/, or set ' +
      'NAPI_RS_NATIVE_LIBRARY_PATH to its full path.',
  )
  const reasons = causes(loadError)
  if (reasons.length) lines.push('What the loader tried:', ...reasons)
  const error = new Error(lines.join('\n'))
  error.name = 'MCPAuthNativeLoadError'
  error.code = 'ERR_MCP_AUTH_NATIVE_UNSUPPORTED_PLATFORM'
  error.platform = here.name
  error.supported = SUPPORTED
  error.cause = loadError
  return error
}

let binding
try {
  binding = require('../binding.js')
} catch (error) {
  throw unsupported(error)
}

module.exports = binding
