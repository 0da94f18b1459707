/**
 * What read state costs the reference server on SQLite: the unread count of one member of a
 * room (`lastSeq - cursor - the member's own messages after the cursor`; the last term,
 * `countOwnAfter`, is the only query, a range over a covering index), a `get_user_rooms` worth of read state (cursors + count for 100 rooms), and
 * `mark_read` writes. Run: `npx tsx --tsconfig bench/tsconfig.json bench/read-state.ts`.
 * Not a test: nothing here asserts a time; the figures go into docs/benchmarks.md by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../examples/mock-server/src/storage/index.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-read-bench-'));
const storage = new SqliteStorage(join(dir, 'chat.sqlite'));
let t = 0;
const user = (id: string) => storage.createUser({ id, email: `${id}@bench.test`, name: id, createdAt: ++t });
const [ann, bob] = [user('ann'), user('bob')];

/** Median time of `fn` in microseconds over `runs` runs (after a warm-up). */
function time(fn: () => unknown, runs = 2000): number {
  for (let i = 0; i < 100; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

/** Medians (µs) of `a` and `b` run alternately. */
function interleaved(a: () => unknown, b: () => unknown, runs: number): [number, number] {
  const samples: [number[], number[]] = [[], []];
  for (let i = 0; i < runs + 20; i++) {
    for (const [k, fn] of [a, b].entries()) {
      const start = process.hrtime.bigint();
      fn();
      if (i >= 20) samples[k]!.push(Number(process.hrtime.bigint() - start) / 1000);
    }
  }
  const median = (list: number[]) => list.sort((x, y) => x - y)[Math.floor(list.length / 2)]!;
  return [median(samples[0]), median(samples[1])];
}

function fill(roomId: string, count: number, sender: (i: number) => string): void {
  for (let i = 0; i < count; i++) {
    storage.createMessage({ id: `${roomId}-${i}`, roomId, senderId: sender(i), clientId: `${roomId}-${i}`, text: 'x', image: null, createdAt: ++t });
  }
}

const rows: string[] = [];
for (const size of process.argv.includes('--quick') ? [] : [1_000, 50_000]) {
  const others = `others-${size}`;
  const own = `own-${size}`;
  storage.createRoom({ id: others, name: null, memberIds: [ann.id, bob.id], createdBy: ann.id, createdAt: ++t });
  storage.createRoom({ id: own, name: null, memberIds: [ann.id, bob.id], createdBy: ann.id, createdAt: ++t });
  fill(others, size, () => ann.id);
  fill(own, size, () => bob.id);
  rows.push(`| ${size.toLocaleString('en')} messages unread, all from others: the unread count's one query | ${time(() => storage.countOwnAfter(others, bob.id, 0)).toFixed(1)} µs |`);
  rows.push(`| ${size.toLocaleString('en')} messages after the cursor, all the reader's own (worst case) | ${time(() => storage.countOwnAfter(own, bob.id, 0), 200).toFixed(1)} µs |`);
}

// A user in 100 rooms of 10 members with 100 messages each: what get_user_rooms adds per call.
const members = Array.from({ length: 10 }, (_, i) => user(`m${i}`).id);
for (let r = 0; r < 100; r++) {
  const id = `room-${r}`;
  storage.createRoom({ id, name: null, memberIds: [bob.id, ...members], createdBy: bob.id, createdAt: ++t });
  fill(id, 100, (i) => members[i % members.length]!);
  for (const [i, member] of members.entries()) storage.markRead(id, member, 10 * i);
}
const rooms = storage.getUserRooms(bob.id).filter((room) => room.id.startsWith('room-'));
// Interleaved, so a machine busy with something else slows both alike.
const [listOnly, withReads] = interleaved(
  () => storage.getUserRooms(bob.id),
  () => {
    // What handlers/read.ts withReadState does: two statements for the whole list.
    const rooms = storage.getUserRooms(bob.id);
    const states = storage.getReadStates(bob.id, rooms.map((room) => room.id));
    for (const room of rooms) void (room.lastSeq - (states.get(room.id)!.readSeqs[bob.id] ?? 0) - states.get(room.id)!.ownAfter);
  },
  300,
);
rows.push(`| get_user_rooms, ${rooms.length} rooms of 11 members (100 messages each): the list alone | ${(listOnly / 1000).toFixed(2)} ms |`);
rows.push(`| ... with every room's cursors and the caller's unread count | ${(withReads / 1000).toFixed(2)} ms |`);

let seq = 0;
if (process.argv.includes('--quick')) {
  storage.createRoom({ id: 'others-50000', name: null, memberIds: [ann.id, bob.id], createdBy: ann.id, createdAt: ++t });
  fill('others-50000', 3_000, () => ann.id);
}
const writes = time(() => storage.markRead('others-50000', bob.id, ++seq), 2000);
rows.push(`| mark_read write (a cursor that moves, one transaction) | ${writes.toFixed(1)} µs |`);

storage.close();
rmSync(dir, { recursive: true, force: true });
console.log(['| what | median |', '| --- | ---: |', ...rows].join('\n'));
