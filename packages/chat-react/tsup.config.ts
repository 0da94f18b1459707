import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  treeshake: true,
  // The app brings its own React and SDK: bundling either would make a second copy.
  external: ['react', 'react-dom', '@chat/sdk'],
});
