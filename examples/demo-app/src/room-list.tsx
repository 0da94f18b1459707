import type { Room } from '@chat/sdk';
import { useRooms, useUserId } from '@chat/react';
import { useMemo } from 'react';
import { formatTime, roomTitle } from './format.js';
import { navigate } from './route.js';
import { useUserLookup } from './users.js';

/** The user's rooms, live, most recent activity first (the SDK keeps that order). */
export function RoomList({ activeRoomId }: { activeRoomId: string | null }) {
  const rooms = useRooms();
  const me = useUserId();
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
          // From the SDK: messages others sent after the user's read cursor (the open room is read as it goes).
          const unread = room.id === activeRoomId ? 0 : (room.unreadCount ?? 0);
          const title = roomTitle(room, me, lookup);
          return (
            <li key={room.id}>
              <button
                type="button"
                className={`room${room.id === activeRoomId ? ' active' : ''}${unread > 0 ? ' unread' : ''}`}
                aria-current={room.id === activeRoomId ? 'page' : undefined}
                aria-label={`${title}${unread ? `, ${unread} new message${unread === 1 ? '' : 's'}` : ''}`}
                onClick={() => navigate({ name: 'room', roomId: room.id })}
              >
                <span className="room-top">
                  <span className="room-title">{title}</span>
                  <span className="room-time">{formatTime(last?.createdAt ?? room.createdAt)}</span>
                </span>
                <span className="room-bottom">
                  <span className="room-preview">{preview(room, me, lookup)}</span>
                  {unread > 0 && (
                    <span className="unread-count" title="New messages" data-unread={unread}>
                      {unread > 99 ? '99+' : unread}
                    </span>
                  )}
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
  const what = last.deletedAt !== undefined ? 'message deleted' : last.text.trim() ? last.text.replace(/\s+/g, ' ') : last.image ? 'sent a picture' : '';
  return `${who}: ${what}`;
}
