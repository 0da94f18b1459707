/**
 * `npm run bench`: bundle size, server fan-out against a bare `ws` baseline, the client
 * store, catching up on message changes, a reconnect storm and scale-out; writes the results
 * into docs/benchmarks.md, each part between its own markers (the size table's, `bench:`
 * for this run's summary line, `fanout:`, `store:`, `changes:`, `storm:`, `scale-out:`), so
 * each can also run alone (`npm run bench:storm`, `npm run bench:cluster`, or the part's
 * file with tsx). Not a test: nothing here asserts a time. `--quick` runs smaller sizes (a
 * smoke run of the script). Charts of size, fan-out and the storm go to docs/images/*.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { kb, measureAll, writeSizeTable } from '../scripts/size.mjs';
import { writeChangesSection } from './changes.js';
import { writeClusterSection } from './cluster.js';
import { writeFanoutSection } from './fanout.js';
import { fmt, machine, replaceSection } from './lib/stats.js';
import { writeStoreSection } from './store.js';
import { writeStormSection } from './storm.js';

const quick = process.argv.includes('--quick');
const docPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const started = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);

// ------------------------------------------------------------------ 1. size
log('size');
const sizeRows: Array<{ name: string; raw: number; gzip: number }> = await measureAll();
for (const row of sizeRows) log(`  ${row.name}: ${kb(row.gzip)} gzipped`);
writeSizeTable(sizeRows, docPath);

// ------------------------------------------------------------------ 2. fan-out
await writeFanoutSection(docPath, { quick, log });

// ------------------------------------------------------------------ 3. the client store
await writeStoreSection(docPath, { quick, log });

// ------------------------------------------------------------------ 4. catching up on message changes
await writeChangesSection(docPath, { quick, log });

// ------------------------------------------------------------------ 5. reconnect storm
await writeStormSection(docPath, { quick, log });

// ------------------------------------------------------------------ 6. scale-out: SQLite, PostgreSQL, 3 processes
await writeClusterSection(docPath, { quick, log });

const summary = `
Last full run: ${machine()}. \`npm run bench\` took ${fmt((Date.now() - started) / 60_000, 1)} minutes and rewrote
every section below and the size table above.
`;
writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'bench', summary));
log('wrote docs/benchmarks.md');
// Lingering sockets of closed clients must not keep the run alive.
process.exit(0);
