import type { Room } from '@chat/sdk';
import { useCallback } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const SERVER: Room[] = [];

/** A room list fetched again (on reconnect) brings new objects with the same data: keep the old one. */
function sameRoom(a: Room | undefined, b: Room | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.id === b.id && a.name === b.name && a.lastSeq === b.lastSeq && a.memberIds.join() === b.memberIds.join();
}

/**
 * One room of the user's list, or undefined (not a member, or the list is not loaded yet).
 * Re-renders only when this room changes, not when another one does.
 */
export function useRoom(roomId: string): Room | undefined {
  const select = useCallback((rooms: Room[]) => rooms.find((room) => room.id === roomId), [roomId]);
  return useStore(useChatClient().rooms, SERVER, select, sameRoom);
}
