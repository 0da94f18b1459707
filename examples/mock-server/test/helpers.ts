import { WebSocket, type ClientOptions } from 'ws';
import { type ErrorBody, type Message, PROTOCOL_VERSION, type Room, type User } from '@chat/sdk/protocol';
import { type RunningServer, type ServerOptions, startServer, TEST_SERVER_OPTIONS } from '../src/index.js';

export interface Reply {
  type: 'reply';
  requestId: string;
  ok: boolean;
  data?: any;
  error?: ErrorBody;
}

export interface EventFrame {
  type: 'event';
  event: string;
  data: any;
}

/** Every frame a test client received, in order. */
export type Frame = Reply | EventFrame | { type: 'error'; error: ErrorBody };

/**
 * A real `ws` client: `request` sends one action and resolves with its reply frame,
 * `call` resolves with the reply's data (or rejects with its error), events are collected.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<() => void>();
  private next = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const wake of [...this.waiters]) wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    ws.on('error', () => {});
  }

  static async open(url: string, options: ClientOptions = {}): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new TestClient(ws);
  }

  get events(): EventFrame[] {
    return this.frames.filter((f): f is EventFrame => f.type === 'event');
  }

  get errorFrames() {
    return this.frames.filter((f) => f.type === 'error');
  }

  eventsNamed(name: string): EventFrame[] {
    return this.events.filter((e) => e.event === name);
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  send(action: string, data?: unknown, requestId = `r${++this.next}`): string {
    this.sendRaw(JSON.stringify(data === undefined ? { action, requestId } : { action, requestId, data }));
    return requestId;
  }

  request(action: string, data?: unknown): Promise<Reply> {
    return this.waitReply(this.send(action, data));
  }

  waitReply(requestId: string): Promise<Reply> {
    return this.waitFor((f): f is Reply => f.type === 'reply' && f.requestId === requestId);
  }

  async call<T = any>(action: string, data?: unknown): Promise<T> {
    const reply = await this.request(action, data);
    if (!reply.ok) throw Object.assign(new Error(`${action}: ${reply.error?.code} ${reply.error?.message}`), { body: reply.error });
    return reply.data as T;
  }

  /** The error code of a request expected to fail. */
  async fail(action: string, data?: unknown): Promise<string> {
    const reply = await this.request(action, data);
    if (reply.ok) throw new Error(`${action} succeeded but a failure was expected`);
    return reply.error!.code;
  }

  /** Resolves with the first received frame (already or later) that matches. */
  waitFor<F extends Frame>(match: (f: Frame) => f is F, timeoutMs?: number): Promise<F>;
  waitFor(match: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  waitFor(match: (f: Frame) => boolean, timeoutMs = 4000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.frames.find(match);
        if (!found) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error('timed out waiting for a frame'));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  waitForEvent(name: string, match: (data: any) => boolean = () => true): Promise<EventFrame> {
    return this.waitFor((f): f is EventFrame => f.type === 'event' && f.event === name && match(f.data));
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }
}

let emails = 0;
export const uniqueEmail = (prefix = 'user') => `${prefix}${++emails}-${Math.random().toString(36).slice(2, 8)}@example.com`;

export interface SignedIn {
  client: TestClient;
  user: User;
  token: string;
}

/** Signs a new user up and in on a fresh connection. */
export async function signUp(server: RunningServer, name?: string): Promise<SignedIn> {
  const client = await TestClient.open(server.wsUrl);
  const { user } = await client.call<{ user: User }>('create_user', { email: uniqueEmail(name), ...(name ? { name } : {}) });
  const { token } = await client.call<{ token: string }>('create_connection', { protocolVersion: PROTOCOL_VERSION, email: user.email });
  return { client, user, token };
}

/** Another connection of an existing session (a second tab). */
export async function joinSession(server: RunningServer, token: string): Promise<TestClient> {
  const client = await TestClient.open(server.wsUrl);
  await client.call('create_connection', { protocolVersion: PROTOCOL_VERSION, token });
  return client;
}

export async function createRoom(client: TestClient, memberIds: string[], name?: string): Promise<Room> {
  return (await client.call<{ room: Room }>('create_room', { memberIds, ...(name ? { name } : {}) })).room;
}

export async function sendText(client: TestClient, roomId: string, text: string, clientId = `c-${Math.random().toString(36).slice(2)}`) {
  return client.call<{ message: Message; duplicate: boolean }>('create_message', { roomId, clientId, text });
}

/** Starts a server for a test file and closes it (and every client opened through `track`) after. */
export function serverFixture() {
  const clients = new Set<TestClient>();
  const servers = new Set<RunningServer>();
  return {
    async start(options: ServerOptions = {}) {
      const server = await startServer({ ...TEST_SERVER_OPTIONS, ...options });
      servers.add(server);
      return server;
    },
    track<T extends TestClient | SignedIn>(value: T): T {
      clients.add(value instanceof TestClient ? value : value.client);
      return value;
    },
    async cleanup() {
      for (const c of clients) c.close();
      clients.clear();
      await Promise.all([...servers].map((s) => s.close()));
      servers.clear();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true (or fails after `timeoutMs`). */
export async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(5);
  }
}
