/**
 * `npm run chaos`: the reliability suite at full size. Delivery through a chaos proxy with
 * server restarts (in process, then SIGKILLed child processes), fuzzing of the server and of
 * the SDK's frame parser, and the authorization matrix; writes docs/reliability.md between
 * its markers. Exits 1 when a guarantee broke. Bounded: every part has a fixed count and a
 * time limit, and the run stops by itself.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fmt, machine, replaceSection, table } from '../lib/stats.js';
import { authorizationMatrix } from './authz.js';
import { type DeliveryOptions, type DeliveryResult, runDelivery } from './delivery.js';
import { fuzzParser, fuzzServer } from './fuzz.js';

const docPath = fileURLToPath(new URL('../../docs/reliability.md', import.meta.url));
const started = Date.now();
const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
const failures: string[] = [];

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
matrix, a few hundred fuzz cases) runs in \`npm test\` as the vitest project \`chaos\`
(\`npx vitest run --project chaos\`); the results below are the full run's.
`;
}
writeFileSync(docPath, replaceSection(doc, 'chaos', body));
log(`wrote docs/reliability.md; ${failures.length} failures`);
for (const failure of failures) console.error(`FAILED ${failure}`);
process.exit(failures.length === 0 ? 0 : 1);
