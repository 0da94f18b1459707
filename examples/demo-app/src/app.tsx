import { useChatEvent, useSession, useSessionStatus } from '@chat/react';
import { useState } from 'react';
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
  // A stored session resumes by itself; until it has, nobody knows whether to show the
  // sign-in form: a spinner, never the form, while 'resuming'.
  const status = useSessionStatus();
  const session = useSession();
  const route = useRoute();
  const [notice, setNotice] = useState<string | null>(null);
  const [switching, setSwitching] = useState(false);

  useChatEvent('session', (next, reason) => {
    if (next) {
      rememberUser(next.user);
      setNotice(null);
    } else {
      setSwitching(false);
      if (reason === 'revoked' || reason === 'rejected') setNotice('You were signed out (the session ended elsewhere). Log in again.');
    }
  });

  if (!session) {
    if (status === 'signed-out') return <Login notice={notice} />;
    return (
      <div className="splash" aria-busy="true" aria-label="Loading">
        <span className="spinner" aria-hidden="true" />
        Loading…
      </div>
    );
  }
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
            <div className="me-actions">
              <button type="button" className="ghost" aria-haspopup="dialog" aria-expanded={switching} onClick={() => setSwitching(true)}>
                Switch person
              </button>
              <button
                type="button"
                className="ghost"
                onClick={() => {
                  navigate({ name: 'home' });
                  setSwitching(false);
                  void client.logout();
                }}
              >
                Log out
              </button>
            </div>
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
      {switching && (
        <Login
          current={session.user}
          onCancel={() => setSwitching(false)}
          onSignedIn={() => {
            // The room open now is the previous person's.
            navigate({ name: 'home' });
            setSwitching(false);
          }}
        />
      )}
    </div>
  );
}
