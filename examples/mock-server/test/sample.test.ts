// The sample a fresh database gets (src/sample.ts): people to sign in as, rooms with history.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { Message, Room, User } from '@chat/sdk/protocol';
import { SAMPLE_MESSAGES, SAMPLE_PEOPLE, SAMPLE_ROOMS } from '../src/sample.js';
import { TestClient, serverFixture, signUp } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = serverFixture();
afterEach(() => fixture.cleanup());

const EMAILS = ['ada@example.com', 'bob@example.com', 'grace@example.com', 'linus@example.com'];
const DAY = 86_400_000;

function count(file: string, table: 'users' | 'rooms' | 'messages'): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function signInByEmail(wsUrl: string, email: string): Promise<{ client: TestClient; user: User }> {
  const client = fixture.track(await TestClient.open(wsUrl));
  const { user } = await client.call<{ user: User }>('create_connection', { protocolVersion: 1, email });
  return { client, user };
}

describe.each(['sqlite', 'memory'] as const)('sample on a fresh %s database', (storage) => {
  test('four people; Ada signs in by email and finds her three rooms, newest first, with their history', async () => {
    const server = await fixture.start(storage === 'memory' ? { storage: 'memory', sample: true } : { db: join(dir, `fresh-${Date.now()}.sqlite`), sample: true });
    expect(server.seeded).toEqual(EMAILS);
    const startedAt = Date.now();

    const { client, user } = await signInByEmail(server.wsUrl, 'ada@example.com');
    expect(user).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });
    const { users } = await client.call<{ users: User[] }>('get_users', { query: '' });
    expect(users.map((u) => u.name)).toEqual(SAMPLE_PEOPLE.map((p) => p.name));
    // Others' emails are not shown (only Ada's own).
    expect(users.map((u) => u.email)).toEqual(SAMPLE_PEOPLE.map((p) => (p.email === 'ada@example.com' ? p.email : '')));
    const byId = new Map(users.map((u) => [u.id, SAMPLE_PEOPLE.find((p) => p.name === u.name)!.email]));

    const { rooms } = await client.call<{ rooms: Room[] }>('get_user_rooms');
    // Ada is in all three; the most recent activity (her last note to Bob) first.
    expect(rooms.map((r) => [r.name, r.memberIds.map((id) => byId.get(id))])).toEqual([
      [null, ['bob@example.com', 'ada@example.com']],
      [null, ['grace@example.com', 'ada@example.com']],
      ['Team', EMAILS],
    ]);
    let total = 0;
    for (const room of rooms) {
      expect(room.lastSeq).toBeGreaterThan(0);
      const { messages, hasMore } = await client.call<{ messages: Message[]; hasMore: boolean }>('get_messages', { roomId: room.id });
      expect(hasMore).toBe(false);
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: room.lastSeq }, (_, i) => i + 1));
      expect(room.lastMessage).toEqual(messages.at(-1));
      for (const [i, m] of messages.entries()) {
        expect(room.memberIds).toContain(m.senderId);
        expect(m.text.length).toBeGreaterThan(0);
        expect(m.createdAt).toBeGreaterThan(startedAt - DAY);
        expect(m.createdAt).toBeLessThan(startedAt);
        expect(m.createdAt).toBeGreaterThan(room.createdAt);
        if (i > 0) expect(m.createdAt).toBeGreaterThan(messages[i - 1]!.createdAt);
      }
      total += messages.length;
    }
    expect(total).toBe(SAMPLE_MESSAGES.length);
    expect(rooms[0]!.lastMessage).toMatchObject({ text: 'Left a few notes in the draft. Looks good to me overall!', senderId: user.id });

    // Linus sees only the team room; a live message from him reaches Ada, with the next seq.
    const linus = await signInByEmail(server.wsUrl, 'linus@example.com');
    const linusRooms = (await linus.client.call<{ rooms: Room[] }>('get_user_rooms')).rooms;
    expect(linusRooms.map((r) => r.name)).toEqual(['Team']);
    const team = linusRooms[0]!;
    const sent = await linus.client.call<{ message: Message }>('create_message', { roomId: team.id, clientId: 'live-1', text: 'Back from lunch.' });
    expect(sent.message.seq).toBe(team.lastSeq + 1);
    await client.waitForEvent('message_created', (d) => d.message.id === sent.message.id);
  });
});

test('a restart on the same file does not seed again; sample is off unless asked; a database with users is never seeded', async () => {
  const file = join(dir, 'restart.sqlite');
  const first = await fixture.start({ db: file, sample: true });
  expect(first.seeded).toHaveLength(4);
  await first.close();
  const counts = { users: count(file, 'users'), rooms: count(file, 'rooms'), messages: count(file, 'messages') };
  expect(counts).toEqual({ users: 4, rooms: SAMPLE_ROOMS.length, messages: SAMPLE_MESSAGES.length });

  const again = await fixture.start({ db: file, sample: true });
  expect(again.seeded).toEqual([]);
  await again.close();
  expect({ users: count(file, 'users'), rooms: count(file, 'rooms'), messages: count(file, 'messages') }).toEqual(counts);

  // startServer() as tests use it: no sample.
  const plainFile = join(dir, 'plain.sqlite');
  const plain = await fixture.start({ db: plainFile });
  expect(plain.seeded).toEqual([]);
  const someone = fixture.track(await signUp(plain, 'Zoe'));
  someone.client.close();
  await plain.close();
  expect(count(plainFile, 'users')).toBe(1);

  // That database has a user now: asking for the sample changes nothing.
  const later = await fixture.start({ db: plainFile, sample: true });
  expect(later.seeded).toEqual([]);
  await later.close();
  expect([count(plainFile, 'users'), count(plainFile, 'rooms'), count(plainFile, 'messages')]).toEqual([1, 0, 0]);
});
