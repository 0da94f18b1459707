import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HOST_OPTIONS, type HostOptionName, hostConfig } from '../src/contract/host-options.js';
import { configKey } from '../src/link/hub/host-registry.js';

/** The host settings are declared once (contract/host-options.ts); the docs table follows the list. */
describe('host options', () => {
  const guide = readFileSync(new URL('../../../docs/getting-started.md', import.meta.url), 'utf8');

  it('docs/getting-started.md has one row per declared option, with its default', () => {
    for (const [name, option] of Object.entries(HOST_OPTIONS)) {
      const def = typeof option.default === 'number' ? option.default.toLocaleString('en').replace(/,/g, ' ') : option.default;
      expect(guide, `the row of ${name}`).toContain(`| \`${name}\` | ${def} | `);
    }
  });

  it('the config a tab sends holds the given settings only, and the key tells every setting apart', () => {
    const given = { requestTimeoutMs: 3000, backoffOptions: { baseMs: 10 }, linkPingIntervalMs: 5 } as Parameters<typeof hostConfig>[2];
    const config = hostConfig('ws://x/ws', 'memory', given);
    expect(config).toEqual({ url: 'ws://x/ws', storage: 'memory', requestTimeoutMs: 3000, backoffOptions: { baseMs: 10 } });
    const keys = new Set([configKey(config)]);
    const samples: Record<HostOptionName, unknown> = { requestTimeoutMs: 1, pingIntervalMs: 2, uploadUrl: 'http://u', backoffOptions: { maxMs: 3 }, hostGraceMs: 4 };
    for (const [name, value] of Object.entries(samples)) keys.add(configKey({ ...config, [name]: value }));
    expect(keys.size).toBe(1 + Object.keys(HOST_OPTIONS).length);
  });
});
