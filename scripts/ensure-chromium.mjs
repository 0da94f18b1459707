#!/usr/bin/env node
// Makes sure the browser tests have a Chromium; `npm test` runs it before vitest.
// Order (test/support/chromium.mjs): CHROMIUM_PATH, a system Chromium, else, as root with
// apt-get, Debian's `chromium` is installed (apt's output goes to a log file). Where none
// can be had it exits 1 with one line saying how to get one. Prints the Chromium it found.
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOW_TO_GET_ONE, currentFacts, decideChromium } from '../test/support/chromium.mjs';

const say = (line) => process.stderr.write(`${line}\n`);

function fail(message) {
  say(message);
  process.exit(1);
}

let decision = decideChromium(currentFacts());
if (decision.action === 'fail') fail(decision.message);

if (decision.action === 'install') {
  const log = join(tmpdir(), 'chromium-install.log');
  writeFileSync(log, '');
  say(`No Chromium found: installing Debian's chromium with apt-get (a minute or two; output in ${log}) …`);
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps = [
    ['apt-get', ['update']],
    // Wait for another apt run (say a second `npm test`) instead of failing on its lock.
    ['apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=300', 'chromium']],
  ];
  for (const [command, args] of steps) {
    appendFileSync(log, `$ ${command} ${args.join(' ')}\n`);
    const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    appendFileSync(log, `${result.stdout ?? ''}${result.stderr ?? ''}`);
    if (result.status !== 0) {
      fail(`${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}; see ${log}). ${HOW_TO_GET_ONE}`);
    }
  }
  decision = decideChromium(currentFacts());
  if (decision.action !== 'use') fail(`apt-get installed chromium but no Chromium binary was found (see ${log}). ${HOW_TO_GET_ONE}`);
  say(`Installed ${decision.path} in ${Math.round((Date.now() - started) / 1000)} s.`);
} else {
  say(`Chromium for the browser tests: ${decision.path} (${decision.source})`);
}
