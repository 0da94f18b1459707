// Where the browser tests' Chromium is. Plain JavaScript so both the tests (through
// test/support/browser.ts) and `node scripts/ensure-chromium.mjs` (run by `npm test`
// before vitest, and able to install one) use the same order:
//
//   1. CHROMIUM_PATH, which must then be an executable file (else a clear error);
//   2. a system Chromium: /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome-stable,
//      /usr/bin/google-chrome, then those names on PATH;
//   3. none: as root with apt-get, install Debian's `chromium`; otherwise fail with one line.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome-stable', '/usr/bin/google-chrome'];
export const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/** The one line printed when no Chromium can be had. */
export const HOW_TO_GET_ONE =
  'No Chromium for the browser tests: install Debian\'s `chromium` (sudo apt-get install -y chromium, or run `node scripts/ensure-chromium.mjs` as root) or set CHROMIUM_PATH=/path/to/chromium';

/** @param {string} path */
export function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The decision, from facts passed in (so it can be tested without changing the machine).
 * @param {{ env: Record<string, string | undefined>, isExecutable: (path: string) => boolean, isRoot: boolean }} facts
 * @returns {{ action: 'use', path: string, source: 'CHROMIUM_PATH' | 'system' | 'PATH' } | { action: 'install' } | { action: 'fail', message: string }}
 */
export function decideChromium({ env, isExecutable, isRoot }) {
  const explicit = env.CHROMIUM_PATH?.trim();
  if (explicit) {
    if (isExecutable(explicit)) return { action: 'use', path: explicit, source: 'CHROMIUM_PATH' };
    return { action: 'fail', message: `CHROMIUM_PATH=${explicit} is not an executable file; point it at a Chromium binary or unset it` };
  }
  for (const path of SYSTEM_PATHS) if (isExecutable(path)) return { action: 'use', path, source: 'system' };
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of NAMES) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return { action: 'use', path, source: 'PATH' };
    }
  }
  const aptGet = dirs.some((dir) => isExecutable(join(dir, 'apt-get')));
  if (isRoot && aptGet) return { action: 'install' };
  return { action: 'fail', message: HOW_TO_GET_ONE };
}

/** The facts of this process and machine. */
export function currentFacts(env = process.env) {
  return { env, isExecutable: isExecutableFile, isRoot: process.getuid?.() === 0 };
}

/**
 * The Chromium to launch, never installing one: throws an Error whose message is one line
 * saying how to get one.
 * @returns {string}
 */
export function findChromium(env = process.env) {
  const decision = decideChromium(currentFacts(env));
  if (decision.action === 'use') return decision.path;
  throw new Error(decision.action === 'fail' ? decision.message : `${HOW_TO_GET_ONE} (\`npm test\` installs it itself)`);
}
