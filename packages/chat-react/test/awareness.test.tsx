import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SERVER_OPTIONS, startServer } from '@chat/mock-server';
import { usePresence, useTyping } from '@chat/react';
import { type RunningServer, closeClients, pair, providing, signedIn, until } from './helpers.js';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer({ ...TEST_SERVER_OPTIONS, logLevel: 'silent', presenceGraceMs: 200 });
});
afterEach(() => {
  cleanup();
  closeClients();
});
afterAll(() => srv.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('useTyping and usePresence render counts', () => {
  it('typing in room A re-renders what shows room A twice (starts, stops; refreshes do not), and nothing that shows room B', async () => {
    const { alice, bob, room: roomA } = await pair(srv, 'A');
    const roomB = await alice.client.createRoom({ memberIds: [bob.user.id], name: 'B' });
    await until(bob.client.rooms, (rooms) => rooms.length === 2);
    const renders: Record<string, number> = {};
    function Typing({ id, name }: { id: string; name: string }) {
      const { userIds } = useTyping(id);
      renders[name] = (renders[name] ?? 0) + 1;
      return <p data-testid={name}>{userIds.join(',')}</p>;
    }
    render(
      <>
        <Typing id={roomA.id} name="A" />
        <Typing id={roomB.id} name="B" />
      </>,
      { wrapper: providing(bob.client) },
    );
    const before = { ...renders };
    for (let i = 0; i < 5; i++) alice.client.startTyping(roomA.id);
    await waitFor(() => expect(screen.getByTestId('A').textContent).toBe(alice.user.id));
    // She keeps typing past a refresh (a new frame, the same list): no re-render.
    for (let i = 0; i < 18; i++) {
      alice.client.startTyping(roomA.id);
      await sleep(200);
    }
    alice.client.stopTyping(roomA.id);
    await waitFor(() => expect(screen.getByTestId('A').textContent).toBe(''));
    await sleep(100);
    expect(renders.A).toBe(before.A! + 2);
    expect(renders.B).toBe(before.B);
    // The typist's own view never shows them.
    expect(alice.client.typing(roomA.id).getSnapshot().userIds).toEqual([]);
  }, 15_000);

  it("presence re-renders only the component showing the user whose presence changed; inline arrays don't", async () => {
    const { alice, bob } = await pair(srv, 'P');
    const carol = await signedIn(srv, 'carol');
    const room = await bob.client.createRoom({ memberIds: [carol.user.id] });
    await until(bob.client.rooms, (rooms) => rooms.some((r) => r.id === room.id));
    const renders: Record<string, number> = {};
    function Dot({ id, name }: { id: string; name: string }) {
      const presence = usePresence([id]); // a new array each render: compared by value
      renders[name] = (renders[name] ?? 0) + 1;
      const state = presence[id];
      return <p data-testid={name}>{state ? (state.online ? 'online' : `seen ${state.lastSeenAt}`) : '?'}</p>;
    }
    render(
      <>
        <Dot id={alice.user.id} name="alice" />
        <Dot id={carol.user.id} name="carol" />
      </>,
      { wrapper: providing(bob.client) },
    );
    await waitFor(() => {
      expect(screen.getByTestId('alice').textContent).toBe('online');
      expect(screen.getByTestId('carol').textContent).toBe('online');
    });
    const before = { ...renders };
    await act(async () => {
      await alice.client.close();
    });
    await waitFor(() => expect(screen.getByTestId('alice').textContent).toMatch(/^seen \d+$/));
    await sleep(100);
    expect(renders.alice).toBe(before.alice! + 1);
    expect(renders.carol).toBe(before.carol);
  });
});
