import { rmSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  format: ['esm', 'cjs'],
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
  // Keep `new SharedWorker(new URL('./worker.js', import.meta.url), ...)` exactly as written.
  minify: false,
};

export default defineConfig(() => {
  // Cleaned here, once: the two builds below run side by side, and tsup's `clean` in either
  // would remove what the other wrote.
  rmSync('dist', { recursive: true, force: true });
  return [
    {
      ...shared,
      // `worker` is the SharedWorker entry. It lands in dist/ beside index.js and its chunks, so
      // the SDK's `new URL('./worker.js', import.meta.url)` finds it in an app's bundler (ESM).
      // `node` is `@chat/sdk` under Node's export condition (the host in process by default);
      // `in-tab` is the host's code for a page that runs it itself.
      entry: { index: 'src/index.ts', node: 'src/node.ts', 'in-tab': 'src/in-tab.ts', worker: 'src/worker.ts' },
      // One declaration build for every entry, so `ChatError` and the types are one
      // declaration whether imported from `@chat/sdk` or `@chat/sdk/protocol`.
      dts: { entry: { index: 'src/index.ts', node: 'src/node.ts', 'in-tab': 'src/in-tab.ts', 'protocol/index': 'src/protocol/index.ts', worker: 'src/worker.ts' } },
    },
    {
      ...shared,
      // Built apart: bundled together with the two above, the zod schemas (which only this
      // entry needs) would share their chunk and reach every app's worker and first load.
      entry: { 'protocol/index': 'src/protocol/index.ts' },
      dts: false,
    },
  ];
});
