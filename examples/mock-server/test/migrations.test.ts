import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { SqliteStorage } from '../src/storage/index.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a file written by 0.1 (tables, no user_version) keeps its rows and is brought to the newest schema', () => {
  const file = join(dir, 'old.sqlite');
  const fresh = new SqliteStorage(join(dir, 'fresh.sqlite'));
  fresh.close();
  const newest = new Database(join(dir, 'fresh.sqlite')).pragma('user_version', { simple: true }) as number;

  // 0.1's schema is migration 1, so writing it by hand and resetting the version is a 0.1 file.
  const old = new Database(join(dir, 'fresh.sqlite'));
  const v1Tables = old.prepare("SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name IN ('users','sessions','rooms','room_members','messages','uploads','rooms_activity','room_members_user','messages_client_id')").all() as { sql: string }[];
  old.close();
  const db = new Database(file);
  for (const { sql } of v1Tables) db.exec(sql);
  db.prepare('INSERT INTO users (id, email, name, name_lower, created_at) VALUES (?, ?, ?, ?, ?)').run('u_old', 'old@example.com', 'Old', 'old', 1);
  expect(db.pragma('user_version', { simple: true })).toBe(0);
  db.close();

  const storage = new SqliteStorage(file);
  expect(storage.getUser('u_old')).toMatchObject({ email: 'old@example.com', name: 'Old' });
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
