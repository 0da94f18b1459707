import { defineProject } from 'vitest/config';
import { oneAtATime, sourceAliases } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...oneAtATime,
    name: 'demo',
    environment: 'node',
    include: ['test/**/*.test.ts'],
    // Real Chromium against a real server: generous for a loaded 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
