// Upload bytes are files next to the database (or in CHAT_UPLOADS_DIR), not rows: written
// under a temporary name and renamed when complete, so a request cut short or a process
// killed half-way never leaves anything servable, and the start-up sweep clears what a
// crash left. Real servers over real sockets, real files.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { RunningServer } from '../src/index.js';
import { serverFixture, signUp, sleep } from './helpers.js';
import { png } from './images.js';

const serverDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chat-upload-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fx = serverFixture();
afterEach(() => fx.cleanup());
let n = 0;
const freshDb = () => join(dir, `db-${++n}`, 'chat.sqlite');

async function post(server: Pick<RunningServer, 'httpUrl'>, token: string, body: Buffer): Promise<{ status: number; url: string }> {
  const res = await fetch(`${server.httpUrl}/uploads`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' }, body: new Uint8Array(body) });
  const json = (await res.json()) as { url: string };
  return { status: res.status, url: json.url };
}

async function get(server: Pick<RunningServer, 'httpUrl'>, url: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(new URL(url, server.httpUrl));
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** Sends the headers and `sent` bytes of a `declared`-byte upload, and holds the request open. */
function startUpload(httpUrl: string, token: string, sent: Buffer, declared: number) {
  const req = request(`${httpUrl}/uploads`, { method: 'POST', headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${token}`, 'Content-Length': String(declared) } });
  req.on('error', () => {});
  req.write(sent);
  return req;
}

const idOf = (url: string) => url.split('/').pop()!;
const partials = (folder: string) => readdirSync(folder).filter((name) => name.endsWith('.partial'));

describe('where the bytes are', () => {
  test('in a file next to the database, not in it; only the record is a row', async () => {
    const db = freshDb();
    const server = await fx.start({ db });
    const a = fx.track(await signUp(server));
    const bytes = png(7, 8, 100_000);
    const { url } = await post(server, a.token, bytes);
    expect(readFileSync(join(`${db}.uploads`, idOf(url))).equals(bytes)).toBe(true);
    expect(partials(`${db}.uploads`)).toEqual([]);
    await server.close();
    const raw = new Database(db, { readonly: true });
    const row = raw.prepare('SELECT * FROM uploads').get() as Record<string, unknown>;
    expect(Object.keys(row).sort()).toEqual(['created_at', 'height', 'id', 'mime', 'owner_id', 'size', 'url', 'width']);
    expect(Object.values(row).some((v) => Buffer.isBuffer(v))).toBe(false);
    raw.close();
  });

  test('CHAT_UPLOADS_DIR (uploadsDir) puts them elsewhere; memory storage uses a temporary folder removed at close', async () => {
    const uploadsDir = join(dir, 'elsewhere');
    const server = await fx.start({ db: freshDb(), uploadsDir });
    const a = fx.track(await signUp(server));
    const { url } = await post(server, a.token, png(1, 1));
    expect(readdirSync(uploadsDir)).toEqual([idOf(url)]);

    const memory = await fx.start({ storage: 'memory' });
    const b = fx.track(await signUp(memory));
    const id = idOf((await post(memory, b.token, png(1, 1))).url);
    const holding = readdirSync(tmpdir())
      .filter((name) => name.startsWith('chat-uploads-'))
      .map((name) => join(tmpdir(), name))
      .filter((folder) => existsSync(join(folder, id)));
    expect(holding).toHaveLength(1);
    await memory.close();
    expect(existsSync(holding[0]!)).toBe(false);
  });
});

describe('uploads cut short', () => {
  test('an aborted request leaves nothing servable and no temporary file', async () => {
    const uploadsDir = join(dir, 'aborted');
    const server = await fx.start({ uploadsDir });
    const a = fx.track(await signUp(server));
    const req = startUpload(server.httpUrl, a.token, png(2, 2, 1024 * 1024), 3 * 1024 * 1024);
    await expect.poll(() => partials(uploadsDir).length).toBe(1);
    const id = partials(uploadsDir)[0]!.split('.')[0]!;
    req.destroy();
    await expect.poll(() => readdirSync(uploadsDir)).toEqual([]);
    expect((await get(server, `/uploads/${id}`)).status).toBe(404);
    // Its place among the uploads in progress is free again; the next upload is whole.
    const { status, url } = await post(server, a.token, png(3, 3));
    expect(status).toBe(201);
    expect(readdirSync(uploadsDir)).toEqual([idOf(url)]);
  });

  test('a server killed mid-upload: after a restart the half file is gone and never served; finished uploads still are', async () => {
    const db = freshDb();
    const uploadsDir = `${db}.uploads`;
    const child = spawnServer(db);
    try {
      const httpUrl = await listening(child);
      const wsUrl = `${httpUrl.replace(/^http/, 'ws')}/ws`;
      const a = await signUp({ wsUrl } as RunningServer);
      const whole = png(5, 6, 200_000);
      const kept = await post({ httpUrl }, a.token, whole);
      expect(kept.status).toBe(201);
      startUpload(httpUrl, a.token, png(2, 2, 1024 * 1024), 3 * 1024 * 1024);
      await expect.poll(() => partials(uploadsDir).length).toBe(1);
      const cut = partials(uploadsDir)[0]!.split('.')[0]!;
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      a.client.close();
      expect(partials(uploadsDir)).toHaveLength(1); // what the kill left
      expect(readdirSync(uploadsDir)).not.toContain(cut);

      // Also what a crash between a rename and its record, or a file lost by hand, leaves.
      writeFileSync(join(uploadsDir, 'strayFileWithoutRecord'), 'x');

      const server = await fx.start({ db });
      expect(partials(uploadsDir)).toEqual([]);
      expect(readdirSync(uploadsDir).sort()).toEqual([idOf(kept.url)]);
      expect((await get(server, `/uploads/${cut}`)).status).toBe(404);
      const served = await get(server, kept.url);
      expect(served.status).toBe(200);
      expect(served.body.equals(whole)).toBe(true);

      // A record whose file went missing is dropped at the next start (not served as an error).
      await server.close();
      unlinkSync(join(uploadsDir, idOf(kept.url)));
      const again = await fx.start({ db });
      expect((await get(again, kept.url)).status).toBe(404);
      const raw = new Database(db, { readonly: true });
      expect(raw.prepare('SELECT count(*) AS n FROM uploads').get()).toEqual({ n: 0 });
      raw.close();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('the orphan sweep', () => {
  test('deletes the file with the record; a used upload keeps both', async () => {
    const uploadsDir = join(dir, 'orphans');
    const server = await fx.start({ db: freshDb(), uploadsDir, limits: { orphanUploadTtlMs: 1000 } });
    const a = fx.track(await signUp(server));
    const b = fx.track(await signUp(server));
    const orphan = await post(server, a.token, png(2, 2, 5000));
    const used = await post(server, a.token, png(3, 3, 5000));
    const { room } = await a.client.call('create_room', { memberIds: [b.user.id] });
    await a.client.call('create_message', { roomId: room.id, clientId: 'img', image: { url: used.url } });
    expect(readdirSync(uploadsDir).sort()).toEqual([idOf(orphan.url), idOf(used.url)].sort());
    await sleep(1100);
    await server.sweep();
    await expect.poll(() => readdirSync(uploadsDir)).toEqual([idOf(used.url)]);
    expect((await get(server, orphan.url)).status).toBe(404);
    expect((await get(server, used.url)).status).toBe(200);
  });
});

function spawnServer(db: string): ChildProcess {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const key of ['PORT', 'HOST', 'CHAT_DB', 'CHAT_SAMPLE', 'LOG_LEVEL', 'CHAT_ORIGINS', 'CHAT_JWT_SECRET', 'CHAT_UPLOADS_DIR']) delete env[key];
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { ...env, PORT: '0', CHAT_DB: db, CHAT_EMAIL_LOGIN: 'on', CHAT_SAMPLE: 'off', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function listening(child: ChildProcess): Promise<string> {
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const match = /listening on (http:\/\/\S+)\n/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
}
