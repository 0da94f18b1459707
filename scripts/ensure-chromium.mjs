#!/usr/bin/env node
// Makes sure the browser tests have a Chromium; `npm test` runs it before vitest.
// Order (test/support/chromium.mjs): CHROMIUM_PATH, a system Chromium, else, as root with
// apt-get, Debian's `chromium` is installed (scripts/apt-install.mjs). Where none
// can be had it exits 1 with one line saying how to get one. Prints the Chromium it found.
import { aptInstall } from './apt-install.mjs';
import { HOW_TO_GET_ONE, currentFacts, decideChromium } from '../test/support/chromium.mjs';

const say = (line) => process.stderr.write(`${line}\n`);

function fail(message) {
  say(message);
  process.exit(1);
}

let decision = decideChromium(currentFacts());
if (decision.action === 'fail') fail(decision.message);

if (decision.action === 'install') {
  say("No Chromium found: installing Debian's chromium with apt-get (a minute or two) …");
  const installed = aptInstall(['chromium'], 'chromium-install.log');
  if (!installed.ok) fail(`${installed.message}. ${HOW_TO_GET_ONE}`);
  decision = decideChromium(currentFacts());
  if (decision.action !== 'use') fail(`apt-get installed chromium but no Chromium binary was found (see ${installed.log}). ${HOW_TO_GET_ONE}`);
  say(`Installed ${decision.path} in ${installed.seconds} s.`);
} else {
  say(`Chromium for the browser tests: ${decision.path} (${decision.source})`);
}
