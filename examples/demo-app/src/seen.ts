import { useSyncExternalStore } from 'react';

/**
 * The last seq the user has seen in each room, kept in localStorage per user, so the room
 * list can mark rooms with news. Protocol v1 has no read receipts (`mark_read` is reserved
 * for v2), so this is the demo's own, per browser.
 */
type Seen = Readonly<Record<string, number>>;

const listeners = new Set<() => void>();
const cache = new Map<string, Seen>();
const EMPTY: Seen = {};

const key = (userId: string) => `chat-demo:seen:${userId}`;

function read(userId: string): Seen {
  let seen = cache.get(userId);
  if (!seen) {
    try {
      seen = JSON.parse(localStorage.getItem(key(userId)) ?? '{}') as Seen;
    } catch {
      seen = EMPTY;
    }
    cache.set(userId, seen);
  }
  return seen;
}

export function markSeen(userId: string, roomId: string, seq: number): void {
  const seen = read(userId);
  if ((seen[roomId] ?? 0) >= seq) return;
  const next = { ...seen, [roomId]: seq };
  cache.set(userId, next);
  try {
    localStorage.setItem(key(userId), JSON.stringify(next));
  } catch {
    // Storage full or blocked: the marker just lives as long as the page.
  }
  for (const listener of listeners) listener();
}

// Another tab of the same user read a room: follow it.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (!event.key?.startsWith('chat-demo:seen:')) return;
    cache.delete(event.key.slice('chat-demo:seen:'.length));
    for (const listener of listeners) listener();
  });
}

const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

export function useSeen(userId: string | null): Seen {
  return useSyncExternalStore(subscribe, () => (userId ? read(userId) : EMPTY), () => EMPTY);
}
