import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { SqliteStorage, UploadFiles } from '../src/storage/index.js';
import { MESSAGE_CHANGES, MIGRATIONS, SCHEMA_V1, UPLOAD_FILES, migrate } from '../src/storage/sqlite.js';
import { startServer, TEST_SERVER_OPTIONS } from '../src/index.js';

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
  const files = new UploadFiles(`${file}.uploads`);
  migrate(db, files, MIGRATIONS.indexOf(MESSAGE_CHANGES));
  files.close();
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
  // The rev index holds changed messages only (a later step): both changes are read back, in order.
  expect(storage.getChanges('r1', 0, 10).messages.map((m) => [m.id, m.rev])).toEqual([['m1', 1], ['m3', 2]]);
  storage.close();
  const after = new Database(file, { readonly: true });
  expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  expect(after.prepare('SELECT id, upload_id FROM messages ORDER BY seq').all()).toEqual([
    { id: 'm1', upload_id: null }, { id: 'm2', upload_id: 'up_rel' }, { id: 'm3', upload_id: null },
  ]);
  const revIndex = after.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages_room_rev'").pluck().get() as string;
  expect(revIndex).toMatch(/WHERE rev > 0$/);
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

test('upload bytes kept in SQLite (the 0.1 column, or 256 KiB parts) move out to files at start, and the server serves them', async () => {
  const file = join(dir, 'blobs.sqlite');
  const uploadsDir = `${file}.uploads`;
  // The file as the server before UPLOAD_FILES left it (whatever steps come before it).
  const db = new Database(file);
  const scratch = new UploadFiles(join(dir, 'scratch'));
  migrate(db, scratch, MIGRATIONS.indexOf(UPLOAD_FILES));
  scratch.close();
  db.prepare('INSERT INTO users (id, email, name, name_lower, created_at) VALUES (?, ?, ?, ?, ?)').run('u1', 'u1@example.com', 'U', 'u', 1);
  const insert = db.prepare('INSERT INTO uploads (id, owner_id, url, mime, size, width, height, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const pattern = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * seed) % 256));
  const old = pattern(1000, 7); // a 0.1 upload: the whole blob in the row
  insert.run('oldWholeBlob', 'u1', '/uploads/oldWholeBlob', 'image/png', old.length, 1, 1, old, 10);
  const parts = [pattern(256 * 1024, 3), pattern(256 * 1024, 5), pattern(1234, 11)]; // a later one: in parts, the row's blob empty
  const inParts = Buffer.concat(parts);
  insert.run('inParts', 'u1', '/uploads/inParts', 'image/png', inParts.length, null, null, Buffer.alloc(0), 20);
  db.prepare('INSERT INTO unused_uploads (upload_id, created_at) VALUES (?, ?)').run('inParts', 20);
  const part = db.prepare('INSERT INTO upload_parts (upload_id, idx, bytes, created_at) VALUES (?, ?, ?, ?)');
  parts.forEach((bytes, idx) => part.run('inParts', idx, bytes, 20));
  part.run('neverFinished', 0, pattern(10, 1), 30); // parts without a record: dropped
  db.close();
  // What an earlier attempt cut short may have left: a file is written again, whole.
  mkdirSync(uploadsDir);
  writeFileSync(join(uploadsDir, 'inParts'), 'half');

  const storage = new SqliteStorage(file);
  expect(readdirSync(uploadsDir).sort()).toEqual(['inParts', 'oldWholeBlob']);
  expect(readFileSync(join(uploadsDir, 'oldWholeBlob')).equals(old)).toBe(true);
  expect(readFileSync(join(uploadsDir, 'inParts')).equals(inParts)).toBe(true);
  expect(storage.getUpload('inParts')).toMatchObject({ size: inParts.length, ownerId: 'u1' });
  expect(storage.uploadBytesOf('u1')).toBe(old.length + inParts.length);
  // Still an orphan (the unused list is kept): the sweep deletes it, file too.
  expect(storage.deleteOrphanUploads(25)).toBe(1);
  await expect.poll(() => readdirSync(uploadsDir)).toEqual(['oldWholeBlob']);
  storage.close();

  const raw = new Database(file, { readonly: true });
  expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  expect((raw.prepare('PRAGMA table_info(uploads)').all() as { name: string }[]).map((c) => c.name)).not.toContain('bytes');
  expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'upload_parts'").get()).toBeUndefined();
  raw.close();

  const server = await startServer({ db: file, ...TEST_SERVER_OPTIONS });
  try {
    const res = await fetch(`${server.httpUrl}/uploads/oldWholeBlob`);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(old)).toBe(true);
  } finally {
    await server.close();
  }
});
