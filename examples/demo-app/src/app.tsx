import { useChatEvent, useSession } from '@chat/react';
import { useEffect, useState } from 'react';
import { client } from './client.js';
import { ConnectionBanner } from './connection-banner.js';
import { CreateRoom } from './create-room.js';
import { ChatView } from './chat-view.js';
import { Login } from './login.js';
import { RoomList } from './room-list.js';
import { navigate, useRoute } from './route.js';
import { StatusLine } from './status-line.js';
import { rememberUser } from './users.js';

export function App() {
  const session = useSession();
  const route = useRoute();
  const [ready, setReady] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  // A stored session resumes by itself; until then we do not know whether to show the login.
  useEffect(() => {
    let live = true;
    const done = () => live && setReady(true);
    client.ready.then(done, done);
    return () => {
      live = false;
    };
  }, []);

  useChatEvent('session', (next, reason) => {
    if (next) {
      rememberUser(next.user);
      setNotice(null);
    } else if (reason === 'revoked' || reason === 'rejected') {
      setNotice('You were signed out (the session ended elsewhere). Log in again.');
    }
  });

  if (!ready) return <div className="splash" aria-busy="true">Loading…</div>;
  if (!session) return <Login notice={notice} />;
  rememberUser(session.user);

  return (
    <div className="app">
      <ConnectionBanner />
      <div className="layout">
        <aside className="sidebar" aria-label="Rooms">
          <header className="sidebar-head">
            <div className="me">
              <span className="me-name">{session.user.name}</span>
              <span className="me-email">{session.user.email}</span>
            </div>
            <button
              type="button"
              className="ghost"
              onClick={() => {
                navigate({ name: 'home' });
                void client.logout();
              }}
            >
              Log out
            </button>
          </header>
          <button type="button" className="primary new-room" onClick={() => navigate({ name: 'new' })} aria-pressed={route.name === 'new'}>
            + New room
          </button>
          <RoomList activeRoomId={route.name === 'room' ? route.roomId : null} />
          <StatusLine />
        </aside>
        <main className="main">
          {route.name === 'room' ? (
            <ChatView key={route.roomId} roomId={route.roomId} />
          ) : route.name === 'new' ? (
            <CreateRoom />
          ) : (
            <div className="empty-main">
              <h1>Welcome, {session.user.name}</h1>
              <p>Pick a room on the left, or start a new one.</p>
            </div>
          )}
        </main>
      </div>
    </div>
  );
}
