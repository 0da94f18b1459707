#!/usr/bin/env node
// `npm run lint:packages` (after `npm run build`): the packed tarballs of @chat/sdk and
// @chat/react must draw no message at all from publint (strict; the CLI prints suggestions
// but exits 0 on them, so this script counts them too) and no problem from
// @arethetypeswrong/cli under the node16 profile. The worker entry is ESM only by design
// (a module SharedWorker), so attw leaves it out.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));
const packages = [
  { dir: 'packages/chat-sdk', attw: ['--exclude-entrypoints', './worker'] },
  { dir: 'packages/chat-react', attw: [] },
];

let failed = false;
for (const { dir, attw } of packages) {
  const pkgDir = join(root, dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const { messages } = await publint({ pkgDir, strict: true, pack: 'npm' });
  if (messages.length > 0) {
    failed = true;
    console.error(`publint: ${pkg.name}: ${messages.length} message(s)`);
    for (const message of messages) console.error(`  ${message.type}: ${formatMessage(message, pkg, { color: false })}`);
  } else {
    console.log(`publint: ${pkg.name}: nothing to report`);
  }
  const result = spawnSync(join(root, 'node_modules/.bin/attw'), ['--pack', pkgDir, '--profile', 'node16', '--format', 'table-flipped', '--no-emoji', ...attw], {
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    failed = true;
    console.error(`attw: ${pkg.name}: problems found (exit ${result.status ?? result.signal})`);
  }
}
process.exit(failed ? 1 : 0);
