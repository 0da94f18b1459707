import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { SqliteStorage } from '../src/storage/index.js';
import { MIGRATIONS, SCHEMA_V1 } from '../src/storage/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a file written by 0.1 (tables, no user_version) keeps its rows and is brought to the newest schema', () => {
  const file = join(dir, 'old.sqlite');
  const fresh = new SqliteStorage(join(dir, 'fresh.sqlite'));
  fresh.close();
  const newest = new Database(join(dir, 'fresh.sqlite')).pragma('user_version', { simple: true }) as number;

  // 0.1's schema is migration 1 (later steps alter its tables, so it is written from the step itself).
  const db = new Database(file);
  db.exec(SCHEMA_V1);
  db.prepare('INSERT INTO users (id, email, name, name_lower, created_at) VALUES (?, ?, ?, ?, ?)').run('u_old', 'old@example.com', 'Old', 'old', 1);
  expect(db.pragma('user_version', { simple: true })).toBe(0);
  db.close();

  const storage = new SqliteStorage(file);
  expect(storage.getUser('u_old')).toMatchObject({ email: 'old@example.com', name: 'Old' });
  // Read state (protocol 10.4): members of old rooms start with a cursor at 0.
  storage.createUser({ id: 'u_new', email: 'new@example.com', name: 'New', createdAt: 2 });
  storage.createRoom({ id: 'r_old', name: null, memberIds: ['u_old', 'u_new'], createdBy: 'u_old', createdAt: 3 });
  storage.createMessage({ id: 'm1', roomId: 'r_old', senderId: 'u_old', clientId: 'c1', text: 'hi', image: null, createdAt: 4 });
  expect(storage.getReadStates('u_new', ['r_old']).get('r_old')).toEqual({ readSeqs: {}, ownAfter: 0 });
  expect(storage.countOwnAfter('r_old', 'u_old', 0)).toBe(1);
  storage.close();
  expect(new Database(file).pragma('user_version', { simple: true })).toBe(newest);
});

test('a file from before message changes (10.5) keeps its messages; they start unchanged, the uploads their images show are known, changes work', () => {
  const file = join(dir, 'before-changes.sqlite');
  const db = new Database(file);
  const before = MIGRATIONS.length - 1; // MESSAGE_CHANGES is the last step
  for (let version = 0; version < before; version++) {
    db.exec(MIGRATIONS[version]!);
    db.pragma(`user_version = ${version + 1}`);
  }
  db.prepare('INSERT INTO users (id, email, name, name_lower, created_at) VALUES (?, ?, ?, ?, ?)').run('u1', 'a@example.com', 'A', 'a', 1);
  db.prepare('INSERT INTO rooms (id, name, created_by, created_at, last_seq, activity) VALUES (?, ?, ?, ?, ?, ?)').run('r1', null, 'u1', 2, 3, 1);
  db.prepare('INSERT INTO room_members (room_id, user_id, position) VALUES (?, ?, ?)').run('r1', 'u1', 0);
  const insert = db.prepare('INSERT INTO messages (id, room_id, seq, sender_id, client_id, text, image, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  insert.run('m1', 'r1', 1, 'u1', 'c1', 'hi', null, 3);
  insert.run('m2', 'r1', 2, 'u1', 'c2', '', JSON.stringify({ url: '/uploads/up_rel', mime: 'image/png', size: 1 }), 4);
  insert.run('m3', 'r1', 3, 'u1', 'c3', '', JSON.stringify({ url: 'https://cdn.example.com/chat/uploads/up-abs', mime: 'image/png', size: 1 }), 5);
  db.close();

  const storage = new SqliteStorage(file);
  expect(storage.getRoom('r1')).toMatchObject({ lastSeq: 3, lastRev: 0 });
  expect(storage.getMessages('r1', { limit: 10 }).messages.map((m) => [m.id, m.text, m.rev])).toEqual([['m1', 'hi', undefined], ['m2', '', undefined], ['m3', '', undefined]]);
  expect(storage.changeMessage({ kind: 'edit', text: 'hi!', at: 9, messageId: 'm1', userId: 'u1', clientChangeId: 'e1' }).message).toMatchObject({ rev: 1, text: 'hi!' });
  // The uploads of images stored before were found from their urls, so a delete frees them.
  expect(storage.changeMessage({ kind: 'delete', at: 10, messageId: 'm3', userId: 'u1', clientChangeId: 'd1' }).freedUploadId).toBe('up-abs');
  storage.close();
  const after = new Database(file, { readonly: true });
  expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  expect(after.prepare('SELECT id, upload_id FROM messages ORDER BY seq').all()).toEqual([
    { id: 'm1', upload_id: null }, { id: 'm2', upload_id: 'up_rel' }, { id: 'm3', upload_id: null },
  ]);
  after.close();
});

test('a file from a newer server is refused, not half-read', () => {
  const file = join(dir, 'future.sqlite');
  new SqliteStorage(file).close();
  const db = new Database(file);
  db.pragma('user_version = 999');
  db.close();
  expect(() => new SqliteStorage(file)).toThrow(/newer server \(schema 999/);
});
