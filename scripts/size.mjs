#!/usr/bin/env node
// Bundle-size check: each entry is bundled the way an app would ship it (esbuild, ESM,
// minified, every dependency inlined, browser platform) and gzipped at level 9.
// `node scripts/size.mjs` checks the budgets (npm test runs this);
// `node scripts/size.mjs --write` also measures the rest and rewrites the table in docs/benchmarks.md.
// `npm run bench` imports `measureAll` and `writeSizeTable` from here, so both write the same table.
import { build } from 'esbuild';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { barChart } from './svg-chart.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const reactExternals = ['react', 'react-dom', 'react/jsx-runtime'];

/**
 * Our entries; those with a budget fail the check when over it (bytes, gzipped): `budget` for the
 * first load, `wholeBudget` for the first load plus what it loads later (every chunk an app ships).
 * Issue 17: first load 15 KB, whole 25 KB, worker 22 KB, @chat/react 3 KB. The whole SDK is the
 * tab's side only: the connection host runs in the worker (shared, or the leader tab's own), and
 * its code reaches a page only through `@chat/sdk/in-tab`, which an app passes when it wants it.
 */
const ours = [
  // The page's first load carries no schema library: frames are checked where the socket is (the
  // worker, or the host loaded later) by protocol/checks.ts; page input by protocol/guards.ts.
  { name: '@chat/sdk', entry: 'packages/chat-sdk/src/index.ts', budget: 15 * 1024, wholeBudget: 25 * 1024, forbidFirstLoad: /node_modules\/zod\// },
  // No zod where the socket is either: server frames are read with protocol/checks.ts.
  { name: '@chat/sdk/worker', entry: 'packages/chat-sdk/src/worker.ts', optional: true, budget: 22 * 1024, forbidFirstLoad: /node_modules\/zod\// },
  // What a page adds by passing `inTab` (the host's code, to run its connection itself): loaded
  // only when it does. Measured with the SDK beside it, as an app ships both.
  { name: '@chat/sdk + in-tab', contents: "export * from '@chat/sdk'; export * from '@chat/sdk/in-tab';" },
  // What an app gets from the published package (after `npm run build`): the same code through
  // tsup's chunks, where a chunk shared with the protocol entry once carried zod to every app.
  { name: '@chat/sdk (dist/)', entry: 'packages/chat-sdk/dist/index.js', optional: true },
  { name: '@chat/sdk/worker (dist/)', entry: 'packages/chat-sdk/dist/worker.js', optional: true },
  // What the hooks add on top of the SDK.
  { name: '@chat/react (alone)', entry: 'packages/chat-react/src/index.ts', external: [...reactExternals, '@chat/sdk'], budget: 3 * 1024 },
  // What an app using the hooks ships: both packages; React is the app's own, so it stays out.
  { name: '@chat/sdk + @chat/react', contents: "export * from '@chat/sdk'; export * from '@chat/react';", external: reactExternals },
];
/** What users compare us with, measured the same way in the same run (dev dependencies of bench/). */
const peers = [
  { name: 'stream-chat', contents: "export * from 'stream-chat';" },
  { name: 'socket.io-client', contents: "export * from 'socket.io-client';" },
  { name: 'centrifuge', contents: "export * from 'centrifuge';" },
  // Ably Chat runs on the Ably realtime client, a peer dependency an app installs beside it.
  { name: '@ably/chat + ably', contents: "export * from '@ably/chat'; export * as Ably from 'ably';" },
  // Sendbird's core plus the group-channel module every chat app registers (its rooms and messages).
  { name: '@sendbird/chat + channels', contents: "export * from '@sendbird/chat'; export * from '@sendbird/chat/groupChannel';" },
];

/**
 * Bundles one target with the flags every row of the table shares and returns its sizes in bytes.
 * `target`: `{ entry }` (a path from the repository root) or `{ contents }` (a module importing a package),
 * with optional `external` package names. `@chat/sdk` and `@chat/react` resolve to their sources.
 */
export async function measure({ entry, contents, external = [] }) {
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
    // Our packages are measured from source, whatever `dist/` holds.
    alias: {
      '@chat/sdk/in-tab': `${root}packages/chat-sdk/src/in-tab.ts`,
      '@chat/sdk': `${root}packages/chat-sdk/src/index.ts`,
      '@chat/react': `${root}packages/chat-react/src/index.ts`,
    },
    external,
    // Code split as an app's bundler does: what `import()` loads later is not part of the first load.
    splitting: true,
    outdir: `${root}.size-out`,
    metafile: true,
    ...(entry ? { entryPoints: [entry] } : { stdin: { contents, resolveDir: `${root}bench`, loader: 'js' } }),
  });
  const outputs = result.metafile.outputs;
  const files = new Map(result.outputFiles.map((file) => [file.path.slice(root.length), file.contents]));
  const size = (paths) => {
    const code = Buffer.concat([...paths].map((path) => files.get(path)));
    return { raw: code.length, gzip: gzipSync(code, { level: 9 }).length };
  };
  // The first load: the entry chunk and every chunk it imports statically.
  const initial = new Set();
  const visit = (path) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const { path: next, kind } of outputs[path].imports) if (kind === 'import-statement' && outputs[next]) visit(next);
  };
  visit(Object.keys(outputs).find((path) => outputs[path].entryPoint !== undefined && path.endsWith('.js')));
  const all = new Set(Object.keys(outputs).filter((path) => path.endsWith('.js')));
  const lazy = [...all].filter((path) => !initial.has(path));
  const firstLoadInputs = [...initial].flatMap((path) => Object.keys(outputs[path].inputs));
  return {
    ...size(initial),
    ...(lazy.length ? { lazyGzip: size(lazy).gzip } : {}),
    firstLoadInputs,
    importers: importersOf(result.metafile.inputs),
    origins: originsOf([...all].map((path) => outputs[path])),
  };
}

/**
 * Minified bytes by where they come from, over every chunk: a dependency by package name, our
 * code by its folder (`sdk/host`, `sdk/client`, ...). Minified, since gzip cannot be split by input.
 */
function originsOf(outputs) {
  const by = {};
  for (const { inputs } of outputs) {
    for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
      const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
      const own = /packages\/chat-(sdk|react)\/src\/(?:([^/]+)\/)?/.exec(path);
      const origin = dependency ?? (own ? `${own[1]}/${own[2] ?? '(entry files)'}` : path);
      by[origin] = (by[origin] ?? 0) + bytesInOutput;
    }
  }
  return by;
}

/** input path -> the inputs that import it statically, to say how a forbidden module got in. */
function importersOf(inputs) {
  const by = new Map();
  for (const [path, { imports }] of Object.entries(inputs)) {
    for (const { path: target, kind } of imports) if (kind === 'import-statement') by.set(target, [...(by.get(target) ?? []), path]);
  }
  return by;
}

/** One chain of static imports that reaches `path`, from the first file outside node_modules and protocol/. */
function chainTo(path, importers) {
  const chain = [path];
  for (let at = path; /node_modules\/|\/protocol\//.test(at) && chain.length < 20; ) {
    at = (importers.get(at) ?? []).find((p) => !chain.includes(p));
    if (!at) break;
    chain.unshift(at);
  }
  return chain.join(' -> ');
}

/** Our entries (those that exist; without `withPeers` only those with a budget), then, with `withPeers`, the peers. */
export async function measureAll({ withPeers = true } = {}) {
  const rows = [];
  for (const { name, budget, wholeBudget, optional, ...target } of ours) {
    if (optional && !existsSync(`${root}${target.entry}`)) continue;
    if (!withPeers && !budget) continue;
    rows.push({ name, ...(await measure(target)), ...(budget ? { budget } : {}), ...(wholeBudget ? { wholeBudget } : {}) });
  }
  if (withPeers) for (const { name, contents } of peers) rows.push({ name, ...(await measure({ contents })) });
  return rows;
}

export const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

/** Rewrites the section between the size markers of docs/benchmarks.md with these rows. */
export function writeSizeTable(rows, file = `${root}docs/benchmarks.md`) {
  const sdk = rows.find((r) => r.name === '@chat/sdk').gzip;
  const table = [
    '| package | minified (first load) | gzipped (first load) | loaded later, gzipped | whole, gzipped | first load vs @chat/sdk |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.name} | ${kb(r.raw)} | ${kb(r.gzip)} | ${r.lazyGzip ? kb(r.lazyGzip) : '-'} | ${kb(r.gzip + (r.lazyGzip ?? 0))} | ${(r.gzip / sdk).toFixed(2)}x |`),
  ].join('\n');
  const breakdown = originTable(rows.filter((r) => r.name === '@chat/sdk' || r.name === '@chat/sdk/worker'));
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- size:start -->';
  const end = '<!-- size:end -->';
  if (!doc.includes(start) || !doc.includes(end)) throw new Error(`${file} has no ${start} ... ${end} section`);
  const stamp =
    `Measured ${new Date().toISOString().slice(0, 10)} on Node ${process.version} with esbuild (ESM, minified, ` +
    'all dependencies bundled, browser platform, code splitting), gzip level 9. "First load" is the entry and what it imports ' +
    'statically; "loaded later" is what `import()` fetches after the page has started: the tab\'s IndexedDB storage (drafts; ' +
    'every tab loads it on first use, about 3 KB) and, in leader mode, the election (about 1 KB). The connection host is ' +
    'never in a page: it runs in the worker, shared or the leader tab\'s own; `@chat/sdk + in-tab` is an app that passes ' +
    '`inTab` to run it in the page (where the worker cannot load, or by choice), which then loads it later. ' +
    'The @chat/react rows leave React out (the app has it).';
  const chart = barChart({
    title: 'Bundle size, gzipped (KB)',
    unit: 'KB',
    parts: ['first load', 'loaded later'],
    rows: rows.map((r) => ({ label: r.name, parts: [r.gzip / 1024, (r.lazyGzip ?? 0) / 1024], ours: r.name.startsWith('@chat/') })),
  });
  writeFileSync(new URL('images/size.svg', pathToFileURL(file)), chart);
  const image = '![Bundle sizes, gzipped: first load and loaded later, ours against the peers](images/size.svg)';
  writeFileSync(
    file,
    doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${stamp}\n\n${image}\n\n${table}\n\n${breakdown}\n${end}`),
  );
}

/** Where the bytes of these rows are: minified bytes of every chunk by origin, largest first. */
function originTable(rows) {
  const origins = [...new Set(rows.flatMap((r) => Object.keys(r.origins)))];
  const total = (origin) => rows.reduce((sum, r) => sum + (r.origins[origin] ?? 0), 0);
  origins.sort((a, b) => total(b) - total(a));
  return [
    `Where the bytes are (minified, every chunk; gzip cannot be split by input): ${rows.map((r) => r.name).join(', ')}.`,
    '',
    `| from | ${rows.map((r) => r.name).join(' | ')} |`,
    `| --- | ${rows.map(() => '---:').join(' | ')} |`,
    ...origins.map((origin) => `| ${origin} | ${rows.map((r) => (r.origins[origin] ? kb(r.origins[origin]) : '-')).join(' | ')} |`),
  ].join('\n');
}

async function main() {
  const write = process.argv.includes('--write');
  const rows = await measureAll({ withPeers: write });
  let failed = false;
  for (const { name, forbidFirstLoad } of ours) {
    const row = rows.find((r) => r.name === name);
    const bad = forbidFirstLoad && row?.firstLoadInputs.find((input) => forbidFirstLoad.test(input));
    if (!bad) continue;
    failed = true;
    console.log(`FAIL ${name}: ${bad} is in the first load (one import path: ${chainTo(bad, row.importers)}); page code checks input with protocol/guards.ts and leaves the schemas (parseRequestData, *Schema) to the host`);
  }
  for (const { name, raw, gzip, lazyGzip = 0, budget, wholeBudget } of rows) {
    const ok = (budget === undefined || gzip <= budget) && (wholeBudget === undefined || gzip + lazyGzip <= wholeBudget);
    failed ||= !ok;
    const verdict = budget === undefined ? '    ' : ok ? 'ok  ' : 'FAIL';
    const later = lazyGzip ? ` + ${kb(lazyGzip)} loaded later = ${kb(gzip + lazyGzip)} whole` : '';
    const budgets = [budget && `first load ${kb(budget)}`, wholeBudget && `whole ${kb(wholeBudget)}`].filter(Boolean).join(', ');
    console.log(`${verdict} ${name}: ${kb(gzip)} gzipped first load (${kb(raw)} minified)${later}${budgets ? `; budget ${budgets}` : ''}`);
  }
  if (write) {
    writeSizeTable(rows);
    console.log('wrote docs/benchmarks.md');
  }
  if (failed) {
    console.error('size budget exceeded');
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
