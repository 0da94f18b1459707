import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClientOptions } from '../../src/index.js';
import { FAST, buildFixture, chatServer, email, eventually, launch, openChat, serveDir } from './harness.js';

let browser: Browser;
let srv: RunningServer;
let site: Awaited<ReturnType<typeof serveDir>>;
let fixture: Awaited<ReturnType<typeof buildFixture>>;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [browser, srv, fixture] = await Promise.all([launch(), chatServer(), buildFixture()]);
  site = await serveDir(fixture.dir);
}, 30_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await site?.close();
  fixture?.cleanup();
});

const leader: () => ChatClientOptions = () => ({ url: srv.wsUrl, transport: 'leader', ...FAST });
const sockets = (userId: string) => srv.stats().perUser[userId] ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function context(): Promise<BrowserContext> {
  const c = await browser.newContext();
  contexts.push(c);
  return c;
}

async function pages(c: BrowserContext, n: number, options = leader()): Promise<Page[]> {
  const list: Page[] = [];
  for (let i = 0; i < n; i++) list.push(await openChat(c, site.url, options));
  return list;
}

/** Another user, in a context of their own (in process), in a room with `memberIds`. */
async function stranger(memberIds: string[]) {
  const c = await context();
  const [page] = await pages(c, 1, { url: srv.wsUrl, transport: 'websocket', ...FAST });
  const id = await page!.evaluate((e) => chatTest.signUp(e), email('stranger'));
  const roomId = await page!.evaluate((ids) => chatTest.createRoom(ids), memberIds);
  return { page: page!, id, roomId };
}

async function waitForRoom(list: Page[], roomId: string) {
  for (const p of list) {
    await p.waitForFunction((r) => chatTest.roomIds().includes(r), roomId);
    await p.evaluate((r) => void chatTest.messages(r), roomId);
  }
}

const sentEverywhere = (list: Page[], roomId: string, text: string) =>
  Promise.all(list.map((p) => p.waitForFunction(([r, t]) => chatTest.messages(r!).some((m) => m.text === t && m.status === 'sent'), [roomId, text])));

describe('leader-tab mode in Chromium', () => {
  it('three pages share one socket; closing the leader elects another within a couple of seconds, and messages queued meanwhile are sent once', async () => {
    const c = await context();
    const [p1] = await pages(c, 1); // the first page takes the lock: it leads
    expect(await p1!.evaluate(() => chatTest.transport())).toBe('leader');
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2, p3] = await pages(c, 2);
    for (const p of [p2!, p3!]) await p.waitForFunction((id) => chatTest.userId() === id, alice);
    const bob = await stranger([alice]);
    await waitForRoom([p1!, p2!, p3!], bob.roomId);
    await bob.page.evaluate((r) => chatTest.send(r, 'hello all'), bob.roomId);
    await sentEverywhere([p1!, p2!, p3!], bob.roomId, 'hello all');
    expect(sockets(alice)).toBe(1);

    // Messages in flight on the leader's socket (the server sits on them) when the leader goes...
    srv.faults.stall(600);
    await p2!.evaluate((r) => {
      chatTest.send(r, 'handover 1');
      chatTest.send(r, 'handover 2');
    }, bob.roomId);
    await p2!.waitForFunction((r) => chatTest.messages(r).filter((m) => m.status === 'pending').length === 2, bob.roomId);
    await sleep(50);
    const closedAt = Date.now();
    await p1!.close();
    // ...and one sent while no tab leads.
    await p3!.evaluate((r) => chatTest.send(r, 'handover 3'), bob.roomId);
    await eventually(() => expect(sockets(alice)).toBe(1), 3000);
    const rest = [p2!, p3!, bob.page];
    for (const text of ['handover 1', 'handover 2', 'handover 3']) await sentEverywhere(rest, bob.roomId, text);
    expect(Date.now() - closedAt).toBeLessThan(4000);
    for (const p of rest) {
      const messages = await p.evaluate((r) => chatTest.messages(r), bob.roomId);
      expect(messages.map((m) => m.text).sort()).toEqual(['handover 1', 'handover 2', 'handover 3', 'hello all']);
      expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    }
    await sleep(300);
    expect(sockets(alice)).toBe(1);
  }, 30_000);

  it("a user's socket stays while one of their pages is open, closes a grace period after the last, and with the leader page", async () => {
    const c = await context();
    // Both open before anyone signs in (a later page would resume the last session here).
    const [pa, pb] = await pages(c, 2); // pa leads
    const alice = await pa!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const bob = await pb!.evaluate((e) => chatTest.signUp(e), email('bob'));
    const [pb2] = await pages(c, 1); // resumes bob, the session stored last
    await pb2!.waitForFunction((id) => chatTest.userId() === id, bob);
    await eventually(() => expect([sockets(alice), sockets(bob)]).toEqual([1, 1]));

    await pb!.close();
    await sleep(FAST.hostGraceMs! + 300);
    expect(sockets(bob)).toBe(1); // pb2 still open
    await pb2!.close();
    const goneAt = Date.now();
    await sleep(100);
    expect(sockets(bob)).toBe(1); // the grace period
    await eventually(() => expect(sockets(bob)).toBe(0), 3000);
    expect(Date.now() - goneAt).toBeGreaterThanOrEqual(FAST.hostGraceMs! - 50);
    expect(sockets(alice)).toBe(1);
    await pa!.close();
    await eventually(() => expect(sockets(alice)).toBe(0), 3000);
  }, 30_000);

  it('a leader page that crashes (no pagehide) releases the lock: another tab leads, one socket, nothing lost', async () => {
    const c = await context();
    const [p1] = await pages(c, 1);
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2, p3] = await pages(c, 2);
    const bob = await stranger([alice]);
    await waitForRoom([p2!, p3!], bob.roomId);
    await eventually(() => expect(sockets(alice)).toBe(1));

    const cdp = await c.newCDPSession(p1!);
    const crashed = new Promise((resolve) => p1!.once('crash', resolve));
    void cdp.send('Page.crash').catch(() => undefined); // the renderer dies: no pagehide, no bye
    await crashed;
    await p2!.evaluate((r) => chatTest.send(r, 'after crash'), bob.roomId);
    await sentEverywhere([p2!, p3!, bob.page], bob.roomId, 'after crash');
    await bob.page.evaluate((r) => chatTest.send(r, 'to the new leader'), bob.roomId);
    await sentEverywhere([p2!, p3!], bob.roomId, 'to the new leader');
    await eventually(() => expect(sockets(alice)).toBe(1), 3000);
    const texts = (await p3!.evaluate((r) => chatTest.messages(r), bob.roomId)).map((m) => m.text);
    expect(texts.sort()).toEqual(['after crash', 'to the new leader']);
  }, 30_000);
});
