import { defineProject } from 'vitest/config';
import { twoAtOnce, sourceAliases } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...twoAtOnce,
    name: 'sdk',
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Chromium's tests are their own project (test/browser/vitest.config.ts).
    exclude: ['test/browser/**', '**/node_modules/**'],
  },
});
