import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The API reference is kept by hand; this keeps it complete. */
describe('docs/api.md', () => {
  it('names every export of the SDK entry', () => {
    const index = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
    const doc = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    const names = [...index.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
      m[1]!.split(',').map((part) => part.replace(/\btype\b/, '').trim().split(/\s+as\s+/).pop()!).filter(Boolean),
    );
    expect(names.length).toBeGreaterThan(20);
    const missing = names.filter((name) => !new RegExp(`\\b${name}\\b`).test(doc));
    expect(missing).toEqual([]);
  });
});
