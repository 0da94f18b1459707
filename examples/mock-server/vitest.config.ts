import { configDefaults, defineProject } from 'vitest/config';
import { twoAtOnce, sourceAliases } from '../../vitest.shared.js';

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...twoAtOnce,
    name: 'server',
    environment: 'node',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Its own project (test/cluster/vitest.config.ts): processes, PostgreSQL and Redis.
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
  },
});
