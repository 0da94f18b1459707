import { defineProject } from 'vitest/config';
import { oneAtATime, sourceAliases } from '../vitest.shared.js';

// The short form of `npm run chaos`, part of `npm test`. Benchmarks are never run here.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...oneAtATime,
    name: 'chaos',
    environment: 'node',
    include: ['**/*.test.ts'],
    testTimeout: 60_000,
  },
});
