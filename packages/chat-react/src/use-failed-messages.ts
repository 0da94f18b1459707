import type { ChatMessage, RoomMessagesSnapshot } from '@chat/sdk';
import { useRoomStore } from './use-room-store.js';
import { useStore } from './use-store.js';

const SERVER: RoomMessagesSnapshot = { messages: [], hasMore: false, loading: true };

const failedOf = (snapshot: RoomMessagesSnapshot): readonly ChatMessage[] => snapshot.messages.filter((m) => m.status === 'failed');

const sameList = (a: readonly ChatMessage[], b: readonly ChatMessage[]): boolean =>
  a.length === b.length && a.every((message, i) => message === b[i]);

/**
 * The room's messages that failed and wait for the user (retry or discard them with
 * `useMessageActions`), e.g. for a banner. Re-renders only when that list changes.
 */
export function useFailedMessages(roomId: string): readonly ChatMessage[] {
  return useStore(useRoomStore(roomId), SERVER, failedOf, sameList);
}
