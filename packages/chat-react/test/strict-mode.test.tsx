import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import {
  useChatClient,
  useChatEvent,
  useConnection,
  useDraft,
  useMessages,
  useRooms,
  useSendMessage,
  useSession,
  useUsers,
} from '@chat/react';
import { client, email, pair, providing, server, serverPerFile, until } from './helpers.js';

const srv = serverPerFile();

describe('StrictMode (mount, unmount, mount)', () => {
  it('opens one socket, asks once, listens once, and a click sends one message', async () => {
    const { alice, bob, room } = await pair(srv());
    const users = vi.spyOn(alice.client, 'users');
    const events: string[] = [];
    function App() {
      const connection = useConnection();
      const rooms = useRooms();
      const { messages, loading } = useMessages(room.id);
      const [draft, setDraft] = useDraft(room.id);
      const { users: found } = useUsers({ ids: [bob.user.id] });
      const send = useSendMessage(room.id);
      useChatEvent('messages', (_roomId, list) => events.push(...list.map((m) => m.text)));
      return (
        <>
          <p data-testid="state">{`${connection.status} ${rooms.length} ${loading ? 'loading' : messages.length} ${found.length}`}</p>
          <input aria-label="text" value={draft.text} onChange={(e) => setDraft({ text: e.target.value })} />
          <button onClick={() => send({ text: draft.text })}>send</button>
        </>
      );
    }
    render(<App />, { wrapper: providing(alice.client, true) });
    await waitFor(() => expect(screen.getByTestId('state').textContent).toBe('open 1 0 1'));
    expect(srv().stats().perUser[alice.user.id]).toBe(1);
    expect(users).toHaveBeenCalledTimes(1);
    expect(alice.client.listenerCount('messages')).toBe(1);

    fireEvent.change(screen.getByLabelText('text'), { target: { value: 'once' } });
    fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('state').textContent).toBe('open 1 1 1'));
    const sent = await until(alice.client.messages(room.id), (s) => s.messages[0]?.status === 'sent');
    expect(sent.messages).toHaveLength(1);

    // What the server stored, seen from a fresh device: exactly one message.
    const fresh = client(srv());
    await fresh.login({ email: bob.user.email });
    const stored = await until(fresh.messages(room.id), (s) => !s.loading && s.messages.length > 0);
    expect(stored.messages.map((m) => m.text)).toEqual(['once']);
    // 'messages' fires for the reply and for the live event alike: one listener heard both.
    expect(new Set(events)).toEqual(new Set(['once']));
    expect(srv().stats().perUser[alice.user.id]).toBe(1);
  });

  it('signing in from a StrictMode tree opens one socket', async () => {
    const address = email('dave');
    const signUp = client(srv());
    const dave = await signUp.signUp({ email: address });
    signUp.close();
    await waitFor(() => expect(srv().stats().perUser[dave.id] ?? 0).toBe(0));
    const c = client(srv());
    function Login() {
      const chat = useChatClient();
      const session = useSession();
      const connection = useConnection();
      if (session) return <p>{`${session.user.email} ${connection.status}`}</p>;
      return <button onClick={() => void chat.login({ email: address })}>sign in</button>;
    }
    render(<Login />, { wrapper: providing(c, true) });
    fireEvent.click(screen.getByText('sign in'));
    await screen.findByText(`${address} open`);
    expect(srv().stats().perUser[dave.id]).toBe(1);
  });
});
