#!/usr/bin/env node
// Makes sure the scale-out tests and `npm run cluster` have PostgreSQL, Redis and HAProxy
// (the load balancer), as ensure-chromium.mjs does for Chromium: PG_BIN / REDIS_SERVER /
// HAPROXY, then Debian's install, else, as root with apt-get, Debian's `postgresql`,
// `redis-server` and `haproxy` (only those missing) are installed.
// Where they cannot be had it exits 1 with one line saying how to get them.
import { aptInstall } from './apt-install.mjs';
import { HOW_TO_GET_THEM, currentFacts, decideServices } from '../test/support/services.mjs';

const say = (line) => process.stderr.write(`${line}\n`);

function fail(message) {
  say(message);
  process.exit(1);
}

let decision = decideServices(currentFacts());
if (decision.action === 'fail') fail(decision.message);

if (decision.action === 'install') {
  say(`No ${decision.missing.join(' or ')} found: installing Debian's ${decision.missing.join(' and ')} with apt-get (a minute or so) …`);
  const installed = aptInstall(decision.missing, 'services-install.log');
  if (!installed.ok) fail(`${installed.message}. ${HOW_TO_GET_THEM}`);
  decision = decideServices(currentFacts());
  if (decision.action !== 'use') fail(`apt-get ran but PostgreSQL, Redis or HAProxy is still missing (see ${installed.log}). ${HOW_TO_GET_THEM}`);
  say(`Installed in ${installed.seconds} s.`);
}
say(`For the scale-out tests and npm run cluster: PostgreSQL ${decision.pgBin}; Redis ${decision.redisServer}; HAProxy ${decision.haproxy}`);
