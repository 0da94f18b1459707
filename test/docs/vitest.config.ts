import { defineProject } from 'vitest/config';
import { twoAtOnce, sourceAliases } from '../../vitest.shared.js';

// The code blocks of README.md and docs/*.md: runnable ones run against a fresh reference
// server, every other ts/tsx/js block is typechecked. `@chat/sdk` and friends resolve to the
// workspace sources, as in the packages' own tests, so no build is needed first.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...twoAtOnce,
    name: 'docs',
    environment: 'node',
    include: ['*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
