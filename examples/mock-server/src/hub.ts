import { CloseCode, type ProtocolVersion } from '@chat/sdk/protocol';
import type { Connection } from './connection.js';
import type { BusMessage } from './redis-bus.js';
import { textFrame } from './text-frame.js';

export interface ServerStats {
  /** Open sockets. */
  connections: number;
  /** Open sockets that have authenticated. */
  authenticated: number;
  /** Open authenticated sockets per user id. */
  perUser: Record<string, number>;
}

/**
 * The registry of open connections, indexed by user and by session, and the fan-out of
 * events. Fan-out never waits: each connection's send checks its own buffer (1013).
 */
export class Hub {
  private readonly all = new Set<Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly bySession = new Map<string, Set<Connection>>();
  /** Presence hooks: a user's first authenticated connection opened, their last one closed. */
  onFirstConnection: (userId: string) => void = () => {};
  onLastConnection: (userId: string) => void = () => {};
  /**
   * With Redis (`CHAT_REDIS`): every broadcast and session close is also handed here, to be
   * published to the other processes, which deliver it with `receive`.
   */
  relay: ((message: BusMessage) => void) | undefined;

  add(connection: Connection): void {
    this.all.add(connection);
  }

  /** Called once a connection has authenticated. */
  bind(connection: Connection, userId: string, sessionId: string): void {
    const first = !this.byUser.has(userId);
    addTo(this.byUser, userId, connection);
    addTo(this.bySession, sessionId, connection);
    if (first) this.onFirstConnection(userId);
  }

  remove(connection: Connection): void {
    this.all.delete(connection);
    const auth = connection.auth;
    if (auth) {
      const last = removeFrom(this.byUser, auth.user.id, connection);
      removeFrom(this.bySession, auth.session.id, connection);
      if (last) this.onLastConnection(auth.user.id);
    }
  }

  /**
   * Sends one event to every open connection of every listed user; serialised and encoded once.
   * `since` keeps an event of a later protocol version from connections that signed in
   * with an earlier one (they would ignore it anyway; this saves the bytes). `except`: the
   * connection that caused it, when it must not hear of it (typing).
   */
  broadcast(userIds: Iterable<string>, frame: object, since: ProtocolVersion = 1, except?: Connection): void {
    const text = JSON.stringify(frame);
    const users = [...new Set(userIds)];
    this.deliver(users, text, since, except);
    // `except` is a connection of this process: the others deliver to all of theirs.
    this.relay?.({ kind: 'broadcast', userIds: users, text, since });
  }

  /** Closes every connection of a session but `except` with `code`, in every process (with Redis). */
  closeSession(sessionId: string, code: number, reason: string, except?: Connection): void {
    this.closeLocal(sessionId, code, reason, except);
    this.relay?.({ kind: 'closeSession', sessionId, code, reason });
  }

  /** A broadcast or session close published by another process: applied to this process's connections only. */
  receive(message: BusMessage): void {
    if (message.kind === 'broadcast') this.deliver(message.userIds, message.text, message.since);
    else if (message.kind === 'closeSession') this.closeLocal(message.sessionId, message.code, message.reason);
  }

  private deliver(userIds: Iterable<string>, text: string, since: number, except?: Connection): void {
    // Framed once for the whole room: the same bytes go to every socket.
    let frame: Buffer | undefined;
    for (const userId of userIds) {
      const connections = this.byUser.get(userId);
      if (!connections) continue;
      for (const connection of connections) {
        if (connection !== except && (connection.auth?.protocolVersion ?? 1) >= since) connection.sendFrame((frame ??= textFrame(text)));
      }
    }
  }

  private closeLocal(sessionId: string, code: number, reason: string, except?: Connection): void {
    for (const connection of [...(this.bySession.get(sessionId) ?? [])]) {
      if (connection !== except) connection.close(code, reason);
    }
  }

  /** Whether the user has an authenticated connection open. */
  isConnected(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /**
   * When all connections together hold more than `max` unsent bytes, closes (1013) those
   * holding most until they do not: the process's memory for slow readers stays bounded.
   */
  enforceHeldBytes(max: number): void {
    let total = 0;
    for (const connection of this.all) total += connection.heldBytes;
    if (total <= max) return;
    const heaviest = [...this.all].sort((a, b) => b.heldBytes - a.heldBytes);
    for (const connection of heaviest) {
      if (total <= max) break;
      total -= connection.heldBytes;
      connection.close(CloseCode.TRY_AGAIN_LATER, 'too far behind (server memory)');
    }
  }

  connections(): Connection[] {
    return [...this.all];
  }

  stats(): ServerStats {
    const perUser: Record<string, number> = {};
    let authenticated = 0;
    for (const [userId, set] of this.byUser) {
      perUser[userId] = set.size;
      authenticated += set.size;
    }
    return { connections: this.all.size, authenticated, perUser };
  }
}

function addTo(map: Map<string, Set<Connection>>, key: string, connection: Connection): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(connection);
}

/** True when this removed the key's last connection. */
function removeFrom(map: Map<string, Set<Connection>>, key: string, connection: Connection): boolean {
  const set = map.get(key);
  if (!set?.delete(connection)) return false;
  if (set.size > 0) return false;
  map.delete(key);
  return true;
}
