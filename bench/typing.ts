/**
 * Typing benchmarks (`npx tsx --tsconfig bench/tsconfig.json bench/typing.ts [--quick]`):
 * 1. frames per keystroke burst: the SDK (one host, throttled) against a naive client that
 *    sends a `typing` frame on every keystroke, against the real server;
 * 2. server CPU for typing fan-out in rooms of 10 and of 100, the server alone in a child
 *    process. Writes its figures into docs/benchmarks.md between `typing:start`/`typing:end`.
 * Not a test: nothing here asserts a time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { TEST_SERVER_OPTIONS, startServer } from '@chat/mock-server';
import { createChatClient } from '@chat/sdk';
import { ServerProcess } from './lib/server-process.js';
import { fmt, machine, replaceSection, table } from './lib/stats.js';
import { Wire, sleep } from './lib/wire.js';

const quick = process.argv.includes('--quick');
const docPath = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
let emails = 0;
const email = (name: string) => `${name}-${Date.now().toString(36)}-${emails++}@typing.bench`;

/** Signs a new user up and in with protocol 1.1 on a fresh connection. */
async function signIn(url: string, name: string): Promise<{ wire: Wire; id: string; token: string }> {
  const wire = await Wire.open(url);
  const address = email(name);
  await wire.call('create_user', { email: address });
  const { user, token } = await wire.call('create_connection', { protocolVersion: 1.1, email: address });
  return { wire, id: user.id, token };
}

// ------------------------------------------------------------------ 1. frames per burst

interface BurstResult {
  client: string;
  keystrokes: number;
  framesSent: number;
  rateLimited: number;
  eventsAtMember: number;
}

/** `keystrokes` at `intervalMs`, then the message: frames the typist sent, events one member got. */
async function burst(keystrokes: number, intervalMs: number): Promise<BurstResult[]> {
  const server = await startServer({ ...TEST_SERVER_OPTIONS, logLevel: 'silent' });
  try {
    const ada = await signIn(server.wsUrl, 'ada'); // the SDK's user (signed in again by the client)
    const naive = await signIn(server.wsUrl, 'naive');
    const bob = await signIn(server.wsUrl, 'bob');
    const { room: sdkRoom } = await ada.wire.call('create_room', { memberIds: [bob.id] });
    const { room: naiveRoom } = await naive.wire.call('create_room', { memberIds: [bob.id] });
    const events = new Map<string, number>();
    bob.wire.onFrame = (frame) => {
      if (frame.type === 'event' && frame.event === 'typing') events.set(frame.data.roomId, (events.get(frame.data.roomId) ?? 0) + 1);
    };
    ada.wire.close();

    let sdkFrames = 0;
    class Counting extends WebSocket {
      override send(data: any, ...rest: any[]): void {
        if (String(data).includes('"action":"typing"')) sdkFrames++;
        (super.send as (...args: any[]) => void)(data, ...rest);
      }
    }
    const client = createChatClient({ url: server.wsUrl, WebSocket: Counting as never, storage: 'memory' });
    await client.login({ token: ada.token });
    await new Promise<void>((resolve) => {
      const check = () => client.connection.getSnapshot().status === 'open' && (resolve(), true);
      if (!check()) client.connection.subscribe(() => void check());
    });

    let naiveFrames = 0;
    let naiveLimited = 0;
    const naiveSends: Array<Promise<unknown>> = [];
    for (let i = 0; i < keystrokes; i++) {
      client.startTyping(sdkRoom.id);
      naiveFrames++;
      naiveSends.push(naive.wire.request('typing', { roomId: naiveRoom.id }).then((reply) => reply.ok || naiveLimited++));
      await sleep(intervalMs);
    }
    client.send(sdkRoom.id, { text: 'done' });
    await naive.wire.call('create_message', { roomId: naiveRoom.id, clientId: 'n1', text: 'done' });
    await Promise.all(naiveSends);
    await sleep(300);
    await client.close();
    naive.wire.close();
    bob.wire.close();
    return [
      { client: '@chat/sdk (host throttle)', keystrokes, framesSent: sdkFrames, rateLimited: 0, eventsAtMember: events.get(sdkRoom.id) ?? 0 },
      { client: 'naive (a frame per keystroke)', keystrokes, framesSent: naiveFrames, rateLimited: naiveLimited, eventsAtMember: events.get(naiveRoom.id) ?? 0 },
    ];
  } finally {
    await server.close();
  }
}

// ------------------------------------------------------------------ 2. CPU for fan-out

interface FanoutResult {
  roomSize: number;
  users: number;
  framesPerSec: number;
  eventsPerSec: number;
  cpuPercent: number;
  cpuMsPer1kEvents: number;
}

/**
 * `users` members in rooms of `roomSize`, each typing (a start and a stop a second, the most
 * the per-user limit lets through), for `measureMs`: the server's CPU per delivered event.
 */
async function fanout(roomSize: number, users: number, measureMs: number): Promise<FanoutResult> {
  const proc = await ServerProcess.spawn();
  try {
    const { wsUrl } = await proc.start('chat', {});
    const members: Array<{ wire: Wire; id: string; roomId: string }> = [];
    for (let i = 0; i < users; i++) {
      const { wire, id } = await signIn(wsUrl, `m${i}`);
      members.push({ wire, id, roomId: '' });
    }
    for (let r = 0; r < users / roomSize; r++) {
      const group = members.slice(r * roomSize, (r + 1) * roomSize);
      const { room } = await group[0]!.wire.call('create_room', { memberIds: group.slice(1).map((m) => m.id) });
      for (const m of group) m.roomId = room.id;
    }
    let events = 0;
    let frames = 0;
    let counting = false;
    for (const m of members) m.wire.onText = (text) => counting && text.startsWith('{"type":"event","event":"typing"') && events++;
    let n = 0;
    const tick = (stop: boolean) => {
      for (const m of members) {
        m.wire.sendRaw(`{"action":"typing","requestId":"t${++n}","data":{"roomId":"${m.roomId}"${stop ? ',"stop":true' : ''}}}`);
        if (counting) frames++;
      }
    };
    let phase = false;
    const timer = setInterval(() => tick((phase = !phase) === false), 500);
    await sleep(1500); // warm-up
    const cpuStart = await proc.cpu();
    counting = true;
    const started = Date.now();
    await sleep(measureMs);
    counting = false;
    const elapsed = Date.now() - started;
    const cpuEnd = await proc.cpu();
    clearInterval(timer);
    for (const m of members) m.wire.close();
    const cpuMs = (cpuEnd.user - cpuStart.user + cpuEnd.system - cpuStart.system) / 1000;
    return {
      roomSize,
      users,
      framesPerSec: (frames / elapsed) * 1000,
      eventsPerSec: (events / elapsed) * 1000,
      cpuPercent: (cpuMs / elapsed) * 100,
      cpuMsPer1kEvents: (cpuMs / Math.max(1, events)) * 1000,
    };
  } finally {
    await proc.close().catch(() => undefined);
    await proc.kill();
  }
}

// ------------------------------------------------------------------ run and write

const started = Date.now();
const bursts = await burst(quick ? 20 : 60, 125); // 8 keystrokes a second
console.log(bursts);
const measureMs = quick ? 2000 : 5000;
const fanouts = [await fanout(10, 100, measureMs), await fanout(100, 100, measureMs)];
console.log(fanouts);

const body = `
Last run: ${machine()}; ${fmt((Date.now() - started) / 1000)} s. \`npx tsx --tsconfig bench/tsconfig.json bench/typing.ts\` rewrites this section.

**Typing frames per keystroke burst.** One user types ${bursts[0]!.keystrokes} keystrokes at 8 a second (${fmt(
  (bursts[0]!.keystrokes * 125) / 1000,
  1,
)} s), then sends the message; another member of the room counts the \`typing\` events it gets.

${table(
  ['client', 'keystrokes', 'typing frames sent', 'refused (RATE_LIMITED)', 'typing events at the other member'],
  bursts.map((b) => [b.client, fmt(b.keystrokes), fmt(b.framesSent), fmt(b.rateLimited), fmt(b.eventsAtMember)]),
)}

Three tabs of one user typing at once still send one stream (the host is shared; the Chromium
test \`packages/chat-sdk/test/browser/awareness.test.ts\` checks one frame at the server for 45
keystrokes in three tabs). The server coalesces what gets through from any client to one event
per user and room per 2 s, so even the naive client's room is not flooded, but its frames are
parsed and checked, and past the per-user limit refused.

**Server CPU for typing fan-out.** ${fanouts[0]!.users} connected users, each sending a \`typing\`
start and stop every second (the most the per-user limit passes), the server alone in a process.

${table(
  ['rooms of', 'users', 'typing frames/s in', 'typing events/s out', 'server CPU (% of a core)', 'CPU ms per 1k events'],
  fanouts.map((f) => [fmt(f.roomSize), fmt(f.users), fmt(f.framesPerSec), fmt(f.eventsPerSec), fmt(f.cpuPercent, 1), fmt(f.cpuMsPer1kEvents, 1)]),
)}
`;
if (!quick) writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'typing', body));
else console.log(body);
process.exit(0);
