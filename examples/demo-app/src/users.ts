import type { User } from '@chat/sdk';
import { useUsers } from '@chat/react';
import { useMemo, useState } from 'react';

/** Every user the page has been told about; names stay on screen while a new lookup loads. */
const known = new Map<string, User>();

export function rememberUser(user: User): void {
  known.set(user.id, user);
}

/**
 * Names the given user ids (`get_users { ids }` through useUsers, at most 100 a request).
 * Returns a lookup; it also knows everyone an earlier lookup found.
 */
export function useUserLookup(ids: readonly string[]): (id: string) => User | undefined {
  const wanted = useMemo(() => [...new Set(ids)].filter((id) => !known.has(id)).sort().slice(0, 100), [ids]);
  const { users } = useUsers(wanted.length > 0 ? { ids: wanted } : null);
  return useMemo(() => {
    for (const user of users) known.set(user.id, user);
    return (id: string) => known.get(id);
  }, [users]);
}

export function displayName(user: User | undefined, fallback = 'Someone'): string {
  return user?.name ?? fallback;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0]![0], parts[parts.length - 1]![0]] : [parts[0]?.[0], parts[0]?.[1]];
  return letters.filter(Boolean).join('').toUpperCase() || '?';
}

/** A stable soft colour per user id, for avatars. */
export function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 360;
  return h;
}

/** The people ticked in a picker (new room, add people): the set, and a toggle that also remembers their names. */
export function usePicked(): [ReadonlyMap<string, User>, (user: User) => void] {
  const [picked, setPicked] = useState<ReadonlyMap<string, User>>(new Map());
  function toggle(user: User) {
    rememberUser(user);
    setPicked((current) => {
      const next = new Map(current);
      if (next.has(user.id)) next.delete(user.id);
      else next.set(user.id, user);
      return next;
    });
  }
  return [picked, toggle];
}
