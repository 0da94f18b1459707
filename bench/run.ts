/**
 * `npm run bench`: bundle size, server fan-out against a bare `ws` baseline, the client
 * store, catching up on message changes, and a reconnect storm; writes the results into
 * docs/benchmarks.md (the size table between its own markers, the fan-out between
 * `fanout:start` / `fanout:end`, the client store between `bench:start` / `bench:end`, the
 * changes between `changes:start` / `changes:end`, the storm between `storm:start` /
 * `storm:end`, scale-out between `scale-out:start` / `scale-out:end`; `npm run bench:storm`
 * and `npm run bench:cluster` run those alone). Not a test:
 * nothing here asserts a time. `--quick` runs smaller sizes (a smoke run of the script).
 * Charts of size, fan-out and the storm go to docs/images/*.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { kb, measureAll, writeSizeTable } from '../scripts/size.mjs';
import { writeFanoutSection } from './fanout.js';
import { fmt, machine, mib, ms, replaceSection, table } from './lib/stats.js';
import { type IngestResult, ingest, sendToStore } from './store.js';
import { writeChangesSection } from './changes.js';
import { writeStormSection } from './storm.js';
import { writeClusterSection } from './cluster.js';

const quick = process.argv.includes('--quick');
const docPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const started = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);

// ------------------------------------------------------------------ 1. size
log('size');
const sizeRows: Array<{ name: string; raw: number; gzip: number }> = await measureAll();
for (const row of sizeRows) log(`  ${row.name}: ${kb(row.gzip)} gzipped`);

// ------------------------------------------------------------------ 2. fan-out (its own section)
await writeFanoutSection(docPath, { quick, log });

// ------------------------------------------------------------------ 3. client store
log('client store');
const ingests: IngestResult[] = [ingest(10_000), ingest(100_000)];
const send = await sendToStore(quick ? 200 : 1000);

// ------------------------------------------------------------------ write
const x = (value: number) => `${fmt(value, 2)}x`;
const [small, large] = ingests as [IngestResult, IngestResult];
const body = `
Last full run: ${machine()}. \`npm run bench\` took ${fmt((Date.now() - started) / 60_000, 1)} minutes and rewrote
this section, the size table above and the fan-out below.

### Client store

One room's \`RoomMessages\` fed N messages the ways the network delivers them: a third as
live events (one message each), a third as history pages of 50, a third as catch-up pages of
100, all batches shuffled (seeded) and one batch in five delivered twice. *merged* counts
duplicates; the time includes building the snapshot once at the end.

${table(
  ['messages', 'batches', 'merged', 'time', 'merged / s', 'per message', 'heap held', 'one live event + snapshot'],
  ingests.map((r) => [
    fmt(r.messages),
    fmt(r.batches),
    fmt(r.merged),
    ms(r.ms, 0),
    fmt(r.opsPerSec),
    `${fmt(r.usPerMessage, 2)} µs`,
    mib(r.heapBytes),
    ms(r.renderAfterEventMs),
  ]),
)}

From 10,000 to 100,000 messages the cost per message grows ${x(large.usPerMessage / small.usPerMessage)}
(1.00x would be linear). The last column is what a subscribed view pays per live message
once the room holds that many: on the next \`getSnapshot\` the new message is merged into the
already sorted list, and the snapshot array (immutable) is copied, so it grows linearly with the room (${x(large.renderAfterEventMs / small.renderAfterEventMs)}
from 10,000 to 100,000).

\`client.send()\` to the message in the store, with a real client (memory storage, in-process
host, \`ws\`) against the reference server on loopback, ${fmt(send.sends)} sends:
\`send()\` alone p50 ${ms(send.send.p50, 3)}, p99 ${ms(send.send.p99, 3)}; \`send()\` and finding
it in \`messages(room).getSnapshot()\` p50 ${ms(send.sendToSnapshot.p50, 3)}, p99
${ms(send.sendToSnapshot.p99, 3)}. In the store synchronously, right after \`send()\` returned:
${send.synchronous ? 'every time' : '**not every time**'}. All ${fmt(send.sends)} were acknowledged after ${ms(send.allSentMs, 0)}.

`;

writeSizeTable(sizeRows, docPath);
writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'bench', body));
log('wrote docs/benchmarks.md');

// ------------------------------------------------------------------ 4. catching up on message changes (its own section)
await writeChangesSection(docPath, { quick, log });

// ------------------------------------------------------------------ 5. reconnect storm (its own section)
await writeStormSection(docPath, { quick, log });

// ------------------------------------------------------------------ 6. scale-out: SQLite, PostgreSQL, 3 processes (its own section)
await writeClusterSection(docPath, { quick, log });
// Lingering sockets of closed clients must not keep the run alive.
process.exit(0);
