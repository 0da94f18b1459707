import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import {
  useChatClient,
  useChatEvent,
  useConnection,
  useMessages,
  useRoom,
  useRooms,
  useSendMessage,
  useSession,
  useUsers,
} from '@chat/react';
import { client, email, pair, providing, server, serverPerFile, signedIn, until } from './helpers.js';

const srv = serverPerFile();

function Messages({ roomId }: { roomId: string }) {
  const { messages, hasMore, loading, loadOlder } = useMessages(roomId);
  return (
    <div>
      <p data-testid="meta">{`${messages.length} ${hasMore ? 'more' : 'all'} ${loading ? 'loading' : 'idle'}`}</p>
      <button onClick={() => void loadOlder()}>older</button>
      <ul>
        {messages.map((m) => (
          <li key={m.clientId} data-testid={`msg-${m.text}`} data-status={m.status}>
            {m.text}
          </li>
        ))}
      </ul>
    </div>
  );
}

describe('live hooks against the reference server', () => {
  it('login: the session and connection follow a sign-in from a component', async () => {
    const address = email('carol');
    await client(srv()).signUp({ email: address, name: 'Carol' });
    const c = client(srv());
    function Login() {
      const chat = useChatClient();
      const session = useSession();
      const connection = useConnection();
      if (session) return <p>{`hello ${session.user.name}, ${connection.status}`}</p>;
      return <button onClick={() => void chat.login({ email: address })}>sign in</button>;
    }
    render(<Login />, { wrapper: providing(c) });
    fireEvent.click(screen.getByText('sign in'));
    await screen.findByText('hello Carol, open');
  });

  it('rooms: a room created by someone else appears, and useRoom follows it', async () => {
    const alice = await signedIn(srv(), 'alice');
    const bob = await signedIn(srv(), 'bob');
    function Rooms() {
      const rooms = useRooms();
      return <ul>{rooms.map((r) => <li key={r.id}>{r.name}</li>)}</ul>;
    }
    function One({ id }: { id: string }) {
      const room = useRoom(id);
      return <p data-testid="one">{room ? `${room.name}:${room.lastSeq}` : 'none'}</p>;
    }
    const { rerender } = render(<Rooms />, { wrapper: providing(bob.client) });
    const room = await alice.client.createRoom({ memberIds: [bob.user.id], name: 'planning' });
    await screen.findByText('planning');
    rerender(
      <>
        <Rooms />
        <One id={room.id} />
      </>,
    );
    expect(screen.getByTestId('one').textContent).toBe('planning:0');
    alice.client.send(room.id, { text: 'first' });
    await waitFor(() => expect(screen.getByTestId('one').textContent).toBe('planning:1'));
  });

  it('messages: live from the other member, and an optimistic send turns sent in place', async () => {
    const { alice, bob, room } = await pair(srv());
    function Chat() {
      const send = useSendMessage(room.id);
      return (
        <>
          <Messages roomId={room.id} />
          <button onClick={() => send({ text: 'from bob' })}>send</button>
        </>
      );
    }
    render(<Chat />, { wrapper: providing(bob.client) });
    await waitFor(() => expect(screen.getByTestId('meta').textContent).toBe('0 all idle'));

    alice.client.send(room.id, { text: 'from alice' });
    await screen.findByTestId('msg-from alice');

    act(() => fireEvent.click(screen.getByText('send')));
    // Optimistic: in the list at once, before the server answered.
    const mine = screen.getByTestId('msg-from bob');
    expect(mine.getAttribute('data-status')).toBe('pending');
    await waitFor(() => expect(screen.getByTestId('msg-from bob').getAttribute('data-status')).toBe('sent'));
    // The same element: the key (clientId) never changed.
    expect(screen.getByTestId('msg-from bob')).toBe(mine);
    await until(alice.client.messages(room.id), (s) => s.messages.some((m) => m.text === 'from bob' && m.status === 'sent'));
  });

  it('loadOlder pages history in and reports hasMore', async () => {
    const { alice, bob, room } = await pair(srv());
    for (let i = 1; i <= 55; i++) alice.client.send(room.id, { text: `m${i}` });
    await until(alice.client.messages(room.id), (s) => s.messages.length === 55 && s.messages.every((m) => m.status === 'sent'), 10_000);
    // A fresh device for bob (bob's own client cached the live messages as they came).
    const reader = client(srv());
    await reader.login({ email: bob.user.email });
    render(<Messages roomId={room.id} />, { wrapper: providing(reader) });
    await waitFor(() => expect(screen.getByTestId('meta').textContent).toBe('50 more idle'));
    expect(screen.queryByTestId('msg-m5')).toBeNull();
    fireEvent.click(screen.getByText('older'));
    await waitFor(() => expect(screen.getByTestId('meta').textContent).toBe('55 all idle'));
    expect(screen.getAllByRole('listitem').map((li) => li.textContent).slice(0, 3)).toEqual(['m1', 'm2', 'm3']);
  });

  it('a new user on the same client never sees the last user\'s messages', async () => {
    const { alice, room } = await pair(srv());
    const carol = await signedIn(srv(), 'carol');
    alice.client.send(room.id, { text: 'for alice and bob' });
    render(<Messages roomId={room.id} />, { wrapper: providing(alice.client) });
    await waitFor(() => expect(screen.getByTestId('msg-for alice and bob').getAttribute('data-status')).toBe('sent'));
    await act(() => alice.client.logout());
    await act(async () => {
      await alice.client.login({ email: carol.user.email });
    });
    await until(alice.client.connection, (s) => s.status === 'open');
    await waitFor(() => expect(screen.getByTestId('meta').textContent).toMatch(/^0 .* idle$/));
    expect(screen.queryByTestId('msg-for alice and bob')).toBeNull();
  });

  it('useUsers searches the directory and names senders by id', async () => {
    const { alice, bob } = await pair(srv());
    function Search() {
      const [query, setQuery] = useState<string | null>(null);
      const found = useUsers(query === null ? null : { query, limit: 10 });
      const byId = useUsers({ ids: [bob.user.id] });
      return (
        <>
          <button onClick={() => setQuery('bob')}>search</button>
          <p data-testid="found">{found.loading ? 'loading' : found.users.map((u) => u.id).join(',') || 'none'}</p>
          <p data-testid="named">{byId.users.map((u) => u.name).join(',')}</p>
        </>
      );
    }
    render(<Search />, { wrapper: providing(alice.client) });
    expect(screen.getByTestId('found').textContent).toBe('none');
    await waitFor(() => expect(screen.getByTestId('named').textContent).toBe('bob'));
    fireEvent.click(screen.getByText('search'));
    await waitFor(() => expect(screen.getByTestId('found').textContent).toContain(bob.user.id));
  });

  it('useChatEvent hears events through the latest handler, subscribing once', async () => {
    const { alice, bob, room } = await pair(srv());
    const heard: string[] = [];
    function Listener({ tag }: { tag: string }) {
      useChatEvent('messages', (roomId, messages) => {
        heard.push(`${tag}:${roomId === room.id}:${messages.map((m) => m.text).join()}`);
      });
      return null;
    }
    const { rerender } = render(<Listener tag="first" />, { wrapper: providing(bob.client) });
    rerender(<Listener tag="second" />);
    expect(bob.client.listenerCount('messages')).toBe(1);
    alice.client.send(room.id, { text: 'ping' });
    await waitFor(() => expect(heard).toContain('second:true:ping'));
    expect(heard.some((h) => h.startsWith('first'))).toBe(false);
    cleanup();
    expect(bob.client.listenerCount('messages')).toBe(0);
  });
});
