#!/usr/bin/env node
'use strict'
// mcp-auth-native inspect <token> --issuer <url> [--audience <aud>] [--scopes a,b] [--resource <url>] [--type oidc|oauth]
//
// Runs the checks of bearerAuth('jwt') on one token, step by step, with the same Rust code as the
// middleware. Exit status: 0 accepted, 1 rejected, 2 nothing could be checked (bad arguments,
// malformed token, unreachable issuer). The token itself is never printed; its claims are.
const { parseArgs } = require('node:util')

const USAGE =
  'usage: mcp-auth-native inspect <token> --issuer <url> [--audience <aud>] [--scopes a,b] [--resource <url>] [--type oidc|oauth]'

function fail(message) {
  process.stderr.write(`mcp-auth-native: ${message}\n`)
  process.exitCode = 2
}

async function main(argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        issuer: { type: 'string' },
        audience: { type: 'string', multiple: true },
        scopes: { type: 'string' },
        resource: { type: 'string' },
        type: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (e) {
    return fail(`${e.message}\n${USAGE}`)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const [command, token, ...extra] = positionals
  if (command !== 'inspect') return fail(command ? `unknown command \`${command}\`\n${USAGE}` : USAGE)
  if (!token) return fail(`missing <token>\n${USAGE}`)
  if (extra.length > 0) return fail(`unexpected argument \`${extra[0]}\`\n${USAGE}`)
  if (!values.issuer) return fail(`missing --issuer <url>\n${USAGE}`)
  if (values.type && values.type !== 'oidc' && values.type !== 'oauth') {
    return fail(`--type must be oidc or oauth, not \`${values.type}\``)
  }
  const scopes = values.scopes ? values.scopes.split(/[\s,]+/).filter(Boolean) : []
  const audience = (values.audience || []).flatMap((a) => a.split(',')).filter(Boolean)

  const { inspect } = require('../native.js')
  const result = await inspect({
    token: token.trim(),
    issuer: values.issuer,
    serverType: values.type,
    audience,
    scopes,
    resource: values.resource,
  })
  if (result.error) return fail(result.error)

  if (values.json) {
    const out = {
      accepted: result.accepted,
      header: JSON.parse(result.header),
      claims: JSON.parse(result.claims),
      checks: result.checks,
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  } else {
    const mark = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' }
    const width = Math.max(...result.checks.map((c) => c.name.length))
    const lines = [
      `header: ${result.header}`,
      `claims: ${JSON.stringify(JSON.parse(result.claims), null, 2).replace(/\n/g, '\n        ')}`,
      '',
      ...result.checks.map((c) => `  ${mark[c.status] || c.status}  ${c.name.padEnd(width)}  ${c.detail}`),
      '',
      result.accepted
        ? 'accepted: bearerAuth(\'jwt\') with these options would accept this token'
        : `rejected: failed ${result.checks.filter((c) => c.status === 'failed').map((c) => c.name).join(', ')}`,
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  }
  process.exitCode = result.accepted ? 0 : 1
}

main(process.argv.slice(2)).catch((e) => fail(e && e.message ? e.message : String(e)))
