// "Add people" and "Leave room" in the room header, in real headless Chromium against the reference server.
import { createChatClient } from '@chat/sdk';
import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Page, createRoom, demoSuite, signUp } from './harness.js';

const suite = demoSuite({ rateLimit: { perSecond: 500, burst: 500 } });
const rooms = (page: Page) => page.getByRole('navigation', { name: 'Your rooms' }).getByRole('button');

it('Ada adds Carol to a room from its header, then leaves it; Bob and Carol keep it', async () => {
  const script = (email: string, name: string) => {
    const c = createChatClient({ url: suite.server.wsUrl, WebSocket, storage: 'memory', transport: 'websocket' });
    return { c, signedUp: c.signUp({ email, name }) };
  };
  const bob = script('bob@example.com', 'Bob Stone');
  const carol = script('carol@example.com', 'Carol Reyes');
  await Promise.all([bob.signedUp, carol.signedUp]);
  try {
    const { page: ada } = await suite.openUser(suite.url());
    await signUp(ada, 'ada@example.com', 'Ada Lovelace');
    await createRoom(ada, ['Bob'], 'Plans');

    await ada.getByRole('button', { name: 'Add people' }).click();
    const panel = ada.getByRole('form', { name: 'Add people' });
    await panel.getByRole('searchbox').fill('Carol');
    await panel.getByRole('checkbox', { name: /Carol/ }).check();
    await panel.getByRole('button', { name: 'Add 1 person' }).click();
    await ada.getByText(/^3 members:/).waitFor();
    await expect.poll(() => carol.c.rooms.getSnapshot().map((r) => r.name)).toEqual(['Plans']);

    await ada.getByRole('button', { name: 'Leave room' }).click();
    await ada.getByRole('group', { name: 'Leave room' }).getByRole('button', { name: 'Leave', exact: true }).click();
    await expect.poll(() => rooms(ada).count()).toBe(0);
    await expect.poll(() => bob.c.rooms.getSnapshot()[0]?.memberIds.length).toBe(2);
  } finally {
    await Promise.all([bob.c.close(), carol.c.close()]);
  }
});
