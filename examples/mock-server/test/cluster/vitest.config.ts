import { defineProject } from 'vitest/config';
import { oneAtATime, sourceAliases } from '../../../../vitest.shared.js';

// Several server processes over one PostgreSQL and one Redis (docs/scale-out.md). Each file
// starts its own PostgreSQL and Redis; the files run one at a time so that processes they
// spawn do not fight two at a time for the machine's cores.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...oneAtATime,
    name: 'cluster',
    environment: 'node',
    include: ['*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
