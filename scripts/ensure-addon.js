'use strict';
// For contributors: builds the addon from source (`npm run build`, needs cargo) when the generated
// loader or this platform's binary is missing, so that `npm install && npm run demo` and `npm test`
// work on a fresh clone. Runs as the `predemo`/`pretest`/`prebench` script, not at install time:
// the published package has no install-time lifecycle script.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
try {
  require(path.join(root, 'binding.js'));
} catch (error) {
  console.error(`mcp-auth-native: no native binary for this platform yet (${error.message.split('\n')[0]}); building it from source with \`npm run build\` (needs cargo).`);
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  process.exit(build.status ?? 1);
}
