import { defineProject } from 'vitest/config';
import { oneAtATime, sourceAliases } from '../../vitest.shared.js';

// The packages as a user gets them: built, packed, installed from the tarballs into apps
// outside the workspace. The aliases serve only the test's own side (the reference server
// and a second client that checks what arrived); the apps never see them.
export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    ...oneAtATime,
    name: 'packaging',
    environment: 'node',
    include: ['*.test.ts'],
    exclude: ['**/fixtures/**', '**/node_modules/**'],
    // build + pack + three installs + a Vite build, on a loaded 2-core machine.
    hookTimeout: 150_000,
    testTimeout: 45_000,
  },
});
