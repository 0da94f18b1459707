import type { Message, ReplyData, Room } from '../protocol/index.js';
import type { HostCommand } from '../contract/host-api.js';
import type { HostContext } from '../contract/host-context.js';
import type { RoomList } from '../features/rooms/host.js';
import { RoomSync } from './room-sync.js';

/**
 * Server messages on their way to the clients: each delivered once (a sender hears of its
 * message from the reply and from the event), gapless per room (RoomSync), cached where it
 * joins what a client holds, and bumping its room in the list.
 */
export class Delivery {
  private readonly delivered = new RecentIds(2048);
  private readonly sync: RoomSync;

  constructor(
    private readonly host: HostContext,
    private readonly rooms: RoomList,
    /** Called with each batch before it bumps its room (read state counts unread messages). */
    private readonly beforeBump: (roomId: string, messages: readonly Message[]) => void = () => {},
  ) {
    this.sync = new RoomSync({
      fetchAfter: (roomId, after) => host.request('get_messages', { roomId, after, limit: 100 }),
      deliver: (roomId, messages) => this.deliver(roomId, messages),
      onError: (error) => host.report(error),
    });
  }

  /** A live message (event or send acknowledgement). */
  accept(message: Message): void {
    this.deliver(message.roomId, [message]);
    this.sync.observeMessage(message);
  }

  /** A history page a client asked for: it anchors the room's delivery and goes to the cache. */
  async history(command: Extract<HostCommand, { type: 'history' }>): Promise<ReplyData<'get_messages'>> {
    const { type: _type, ...data } = command;
    const reply = await this.host.request('get_messages', data);
    // What the page may hold: each seq once, inside the asked range (a server's mistakes stop here).
    const seen = new Set<number>();
    const page = {
      ...reply,
      messages: reply.messages.filter((m) => {
        const fits = m.roomId === command.roomId && (command.after === undefined || m.seq > command.after) && (command.before === undefined || m.seq < command.before);
        if (!fits || seen.has(m.seq)) return false;
        seen.add(m.seq);
        return true;
      }),
    };
    const query: { before?: number; after?: number } = {};
    if (command.before !== undefined) query.before = command.before;
    if (command.after !== undefined) query.after = command.after;
    this.sync.observePage(command.roomId, query, page);
    this.cache(command.roomId, page.messages);
    return page;
  }

  /** After a reconnect: fetch what tracked rooms missed. */
  catchUp(rooms: readonly Room[]): Promise<void> {
    return this.sync.catchUp(rooms);
  }

  reset(): void {
    this.sync.reset();
  }

  /** The user left the room: no catch-up, and its cached messages go. */
  forget(roomId: string): void {
    this.sync.forget(roomId);
    const session = this.host.session();
    if (session) this.host.track(this.host.storage.cache.deleteMessages(session.user.id, roomId));
  }

  /**
   * Each message once: by id, and by seq where the room is tracked or within one batch, so
   * a server sending a seq twice (or one already delivered) cannot put it in a store twice.
   */
  private deliver(roomId: string, incoming: Message[]): void {
    const seqs = new Set<number>();
    const messages = incoming.filter((message) => {
      if (message.roomId !== roomId || seqs.has(message.seq) || this.sync.holds(roomId, message.seq)) return false;
      seqs.add(message.seq);
      return this.delivered.add(message.id);
    });
    if (messages.length === 0) return;
    this.host.emit({ type: 'messages', roomId, messages });
    this.beforeBump(roomId, messages);
    this.rooms.bump(roomId, messages);
    // Cache only what joins what a client holds: live messages of a room nobody opened would
    // leave the cache an island above a hole, shown as if it were the room's newest page.
    if (this.sync.watermark(roomId) !== undefined) this.cache(roomId, messages);
  }

  private cache(roomId: string, messages: Message[]): void {
    const session = this.host.session();
    if (!session || messages.length === 0) return;
    this.host.track(this.host.storage.cache.putMessages(session.user.id, roomId, messages));
  }
}

/** The last `capacity` ids seen; `add` says whether an id is new. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}
