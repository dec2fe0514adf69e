'use strict';
// Preload (`node -r scripts/fake-platform.js`) for tests of platforms with no binary: makes this
// process report FAKE_PLATFORM ("<platform>-<arch>", e.g. "linux-riscv64") as process.platform
// and process.arch. npm run under it checks a package's os/cpu against the faked values.
const [platform, arch] = (process.env.FAKE_PLATFORM || '').split('-');
if (platform) Object.defineProperty(process, 'platform', { value: platform });
if (arch) Object.defineProperty(process, 'arch', { value: arch });
