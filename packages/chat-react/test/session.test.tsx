import { act, render, screen, waitFor } from '@testing-library/react';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { useRooms, useSession, useSessionStatus, useTransport } from '@chat/react';
import { client, email, pair, providing, serverPerFile, signedIn, until } from './helpers.js';

const srv = serverPerFile();

/** What an app's root does: a spinner while resuming, the sign-in form only when signed out. */
function Gate({ log }: { log: string[] }) {
  const status = useSessionStatus();
  const session = useSession();
  log.push(`${status}:${session?.user.name ?? '-'}`);
  if (status === 'resuming') return <p>spinner</p>;
  if (status === 'signed-out') return <p>sign-in form</p>;
  return <p>{`chat of ${session?.user.name ?? '?'}`}</p>;
}

/** Only the status, so each of its renders is one value of the store. */
function StatusOnly({ log }: { log: string[] }) {
  log.push(useSessionStatus());
  return null;
}

/** Renders the Gate and StatusOnly over `chat`: what each rendered, in order. */
function renderGate(chat: Parameters<typeof providing>[0]) {
  const renders: string[] = [];
  const statuses: string[] = [];
  render(
    <>
      <Gate log={renders} />
      <StatusOnly log={statuses} />
    </>,
    { wrapper: providing(chat) },
  );
  return { renders, statuses };
}

describe('useSessionStatus', () => {
  it('a stored session: resuming, then signed in, never a sign-in form in between', async () => {
    const storage = new IDBFactory();
    const address = email('ada');
    const first = client(srv(), { indexedDB: storage });
    await first.signUp({ email: address, name: 'Ada' });
    await first.close();

    // A reload: a new client over the same storage.
    const reloaded = client(srv(), { indexedDB: storage });
    const { renders, statuses } = renderGate(reloaded);
    expect(screen.getByText('spinner')).toBeTruthy();
    await screen.findByText('chat of Ada');
    expect(statuses).toEqual(['resuming', 'signed-in']);
    expect(renders.some((r) => r.startsWith('signed-out'))).toBe(false);
    // Whenever the status says signed in, the session is there to render.
    expect(renders).not.toContain('signed-in:-');
    expect(renders.at(-1)).toBe('signed-in:Ada');
  });

  it('no stored session: resuming, then signed out, and nothing connects', async () => {
    const fresh = client(srv());
    const { renders, statuses } = renderGate(fresh);
    expect(screen.getByText('spinner')).toBeTruthy();
    await screen.findByText('sign-in form');
    expect(statuses).toEqual(['resuming', 'signed-out']);
    expect(renders).toEqual(['resuming:-', 'signed-out:-']);
    expect(fresh.connection.getSnapshot().status).toBe('idle');
  });

  it('signing in as someone else switches this client without passing through signed out', async () => {
    const { alice } = await pair(srv());
    const carol = await signedIn(srv(), 'carol');
    const carolRoom = await carol.client.createRoom({ memberIds: [alice.user.id], name: 'carol-only' });
    await until(alice.client.rooms, (rooms) => rooms.some((r) => r.id === carolRoom.id));
    // A third user with a room of their own, not shared with alice.
    const dave = await signedIn(srv(), 'dave');
    await dave.client.createRoom({ memberIds: [carol.user.id], name: 'dave-and-carol' });

    const renders: string[] = [];
    function Rooms() {
      const names = useRooms().map((r) => r.name).sort();
      return <p data-testid="rooms">{names.join(',')}</p>;
    }
    render(
      <>
        <Gate log={renders} />
        <Rooms />
      </>,
      { wrapper: providing(alice.client) },
    );
    await screen.findByText('chat of alice');
    await waitFor(() => expect(screen.getByTestId('rooms').textContent).toBe(['carol-only', 'pair'].sort().join(',')));
    renders.length = 0;

    await act(async () => {
      await alice.client.login({ email: dave.user.email });
    });
    await screen.findByText('chat of dave');
    // Dave's rooms only: none of the previous user's.
    await waitFor(() => expect(screen.getByTestId('rooms').textContent).toBe('dave-and-carol'));
    expect(renders.every((r) => r.startsWith('signed-in:'))).toBe(true);
    expect(renders).not.toContain('signed-in:-');
    expect(alice.client.session.getSnapshot()?.user.id).toBe(dave.user.id);

    // Someone with no rooms at all: an empty list, not the previous person's.
    await act(async () => {
      await alice.client.signUp({ email: email('erin'), name: 'erin' });
    });
    await screen.findByText('chat of erin');
    await waitFor(() => expect(screen.getByTestId('rooms').textContent).toBe(''));
  });
});

describe('useTransport', () => {
  it('names what carries the chat, and listens once while mounted', async () => {
    const c = client(srv());
    function Status() {
      return <p data-testid="transport">{useTransport()}</p>;
    }
    const { unmount, rerender } = render(<Status />, { wrapper: providing(c) });
    // The helper's client runs in process: this tab has its own socket.
    expect(screen.getByTestId('transport').textContent).toBe('in-tab');
    rerender(<Status />);
    expect(c.listenerCount('transport')).toBe(1);
    unmount();
    expect(c.listenerCount('transport')).toBe(0);
  });
});
