import type { Room } from '@chat/sdk';
import { useChatClient, useUsers } from '@chat/react';
import { type FormEvent, useId, useState } from 'react';
import { describeError } from './format.js';
import { navigate } from './route.js';
import { usePicked } from './users.js';

/** "Add people" in the room header: search the directory, tick people, add them (any member may). */
export function AddPeople({ room, onDone }: { room: Room; onDone(): void }) {
  const client = useChatClient();
  const id = useId();
  const [search, setSearch] = useState('');
  const query = search.trim();
  const { users, loading } = useUsers(query ? { query, limit: 20 } : { limit: 20 });
  const [picked, toggle] = usePicked();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const candidates = users.filter((user) => !room.memberIds.includes(user.id));

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (picked.size === 0) return;
    setBusy(true);
    setError(null);
    try {
      await client.addMembers(room.id, [...picked.keys()]);
      onDone();
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  }

  return (
    <form className="room-panel" onSubmit={submit} aria-label="Add people">
      <label htmlFor={`${id}-search`}>Add people</label>
      <input id={`${id}-search`} type="search" autoFocus placeholder="Search by name or email" value={search} onChange={(e) => setSearch(e.target.value)} />
      <fieldset className="people" aria-busy={loading}>
        <legend className="sr-only">Choose people to add</legend>
        {!loading && candidates.length === 0 && <p className="muted">{query ? `Nobody else matches “${query}”.` : 'Everyone is here already.'}</p>}
        {candidates.map((user) => (
          <label key={user.id} className={`person${picked.has(user.id) ? ' picked' : ''}`}>
            <input type="checkbox" checked={picked.has(user.id)} onChange={() => toggle(user)} />
            <span className="person-text">
              <span className="person-name">{user.name}</span>
              <span className="person-email">{user.email}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="panel-actions">
        <button type="submit" className="primary" disabled={busy || picked.size === 0}>
          {picked.size === 0 ? 'Choose someone' : `Add ${picked.size} ${picked.size === 1 ? 'person' : 'people'}`}
        </button>
        <button type="button" className="ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** "Leave room": asks first; leaving can also stop whoever added you from adding you again. */
export function LeaveRoom({ room, title, onDone }: { room: Room; title: string; onDone(): void }) {
  const client = useChatClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function leave(block: boolean) {
    setBusy(true);
    setError(null);
    try {
      await client.leaveRoom(room.id, { block });
      navigate({ name: 'home' });
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  }

  return (
    <div className="room-panel" role="group" aria-label="Leave room">
      <p>
        Leave “{title}”? The others keep the room and its messages; you stop getting them.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="panel-actions">
        <button type="button" className="primary" disabled={busy} onClick={() => void leave(false)}>
          Leave
        </button>
        <button type="button" disabled={busy} onClick={() => void leave(true)}>
          Leave and block who added me
        </button>
        <button type="button" className="ghost" onClick={onDone}>
          Cancel
        </button>
      </div>
    </div>
  );
}
