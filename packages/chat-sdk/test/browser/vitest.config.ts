import { defineProject } from 'vitest/config';
import { oneAtATime, sourceAliases } from '../../../../vitest.shared.js';

// The SDK in real headless Chromium: tabs, SharedWorker, leader election, uploads. Chromium
// takes the CPU, so these files run one at a time, after the others.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...oneAtATime,
    name: 'browser',
    environment: 'node',
    include: ['**/*.test.ts'],
    exclude: ['vite-app/**', 'fixture/**', '**/node_modules/**'],
  },
});
