import { act, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useReceipts, useUnreadCount } from '@chat/react';
import { pair, providing, serverPerFile, until } from './helpers.js';

const srv = serverPerFile();

describe('useUnreadCount and useReceipts', () => {
  it('each re-renders only when its own value changes', async () => {
    const { alice, bob, room: roomA } = await pair(srv(), 'A');
    const roomB = await alice.client.createRoom({ memberIds: [bob.user.id], name: 'B' });
    await until(bob.client.rooms, (rooms) => rooms.length === 2);

    const renders: Record<string, number> = {};
    const count = (name: string) => {
      renders[name] = (renders[name] ?? 0) + 1;
    };
    function Unread({ id, name }: { id: string; name: string }) {
      const unread = useUnreadCount(id);
      count(`unread ${name}`);
      return <p data-testid={`unread ${name}`}>{unread}</p>;
    }
    function SeenBy({ id, name }: { id: string; name: string }) {
      const receipts = useReceipts(id);
      count(`receipts ${name}`);
      return <p data-testid={`receipts ${name}`}>{JSON.stringify(receipts)}</p>;
    }
    render(
      <>
        <Unread id={roomA.id} name="A" />
        <Unread id={roomB.id} name="B" />
        <SeenBy id={roomA.id} name="A" />
        <SeenBy id={roomB.id} name="B" />
      </>,
      { wrapper: providing(bob.client) },
    );
    const text = (id: string) => screen.getByTestId(id).textContent;
    expect(text('unread A')).toBe('0');
    expect(text('receipts A')).toBe('{}');
    let before = { ...renders };

    // A message from Alice in room A: A's count only.
    alice.client.send(roomA.id, { text: 'one' });
    await waitFor(() => expect(text('unread A')).toBe('1'));
    expect(renders['unread A']).toBe(before['unread A']! + 1);
    expect(renders['unread B']).toBe(before['unread B']);
    expect(renders['receipts A']).toBe(before['receipts A']);
    expect(renders['receipts B']).toBe(before['receipts B']);

    // Alice reads room A: Bob's "seen by" of A only.
    before = { ...renders };
    await alice.client.markRead(roomA.id);
    await waitFor(() => expect(text('receipts A')).toBe(JSON.stringify({ [alice.user.id]: 1 })));
    expect(renders['receipts A']).toBe(before['receipts A']! + 1);
    expect(renders['unread A']).toBe(before['unread A']);
    expect(renders['unread B']).toBe(before['unread B']);
    expect(renders['receipts B']).toBe(before['receipts B']);

    // Bob reads room A: his count drops at once, and his own cursor joins the receipts.
    before = { ...renders };
    await act(() => bob.client.markRead(roomA.id));
    expect(text('unread A')).toBe('0');
    await waitFor(() => expect(text('receipts A')).toBe(JSON.stringify({ [alice.user.id]: 1, [bob.user.id]: 1 })));
    expect(renders['unread A']).toBe(before['unread A']! + 1);
    expect(renders['unread B']).toBe(before['unread B']);
    expect(renders['receipts B']).toBe(before['receipts B']);
  });
});
