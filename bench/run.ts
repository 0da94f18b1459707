/**
 * `npm run bench`: bundle size, server fan-out against a bare `ws` baseline, the client
 * store, catching up on message changes, and a reconnect storm; writes the results into
 * docs/benchmarks.md (the size table between its own markers, the rest between `bench:start`
 * / `bench:end`, the client store between `store:start` / `store:end`, the changes between
 * `changes:start` / `changes:end`, the storm between
 * `storm:start` / `storm:end`; `npm run bench:storm` runs the storm alone). Not a test:
 * nothing here asserts a time. `--quick` runs smaller sizes (a smoke run of the script).
 * Charts of size, fan-out and the storm go to docs/images/*.svg.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { kb, measureAll, writeSizeTable } from '../scripts/size.mjs';
import { type FanoutResult, type IdleMemory, LOAD_RATE_LIMIT, idleMemory, runFanout } from './fanout.js';
import { fmt, machine, ms, replaceSection, table } from './lib/stats.js';
import { barChart } from '../scripts/svg-chart.mjs';
import { writeStoreSection } from './store.js';
import { writeChangesSection } from './changes.js';
import { writeStormSection } from './storm.js';

const quick = process.argv.includes('--quick');
const docPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const started = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);

// ------------------------------------------------------------------ 1. size
log('size');
const sizeRows: Array<{ name: string; raw: number; gzip: number }> = await measureAll();
for (const row of sizeRows) log(`  ${row.name}: ${kb(row.gzip)} gzipped`);

// ------------------------------------------------------------------ 2. fan-out
const sizes = quick
  ? [{ users: 100, roomSize: 10, ratePerUser: 1 }]
  : [
      { users: 100, roomSize: 10, ratePerUser: 1 },
      { users: 1000, roomSize: 10, ratePerUser: 1 },
      { users: 5000, roomSize: 10, ratePerUser: 0.5 },
    ];
const timing = quick ? { warmupMs: 500, measureMs: 1500, drainMs: 3000 } : { warmupMs: 1000, measureMs: 4000, drainMs: 5000 };
const fanout: Array<{ chat: FanoutResult; baseline: FanoutResult }> = [];
for (const size of sizes) {
  log(`fan-out: ${size.users} users in rooms of ${size.roomSize}`);
  const baseline = await runFanout('baseline', size, timing);
  const chat = await runFanout('chat', size, timing);
  fanout.push({ chat, baseline });
  log(`  ours ${fmt(chat.saturated.deliveredPerSec)}/s, baseline ${fmt(baseline.saturated.deliveredPerSec)}/s`);
}
const idleConnections = quick ? 300 : 2000;
log(`memory of ${idleConnections} idle connections`);
const idle: IdleMemory[] = [await idleMemory('chat', idleConnections), await idleMemory('baseline', idleConnections)];

// ------------------------------------------------------------------ write
const x = (value: number) => `${fmt(value, 2)}x`;
const fanoutRows = fanout.flatMap(({ chat, baseline }) =>
  [chat, baseline].map((r) => [
    `${fmt(r.size.users)} users, rooms of ${r.size.roomSize}`,
    r.kind === 'chat' ? 'reference server' : 'bare ws baseline',
    `${fmt(r.fixed.sendsPerSec)} → ${fmt(r.fixed.deliveredPerSec)}`,
    ms(r.fixed.p50),
    ms(r.fixed.p99),
    fmt(r.fixed.missing),
    fmt(r.saturated.deliveredPerSec),
    r.kind === 'chat' ? x(r.saturated.deliveredPerSec / baseline.saturated.deliveredPerSec) : '1.00x',
    fmt(r.saturated.cpuMsPer1k, 1),
  ]),
);
writeFileSync(
  new URL('images/fanout.svg', pathToFileURL(docPath)),
  barChart({
    title: 'Server fan-out, saturated: deliveries per second',
    unit: '/s',
    rows: fanout.flatMap(({ chat, baseline }) => [
      { label: `${fmt(chat.size.users)} users: ours`, parts: [chat.saturated.deliveredPerSec], ours: true },
      { label: `${fmt(baseline.size.users)} users: bare ws`, parts: [baseline.saturated.deliveredPerSec] },
    ]),
  }),
);
const body = `
Last full run: ${machine()}. \`npm run bench\` took ${fmt((Date.now() - started) / 60_000, 1)} minutes and rewrote
this section and the size table above.

### Server fan-out

K raw protocol clients (\`ws\`, signed up and logged in by email) in rooms of M members
(each sender is a member, so one message is M deliveries), all on loopback. The server runs
alone in a child process (SQLite in memory); the load generator, in the parent, reads each
delivery's send time out of the frame without parsing it. **The server's rate limit is
raised to ${fmt(LOAD_RATE_LIMIT.perSecond)} a second for the load** (the protocol's 30 a
second would refuse it). The baseline is a bare \`ws\` server in the same kind of child
process that only parses each frame as JSON and fans it out to the room (no auth, no
validation, no storage, no reply), driven by the same generator in the same run.

- *fixed rate*: every user sends at a fixed rate (sends/s → deliveries/s offered and delivered
  in the ${fmt(timing.measureMs / 1000)} s window); latency is from the send to each member's
  delivery; *missing* counts deliveries not there ${fmt(timing.drainMs / 1000)} s after the
  window.
- *saturated*: a closed loop keeps a fixed number of sends in flight (up to 1,000) and counts
  deliveries per second: the most the server delivers on this machine. *vs baseline* is
  ours over the baseline's in the same run. Both server and generator share the 2 cores, so
  at the largest size the generator, not the server, can be the limit of the baseline.
- *server CPU*: user + system time of the server process per 1,000 deliveries, saturated.

![Saturated deliveries per second, ours against the bare ws baseline, by size](images/fanout.svg)

${table(
  ['size', 'server', 'fixed rate: sends/s → deliveries/s', 'p50', 'p99', 'missing', 'saturated deliveries/s', 'vs baseline', 'server CPU ms / 1k deliveries'],
  fanoutRows,
)}

Memory per idle connection (server process RSS and heap after gc, over ${fmt(idleConnections)} idle
connections; ours authenticated, each with its own session; the baseline's joined to a room;
RSS moves in whole pages and the allocator may hand back what the sign-up phase freed, so heap
is the steadier figure):

${table(
  ['server', 'RSS per connection', 'heap per connection'],
  idle.map((m) => [m.kind === 'chat' ? 'reference server' : 'bare ws baseline', `${fmt(m.rssPerConnection / 1024, 1)} KB`, `${fmt(m.heapPerConnection / 1024, 1)} KB`]),
)}
`;

writeSizeTable(sizeRows, docPath);
writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'bench', body));
log('wrote docs/benchmarks.md');

// ------------------------------------------------------------------ 3. the client store (its own section)
await writeStoreSection(docPath, { quick, log });

// ------------------------------------------------------------------ 4. catching up on message changes (its own section)
await writeChangesSection(docPath, { quick, log });

// ------------------------------------------------------------------ 5. reconnect storm (its own section)
await writeStormSection(docPath, { quick, log });
// Lingering sockets of closed clients must not keep the run alive.
process.exit(0);
