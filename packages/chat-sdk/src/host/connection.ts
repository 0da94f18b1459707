// Longer than most files here on purpose: one socket's life (open, authenticate, requests by
// id, liveness pings, close codes, reconnect) is one state machine; split up, its
// transitions would be spread over several files that all touch the same fields.
import {
  type ActionName,
  ChatError,
  type ChatErrorData,
  CloseCode,
  PROTOCOL_VERSION,
  type ReplyData,
  type ServerEvent,
  parseReplyData,
  parseServerFrame,
  retryHintOf,
  retryWindowOf,
} from '../protocol/index.js';
import type { ConnectionState } from '../contract/host-api.js';
import type { Backoff } from './backoff.js';
import { SOCKET_OPEN, type WebSocketConstructor, type WebSocketLike } from '../contract/platform.js';

/** A server's retry hint and window are followed up to this long: no server can park its clients for longer. */
const MAX_HINT_MS = 60_000;
/** A hinted first retry is spread over at least this long. */
const MIN_HINT_WINDOW_MS = 500;

export interface ConnectionOptions {
  url: string;
  WebSocket: WebSocketConstructor;
  backoff: Backoff;
  /** A request with no reply after this long fails with TIMEOUT (retryable). */
  requestTimeoutMs: number;
  /** After this long without any frame from the server, a `ping` checks the socket is alive. */
  pingIntervalMs: number;
  /**
   * A connection counts as healthy, and the backoff starts over, only once it stayed open
   * this long (default 10 000 ms). A server that accepts and then closes at once (1013,
   * 1008, 4xxx, an early close) keeps the backoff growing.
   */
  healthyAfterMs?: number;
  now: () => number;
  /** The session token to authenticate each new socket with, or null to stay anonymous. */
  getToken(): string | null;
  onAuthenticated(reply: ReplyData<'create_connection'>): void;
  onEvent(event: ServerEvent): void;
  /** The server ended the session: revoked elsewhere (4001) or the token was refused. */
  onSessionEnded(reason: 'revoked' | 'rejected'): void;
  onFault(error: ChatErrorData): void;
  onState(state: ConnectionState): void;
}

interface InFlight {
  action: ActionName;
  resolve(data: unknown): void;
  reject(error: ChatError): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Waiter {
  resolve(): void;
  reject(error: ChatError): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One WebSocket at a time to the server: opening and authenticating it, request/reply by
 * id, liveness pings, and reconnecting with backoff after anything but a deliberate close.
 * It knows nothing of rooms or the outbox; the host builds those on top.
 */
export class Connection {
  private socket: WebSocketLike | null = null;
  private state: ConnectionState = { status: 'idle', attempt: 0 };
  private readonly inFlight = new Map<string, InFlight>();
  private readonly waiters = new Set<Waiter>();
  private nextRequestId = 1;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Reconnects since the last healthy connection: what the backoff is asked about. */
  private failures = 0;
  /** The spread the server's last close hint asked for, kept until a healthy connection. */
  private retryWindowMs: number | undefined;
  private healthyTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;
  /** The current socket has opened (a close before that is a failure to connect). */
  private opened = false;
  /** What the socket's error event said, if anything (Node's `ws` names the cause). */
  private socketError = '';
  private disposed = false;
  private loggingOut = false;

  constructor(private readonly options: ConnectionOptions) {}

  get status() {
    return this.state.status;
  }

  /** Opens a socket unless one is open or opening; a pending reconnect happens now. */
  start(): void {
    if (this.disposed) return;
    if (this.state.status === 'connecting' || this.state.status === 'open') return;
    this.clearReconnect();
    this.connect();
  }

  /**
   * Tries now with a fresh backoff: while reconnecting (the browser came back `online`, or
   * the app asked), or, with a session, after the connection was closed.
   */
  retryNow(): void {
    const { status } = this.state;
    if (status === 'connecting' || status === 'open') return;
    if (status !== 'reconnecting' && this.options.getToken() === null) return;
    this.clearReconnect();
    this.failures = 0;
    this.retryWindowMs = undefined;
    this.setState({ status: 'reconnecting', attempt: 0 });
    this.start();
  }

  /**
   * Closes the socket and stays down until `start()`: `closed` (the session ended) or
   * `idle` (nobody is signed in, as after a failed login); `error` fails pending requests
   * and stays in the state as the reason.
   */
  stop(error: ChatError = new ChatError('NETWORK', 'the connection was closed'), status: 'closed' | 'idle' = 'closed', keepError = false): void {
    this.clearReconnect();
    this.clearHealthy();
    this.failures = 0;
    this.retryWindowMs = undefined;
    this.abandonSocket(error);
    this.failWaiters(error);
    this.setState(keepError ? { status, attempt: 0, error: error.toJSON() } : { status, attempt: 0 });
  }

  dispose(): void {
    this.disposed = true;
    this.stop(new ChatError('CLOSED', 'the client was closed'));
  }

  /** Says a `delete_connection` is on its way, so the server's 1000 close is expected. */
  expectLogoutClose(): void {
    this.loggingOut = true;
  }

  /** Resolves once the socket is open (and authenticated, when there is a token). */
  whenOpen(timeoutMs = this.options.requestTimeoutMs): Promise<void> {
    if (this.disposed) return Promise.reject(new ChatError('CLOSED', 'the client was closed'));
    if (this.state.status === 'open') return Promise.resolve();
    if (this.state.status === 'idle' || this.state.status === 'closed') {
      return Promise.reject(new ChatError('NETWORK', 'not connected'));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new ChatError('TIMEOUT', `${this.options.url} did not open within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Sends one request and resolves with its checked reply data; waits for the socket if it is opening. */
  async request<A extends ActionName>(action: A, data: Record<string, unknown>, timeoutMs = this.options.requestTimeoutMs): Promise<ReplyData<A>> {
    const deadline = this.options.now() + timeoutMs;
    await this.whenOpen(timeoutMs);
    return this.sendNow(action, data, Math.max(1, deadline - this.options.now()));
  }

  private sendNow<A extends ActionName>(action: A, data: Record<string, unknown>, timeoutMs: number): Promise<ReplyData<A>> {
    const socket = this.socket;
    if (!socket || socket.readyState !== SOCKET_OPEN) {
      return Promise.reject(new ChatError('NETWORK', 'the connection is not open'));
    }
    const requestId = `r${this.nextRequestId++}`;
    return new Promise<ReplyData<A>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inFlight.delete(requestId);
        reject(new ChatError('TIMEOUT', `no reply to ${action} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.inFlight.set(requestId, { action, resolve: resolve as (data: unknown) => void, reject, timer });
      try {
        socket.send(JSON.stringify({ action, requestId, data }));
      } catch (cause) {
        clearTimeout(timer);
        this.inFlight.delete(requestId);
        reject(new ChatError('NETWORK', 'the frame could not be sent', { cause }));
      }
    });
  }

  private connect(): void {
    this.loggingOut = false;
    this.setState({ status: 'connecting', attempt: this.failures });
    this.opened = false;
    this.socketError = '';
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.options.url);
    } catch (cause) {
      const error = new ChatError('NETWORK', `cannot open a WebSocket to ${this.options.url}: ${describe(cause)}`, { cause });
      this.failWaiters(error);
      this.scheduleReconnect(error.toJSON());
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.handleOpen(socket);
    socket.onmessage = (event) => this.handleFrame(socket, event.data);
    socket.onclose = (event) => this.handleClose(socket, event.code, event.reason);
    socket.onerror = (event) => {
      // A close event always follows; reconnecting is decided there. Keep the cause for it.
      const message = (event as { message?: unknown } | undefined)?.message;
      if (socket === this.socket && typeof message === 'string') this.socketError = message;
    };
  }

  private handleOpen(socket: WebSocketLike): void {
    if (socket !== this.socket) return;
    this.opened = true;
    this.lastFrameAt = this.options.now();
    this.startPings();
    const token = this.options.getToken();
    if (!token) {
      this.becomeOpen();
      return;
    }
    this.sendNow('create_connection', { protocolVersion: PROTOCOL_VERSION, token }, this.options.requestTimeoutMs).then(
      (reply) => {
        if (socket !== this.socket) return;
        this.becomeOpen();
        this.options.onAuthenticated(reply);
      },
      (error: ChatError) => {
        if (socket !== this.socket) return;
        if (error.code === 'UNAUTHENTICATED') {
          this.stop(error);
          this.options.onSessionEnded('rejected');
          return;
        }
        // Rate limited, server error, time-out: try again later on a fresh socket.
        this.abandonSocket(error);
        this.scheduleReconnect(error.toJSON());
      },
    );
  }

  private becomeOpen(): void {
    this.setState({ status: 'open', attempt: 0 });
    // Opening is not enough: only a connection that stays up resets the backoff.
    this.clearHealthy();
    this.healthyTimer = setTimeout(() => {
      this.healthyTimer = undefined;
      this.failures = 0;
      this.retryWindowMs = undefined;
    }, this.options.healthyAfterMs ?? 10_000);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.waiters.clear();
  }

  private handleFrame(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.socket) return;
    this.lastFrameAt = this.options.now();
    if (typeof data !== 'string') {
      this.options.onFault(new ChatError('BAD_REQUEST', 'the server sent a binary frame').toJSON());
      return;
    }
    const parsed = parseServerFrame(data);
    if (!parsed.ok) {
      this.options.onFault(parsed.error.toJSON());
      return;
    }
    const frame = parsed.value;
    switch (frame.kind) {
      case 'reply': {
        const pending = this.inFlight.get(frame.requestId);
        if (!pending) return; // timed out already, or not ours
        this.inFlight.delete(frame.requestId);
        clearTimeout(pending.timer);
        if (!frame.ok) {
          pending.reject(ChatError.fromBody(frame.error));
          return;
        }
        const reply = parseReplyData(pending.action, frame.data);
        if (reply.ok) pending.resolve(reply.value);
        else {
          this.options.onFault(reply.error.toJSON());
          pending.reject(reply.error);
        }
        return;
      }
      case 'event':
        this.options.onEvent(frame.event);
        return;
      case 'unknown-event':
        return; // protocol section 10: ignored
      case 'error':
        this.options.onFault(frame.error);
        return;
    }
  }

  private handleClose(socket: WebSocketLike, code: number, reason?: string): void {
    if (socket !== this.socket) return;
    this.detach(socket);
    this.socket = null;
    this.stopPings();
    const url = this.options.url;
    const cause = this.socketError ? `: ${this.socketError}` : '';
    const lost = this.opened
      ? new ChatError('NETWORK', `the connection to ${url} was lost (${code})${cause}`)
      : new ChatError('NETWORK', `could not connect to ${url} (${code})${cause}`);
    this.failInFlight(lost);
    this.clearHealthy();
    if (code === CloseCode.SESSION_REVOKED) {
      this.failWaiters(new ChatError('UNAUTHENTICATED', 'the session was revoked'));
      this.setState({ status: 'closed', attempt: 0 });
      this.options.onSessionEnded('revoked');
      return;
    }
    if (code === CloseCode.NORMAL && this.loggingOut) {
      // Our own delete_connection ends with 1000 (protocol section 9). Any other 1000
      // (a proxy, a socket that never opened) is treated like a lost connection.
      this.failWaiters(new ChatError('NETWORK', 'the connection was closed'));
      this.setState({ status: 'closed', attempt: 0 });
      return;
    }
    let error = lost;
    if (code === CloseCode.POLICY || code === CloseCode.TOO_BIG) {
      error = new ChatError('BAD_REQUEST', `the server closed the connection with ${code}`);
      this.options.onFault(error.toJSON());
    }
    // Whoever waits for this socket to open (a login) hears at once that it did not.
    if (!this.opened) this.failWaiters(error);
    const hintMs = retryHintOf(reason);
    this.scheduleReconnect(error.toJSON(), hintMs === undefined ? undefined : { hintMs, windowMs: retryWindowOf(reason) });
  }

  /**
   * `hint`: the server said in its close when to come back (protocol section 9). The first
   * retry then lands at a random moment in [hint, hint + window]: the window the server
   * named (it knows how big the crowd is), or else as long as the hint, at least 500 ms. So
   * a crowd it closed at once comes back spread out and not into a port that is still
   * closed. If that retry fails too, the backoff takes over, told the window the server
   * named so that it keeps the crowd that spread out.
   */
  private scheduleReconnect(error?: ChatErrorData, hint?: { hintMs: number; windowMs: number | undefined }): void {
    if (this.disposed) return;
    this.clearReconnect();
    this.clearHealthy();
    let delay: number;
    if (hint) {
      this.failures = 1;
      const hintMs = Math.min(MAX_HINT_MS, hint.hintMs);
      this.retryWindowMs = hint.windowMs === undefined ? undefined : Math.min(MAX_HINT_MS, hint.windowMs);
      delay = Math.floor(hintMs + Math.random() * Math.max(MIN_HINT_WINDOW_MS, this.retryWindowMs ?? hintMs));
    } else {
      delay = Math.max(0, this.options.backoff(++this.failures, this.retryWindowMs));
    }
    const attempt = this.failures;
    const state: ConnectionState = { status: 'reconnecting', attempt, nextRetryAt: this.options.now() + delay };
    if (error) state.error = error;
    this.setState(state);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private startPings(): void {
    this.stopPings();
    const interval = this.options.pingIntervalMs;
    this.pingTimer = setInterval(() => {
      if (this.state.status !== 'open' || this.options.now() - this.lastFrameAt < interval) return;
      const socket = this.socket;
      this.sendNow('ping', {}, Math.min(interval, this.options.requestTimeoutMs)).catch((error: ChatError) => {
        // No answer: the socket is dead even if the browser has not noticed. Move on now.
        if (error.code === 'TIMEOUT' && socket === this.socket && socket) {
          this.abandonSocket(error);
          this.scheduleReconnect(new ChatError('TIMEOUT', `${this.options.url} stopped answering (no pong within ${interval} ms)`).toJSON());
        }
      });
    }, interval);
  }

  private stopPings(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** Forgets the current socket at once, without waiting for its close handshake. */
  private abandonSocket(error: ChatError = new ChatError('NETWORK', 'the connection was replaced')): void {
    const socket = this.socket;
    this.socket = null;
    this.stopPings();
    if (socket) {
      this.detach(socket);
      try {
        socket.close(CloseCode.NORMAL);
      } catch {
        // already closed
      }
    }
    this.failInFlight(error);
  }

  private detach(socket: WebSocketLike): void {
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Keep a listener: `ws` emits an error when a socket still opening is closed, and an
    // error event with no listener would be thrown.
    socket.onerror = () => {};
  }

  private failInFlight(error: ChatError): void {
    for (const pending of this.inFlight.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.inFlight.clear();
  }

  private failWaiters(error: ChatError): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiters.clear();
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private clearHealthy(): void {
    if (this.healthyTimer !== undefined) clearTimeout(this.healthyTimer);
    this.healthyTimer = undefined;
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    this.options.onState(state);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
