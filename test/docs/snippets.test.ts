// Every code snippet in README.md and docs/*.md works as written.
//
// - A ts/tsx/js block with `<!-- runnable -->` on the line before its fence is RUN: written to
//   a file and imported (top-level await and all) against a fresh reference server
//   (`startServer`, memory storage, a random loopback port). The only change made to its text
//   is the server's address: `ws://127.0.0.1:8787/ws` (and `http://127.0.0.1:8787`) become the
//   fresh server's. On that server bob@example.com ("Bob") has already signed up, so a
//   snippet has someone to talk to; the docs say so before such a snippet.
//   A snippet that imports `ws` is Node code and gets Node 20's globals: no WebSocket, no
//   indexedDB. Any other is browser code and gets what a browser has: a global WebSocket (the
//   `ws` package's where Node has none) and a fresh, empty indexedDB (fake-indexeddb), so it
//   starts like a first visit.
//   It passes when it settles without throwing, no client it created emitted `error` or
//   `failed`, and every message it left pending turns `sent`. The harness closes the clients
//   the snippet left open (a browser page would keep them).
// - EVERY ts/tsx/js block, runnable or not, is TYPECHECKED (the repository's strict settings,
//   `@chat/sdk`, `@chat/react` and `@chat/mock-server` resolved to the workspace sources, each
//   block a module of its own). `<!-- declare ... -->` before a fence puts its body in front of
//   the block for the typecheck only, for what a snippet leaves to the reader (an app's `App`).
// - Blocks in any other language (sh, json, text, unlabelled diagrams) are ignored.
//
// Failures name the page and line: `docs/getting-started.md:27: ...`.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type ChatClient, createChatClient } from '@chat/sdk';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { sourceAliases } from '../../vitest.shared.js';
import { type CodeBlock, codeBlocks, isChecked } from './markdown.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)];
const blocks = pages.flatMap((page) => codeBlocks(page, readFileSync(join(root, page), 'utf8'))).filter(isChecked);
const where = (block: CodeBlock, codeLine = 1) => `${block.file}:${block.line + codeLine}`;

// Every client a snippet creates, so the harness can watch and close it. Snippets import
// `@chat/sdk` as users do; this wraps its createChatClient and changes nothing else.
const created = vi.hoisted(() => [] as Array<{ client: ChatClient; faults: string[] }>);
vi.mock('@chat/sdk', async (importOriginal) => {
  const sdk = await importOriginal<typeof import('@chat/sdk')>();
  return {
    ...sdk,
    createChatClient(options: Parameters<typeof sdk.createChatClient>[0]) {
      const client = sdk.createChatClient(options);
      const entry = { client, faults: [] as string[] };
      client.on('error', (error) => entry.faults.push(`'error' event: ${error.code} ${error.message}`));
      client.on('failed', (message) => entry.faults.push(`'failed' message ${JSON.stringify(message.text)}: ${message.error?.code} ${message.error?.message}`));
      created.push(entry);
      return client;
    },
  };
});

// Snippet files live in a folder of their own at the root (ignored by git as `.vitest-*`, outside
// the typecheck's `include`), so `react`, `ws`, `vite` resolve as they do for the repository.
let dir = '';
const fileOf = new Map<CodeBlock, string>();
const extension = { ts: 'ts', tsx: 'tsx', js: 'js' } as const;

beforeAll(() => {
  dir = mkdtempSync(join(root, '.vitest-snippets-'));
  for (const block of blocks) {
    const name = `${block.file.replace(/[/.]/g, '-')}-${block.line}.${extension[block.lang]}`;
    const file = join(dir, name);
    // Line 1 names the source (and holds the declarations); the code starts on line 2, so
    // line n of the file is line `block.line + n - 1` of the page.
    const header = `/* ${where(block)} */ ${block.declarations ?? ''}`.trimEnd();
    writeFileSync(file, `${header}\n${block.code}\n`);
    fileOf.set(block, file);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('codeBlocks (the Markdown side of this test)', () => {
  it('finds fenced blocks, their markers, languages and lines, and leaves indented code alone', () => {
    const page = [
      'Text', //                                   1
      '<!-- runnable -->', //                      2
      '```ts', //                                  3
      'run();', //                                 4
      '```', //                                    5
      '<!-- declare const name: string; -->', //   6
      '~~~~tsx title="x"', //                      7
      '```', //                                    8  (not a closing fence: too short, other char)
      '~~~~', //                                   9
      '<!-- a comment -->', //                     10
      '```sh', //                                  11
      'npm test', //                               12
      '```', //                                    13
      '    indented(); // not fenced', //          14
      '- a list', //                               15
      '  ```js', //                                16
      '  listed();', //                            17
      '  ```', //                                  18
    ].join('\n');
    expect(codeBlocks('x.md', page)).toEqual([
      { file: 'x.md', line: 3, lang: 'ts', runnable: true, declarations: null, code: 'run();' },
      { file: 'x.md', line: 7, lang: 'tsx', runnable: false, declarations: 'declare const name: string;', code: '```' },
      { file: 'x.md', line: 11, lang: 'sh', runnable: false, declarations: null, code: 'npm test' },
      { file: 'x.md', line: 16, lang: 'js', runnable: false, declarations: null, code: 'listed();' },
    ]);
  });
});

describe('docs snippets', () => {
  it('the pages have the blocks this test is about (the parser found them)', () => {
    const runnable = new Set(blocks.filter((block) => block.runnable).map((block) => block.file));
    expect([...runnable]).toEqual(expect.arrayContaining(['README.md', 'docs/getting-started.md']));
    expect(blocks.length).toBeGreaterThan(20);
  });

  it('every ts, tsx and js block typechecks against the workspace packages', () => {
    const files = blocks.map((block) => fileOf.get(block)!);
    const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile);
    const { options } = ts.parseJsonConfigFileContent(base.config, ts.sys, root);
    const program = ts.createProgram(files, {
      ...options,
      noEmit: true,
      allowJs: true,
      checkJs: true,
      moduleDetection: ts.ModuleDetectionKind.Force, // a block without imports is still a module of its own
      typeRoots: [join(root, 'node_modules/@types')],
      paths: Object.fromEntries(Object.entries(sourceAliases).map(([name, path]) => [name, [path]])),
    });
    const problems: string[] = [];
    for (const block of blocks) {
      const source = program.getSourceFile(fileOf.get(block)!)!;
      for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
        const { line } = source.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
        const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
        problems.push(line === 0 ? `${where(block, 0)} (its declare marker): TS${diagnostic.code} ${text}` : `${where(block, line)}: TS${diagnostic.code} ${text}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 60_000);

  const runnable = blocks.filter((block) => block.runnable);
  it.each(runnable.map((block) => [where(block, 0), block] as const))('%s runs against a fresh reference server', async (_name, block) => {
    const server = await startServer({ storage: 'memory', logLevel: 'silent', ...TEST_SERVER_OPTIONS });
    const bob = createChatClient({ url: server.wsUrl, WebSocket, storage: 'memory' });
    await bob.signUp({ email: 'bob@example.com', name: 'Bob' });
    await bob.close();
    created.length = 0;

    const code = block.code.replaceAll('ws://127.0.0.1:8787/ws', server.wsUrl).replaceAll('http://127.0.0.1:8787', server.httpUrl);
    const file = fileOf.get(block)!;
    writeFileSync(file, `/* ${where(block)} */\n${code}\n`);

    const node = /from\s+['"]ws['"]|require\(\s*['"]ws['"]\s*\)/.test(code);
    const globals = globalThis as { WebSocket?: unknown; indexedDB?: unknown };
    const saved = { WebSocket: globals.WebSocket, indexedDB: globals.indexedDB };
    if (node) {
      if (saved.WebSocket === WebSocket) delete globals.WebSocket;
      delete globals.indexedDB;
    } else {
      globals.WebSocket ??= WebSocket;
      globals.indexedDB = new IDBFactory();
    }
    const output: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.map(String).join(' ')));
    try {
      await within(10_000, `${where(block, 0)} did not settle`, import(pathToFileURL(file).href)).catch((error: unknown) => {
        throw located(error, block, file);
      });
      for (const { client } of created) {
        if (client.connection.getSnapshot().status === 'closed') continue;
        for (const room of client.rooms.getSnapshot()) {
          const messages = client.messages(room.id);
          await within(5_000, `${where(block, 0)}: a message it sent in room ${room.id} stayed pending`, settled(messages));
        }
      }
      expect(created.flatMap(({ faults }) => faults), `${where(block, 0)}: the snippet's clients reported faults`).toEqual([]);
    } finally {
      await Promise.allSettled(created.map(({ client }) => client.close()));
      created.length = 0;
      log.mockRestore();
      Object.assign(globals, saved);
      for (const key of ['WebSocket', 'indexedDB'] as const) if (saved[key] === undefined) delete globals[key];
      await server.close();
    }
  });
});

/** Resolves when no message of the store is pending. */
function settled(store: ChatClient['messages'] extends (roomId: string) => infer S ? S : never): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (store.getSnapshot().messages.some((message) => message.status === 'pending')) return;
      unsubscribe();
      resolve();
    };
    const unsubscribe = store.subscribe(check);
    check();
  });
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error, its message prefixed with the page and line its stack points at inside the snippet. */
function located(error: unknown, block: CodeBlock, file: string): Error {
  const cause = error instanceof Error ? error : new Error(String(error));
  const name = relative(root, file).split('/').pop()!;
  const line = new RegExp(`${name.replace(/[.-]/g, '\\$&')}:(\\d+):\\d+`).exec(cause.stack ?? '')?.[1];
  const at = line ? where(block, Number(line) - 1) : `${where(block, 0)} (a snippet starting here)`;
  return new Error(`${at}: ${cause.message}`, { cause });
}
