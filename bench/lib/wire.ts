import WebSocket from 'ws';
import type { ErrorBody } from '@chat/sdk/protocol';

export interface ReplyFrame {
  type: 'reply';
  requestId: string;
  ok: boolean;
  data?: any;
  error?: ErrorBody;
}

/** Rejection of `Wire.call`: the reply's error body, kept whole so callers can read its code. */
export class ReplyError extends Error {
  constructor(readonly body: ErrorBody) {
    super(`${body.code}: ${body.message}`);
  }
}

/**
 * A raw protocol client over `ws`, for load and for checks the SDK would hide: requests
 * resolve with their reply frame; every other frame goes to `onFrame` (parsed) or, when
 * `onText` is set, to it unparsed (the load generator reads frames without parsing them).
 */
export class Wire {
  readonly closed: Promise<{ code: number; reason: string }>;
  onFrame: ((frame: any) => void) | undefined;
  onText: ((text: string) => void) | undefined;
  /** Every frame, replies included, goes to `onText` unparsed (an attacker reading megabytes). */
  raw = false;
  private readonly waiting = new Map<string, { resolve: (reply: ReplyFrame) => void; reject: (error: Error) => void }>();
  private next = 0;
  private closeInfo: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.receive(String(data)));
    ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: String(reason) };
        for (const { reject } of this.waiting.values()) reject(new Error(`connection closed (${code})`));
        this.waiting.clear();
        resolve(this.closeInfo);
      }),
    );
  }

  static open(url: string, timeoutMs = 10_000): Promise<Wire> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no connection to ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new Wire(ws));
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Signs up (if `create`) and logs in by email on a new connection. */
  static async user(url: string, email: string, create = true): Promise<{ wire: Wire; user: { id: string; email: string }; token: string }> {
    const wire = await Wire.open(url);
    if (create) await wire.call('create_user', { email });
    const { user, token } = await wire.call('create_connection', { protocolVersion: 1, email });
    return { wire, user, token };
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  get closeCode(): number | undefined {
    return this.closeInfo?.code;
  }

  sendRaw(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }

  /** Sends a request and resolves with its reply frame, whatever `ok` says. */
  request(action: string, data?: unknown, timeoutMs = 10_000): Promise<ReplyFrame> {
    const requestId = `q${++this.next}`;
    return new Promise((resolve, reject) => {
      if (!this.isOpen) return reject(new Error('connection not open'));
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new Error(`no reply to ${action} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(requestId, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.sendRaw(JSON.stringify(data === undefined ? { action, requestId } : { action, requestId, data }));
    });
  }

  /** The reply's data, or a ReplyError. */
  async call<T = any>(action: string, data?: unknown): Promise<T> {
    const reply = await this.request(action, data);
    if (!reply.ok) throw new ReplyError(reply.error as ErrorBody);
    return reply.data as T;
  }

  /** Every message of a room from the server's history, ascending, paging with `after`. */
  async history(roomId: string): Promise<any[]> {
    const all: any[] = [];
    for (let page = 0; page < 100_000; page++) {
      const after = all.length ? all[all.length - 1].seq : 0;
      const { messages, hasMore } = await this.call('get_messages', { roomId, after, limit: 100 });
      all.push(...messages);
      if (!hasMore || messages.length === 0) break;
    }
    return all;
  }

  close(): void {
    this.ws.terminate();
  }

  private receive(text: string): void {
    // Replies are told apart cheaply so a generator reading thousands of events parses none of them.
    if (text.startsWith('{"type":"reply"') && !this.raw) {
      const reply = JSON.parse(text) as ReplyFrame;
      const waiter = this.waiting.get(reply.requestId);
      if (waiter) {
        this.waiting.delete(reply.requestId);
        waiter.resolve(reply);
        return;
      }
    }
    if (this.onText) this.onText(text);
    else this.onFrame?.(JSON.parse(text));
  }
}

/** Runs `task` over `items` with at most `limit` at a time; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passed; resolves with the last answer. */
export async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}
