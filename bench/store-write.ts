/**
 * The reference server's message write, in process: `SqliteStorage.createMessages` (the
 * group commit's one transaction a batch) on a file and on `:memory:` in the same run, the
 * file's cost as a ratio of memory's. 5,000 users in 500 rooms of 10, each message from a
 * random member of a random room (as the 5,000-user fan-out row sends them), in batches of
 * `--batch` (default 400, what that row commits under saturation). CPU is the process's,
 * so the checkpoint thread counts. Prints a table; writes nothing.
 *
 * `npx tsx --tsconfig bench/tsconfig.json bench/store-write.ts [--batch=400] [--messages=60000] [--rounds=2]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../examples/mock-server/src/storage/index.js';
import { newMessageId } from '../examples/mock-server/src/message-ids.js';
import { fmt, table } from './lib/stats.js';

const USERS = 5000;
const ROOM_SIZE = 10;

const arg = (name: string, fallback: number): number => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);

/** CPU (user + system, every thread) per message written, in µs, over `messages` messages. */
function writeCost(file: string, batchSize: number, messages: number): number {
  const storage = new SqliteStorage(file);
  try {
    const rooms: Array<{ id: string; members: string[] }> = [];
    for (let r = 0; r < USERS / ROOM_SIZE; r++) {
      const members = Array.from({ length: ROOM_SIZE }, (_, i) => `u_${r}_${i}`);
      members.forEach((id) => storage.createUser({ id, email: `${id}@example.com`, name: id, createdAt: 1 }));
      const room = storage.createRoom({ id: `r_${r}`, name: null, memberIds: members, createdBy: members[0]!, createdAt: 1 });
      rooms.push({ id: room.id, members });
    }
    const started = process.cpuUsage();
    for (let n = 0; n < messages; ) {
      const batch = [];
      for (let i = 0; i < batchSize; i++, n++) {
        const room = rooms[Math.floor(Math.random() * rooms.length)]!;
        const now = Date.now();
        batch.push({
          message: {
            id: newMessageId(now), roomId: room.id, senderId: room.members[Math.floor(Math.random() * ROOM_SIZE)]!,
            clientId: `c_${n}_${Math.random().toString(36).slice(2)}`, text: `message ${n} of the bench`, image: null, createdAt: now,
          },
        });
      }
      const results = storage.createMessages(batch);
      if (!results.every((r) => r.ok)) throw new Error('a write failed');
    }
    const cpu = process.cpuUsage(started);
    return (cpu.user + cpu.system) / messages;
  } finally {
    storage.close();
  }
}

const batch = arg('batch', 400);
const messages = arg('messages', 60_000);
const rounds = arg('rounds', 2);
const rows: string[][] = [];
for (let round = 1; round <= rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-write-'));
  try {
    const memory = writeCost(':memory:', batch, messages);
    const file = writeCost(join(dir, 'chat.sqlite'), batch, messages);
    rows.push([String(round), `${fmt(memory, 1)} µs`, `${fmt(file, 1)} µs`, `${fmt(file / memory, 2)}x`, fmt(loadavg()[0]!, 1)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`${fmt(messages)} messages in batches of ${batch}, ${fmt(USERS)} users in rooms of ${ROOM_SIZE}; CPU per message written:\n`);
console.log(table(['round', 'in memory', 'on a file', 'file vs memory', 'load'], rows));
