import { type Room, type User, isChatError, MAX_UPLOAD_BYTES } from '@chat/sdk';

export function formatTime(ms: number): string {
  const date = new Date(ms);
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export const MAX_UPLOAD_LABEL = formatBytes(MAX_UPLOAD_BYTES);

/** A room's title: its name, or the other members' names. */
export function roomTitle(room: Room, me: string | null, lookup: (id: string) => User | undefined): string {
  if (room.name) return room.name;
  const others = room.memberIds.filter((id) => id !== me);
  if (others.length === 0) return 'Just you';
  const names = others.map((id) => lookup(id)?.name ?? '…');
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} +${names.length - 3}` : names.join(', ');
}

/** A sentence a person can act on, for any error the SDK throws. */
export function describeError(error: unknown): string {
  if (isChatError(error)) {
    switch (error.code) {
      case 'CONFLICT':
        return 'An account with this email already exists. Log in instead.';
      case 'NOT_FOUND':
        return error.message.includes('user') ? 'No account with this email yet. Sign up first.' : error.message;
      case 'TIMEOUT':
      case 'NETWORK':
      case 'CLOSED':
        return `The server cannot be reached right now (${error.code}: ${error.message}). Try again in a moment.`;
      case 'FORBIDDEN':
        return 'The server does not allow this.';
      default:
        return error.message;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
