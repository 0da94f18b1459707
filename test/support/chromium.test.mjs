// `node --test test/support/chromium.test.mjs` (part of `npm test`): which Chromium the
// browser tests get, and the one line printed when there is none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { HOW_TO_GET_ONE, decideChromium } from './chromium.mjs';

const script = fileURLToPath(new URL('../../scripts/ensure-chromium.mjs', import.meta.url));
const machine = (executables, { env = {}, isRoot = false } = {}) => ({
  env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env },
  isExecutable: (path) => executables.includes(path),
  isRoot,
});

test('CHROMIUM_PATH wins when it is executable, and fails clearly when it is not', () => {
  assert.deepEqual(decideChromium(machine(['/opt/c/chrome', '/usr/bin/chromium'], { env: { CHROMIUM_PATH: '/opt/c/chrome' } })), {
    action: 'use',
    path: '/opt/c/chrome',
    source: 'CHROMIUM_PATH',
  });
  const broken = decideChromium(machine(['/usr/bin/chromium', '/usr/bin/apt-get'], { env: { CHROMIUM_PATH: '/opt/missing' }, isRoot: true }));
  assert.equal(broken.action, 'fail'); // never falls back, never installs
  assert.match(broken.message, /^CHROMIUM_PATH=\/opt\/missing is not an executable file/);
});

test('a system Chromium next, in order, then the known names on PATH', () => {
  assert.deepEqual(decideChromium(machine(['/usr/bin/google-chrome', '/usr/bin/chromium'])), { action: 'use', path: '/usr/bin/chromium', source: 'system' });
  assert.deepEqual(decideChromium(machine(['/usr/bin/chromium-browser', '/usr/bin/google-chrome'])), { action: 'use', path: '/usr/bin/chromium-browser', source: 'system' });
  assert.deepEqual(decideChromium(machine(['/snap/bin/chromium'], { env: { PATH: '/usr/bin:/snap/bin' } })), { action: 'use', path: '/snap/bin/chromium', source: 'PATH' });
});

test('none: install as root with apt-get, else one line saying how to get one', () => {
  assert.deepEqual(decideChromium(machine(['/usr/bin/apt-get'], { isRoot: true })), { action: 'install' });
  const notRoot = decideChromium(machine(['/usr/bin/apt-get'], { isRoot: false }));
  const noApt = decideChromium(machine([], { isRoot: true }));
  for (const decision of [notRoot, noApt]) {
    assert.deepEqual(decision, { action: 'fail', message: HOW_TO_GET_ONE });
  }
  assert.doesNotMatch(HOW_TO_GET_ONE, /\n/);
  assert.match(HOW_TO_GET_ONE, /apt-get install -y chromium/);
  assert.match(HOW_TO_GET_ONE, /CHROMIUM_PATH=/);
});

test('the script: a bad CHROMIUM_PATH exits 1 with exactly one line; a good one is used as is', () => {
  const bad = spawnSync(process.execPath, [script], { env: { ...process.env, CHROMIUM_PATH: '/nonexistent/chromium' }, encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout, '');
  assert.equal(bad.stderr, 'CHROMIUM_PATH=/nonexistent/chromium is not an executable file; point it at a Chromium binary or unset it\n');

  const good = spawnSync(process.execPath, [script], { env: { ...process.env, CHROMIUM_PATH: process.execPath }, encoding: 'utf8' });
  assert.equal(good.status, 0);
  assert.equal(good.stderr, `Chromium for the browser tests: ${process.execPath} (CHROMIUM_PATH)\n`);
});
