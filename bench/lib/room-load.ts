/**
 * The load generator of the fan-out bench (bench/fanout.ts, one process) and the scale-out
 * bench (bench/cluster.ts, one or several): K raw protocol clients in rooms of M, client i
 * of every room on process i mod N, so with N > 1 a message's sender and most of its
 * receivers are on different processes. Frames are read without parsing: each message's
 * text carries its send time and sender.
 */
import { performance } from 'node:perf_hooks';
import { summary } from './stats.js';
import { Wire, pool, sleep, waitFor } from './wire.js';

export interface LoadMember {
  wire: Wire;
  index: number;
  /** Which of the urls (server processes) this client is connected to. */
  process: number;
  roomId: string;
}

/**
 * What `deliveredPerSec` counts. `window-sends`: deliveries of the window's sends that
 * arrived by the window's end (bench/fanout.ts). `window-arrivals`: deliveries of the
 * phase's sends, whenever sent, arriving inside the window (bench/cluster.ts).
 */
export type DeliveredInWindow = 'window-sends' | 'window-arrivals';

export interface LoadPhase {
  /** Deliveries per second of the window, as `counting` defines them: a closed loop's throughput. */
  deliveredPerSec: number;
  sendsPerSec: number;
  /** Send to delivery, only where sender and receiver are on different processes when there are several. */
  p50: number;
  p99: number;
  /** Deliveries of the window's sends not there `drainMs` after the window. */
  missing: number;
  /** Deliveries of the window's sends, those of the drain included. */
  delivered: number;
  /** Deliveries from the window's start to the drain's end, whenever sent: the work `onMeasureStart`..`onMeasureEnd` brackets. */
  deliveredSinceStart: number;
}

export interface LoadOptions {
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  counting: DeliveredInWindow;
  /** Sends per second, all clients together (fixed rate)... */
  ratePerSec?: number;
  /** ...or at most this many sends in flight (closed loop). */
  window?: number;
  /** Replies left unparsed too, so that the generator costs the same against every server. */
  rawReplies?: boolean;
  /** Called as the window opens (not awaited: the sends go on). */
  onMeasureStart?: () => void;
  /** Awaited as the window closes, before the drain. */
  onWindowEnd?: () => void | Promise<void>;
  /** Awaited after the drain. */
  onMeasureEnd?: () => void | Promise<void>;
}

const runTag = Date.now().toString(36);
/** Numbers every request and clientId of the run: a clientId used twice would be a duplicate, with no event. */
let requestNo = 0;
/** Each phase tags its messages, so stragglers of the one before do not count in the next. */
let phaseNo = 0;

/** The address load client `index` signs up with, so that a later login in the same run finds the account. */
export function loadUserEmail(index: number, tag: string): string {
  return `u${index}-${tag}-${runTag}@bench.test`;
}

/**
 * Connects `users` clients spread over `urls` and puts them in rooms of `roomSize`: signed
 * up, logged in and grouped by `create_room` (ours), or opened and sent `join` (the fan-out
 * bench's baseline server, which has no accounts).
 */
export async function connectRooms(
  urls: readonly string[],
  users: number,
  roomSize: number,
  tag: string,
  how: 'account' | 'join' = 'account',
): Promise<LoadMember[]> {
  const rooms = Math.ceil(users / roomSize);
  // Client i is in room i mod rooms, at place i div rooms there; its process is that place mod N.
  const placed = Array.from({ length: users }, (_, index) => ({ index, room: index % rooms, process: Math.floor(index / rooms) % urls.length }));
  if (how === 'join') {
    return pool(placed, 100, async (p) => {
      const wire = await Wire.open(urls[p.process] as string);
      const roomId = `room-${p.room}`;
      await wire.call('join', { roomId });
      return { wire, index: p.index, process: p.process, roomId };
    });
  }
  const wires = await pool(placed, 50, (p) => Wire.user(urls[p.process] as string, loadUserEmail(p.index, tag)));
  const members: LoadMember[] = placed.map((p, i) => ({ wire: wires[i]!.wire, index: p.index, process: p.process, roomId: '' }));
  await pool(
    Array.from({ length: rooms }, (_, r) => r),
    20,
    async (r) => {
      const inRoom = members.filter((m) => placed[m.index]!.room === r);
      const [owner, ...others] = inRoom;
      if (!owner) return;
      const { room } = await owner.wire.call('create_room', { memberIds: others.map((m) => wires[m.index]!.user.id) });
      for (const m of inRoom) m.roomId = room.id;
    },
  );
  return members;
}

/** One phase: a fixed rate of sends (`ratePerSec`) or a closed loop of at most `window` in flight. */
export async function runLoad(members: readonly LoadMember[], roomSize: number, options: LoadOptions): Promise<LoadPhase> {
  const crossOnly = new Set(members.map((m) => m.process)).size > 1;
  const phase = String(++phaseNo);
  let sent = 0;
  let measuredSends = 0;
  let delivered = 0;
  let inFlight = 0;
  let recording = false;
  let windowOpen = false;
  let inWindow = 0;
  let sinceStart = 0;
  const latencies: number[] = [];
  let next = 0;
  const sendOne = () => {
    const member = members[next++ % members.length] as LoadMember;
    const n = ++requestNo;
    const stamp = `${performance.now().toFixed(3)}:${member.index}:${member.process}:${recording ? 1 : 0}:${phase}`;
    member.wire.sendRaw(`{"action":"create_message","requestId":"s${n}","data":{"roomId":"${member.roomId}","clientId":"k${runTag}${n}","text":"@${stamp}"}}`);
    sent++;
    inFlight++;
    if (recording) measuredSends++;
  };
  for (const member of members) {
    if (options.rawReplies) member.wire.raw = true;
    member.wire.onText = (text) => {
      if (!text.startsWith('{"type":"event"')) return;
      const at = text.indexOf('"text":"@');
      if (at === -1) return;
      const [time, sender, process, measured, ofPhase] = text.slice(at + 9, text.indexOf('"', at + 9)).split(':');
      if (ofPhase !== phase) return;
      if (Number(sender) === member.index) inFlight--;
      if (recording) sinceStart++;
      if (windowOpen) inWindow++;
      if (measured !== '1') return;
      delivered++;
      if (!crossOnly || Number(process) !== member.process) latencies.push(performance.now() - Number(time));
    };
  }
  const started = performance.now();
  let measureStart = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (!recording && now - started >= options.warmupMs) {
      recording = true;
      windowOpen = true;
      measureStart = now;
      options.onMeasureStart?.();
    }
    if (options.ratePerSec !== undefined) {
      const due = Math.floor(((now - started) / 1000) * options.ratePerSec);
      while (sent < due) sendOne();
    }
    if (options.window !== undefined) while (inFlight < options.window) sendOne();
  }, 5);
  await sleep(options.warmupMs + options.measureMs);
  clearInterval(ticker);
  windowOpen = false;
  const measuredMs = performance.now() - measureStart;
  const windowSendsArrived = delivered;
  await options.onWindowEnd?.();
  const expected = measuredSends * roomSize;
  await waitFor(() => delivered >= expected, options.drainMs);
  await options.onMeasureEnd?.();
  for (const member of members) {
    member.wire.onText = undefined;
    if (options.rawReplies) member.wire.raw = false;
  }
  const { p50, p99 } = summary(latencies);
  const deliveredInWindow = options.counting === 'window-sends' ? windowSendsArrived : inWindow;
  return {
    deliveredPerSec: (deliveredInWindow / measuredMs) * 1000,
    sendsPerSec: (measuredSends / measuredMs) * 1000,
    p50,
    p99,
    missing: Math.max(0, expected - delivered),
    delivered,
    deliveredSinceStart: sinceStart,
  };
}
