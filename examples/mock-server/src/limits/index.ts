import { ChatError } from '@chat/sdk/protocol';
import type { LimitSettings, Rate } from '../options.js';
import type { LimitStore } from './store.js';

export { MemoryLimitStore, type LimitStore } from './store.js';
export { SharedLimitStore } from './shared-store.js';

const DAY_SECONDS = 86_400;

/**
 * The limits that hold across connections: per user and per address. Everything the
 * server counts goes through here, over a `LimitStore`, so one store shared by several
 * processes limits them together. A refusal is a `ChatError` RATE_LIMITED with
 * `retryAfterMs`, or `false` where the caller closes the connection (1013).
 */
export class Limits {
  private readonly uploadDay: Rate;

  constructor(
    readonly settings: LimitSettings,
    private readonly store: LimitStore,
  ) {
    this.uploadDay = { perSecond: settings.uploadBytesPerDay / DAY_SECONDS, burst: settings.uploadBytesPerDay };
  }

  /** A new socket from `ip`: false when the address has its maximum open. */
  openConnection(ip: string): boolean {
    return this.store.acquire(`conn:ip:${ip}`, this.settings.connectionsPerIp);
  }

  /** A new socket from `ip`, before anything else: 0 when taken, else ms until the address may open another. */
  acceptSocket(ip: string): number {
    return this.store.take(`accept:ip:${ip}`, this.settings.ipAccepts);
  }

  closeConnection(ip: string): void {
    this.store.release(`conn:ip:${ip}`);
  }

  /**
   * Before a sign-in: with a shared store, learns how many connections the user holds on
   * the other processes, so that `bindUser` decides on the whole cluster's count.
   */
  async beforeBind(userId: string): Promise<void> {
    await this.store.refresh?.(`conn:user:${userId}`);
  }

  /** A connection signs in as `userId`: false when the user has its maximum open. */
  bindUser(userId: string): boolean {
    return this.store.acquire(`conn:user:${userId}`, this.settings.connectionsPerUser);
  }

  unbindUser(userId: string): void {
    this.store.release(`conn:user:${userId}`);
  }

  /**
   * Any request: the address's rate and byte debt, then the user's. A request that can
   * answer a big page (`paged`) also waits while the whole server is in byte debt, so that
   * many readers together cannot hold up everyone's small requests.
   */
  request(ip: string, userId: string | undefined, paged = false): void {
    this.check(this.store.take(`req:ip:${ip}`, this.settings.ipRequests), 'too many requests from this address');
    if (paged) this.check(this.store.wait('bytes:server', this.settings.serverBytes), 'the server is sending a lot of data; ask again shortly');
    this.check(this.store.wait(`bytes:ip:${ip}`, this.settings.ipBytes), 'too much data asked for from this address; wait before asking for more');
    if (userId === undefined) return;
    this.check(this.store.wait(`bytes:user:${userId}`, this.settings.userBytes), 'too much data asked for; wait before asking for more');
    this.check(this.store.take(`req:user:${userId}`, this.settings.userRequests), 'too many requests for this user');
  }

  /** Bytes of a reply sent to the user at `ip`: charged to both after the fact; their next request is refused while either is in debt. */
  sent(ip: string, userId: string, bytes: number): void {
    this.store.charge(`bytes:user:${userId}`, this.settings.userBytes, bytes);
    this.store.charge(`bytes:ip:${ip}`, this.settings.ipBytes, bytes);
    this.store.charge('bytes:server', this.settings.serverBytes, bytes);
  }

  message(userId: string): void {
    this.check(this.store.take(`msg:user:${userId}`, this.settings.userMessages), 'too many messages; slow down');
  }

  signup(ip: string): void {
    this.check(this.store.take(`signup:ip:${ip}`, this.settings.signupsPerIp), 'too many sign-ups from this address');
  }

  /**
   * A `typing` frame from `ip`: every user at the address together (the per-user limit is
   * the typing tracker's), so many accounts on one address cannot flood rooms with typing.
   */
  typing(ip: string): void {
    this.check(this.store.take(`typing:ip:${ip}`, this.settings.ipTyping), 'too many typing frames from this address');
  }

  room(userId: string): void {
    this.check(this.store.take(`room:user:${userId}`, this.settings.roomsPerUser), 'too many rooms created; try later');
  }

  /** An upload begins: false when the user has its maximum in progress. */
  uploadStarted(userId: string): boolean {
    return this.store.acquire(`upload:user:${userId}`, this.settings.concurrentUploads);
  }

  uploadEnded(userId: string): void {
    this.store.release(`upload:user:${userId}`);
  }

  /** Bytes of an upload against the user's daily quota: 0 when granted, else ms to wait. */
  uploadBytes(userId: string, bytes: number): number {
    return this.store.take(`upload-bytes:user:${userId}`, this.uploadDay, bytes);
  }

  private check(waitMs: number, message: string): void {
    if (waitMs > 0) throw new ChatError('RATE_LIMITED', message, { retryAfterMs: waitMs });
  }
}
