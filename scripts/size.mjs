#!/usr/bin/env node
// Bundle-size check: each entry is bundled the way an app would ship it (esbuild, ESM,
// minified, every dependency inlined, browser platform) and gzipped at level 9.
// `node scripts/size.mjs` checks the budgets (npm test runs this);
// `node scripts/size.mjs --write` also measures the peers and rewrites the table in docs/benchmarks.md.
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Our entries and their gzip budgets in bytes. */
const budgets = [
  { name: '@chat/sdk', entry: 'packages/chat-sdk/src/index.ts', budget: 25 * 1024 },
];
/** What users compare us with, measured the same way in the same run. */
const peers = [
  { name: 'stream-chat', contents: "export * from 'stream-chat';" },
  { name: 'socket.io-client', contents: "export * from 'socket.io-client';" },
  { name: 'centrifuge', contents: "export * from 'centrifuge';" },
];

async function gzipOf(options) {
  const result = await build({
    bundle: true,
    format: 'esm',
    minify: true,
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    absWorkingDir: root,
    define: { 'process.env.NODE_ENV': '"production"' },
    ...options,
  });
  const code = result.outputFiles[0].contents;
  return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const rows = [];
let failed = false;
for (const { name, entry, budget } of budgets) {
  const size = await gzipOf({ entryPoints: [entry] });
  const ok = size.gzip <= budget;
  failed ||= !ok;
  rows.push({ name, ...size, budget });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${kb(size.gzip)} gzipped (${kb(size.raw)} minified), budget ${kb(budget)}`);
}

if (process.argv.includes('--write')) {
  for (const { name, contents } of peers) {
    const size = await gzipOf({ stdin: { contents, resolveDir: root, loader: 'js' } });
    rows.push({ name, ...size });
    console.log(`     ${name}: ${kb(size.gzip)} gzipped (${kb(size.raw)} minified)`);
  }
  const ours = rows[0].gzip;
  const table = [
    '| package | minified | gzipped | vs @chat/sdk |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${kb(r.raw)} | ${kb(r.gzip)} | ${(r.gzip / ours).toFixed(2)}x |`),
  ].join('\n');
  const file = `${root}docs/benchmarks.md`;
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- size:start -->';
  const end = '<!-- size:end -->';
  const stamp = `Measured ${new Date().toISOString().slice(0, 10)} on Node ${process.version} with esbuild (ESM, minified, all dependencies bundled, browser platform), gzip level 9.`;
  const next = doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${stamp}\n\n${table}\n${end}`);
  writeFileSync(file, next);
  console.log('wrote docs/benchmarks.md');
}

if (failed) {
  console.error('size budget exceeded');
  process.exit(1);
}
