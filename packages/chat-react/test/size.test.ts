// @vitest-environment node
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('adds at most 3 KB gzipped on top of @chat/sdk and React', () => {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  // The script exits non-zero over budget, which makes execFileSync throw.
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  expect(out).toMatch(/B gzipped \(limit 3072 B\)/);
});
