// Upload progress and cancel in the SharedWorker host: Chromium's module SharedWorker has
// XMLHttpRequest, so the host reports `upload.onprogress` and aborts with `xhr.abort()`.
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../src/index.js';
import { slowLink } from '../slow-link.js';
import { FAST, chromiumSuite, email, waitForRoom } from './harness.js';

const suite = chromiumSuite({ options: (srv) => ({ url: srv.wsUrl, ...FAST }) });
const links: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const link of links.splice(0)) await link.close();
});

/** What `record` saw in the page, by message text. */
declare global {
  // eslint-disable-next-line no-var
  var uploads: Record<string, Array<{ loaded: number; total: number }>>;
}

/** Records, in the page, every `upload` value the room's messages take, by text. */
const record = (page: Page, roomId: string) =>
  page.evaluate((r) => {
    globalThis.uploads = {};
    const store = (chatTest as unknown as { client: ChatClient }).client.messages(r);
    const last: Record<string, unknown> = {};
    store.subscribe(() => {
      for (const m of store.getSnapshot().messages) {
        if (m.upload && m.upload !== last[m.text]) (globalThis.uploads[m.text] ??= []).push(m.upload);
        last[m.text] = m.upload;
      }
    });
  }, roomId);

/** Sends `text` with a PNG of `size` bytes from the page. */
const sendImage = (page: Page, roomId: string, text: string, size: number) =>
  page.evaluate(
    ([r, t, n]) => {
      const bytes = new Uint8Array(n as number);
      bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 64, 0, 0, 0, 48, 8, 6, 0, 0, 0]);
      const image = new Blob([bytes], { type: 'image/png' });
      return (chatTest as unknown as { client: ChatClient }).client.send(r as string, { text: t as string, image }).clientId;
    },
    [roomId, text, size] as const,
  );

const message = (page: Page, roomId: string, text: string) =>
  page.evaluate(
    ([r, t]) => {
      const m = (chatTest as unknown as { client: ChatClient }).client.messages(r!).getSnapshot().messages.find((x) => x.text === t);
      return m ? { status: m.status, upload: m.upload ?? null, image: m.image?.mime ?? null } : null;
    },
    [roomId, text],
  );

describe('uploads in the SharedWorker host (Chromium)', () => {
  // XHR's `loaded` counts what the kernel took. Here its send buffer grows to 4 MiB and the
  // link's receive buffer to 32 MiB (tcp_wmem, tcp_rmem), so under load Chromium can hand the
  // whole 5 MiB image (the most a message may carry) to the kernel at once, and report no
  // step between 0 and the total whatever the link's pace. The steps are what XHR reports,
  // then: both tabs must show the same ones, in order. That each step XHR reports is passed
  // on is held by src/host/platform-upload.test.ts (steps scripted), and that the host hands
  // every tenth to the tabs by test/upload-progress.test.ts (a real socket, in Node).
  it('progress of an image reaches both tabs: 0 first, the steps XHR reports, the total, gone once sent', async () => {
    const link = await slowLink(suite.srv.port, 2 * 1024 * 1024);
    links.push(link);
    const c = await suite.context();
    const [p1] = await suite.pages(c, 1, { url: suite.srv.wsUrl, ...FAST, uploadUrl: link.uploadUrl });
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2] = await suite.pages(c, 1, { url: suite.srv.wsUrl, ...FAST, uploadUrl: link.uploadUrl });
    await p2!.waitForFunction((id) => chatTest.userId() === id, alice);
    expect(await p1!.evaluate(() => chatTest.transport())).toBe('shared-worker');
    const bob = await suite.stranger([alice]);
    await waitForRoom([p1!, p2!], bob.roomId);
    for (const p of [p1!, p2!]) await record(p, bob.roomId);

    const size = 5_000_000; // over what loopback's socket buffers take at once, so XHR has steps to tell
    await sendImage(p1!, bob.roomId, 'big picture', size);
    for (const p of [p1!, p2!]) {
      await p.waitForFunction((r) => chatTest.messages(r).some((m) => m.text === 'big picture' && m.status === 'sent'), bob.roomId, { timeout: 20_000 });
    }
    const seenBy = await Promise.all([p1!, p2!].map((p) => p.evaluate(() => globalThis.uploads['big picture'] ?? [])));
    expect(seenBy[1]).toEqual(seenBy[0]);
    for (const [i, p] of [p1!, p2!].entries()) {
      const seen = seenBy[i]!;
      expect(seen[0]).toEqual({ loaded: 0, total: size });
      expect(seen.at(-1)).toEqual({ loaded: size, total: size });
      for (let i = 1; i < seen.length; i++) expect(seen[i]!.loaded).toBeGreaterThan(seen[i - 1]!.loaded);
      expect(await message(p, bob.roomId, 'big picture')).toEqual({ status: 'sent', upload: null, image: 'image/png' });
    }
    // Bob got the message with its image.
    await bob.page.waitForFunction((r) => chatTest.messages(r).some((m) => m.text === 'big picture' && m.status === 'sent'), bob.roomId);
  }, 60_000);

  it('discard mid-upload in one tab aborts the XHR: gone from both tabs, never on the server', async () => {
    const link = await slowLink(suite.srv.port, 256 * 1024);
    links.push(link);
    const c = await suite.context();
    const options = { url: suite.srv.wsUrl, ...FAST, uploadUrl: link.uploadUrl };
    const [p1] = await suite.pages(c, 1, options);
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2] = await suite.pages(c, 1, options);
    await p2!.waitForFunction((id) => chatTest.userId() === id, alice);
    const bob = await suite.stranger([alice]);
    await waitForRoom([p1!, p2!], bob.roomId);

    const clientId = await sendImage(p1!, bob.roomId, 'never mind', 5_000_000);
    await p2!.waitForFunction((r) => chatTest.messages(r).some((m) => m.text === 'never mind'), bob.roomId);
    await p1!.evaluate((id) => (chatTest as unknown as { client: ChatClient }).client.discard(id), clientId);
    for (const p of [p1!, p2!]) await p.waitForFunction((r) => !chatTest.messages(r).some((m) => m.text === 'never mind'), bob.roomId, { timeout: 5000 });
    // The room goes on, and the server has only what came after.
    await p1!.evaluate((r) => chatTest.send(r, 'after'), bob.roomId);
    await bob.page.waitForFunction((r) => chatTest.messages(r).some((m) => m.text === 'after'), bob.roomId);
    expect((await bob.page.evaluate((r) => chatTest.messages(r), bob.roomId)).map((m) => m.text)).toEqual(['after']);
    expect(link.stats.forwarded).toBeLessThan(5_000_000);
  }, 60_000);
});
