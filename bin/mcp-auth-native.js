#!/usr/bin/env node
'use strict'
// mcp-auth-native inspect <token> --issuer <url> [--audience <aud>] [--scopes a,b] [--resource <url>] [--type oidc|oauth]
// mcp-auth-native inspect --introspect <token> --issuer <url> --client-id <id>
//     [--secret-env <NAME> | --secret-stdin] [--endpoint <url>] [--auth-method client_secret_basic|client_secret_post] ...
//
// Runs the checks of bearerAuth('jwt') (or, with --introspect, of bearerAuth('introspection'):
// one call to the introspection endpoint) on one token, step by step, with the same Rust code as
// the middleware. Exit status: 0 accepted, 1 rejected, 2 nothing could be checked (bad arguments,
// malformed token, unreachable issuer). The token itself is never printed; its claims are. The
// client secret is read from an environment variable (--secret-env, default
// MCP_AUTH_CLIENT_SECRET) or from stdin (--secret-stdin), never from an argument, and never printed.
const { parseArgs } = require('node:util')

const USAGE = [
  'usage: mcp-auth-native inspect <token> --issuer <url> [--audience <aud>] [--scopes a,b] [--resource <url>] [--type oidc|oauth]',
  '       mcp-auth-native inspect --introspect <token> --issuer <url> --client-id <id> [--secret-env <NAME> | --secret-stdin]',
  '           [--endpoint <url>] [--auth-method client_secret_basic|client_secret_post] [--audience <aud>] [--scopes a,b] [--resource <url>] [--type oidc|oauth]',
  '       (the client secret comes from the environment variable NAME, default MCP_AUTH_CLIENT_SECRET, or from stdin)',
].join('\n')

/** The default environment variable of the client secret. */
const SECRET_ENV = 'MCP_AUTH_CLIENT_SECRET'

/** Reads all of stdin. */
async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

function fail(message) {
  process.stderr.write(`mcp-auth-native: ${message}\n`)
  process.exitCode = 2
}

async function main(argv) {
  // A secret in an argument is visible to every user of the machine (ps, shell history): refused
  // by name, and its value is never echoed.
  const secretArg = argv.find((a) => /^--(client-?secret|secret)(=|$)/i.test(a))
  if (secretArg !== undefined) {
    return fail(`${secretArg.split('=')[0]} is not accepted: give the secret in an environment variable (--secret-env, default ${SECRET_ENV}) or on stdin (--secret-stdin)`)
  }
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
        introspect: { type: 'boolean' },
        endpoint: { type: 'string' },
        'client-id': { type: 'string' },
        'secret-env': { type: 'string' },
        'secret-stdin': { type: 'boolean' },
        'auth-method': { type: 'string' },
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

  const introspection = ['endpoint', 'client-id', 'secret-env', 'secret-stdin', 'auth-method'].find((k) => values[k] !== undefined)
  if (!values.introspect && introspection) return fail(`--${introspection} needs --introspect\n${USAGE}`)
  const native = require('../lib/native.js')
  let result
  if (values.introspect) {
    if (!values['client-id']) return fail(`missing --client-id <id>\n${USAGE}`)
    if (values['secret-env'] !== undefined && values['secret-stdin']) return fail('give either --secret-env or --secret-stdin')
    const method = values['auth-method']
    if (method !== undefined && method !== 'client_secret_basic' && method !== 'client_secret_post') {
      return fail(`--auth-method must be client_secret_basic or client_secret_post, not \`${method}\``)
    }
    let secret
    if (values['secret-stdin']) {
      secret = (await readStdin()).replace(/\r?\n$/, '')
      if (!secret) return fail('no client secret on stdin')
    } else {
      const name = values['secret-env'] ?? SECRET_ENV
      secret = process.env[name]
      if (!secret) return fail(`the environment variable ${name} holds no client secret (or use --secret-stdin)`)
    }
    result = await native.inspectIntrospection({
      token: token.trim(),
      issuer: values.issuer,
      serverType: values.type,
      endpoint: values.endpoint,
      clientId: values['client-id'],
      clientSecret: secret,
      authMethod: method,
      audience,
      scopes,
      resource: values.resource,
    })
  } else {
    result = await native.inspect({
      token: token.trim(),
      issuer: values.issuer,
      serverType: values.type,
      audience,
      scopes,
      resource: values.resource,
    })
  }
  if (result.error) return fail(result.error)
  const mode = values.introspect ? "bearerAuth('introspection')" : "bearerAuth('jwt')"

  if (values.json) {
    const out = {
      accepted: result.accepted,
      ...(result.header ? { header: JSON.parse(result.header) } : {}),
      claims: JSON.parse(result.claims),
      checks: result.checks,
    }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  } else {
    const mark = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' }
    const width = Math.max(...result.checks.map((c) => c.name.length))
    const lines = [
      ...(result.header ? [`header: ${result.header}`] : []),
      `${values.introspect ? 'answer' : 'claims'}: ${JSON.stringify(JSON.parse(result.claims), null, 2).replace(/\n/g, '\n        ')}`,
      '',
      ...result.checks.map((c) => `  ${mark[c.status] || c.status}  ${c.name.padEnd(width)}  ${c.detail}`),
      '',
      result.accepted
        ? `accepted: ${mode} with these options would accept this token`
        : `rejected: failed ${result.checks.filter((c) => c.status === 'failed').map((c) => c.name).join(', ')}`,
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
  }
  process.exitCode = result.accepted ? 0 : 1
}

main(process.argv.slice(2)).catch((e) => fail(e && e.message ? e.message : String(e)))
