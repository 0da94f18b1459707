import type { WebSocket } from 'ws';
import {
  ChatError,
  CloseCode,
  MAX_UNREADABLE_FRAMES,
  UNAUTHENTICATED_ACTIONS,
  type ActionName,
  errorFrame,
  isChatError,
  parseRequestData,
  readClientFrame,
  replyErrorFrame,
  replyFrame,
  type ProtocolVersion,
} from '@chat/sdk/protocol';
import type { ServerContext } from './context.js';
import { runAction } from './handlers/index.js';
import { TokenBucket } from './rate-limit.js';
import type { Authenticated } from './sessions.js';

/**
 * One WebSocket and its state: who is signed in on it, its rate-limit bucket, how many
 * unreadable frames it sent, its authentication deadline and its heartbeat misses.
 * Frames are handled one at a time, synchronously, in arrival order (a stall queues them).
 */
export class Connection {
  auth: (Omit<Authenticated, 'token'> & { protocolVersion: ProtocolVersion }) | undefined;
  private readonly bucket: TokenBucket;
  private unreadable = 0;
  private missedPongs = 0;
  private authTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    readonly ws: WebSocket,
    private readonly ctx: ServerContext,
  ) {
    const { rateLimit, authTimeoutMs } = ctx.options;
    this.bucket = new TokenBucket(rateLimit.perSecond, rateLimit.burst);
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

  /** Sends without waiting; a connection whose send buffer passes the cap is closed with 1013. */
  sendText(text: string): void {
    if (!this.isOpen) return;
    this.ws.send(text);
    if (this.ws.bufferedAmount > this.ctx.options.maxBufferedBytes) {
      this.ctx.log.warn('connection too far behind; closing 1013', { buffered: this.ws.bufferedAmount });
      this.close(CloseCode.TRY_AGAIN_LATER, 'too far behind');
    }
  }

  close(code: number, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    this.ctx.hub.remove(this);
    clearTimeout(this.authTimer);
    try {
      this.ws.close(code, reason);
    } catch {
      this.ws.terminate();
    }
  }

  terminate(): void {
    this.closing = true;
    this.ctx.hub.remove(this);
    this.ws.terminate();
  }

  /** Marks the connection signed in: clears the deadline and indexes it by user and session. */
  authenticate(auth: Omit<Authenticated, 'token'> & { protocolVersion: ProtocolVersion }): void {
    this.auth = auth;
    clearTimeout(this.authTimer);
    this.authTimer = undefined;
    if (!this.closing) this.ctx.hub.bind(this, auth.user.id, auth.session.id);
  }

  private dispose(): void {
    this.closing = true;
    clearTimeout(this.authTimer);
    this.ctx.hub.remove(this);
  }

  private onFrame(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (!this.isOpen) return; // closed while the frame sat in a stall
    try {
      if (isBinary) return this.onUnreadable(new ChatError('BAD_REQUEST', 'binary frames are not accepted; send UTF-8 JSON text'));
      const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
      const frame = readClientFrame(text);
      if (frame.kind === 'unreadable') return this.onUnreadable(frame.error);
      const waitMs = this.bucket.take();
      if (waitMs > 0) {
        const error = new ChatError('RATE_LIMITED', 'too many requests', { retryAfterMs: waitMs });
        return this.send(replyErrorFrame(frame.requestId, error.toBody()));
      }
      if (frame.kind === 'invalid') return this.send(replyErrorFrame(frame.requestId, frame.error.toBody()));
      this.onRequest(frame.requestId, frame.action, frame.data);
    } catch (error) {
      // Nothing a client sends may take the server down.
      this.ctx.log.error('frame handling failed', { error });
    }
  }

  private onUnreadable(error: ChatError): void {
    this.unreadable++;
    this.send(errorFrame(error.toBody()));
    if (this.unreadable >= MAX_UNREADABLE_FRAMES) this.close(CloseCode.POLICY, 'too many unreadable frames');
  }

  private onRequest(requestId: string, action: ActionName, raw: Record<string, unknown>): void {
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
      const parsed = parseRequestData(action, raw);
      if (!parsed.ok) throw parsed.error;
      const result = runAction(this.ctx, this, action, parsed.value);
      after = result.after;
      this.send(replyFrame(requestId, result.data));
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
