import { defineConfig } from 'vitest/config';

// One `vitest run` at the root runs every package's tests; each folder below has its own config.
export default defineConfig({
  test: {
    projects: ['packages/chat-sdk', 'packages/chat-sdk/test/browser', 'packages/chat-react', 'examples/mock-server', 'examples/mock-server/test/cluster', 'examples/demo-app', 'bench', 'test/packaging', 'test/docs'],
  },
});
