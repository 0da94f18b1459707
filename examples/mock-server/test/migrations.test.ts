import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { SqliteStorage } from '../src/storage/index.js';
import { SCHEMA_V1 } from '../src/storage/sqlite.js';

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

test('a file from a newer server is refused, not half-read', () => {
  const file = join(dir, 'future.sqlite');
  new SqliteStorage(file).close();
  const db = new Database(file);
  db.pragma('user_version = 999');
  db.close();
  expect(() => new SqliteStorage(file)).toThrow(/newer server \(schema 999/);
});
