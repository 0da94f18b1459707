import { useChatClient, useUserId, useUsers } from '@chat/react';
import { type CSSProperties, type FormEvent, useEffect, useId, useState } from 'react';
import { describeError } from './format.js';
import { navigate } from './route.js';
import { hue, initials, usePicked } from './users.js';

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

/** Pick one or many people from the directory (searchable), optionally name the room. */
export function CreateRoom() {
  const client = useChatClient();
  const me = useUserId();
  const id = useId();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 200);
  const { users, loading, error: searchError } = useUsers(query ? { query, limit: 30 } : { limit: 30 });
  const [picked, toggle] = usePicked();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const candidates = users.filter((user) => user.id !== me);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (picked.size === 0) return;
    setBusy(true);
    setError(null);
    try {
      const room = await client.createRoom({ memberIds: [...picked.keys()], name: name.trim() || null });
      navigate({ name: 'room', roomId: room.id });
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  }

  return (
    <form className="create-room" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <header className="pane-head">
        <h2 id={`${id}-title`}>New room</h2>
        <button type="button" className="ghost" onClick={() => navigate({ name: 'home' })}>
          Cancel
        </button>
      </header>
      <div className="create-body">
        <label htmlFor={`${id}-search`}>People</label>
        <input
          id={`${id}-search`}
          type="search"
          autoFocus
          placeholder="Search by name, or a whole email"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          aria-controls={`${id}-list`}
        />
        {picked.size > 0 && (
          <ul className="chips" aria-label="Chosen people">
            {[...picked.values()].map((user) => (
              <li key={user.id}>
                <button type="button" className="chip" onClick={() => toggle(user)} aria-label={`Remove ${user.name}`}>
                  {user.name} <span aria-hidden="true">×</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <fieldset className="people" id={`${id}-list`} aria-busy={loading}>
          <legend className="sr-only">Choose people</legend>
          {searchError && <p className="error">{describeError(searchError)}</p>}
          {!loading && candidates.length === 0 && <p className="muted">{query ? `Nobody matches “${query}”.` : 'Nobody else has signed up yet.'}</p>}
          {candidates.map((user) => (
            <label key={user.id} className={`person${picked.has(user.id) ? ' picked' : ''}`}>
              <input type="checkbox" checked={picked.has(user.id)} onChange={() => toggle(user)} />
              <span className="avatar" style={{ '--h': hue(user.id) } as CSSProperties} aria-hidden="true">
                {initials(user.name)}
              </span>
              <span className="person-text">
                <span className="person-name">{user.name}</span>
                {/* The server shows only the signed-in user's own email unless it opts in; others' are ''. */}
                {user.email && <span className="person-email">{user.email}</span>}
              </span>
            </label>
          ))}
        </fieldset>
        <label htmlFor={`${id}-name`}>
          Room name <span className="muted">(optional)</span>
        </label>
        <input id={`${id}-name`} maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Design review" />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || picked.size === 0}>
          {picked.size === 0 ? 'Choose someone first' : `Create room with ${picked.size} ${picked.size === 1 ? 'person' : 'people'}`}
        </button>
      </div>
    </form>
  );
}
