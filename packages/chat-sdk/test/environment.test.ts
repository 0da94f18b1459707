import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';

const browserGlobals = ['window', 'document', 'navigator', 'indexedDB', 'localStorage', 'WebSocket', 'BroadcastChannel', 'SharedWorker', 'Worker', 'addEventListener'];
const saved = new Map<string, PropertyDescriptor | undefined>();

afterEach(() => {
  for (const [name, descriptor] of saved) {
    if (descriptor) Object.defineProperty(globalThis, name, descriptor);
    else delete (globalThis as Record<string, unknown>)[name];
  }
  saved.clear();
});

it('importing the SDK touches no browser global (safe in Node and during server rendering)', async () => {
  const touched: string[] = [];
  for (const name of browserGlobals) {
    saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        touched.push(name);
        return undefined;
      },
    });
  }
  vi.resetModules();
  const sdk = await import('../src/index.js');
  expect(typeof sdk.createChatClient).toBe('function');
  // Nor does Node's entry (SSR resolves `@chat/sdk` to it), with the host's code it brings.
  const node = await import('../src/node.js');
  expect(typeof node.createChatClient).toBe('function');
  expect(touched).toEqual([]);
});

it('the core never imports react', async () => {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.some((path) => /node_modules\/react(-dom)?\//.test(path))).toBe(false);
  expect(inputs.some((path) => /node_modules\/zod\/v4\/classic\//.test(path))).toBe(false); // zod/mini only
});

it("Node's entry runs the connection in process, also when an app passes inTab: undefined", async () => {
  const { client, email, server } = await import('./helpers.js');
  const srv = await server();
  try {
    const c = client(srv, { inTab: undefined } as never); // what JavaScript (or a spread of options) may pass
    expect(c.transport).toBe('in-tab');
    const user = await c.signUp({ email: email('node') });
    expect(srv.stats().perUser[user.id]).toBe(1);
    await c.close();
  } finally {
    await srv.close();
  }
});
