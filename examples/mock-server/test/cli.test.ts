// `npm run server` as a user runs it: the real entry (src/main.ts under tsx) in a child
// process. Every failure to start is exactly one line on stderr and a non-zero exit; a
// fresh database gets the sample once, and CHAT_SAMPLE=off leaves it empty.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { startupErrorLine } from '../src/startup-error.js';

const serverDir = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chat-cli-'));
chmodSync(dir, 0o755); // readable by the unprivileged user of the permission test
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnServer(env: Record<string, string>, as?: { uid: number; gid: number }): ChildProcess {
  const base = { ...process.env };
  delete base.NODE_OPTIONS;
  for (const key of ['PORT', 'HOST', 'CHAT_DB', 'CHAT_SAMPLE', 'LOG_LEVEL', 'CHAT_ORIGINS', 'CHAT_JWT_SECRET']) delete base[key];
  return spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as ?? {}),
  });
}

/** Runs the server until it exits by itself (it should: these are failures to start). */
function runToExit(env: Record<string, string>, as?: { uid: number; gid: number }): Promise<Run> {
  const child = spawnServer(env, as);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Starts the server, waits for its `listening on` line, stops it with SIGTERM; returns all it wrote. */
async function runUntilListening(env: Record<string, string>): Promise<Run & { url: string }> {
  const child = spawnServer({ PORT: '0', ...env });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const match = /^listening on (http:\/\/\S+)\n/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', resolve);
    child.kill('SIGTERM');
  });
  return { code, stdout, stderr, url };
}

async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

/** Exactly one line on stderr, nothing on stdout, no stack trace. */
function expectOneLine(run: Run, code: number, line: RegExp): void {
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^[^\n]+\n$/);
  expect(run.stderr).not.toMatch(/\s+at \S+ \(|Error:/);
  expect(run.stderr.trimEnd()).toMatch(line);
  expect(run.code).toBe(code);
}

// Each case starts Node with tsx: a second alone, several on a loaded machine.
const SLOW = { timeout: 60_000 };

describe.concurrent('a failure to start is one line on stderr and a non-zero exit', SLOW, () => {
  test('the port is taken', async () => {
    const held = await holdPort();
    try {
      const run = await runToExit({ PORT: String(held.port), CHAT_DB: ':memory:' });
      expectOneLine(run, 1, new RegExp(`^port ${held.port} on 127\\.0\\.0\\.1 is taken .*set PORT to a free port, or PORT=0`));
    } finally {
      held.server.close();
    }
  });

  test('CHAT_DB under a file (its folder cannot be made)', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'not a folder');
    const run = await runToExit({ PORT: '0', CHAT_DB: join(file, 'chat.sqlite') });
    expectOneLine(run, 1, /^cannot create the folder for CHAT_DB=.*plain-file\/chat\.sqlite: a file is in the way; set CHAT_DB to a writable path/);
  });

  test('CHAT_DB in a folder the server may not write to', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    chmodSync(locked, 0o555);
    // Root writes anywhere, so as root the server runs as `nobody` for this one.
    const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
    const run = await runToExit({ PORT: '0', CHAT_DB: join(locked, 'chat.sqlite') }, as);
    expectOneLine(run, 1, /^cannot open CHAT_DB=.*locked\/chat\.sqlite .*set CHAT_DB to a writable file path/);
  });

  test('CHAT_DB is a file that is not a database (and it is left alone)', async () => {
    const notes = join(dir, 'notes.txt');
    const text = 'shopping list\n'.repeat(200);
    writeFileSync(notes, text);
    const run = await runToExit({ PORT: '0', CHAT_DB: notes });
    expectOneLine(run, 1, /^CHAT_DB=.*notes\.txt is not a SQLite database/);
    expect(readFileSync(notes, 'utf8')).toBe(text);
    expect(existsSync(`${notes}-wal`)).toBe(false);
  });

  test('values that cannot be read name their variable (exit 2)', async () => {
    const runs = await Promise.all([
      runToExit({ PORT: 'eighty' }),
      runToExit({ PORT: '0', CHAT_DB: ':memory:', CHAT_SAMPLE: 'maybe' }),
    ]);
    expectOneLine(runs[0]!, 2, /^PORT must be an integer from 0 to 65535, got "eighty"$/);
    expectOneLine(runs[1]!, 2, /^CHAT_SAMPLE must be on or off, got "maybe"$/);
  });

  test('a HOST that is no address of this machine', async () => {
    const run = await runToExit({ PORT: '0', CHAT_DB: ':memory:', HOST: '192.0.2.1' }); // TEST-NET-1: never local
    expectOneLine(run, 1, /^HOST=192\.0\.2\.1 is not an address of this machine; set HOST/);
  });
});

test('the lines for what a test machine cannot cause: a privileged port, an unknown error', () => {
  const settings = { port: 80, host: '0.0.0.0', db: '/srv/chat.sqlite' };
  const eacces = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES', syscall: 'listen' });
  expect(startupErrorLine(eacces, settings)).toBe(
    'not allowed to listen on port 80 on 0.0.0.0 (ports below 1024 need privileges); set PORT to a port above 1023, or PORT=0 to pick one',
  );
  const mkdir = Object.assign(new Error("EACCES: permission denied, mkdir '/srv'"), { code: 'EACCES', syscall: 'mkdir' });
  expect(startupErrorLine(mkdir, settings)).toBe('cannot create the folder for CHAT_DB=/srv/chat.sqlite: permission denied; set CHAT_DB to a writable path (or :memory:)');
  expect(startupErrorLine(new Error('boom\n    at x (y.ts:1:1)'), settings)).toBe('failed to start: boom');
});

describe('the sample, through the command line', SLOW, () => {
  test('a fresh file is seeded once, with one line; a restart does not seed again', async () => {
    const file = join(dir, 'cli-sample.sqlite');
    const first = await runUntilListening({ CHAT_DB: file, LOG_LEVEL: 'warn' });
    expect(first.stderr).toBe(
      'seeded sample people: ada@example.com, bob@example.com, grace@example.com, linus@example.com (CHAT_SAMPLE=off to skip)\nSIGTERM: shutting down\n',
    );
    expect(first.stdout).toBe(`listening on ${first.url}\n`);
    expect(first.code).toBe(0);

    const second = await runUntilListening({ CHAT_DB: file, LOG_LEVEL: 'warn' });
    expect(second.stderr).toBe('SIGTERM: shutting down\n');
    const db = new Database(file, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n).toBe(4);
    db.close();
  });

  test('CHAT_SAMPLE=off leaves a fresh database empty', async () => {
    const file = join(dir, 'cli-empty.sqlite');
    const run = await runUntilListening({ CHAT_DB: file, LOG_LEVEL: 'warn', CHAT_SAMPLE: 'off' });
    expect(run.stderr).toBe('SIGTERM: shutting down\n');
    const db = new Database(file, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n).toBe(0);
    db.close();
  });
});
