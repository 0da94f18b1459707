// Checks what @chat/react adds to an app that already has @chat/sdk and React: the package
// bundled alone (ESM, minified, for browsers) with those left external, then gzipped.
// Usage: `npm run size -w @chat/react` (exits 1 over budget).
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const LIMIT = 3072;
const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

const result = await build({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  external: ['@chat/sdk', 'react', 'react-dom', 'react/jsx-runtime'],
  write: false,
  logLevel: 'silent',
});
const code = result.outputFiles[0].contents;
const gzipped = gzipSync(code, { level: 9 }).length;
console.log(`@chat/react: ${code.length} B minified, ${gzipped} B gzipped (limit ${LIMIT} B)`);
if (gzipped > LIMIT) {
  console.error(`@chat/react is ${gzipped - LIMIT} B over its size budget`);
  process.exit(1);
}
