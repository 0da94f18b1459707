import { defineConfig } from 'tsup';

export default defineConfig({
  // `worker` is the SharedWorker entry. It lands in dist/ beside index.js and its chunks, so
  // the SDK's `new URL('./worker.js', import.meta.url)` finds it in an app's bundler (ESM).
  entry: { index: 'src/index.ts', 'protocol/index': 'src/protocol/index.ts', worker: 'src/worker.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  treeshake: true,
  // Keep `new SharedWorker(new URL('./worker.js', import.meta.url), ...)` exactly as written.
  minify: false,
});
