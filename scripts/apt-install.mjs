// Installs Debian packages with apt-get for `npm test` on a fresh machine (as root only;
// the callers decide whether to). apt's output goes to a log file so the test output stays
// readable; a failure returns one line naming the command and the log.
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * @param {string[]} packages
 * @returns {{ ok: true, seconds: number, log: string } | { ok: false, message: string, log: string }}
 */
export function aptInstall(packages, logName) {
  const log = join(tmpdir(), logName);
  writeFileSync(log, '');
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const steps = [
    ['apt-get', ['update']],
    // Wait for another apt run (say a second `npm test`) instead of failing on its lock.
    ['apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=300', ...packages]],
  ];
  for (const [command, args] of steps) {
    appendFileSync(log, `$ ${command} ${args.join(' ')}\n`);
    const result = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    appendFileSync(log, `${result.stdout ?? ''}${result.stderr ?? ''}`);
    if (result.status !== 0) {
      return { ok: false, log, message: `${command} ${args.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}; see ${log})` };
    }
  }
  return { ok: true, log, seconds: Math.round((Date.now() - started) / 1000) };
}
