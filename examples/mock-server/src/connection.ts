import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  ChatError,
  CloseCode,
  MAX_UNREADABLE_FRAMES,
  UNAUTHENTICATED_ACTIONS,
  type ActionName,
  errorFrame,
  isChatError,
  readClientFrame,
  replyErrorFrame,
  replyFrame,
  type ProtocolVersion,
} from '@chat/sdk/protocol';
import type { ServerContext } from './context.js';
import { corkForTurn } from './corked-writes.js';
import { runAction } from './handlers/index.js';
import { parseRequest } from './hot-frames.js';
import { TokenBucket } from './rate-limit.js';
import type { Authenticated } from './sessions.js';
import { textFrame } from './text-frame.js';

/** Actions whose reply can be a big page: they also wait out the whole server's byte debt. */
const PAGED_ACTIONS: ReadonlySet<string> = new Set(['get_messages', 'get_changes', 'get_users', 'get_user_rooms']);

/** How long a closing connection may take to finish its close handshake before it is cut. */
const CLOSE_GRACE_MS = 1000;

/**
 * One WebSocket and its state: who is signed in on it, its rate-limit bucket, how many
 * unreadable frames it sent, its authentication deadline and its heartbeat misses.
 * Frames are handled one at a time in arrival order (a stall queues them): each request's
 * handling, storage awaited, ends before the next one's starts (a per-connection promise
 * chain), so a client that pipelines requests gets its replies in the order it sent them.
 * What is decided on arrival (unreadable frames, the connection's rate limit) is decided
 * then; its answer still waits its turn on the chain.
 */
export class Connection {
  auth: (Omit<Authenticated, 'token'> & { protocolVersion: ProtocolVersion }) | undefined;
  private readonly bucket: TokenBucket;
  private unreadable = 0;
  private missedPongs = 0;
  private authTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private released = false;
  /** True once the user's connection count holds this one (released on close). */
  private bound = false;
  /** The end of this connection's queue of frames: each one's handling starts when the one before settled. */
  private chain: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    private readonly ctx: ServerContext,
    /** The client's address (the socket's, or X-Forwarded-For's last entry behind a trusted proxy). */
    readonly ip: string,
    /** The socket under `ws`: frames are written to it (corked while a turn's frames are, corked-writes.ts). */
    private readonly socket: Duplex,
  ) {
    const { rateLimit, authTimeoutMs } = ctx.options;
    this.bucket = new TokenBucket(rateLimit.perSecond, rateLimit.burst);
    this.chain = ctx.ready;
    this.authTimer = setTimeout(() => this.close(CloseCode.AUTH_TIMEOUT, 'no authentication in time'), authTimeoutMs);
    ws.on('message', (data, isBinary) => ctx.faults.run(() => this.onFrame(data, isBinary)));
    ws.on('pong', () => (this.missedPongs = 0));
    ws.on('close', (code) => {
      ctx.log.debug('connection closed', { code, userId: this.auth?.user.id });
      this.dispose();
    });
    ws.on('error', (error) => ctx.log.debug('socket error', { error }));
    ctx.hub.add(this);
  }

  get isOpen(): boolean {
    return !this.closing && this.ws.readyState === this.ws.OPEN;
  }

  /** Called by the heartbeat: false when two pings in a row went unanswered (then terminated). */
  heartbeat(): boolean {
    if (this.missedPongs >= 2) {
      this.ctx.log.info('connection missed two pings; terminating');
      this.terminate();
      return false;
    }
    this.missedPongs++;
    try {
      this.ws.ping();
    } catch {
      // the socket is going away; its close event cleans up
    }
    return true;
  }

  send(frame: object): void {
    this.sendText(JSON.stringify(frame));
  }

  /** Bytes this process holds for the connection: frames `ws` has queued and those the socket has not handed to the kernel. */
  get heldBytes(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Sends without waiting. A connection holding more than its cap is closed with 1013; so
   * is the one holding most when all connections together hold more than the process cap.
   */
  sendText(text: string): void {
    if (this.isOpen) this.sendFrame(textFrame(text));
  }

  /**
   * Sends a text frame already made (`textFrame`): a room's event, framed once for all its
   * members. Written to the socket under `ws`, after whatever `ws` wrote before it (the
   * server negotiates no compression, so `ws` never holds a frame back in a queue of its own).
   */
  sendFrame(frame: Buffer): void {
    if (!this.isOpen) return;
    // The frames for this socket in one turn of the event loop leave in one write.
    corkForTurn(this.socket);
    this.socket.write(frame);
    const held = this.heldBytes;
    if (held > this.ctx.options.maxBufferedBytes) {
      this.ctx.log.warn('connection too far behind; closing 1013', { buffered: held });
      this.close(CloseCode.TRY_AGAIN_LATER, 'too far behind');
    } else if (held > 64 * 1024) {
      this.ctx.hub.enforceHeldBytes(this.ctx.options.limits.maxHeldBytes);
    }
  }

  /**
   * Closes with `code`. A close frame waits behind whatever the peer has not read, so a
   * connection that does not finish closing within a second is cut (its memory freed).
   */
  close(code: number, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    this.ctx.hub.remove(this);
    clearTimeout(this.authTimer);
    try {
      this.ws.close(code, reason);
      setTimeout(() => {
        if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
      }, CLOSE_GRACE_MS).unref();
    } catch {
      this.ws.terminate();
    }
    this.release();
  }

  terminate(): void {
    this.closing = true;
    this.ctx.hub.remove(this);
    this.ws.terminate();
    this.release();
  }

  /**
   * Counts this connection against its user's maximum before a sign-in completes: throws
   * RATE_LIMITED when the user has too many open. Released when the connection closes.
   */
  reserveUser(userId: string): void {
    if (this.bound) return;
    if (!this.ctx.limits.bindUser(userId)) {
      throw new ChatError('RATE_LIMITED', 'this user has too many connections open', { retryAfterMs: 5000 });
    }
    this.bound = true;
    this.boundUserId = userId;
  }

  private boundUserId: string | undefined;

  /** Marks the connection signed in: clears the deadline and indexes it by user and session. */
  authenticate(auth: Omit<Authenticated, 'token'> & { protocolVersion: ProtocolVersion }): void {
    this.reserveUser(auth.user.id);
    this.auth = auth;
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    if (!this.closing) this.ctx.hub.bind(this, auth.user.id, auth.session.id);
  }

  private dispose(): void {
    this.closing = true;
    clearTimeout(this.authTimer);
    this.ctx.hub.remove(this);
    this.release();
  }

  /** Gives back this connection's places in the per-address and per-user counts, once. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    this.ctx.limits.closeConnection(this.ip);
    if (this.bound && this.boundUserId !== undefined) this.ctx.limits.unbindUser(this.boundUserId);
  }

  /** Runs `work` once everything queued before it on this connection settled (counted for `close()`). */
  private enqueue(work: () => void | Promise<void>): void {
    const next = this.chain.then(async () => {
      try {
        if (!this.isOpen) return; // closed while the frame waited its turn
        await work();
      } catch (error) {
        // Nothing a client sends may take the server down.
        this.ctx.log.error('frame handling failed', { error });
      }
    });
    this.chain = next;
    void this.ctx.track(next);
  }

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (!this.isOpen) return; // closed while the frame sat in a stall
    try {
      if (isBinary) return this.onUnreadable(new ChatError('BAD_REQUEST', 'binary frames are not accepted; send UTF-8 JSON text'));
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
      const frame = readClientFrame(text);
      if (frame.kind === 'unreadable') return this.onUnreadable(frame.error);
      // Taken on arrival, so a flood is refused as it comes, whatever is still being handled.
      const waitMs = this.bucket.take();
      if (waitMs > 0) {
        const error = new ChatError('RATE_LIMITED', 'too many requests', { retryAfterMs: waitMs });
        return this.enqueue(() => this.send(replyErrorFrame(frame.requestId, error.toBody())));
      }
      this.enqueue(async () => {
        if (this.heldBytes > this.ctx.options.maxBufferedBytes / 4) {
          // A client that does not read what it asked for gets no more until it does.
          const error = new ChatError('RATE_LIMITED', 'earlier replies are still unread', { retryAfterMs: 1000 });
          return this.send(replyErrorFrame(frame.requestId, error.toBody()));
        }
        try {
          this.ctx.limits.request(this.ip, this.auth?.user.id, frame.kind === 'request' && PAGED_ACTIONS.has(frame.action));
        } catch (error) {
          return this.send(replyErrorFrame(frame.requestId, (error as ChatError).toBody()));
        }
        if (frame.kind === 'invalid') return this.send(replyErrorFrame(frame.requestId, frame.error.toBody()));
        await this.onRequest(frame.requestId, frame.action, frame.data);
      });
    } catch (error) {
      // Nothing a client sends may take the server down.
      this.ctx.log.error('frame handling failed', { error });
    }
  }

  private onUnreadable(error: ChatError): void {
    this.unreadable++;
    const close = this.unreadable >= MAX_UNREADABLE_FRAMES;
    this.enqueue(() => {
      this.send(errorFrame(error.toBody()));
      if (close) this.close(CloseCode.POLICY, 'too many unreadable frames');
    });
  }

  private async onRequest(requestId: string, action: ActionName, raw: Record<string, unknown>): Promise<void> {
    let after: (() => void) | undefined;
    try {
      if (!this.auth && !UNAUTHENTICATED_ACTIONS.has(action)) {
        throw new ChatError('UNAUTHENTICATED', 'sign in with create_connection first');
      }
      if (this.auth && !this.ctx.sessions.isLive(this.auth.session)) {
        // The session's lifetime ended while this connection was open: answer, then drop it.
        this.send(replyErrorFrame(requestId, new ChatError('UNAUTHENTICATED', 'the session has expired').toBody()));
        this.close(CloseCode.SESSION_REVOKED, 'session expired');
        return;
      }
      const parsed = parseRequest(action, raw);
      if (!parsed.ok) throw parsed.error;
      const result = await runAction(this.ctx, this, action, parsed.value);
      after = result.after;
      const frame = textFrame(JSON.stringify(replyFrame(requestId, result.data)));
      this.sendFrame(frame);
      // Charged by what it cost: a history page of 1.6 MB counts as such, not as one request.
      if (this.auth) this.ctx.limits.sent(this.ip, this.auth.user.id, frame.length);
    } catch (error) {
      if (!isChatError(error)) this.ctx.log.error(`${action} failed`, { error });
      const body = isChatError(error) ? error.toBody() : new ChatError('INTERNAL', 'the server failed; nothing was written').toBody();
      this.send(replyErrorFrame(requestId, body));
      return;
    }
    // Events caused by the request go out after its reply.
    after?.();
  }
}
