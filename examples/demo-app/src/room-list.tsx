import type { Room } from '@chat/sdk';
import { useRooms, useUserId } from '@chat/react';
import { useMemo } from 'react';
import { formatTime, roomTitle } from './format.js';
import { navigate } from './route.js';
import { useSeen } from './seen.js';
import { useUserLookup } from './users.js';

/** The user's rooms, live, most recent activity first (the SDK keeps that order). */
export function RoomList({ activeRoomId }: { activeRoomId: string | null }) {
  const rooms = useRooms();
  const me = useUserId();
  const seen = useSeen(me);
  const memberIds = useMemo(() => rooms.flatMap((room) => room.memberIds), [rooms]);
  const lookup = useUserLookup(memberIds);

  if (rooms.length === 0) {
    return <p className="rooms-empty muted">No rooms yet. Start one with “New room”.</p>;
  }
  return (
    <nav className="rooms" aria-label="Your rooms">
      <ul>
        {rooms.map((room) => {
          const last = room.lastMessage;
          const unread = room.id !== activeRoomId && room.lastSeq > (seen[room.id] ?? 0) && last !== null && last.senderId !== me;
          const title = roomTitle(room, me, lookup);
          return (
            <li key={room.id}>
              <button
                type="button"
                className={`room${room.id === activeRoomId ? ' active' : ''}${unread ? ' unread' : ''}`}
                aria-current={room.id === activeRoomId ? 'page' : undefined}
                aria-label={`${title}${unread ? ', new messages' : ''}`}
                onClick={() => navigate({ name: 'room', roomId: room.id })}
              >
                <span className="room-top">
                  <span className="room-title">{title}</span>
                  <span className="room-time">{formatTime(last?.createdAt ?? room.createdAt)}</span>
                </span>
                <span className="room-bottom">
                  <span className="room-preview">{preview(room, me, lookup)}</span>
                  {unread && <span className="unread-dot" title="New messages" data-unread="true" />}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function preview(room: Room, me: string | null, lookup: ReturnType<typeof useUserLookup>): string {
  const last = room.lastMessage;
  if (!last) return 'No messages yet';
  const who = last.senderId === me ? 'You' : (lookup(last.senderId)?.name ?? '…');
  const what = last.text.trim() ? last.text.replace(/\s+/g, ' ') : last.image ? 'sent a picture' : '';
  return `${who}: ${what}`;
}
