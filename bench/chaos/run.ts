/**
 * `npm run chaos`: the reliability suite at full size. Delivery through a chaos proxy with
 * server restarts (in process, then SIGKILLed child processes), fuzzing of the server and of
 * the SDK's frame parser, and the authorization matrix; writes docs/reliability.md between
 * its markers. Exits 1 when a guarantee broke. Bounded: every part has a fixed count and a
 * time limit, and the run stops by itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fmt, machine, replaceSection, table } from '../lib/stats.js';
import { authorizationMatrix } from './authz.js';
import { type DeliveryOptions, type DeliveryResult, runDelivery } from './delivery.js';
import { type ChangesOptions, runChanges } from './changes.js';
import { fuzzParser, fuzzServer } from './fuzz.js';
import { FULL, type HostileRow, runHostile } from './hostile.js';

const docPath = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
const started = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const failures: string[] = [];

/**
 * The hostile-client suite: its own section of docs/reliability.md, so that
 * `npm run chaos -- --hostile` runs and writes only it (a few minutes).
 */
async function hostile(): Promise<void> {
  log('hostile clients (full size)');
  const loadBefore = loadavg()[0]!;
  const rows = await runHostile(FULL, log);
  const load = `load average ${fmt(loadBefore, 1)} before the run and ${fmt(loadavg()[0]!, 1)} after it (other work on the machine inflates the bystander's times; the server's own loop delay is measured inside it)`;
  for (const row of rows.filter((r) => !r.ok)) failures.push(`hostile: ${row.attack}: ${row.now}`);
  for (const row of rows.filter((r) => r.pingBound && r.pingP99 >= 250)) failures.push(`hostile: ${row.attack}: bystander ping p99 ${fmt(row.pingP99, 1)} ms (must stay under 250 ms)`);
  writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'hostile', hostileSection(rows, load)));
}

function hostileSection(rows: HostileRow[], load: string): string {
  const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024, 0)} MiB`;
  return `
### Hostile clients

Last run: ${machine()}; ${load}. Each attack of the abuse report (docs/security.md) against the
reference server in its own process (SQLite file, the default limits unless a row says
otherwise; the sign-up limit is lifted for the rows that need many people, except the
sign-up row itself), with a bystander on another account pinging every 25 ms and sending
a message every 100 ms from the start of the attack to its end. Memory is the server
process's RSS after two forced collections, before the attack and at its end; "reply
bytes" is what the attacker received; the server's event-loop delay (what any frame
waited, measured inside the server process) tells the server's share of a ping's time from
the load generator's, which shares its process with the attackers; "lost" counts bystander messages acknowledged but
missing from history.

${table(
  ['attack', 'before the fixes', 'now', 'memory before → after', 'reply bytes', 'bystander ping p99', 'server loop delay p99 / max', 'lost', ''],
  rows.map((r) => [
    r.attack,
    r.before,
    r.now,
    `${mb(r.memoryBefore)} → ${mb(r.memoryAfter)}`,
    r.replyBytes ? mb(r.replyBytes) : '-',
    `${fmt(r.pingP99, 1)} ms${r.pingBound ? '' : ' (no bound)'}`,
    `${fmt(r.loopP99, 0)} / ${fmt(r.loopMax, 0)} ms`,
    String(r.lost),
    r.ok && (!r.pingBound || r.pingP99 < 250) ? 'held' : '**broken**',
  ]),
)}
`;
}

if (process.argv.includes('--hostile')) {
  await hostile();
  log(`wrote docs/reliability.md (hostile clients); ${failures.length} failures`);
  for (const failure of failures) console.error(`FAILED ${failure}`);
  process.exit(failures.length === 0 ? 0 : 1);
}

const base: DeliveryOptions = {
  clients: 4,
  rooms: 3,
  messagesPerClient: 750,
  restarts: 3,
  restartMode: 'close',
  sendEveryMs: 20,
  proxy: { lifetimeMs: [100, 1500], maxDelayMs: 20, splitChance: 0.5 },
  chaosAfterSendsMs: 3000,
  settleMs: 120_000,
};
const deliveries: DeliveryResult[] = [];
for (const restartMode of ['close', 'kill'] as const) {
  log(`delivery: ${base.clients} clients x ${base.messagesPerClient} messages, ${base.restarts} restarts (${restartMode})`);
  const result = await runDelivery({ ...base, restartMode });
  deliveries.push(result);
  log(`  ${result.stored} stored of ${result.sent} sent, ${result.proxy.cuts} cuts, ${result.violations.length} violations`);
  failures.push(...result.violations.map((v) => `delivery (${restartMode}): ${v}`));
}

const changesOptions: ChangesOptions = {
  clients: 5,
  messagesPerClient: 10,
  changesPerClient: 300,
  restarts: 3,
  changeEveryMs: 20,
  proxy: { lifetimeMs: [100, 1500], maxDelayMs: 20, splitChance: 0.5 },
  chaosAfterChangesMs: 3000,
  settleMs: 120_000,
};
log(`changes: ${changesOptions.clients} clients x ${changesOptions.changesPerClient} edits, deletes and reactions, ${changesOptions.restarts} restarts`);
const changes = await runChanges(changesOptions);
log(`  ${changes.applied} applied (counter ${changes.lastRev}), ${changes.refused} refused, ${changes.proxy.cuts} cuts, ${changes.violations.length} violations`);
failures.push(...changes.violations.map((v) => `changes: ${v}`));

log('fuzzing the SDK frame parser');
const parser = fuzzParser(100_000);
log('fuzzing the server');
let server;
try {
  server = await fuzzServer(20_000);
} catch (error) {
  failures.push(`server fuzz: ${error instanceof Error ? error.message : String(error)}`);
}

log('authorization matrix');
const matrix = await authorizationMatrix();
for (const row of matrix.filter((r) => !r.ok)) failures.push(`authorization: ${row.who}, ${row.action}: expected ${row.expected}, got ${row.got}`);

const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .map(([key, n]) => `${key} ${fmt(n)}`)
    .join(', ') || 'none';
const body = `
Last run: ${machine()}; \`npm run chaos\` took ${fmt((Date.now() - started) / 60_000, 1)} minutes.
**${failures.length === 0 ? 'Every guarantee held.' : `${failures.length} guarantees broke:`}**
${failures.map((f) => `\n- ${f}`).join('')}

### Delivery through a bad network and server restarts

SDK clients (memory storage, in-process host, \`ws\`; backoff 50 ms to 1 s, full jitter)
send into shared rooms (every client a member of every room) through a TCP proxy on
loopback that cuts each connection after a random ${base.proxy.lifetimeMs[0]} to
${fmt(base.proxy.lifetimeMs[1])} ms, delays every chunk up to ${base.proxy.maxDelayMs} ms
(order kept) and splits half the chunks into pieces of 1 to 64 bytes. The server (SQLite
file, default rate limit) restarts ${base.restarts} times while they send: *close* stops it
(1001 to every socket) and starts it again in the same process; *kill* SIGKILLs its child
process and starts a new one on the same file and port. The network misbehaves
${fmt(base.chaosAfterSendsMs / 1000)} s more after the last send, then calms down.

Checked at the end, against the server's history read by a fresh connection: every message
stored once (seqs 1..n without gaps, no sender/clientId twice, no text twice, none nobody
sent), none lost, each sender's messages in the order sent, and every client holding
exactly the server's messages in the server's order, none pending or failed.

${table(
  ['restart', 'clients × messages', 'rooms', 'sent', 'stored', 'connections', 'cuts', 'chunks split', 'restarts', 'time', 'guarantees'],
  deliveries.map((d) => [
    d.options.restartMode,
    `${d.options.clients} × ${fmt(d.options.messagesPerClient)}`,
    String(d.options.rooms),
    fmt(d.sent),
    fmt(d.stored),
    fmt(d.proxy.connections),
    fmt(d.proxy.cuts),
    `${fmt(d.proxy.splits)} of ${fmt(d.proxy.chunks)}`,
    String(d.restarts),
    `${fmt(d.durationMs / 1000, 1)} s`,
    d.violations.length === 0 ? 'held' : `**${d.violations.length} broken**`,
  ]),
)}

### Message changes through a bad network and server restarts

${changesOptions.clients} SDK clients (as above) send ${changesOptions.messagesPerClient} messages each
with the network calm, then make ${fmt(changesOptions.changesPerClient)} changes each (edits and
deletes of their own messages, reactions toggled on anyone's) through the same cutting proxy,
while the server (SQLite file) restarts ${changesOptions.restarts} times (*close*). Checked once the
network calmed: no change left pending in any client; every client's view of every message
(text, tombstone, who reacted with what) equals the server's history; and the room's change
counter equals the changes the clients saw applied, so none was applied twice. Last run:
${fmt(changes.made)} changes made, ${fmt(changes.applied)} applied (counter ${fmt(changes.lastRev)}),
${fmt(changes.refused)} refused (reactions to a message deleted meanwhile: \`CONFLICT\`, rolled
back), ${fmt(changes.proxy.cuts)} connections cut, ${fmt(changes.durationMs / 1000, 1)} s,
${changes.violations.length === 0 ? 'no violations' : `${changes.violations.length} violations`}.

### Fuzzing

fast-check, random seeds each run (a failure prints its seed and the shrunk case).

- SDK frame parser (\`parseServerFrame\`): ${fmt(parser.cases)} cases (random text, JSON, and
  frames shaped like replies, events and error frames with random contents); none threw, every
  rejection had a protocol code. Accepted ${fmt(parser.accepted)}, rejected ${fmt(parser.rejected)}.
- Server: ${server ? fmt(server.cases) : 'the run failed before its end:'} frames over real
  sockets (signed in or not), each followed by a \`ping\`: every request answered exactly once
  and never \`INTERNAL\`, every unreadable frame answered with an error frame, connections
  closed only as the protocol says, the server still serving at the end.
  ${server ? `${fmt(server.requests)} were requests; error replies: ${counts(server.errorCodes)}; closes: ${counts(server.closes)}.` : ''}

### Authorization matrix

Each action by someone who may not do it, against the reference server; expected codes as
docs/protocol.md says (sections 3, 5 and 8).

${table(
  ['who', 'action', 'expected', 'got', ''],
  matrix.map((r) => [r.who, `\`${r.action}\``, r.expected, r.got, r.ok ? 'ok' : '**WRONG**']),
)}
`;

let doc: string;
try {
  doc = readFileSync(docPath, 'utf8');
} catch {
  doc = `# Reliability

What \`npm run chaos\` checks and what it found on its last run. A shorter form of the same
checks (2 clients × 150 messages through the proxy with one restart, the authorization
matrix, a few hundred fuzz cases, the hostile clients at a small size) runs in \`npm test\`
as the vitest project \`chaos\` (\`npx vitest run --project chaos\`); the results below are
the full run's. \`npm run chaos -- --hostile\` runs only the hostile-client suite
([security.md](security.md)) and rewrites only its section.
`;
}
writeFileSync(docPath, replaceSection(doc, 'chaos', body));
await hostile();
log(`wrote docs/reliability.md; ${failures.length} failures`);
for (const failure of failures) console.error(`FAILED ${failure}`);
process.exit(failures.length === 0 ? 0 : 1);
