/**
 * What catching up on message changes (protocol 10.5) costs: a room of 1,000 messages takes
 * 10,000 changes (edits by the sender, reactions added and taken back by three others, most
 * on recent messages); a client that was away then catches up with `get_changes` paging from
 * the rev it holds, against what it would do without it: refetch the room's whole history
 * with `get_messages` (the only way to see edits otherwise). Raw protocol frames over `ws`,
 * the server alone in a child process on a SQLite file.
 * `npx tsx --tsconfig bench/tsconfig.json bench/changes.ts [--quick]` writes the section
 * between `changes:start` / `changes:end` of docs/benchmarks.md; `npm run bench` runs it too.
 * Not a test: nothing here asserts a time.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ServerProcess } from './lib/server-process.js';
import { fmt, machine, ms, replaceSection, table } from './lib/stats.js';
import { Wire } from './lib/wire.js';

const UNLIMITED = { perSecond: 1e9, burst: 1e9 };
const EMOJI = ['👍', '❤️', '😂', '🎉', '👀'];
const FILLER = 'the quick brown fox jumps over the lazy dog, then naps in the sun until the evening';

interface Cost {
  roundTrips: number;
  messages: number;
  bytes: number;
  ms: number;
}

/** A small seeded generator (mulberry32), so every run makes the same changes. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `count` requests with at most `inFlight` waiting at once. */
async function pipelined(count: number, inFlight: number, run: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await run(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** Pages until `hasMore` is false: round trips, messages, reply bytes (UTF-8, as sent) and wall time. */
async function pageAll(wire: Wire, action: 'get_changes' | 'get_messages', roomId: string, from: number): Promise<Cost> {
  const started = performance.now();
  const cost: Cost = { roundTrips: 0, messages: 0, bytes: 0, ms: 0 };
  let cursor = from;
  for (;;) {
    const data = action === 'get_changes' ? { roomId, afterRev: cursor, limit: 100 } : { roomId, after: cursor, limit: 100 };
    const reply = await wire.request(action, data);
    if (!reply.ok) throw new Error(`${action}: ${reply.error?.code} ${reply.error?.message}`);
    cost.roundTrips++;
    cost.bytes += Buffer.byteLength(JSON.stringify(reply));
    const { messages, hasMore } = reply.data as { messages: Array<{ rev?: number; seq: number }>; hasMore: boolean };
    cost.messages += messages.length;
    if (!hasMore || messages.length === 0) break;
    const last = messages[messages.length - 1]!;
    cursor = action === 'get_changes' ? last.rev! : last.seq;
  }
  cost.ms = performance.now() - started;
  return cost;
}

/** Median of each of the two ways, run alternately so a busy machine slows both alike. */
async function compare(wire: Wire, roomId: string, afterRev: number, runs: number): Promise<{ changes: Cost; refetch: Cost }> {
  const changes: Cost[] = [];
  const refetch: Cost[] = [];
  for (let i = 0; i < runs; i++) {
    changes.push(await pageAll(wire, 'get_changes', roomId, afterRev));
    refetch.push(await pageAll(wire, 'get_messages', roomId, 0));
  }
  const median = (costs: Cost[]): Cost => ({ ...costs[0]!, ms: costs.map((c) => c.ms).sort((a, b) => a - b)[Math.floor(costs.length / 2)]! });
  return { changes: median(changes), refetch: median(refetch) };
}

export async function writeChangesSection(docPath: string, { quick, log }: { quick: boolean; log: (text: string) => void }): Promise<void> {
  const messageCount = quick ? 200 : 1000;
  const changeCount = quick ? 2000 : 10_000;
  const runs = quick ? 3 : 7;
  const started = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'chat-changes-bench-'));
  const server = await ServerProcess.spawn();
  try {
    const { wsUrl } = await server.start('chat', {
      db: join(dir, 'chat.sqlite'),
      rateLimit: UNLIMITED,
      limits: { userRequests: UNLIMITED, ipRequests: UNLIMITED, userMessages: UNLIMITED, userBytes: UNLIMITED, ipBytes: UNLIMITED, serverBytes: UNLIMITED },
    });
    const signIn = async (name: string) => {
      const wire = await Wire.open(wsUrl);
      const email = `${name}-${Date.now().toString(36)}@changes.bench`;
      await wire.call('create_user', { email });
      const { user } = await wire.call('create_connection', { protocolVersion: 1.1, email });
      return { wire, id: user.id as string };
    };
    const [ann, bob, cat, dan, eve] = await Promise.all(['ann', 'bob', 'cat', 'dan', 'eve'].map(signIn)) as [Awaited<ReturnType<typeof signIn>>, ...Array<Awaited<ReturnType<typeof signIn>>>];
    const reactors = [bob!, cat!, dan!];
    const { room } = await ann.wire.call('create_room', { memberIds: [bob!.id, cat!.id, dan!.id, eve!.id], name: 'changes' });

    log(`changes: ${messageCount} messages`);
    const ids: string[] = new Array(messageCount);
    await pipelined(messageCount, 50, async (i) => {
      const { message } = await ann.wire.call('create_message', { roomId: room.id, clientId: `m-${i}`, text: `message ${i}: ${FILLER}` });
      ids[i] = message.id;
    });

    // The changes, in a fixed order: each real (a reaction toggles), most on recent messages.
    const rand = random(42);
    const reacted = new Set<string>();
    const plan = Array.from({ length: changeCount }, (_, j) => {
      const index = messageCount - 1 - Math.floor(messageCount * rand() ** 2);
      if (rand() < 0.4) return { j, index, who: ann, action: 'edit_message', data: { text: `message ${index}, edit ${j}: ${FILLER}` } };
      const who = reactors[Math.floor(rand() * reactors.length)]!;
      const emoji = EMOJI[Math.floor(rand() * EMOJI.length)]!;
      const key = `${index} ${who.id} ${emoji}`;
      const on = !reacted.has(key);
      if (on) reacted.add(key);
      else reacted.delete(key);
      return { j, index, who, action: 'react', data: { emoji, on } };
    });
    // Eve stays connected meanwhile: what a client that was there received, one event per change.
    let liveEvents = 0;
    let liveBytes = 0;
    eve!.wire.onFrame = (frame) => {
      if (frame.type === 'event' && frame.event === 'message_updated') {
        liveEvents++;
        liveBytes += Buffer.byteLength(JSON.stringify(frame));
      }
    };
    log(`changes: ${changeCount} changes`);
    const setupStarted = performance.now();
    // One at a time, in the plan's order: each reaction toggles what the one before it left.
    await pipelined(changeCount, 1, async (j) => {
      const { who, action, data, index } = plan[j]!;
      await who.wire.call(action, { roomId: room.id, messageId: ids[index], clientChangeId: `c-${j}`, ...data });
    });
    const setupMs = performance.now() - setupStarted;
    const deadline = Date.now() + 10_000;
    while (liveEvents < changeCount && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    eve!.wire.onFrame = undefined;
    const { lastRev } = await eve!.wire.call('get_changes', { roomId: room.id, afterRev: 0, limit: 1 });

    const scenarios = [
      { label: `all ${fmt(changeCount)} changes (away since before the first)`, afterRev: 0 },
      { label: `the last ${fmt(changeCount / 10)}`, afterRev: changeCount - changeCount / 10 },
      { label: `the last ${fmt(changeCount / 100)}`, afterRev: changeCount - changeCount / 100 },
    ];
    const rows: string[][] = [];
    const costs: Cost[] = [];
    const changedAtAll = new Set(plan.map((p) => p.index)).size;
    for (const { label, afterRev } of scenarios) {
      log(`changes: catch-up after ${label}`);
      const distinct = new Set(plan.slice(afterRev).map((p) => p.index)).size;
      const { changes, refetch } = await compare(eve!.wire, room.id, afterRev, runs);
      costs.push(changes);
      if (changes.messages !== distinct) throw new Error(`get_changes gave ${changes.messages} messages, ${distinct} changed`);
      rows.push([
        label,
        fmt(distinct),
        `${fmt(changes.roundTrips)} / ${fmt(changes.bytes / 1024)} KB / ${ms(changes.ms)}`,
        `${fmt(refetch.roundTrips)} / ${fmt(refetch.bytes / 1024)} KB / ${ms(refetch.ms)}`,
        `${fmt(refetch.bytes / changes.bytes, 1)}x`,
        `${fmt(refetch.ms / changes.ms, 1)}x`,
      ]);
    }
    for (const { wire } of [ann, ...reactors, eve!]) wire.close();

    const body = `
### Message changes: catching up (reference server, SQLite)

\`npx tsx --tsconfig bench/tsconfig.json bench/changes.ts\` (also run by \`npm run bench\`);
${machine()}, load average ${fmt(loadBefore, 1)} at the start; ${fmt((Date.now() - started) / 1000)} s.

A room of ${fmt(messageCount)} messages (about 100 characters each) takes ${fmt(changeCount)}
changes (protocol 10.5): 40% edits by the sender, 60% reactions added or taken back by three
other members, each change on a message picked with a bias to recent ones (a seeded
generator, the same every run); the room's \`lastRev\` is then ${fmt(lastRev)}. The server runs
alone in a child process on a SQLite file; the client is raw frames over \`ws\` on loopback. A
client that was away catches up with \`get_changes\` (pages of 100 from the rev it holds), or,
without it, by refetching the room's whole history with \`get_messages\` (pages of 100), the
only other way to see edits and reactions. Each cell: round trips / reply bytes / wall time
(median of ${runs}, the two ways run alternately); the ratios are the refetch over \`get_changes\`.

${table(['catch-up after', 'messages changed', 'get_changes', 'get_messages, whole history', 'bytes ratio', 'time ratio'], rows)}

A client that stayed connected got the same changes live: ${fmt(liveEvents)} \`message_updated\`
events, ${fmt(liveBytes / 1024)} KB. \`get_changes\` answers each changed message once, as it is
now, so a client away for all ${fmt(changeCount)} changes reads at most the room once (here
${fmt(changedAtAll)} of the ${fmt(messageCount)} messages had changed, so it costs about what the refetch
does: ${fmt(costs[0]!.roundTrips)} replies instead of ${fmt(changeCount)} events, ${fmt(liveBytes / costs[0]!.bytes, 1)}x fewer bytes), and one away for the last
${fmt(changeCount / 100)} reads only the messages they touched. Applying the ${fmt(changeCount)} changes took
${ms(setupMs, 0)} one after another (${fmt(setupMs * 1000 / changeCount)} µs a change, round trip included):
each is one transaction (check, apply, bump the room's counter, record the key) and one range
scan over \`messages(room_id, rev)\` serves each page. Times on this shared machine vary from
run to run (the first row's time ratio was 1.1x in another run); round trips and bytes do not.
`;
    writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'changes', body));
    log('changes: wrote docs/benchmarks.md');
  } finally {
    await server.close().catch(() => {});
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
  await writeChangesSection(fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url)), { quick: process.argv.includes('--quick'), log });
  process.exit(0);
}
