import type { Page } from 'playwright-core';
import type { ChatClientOptions } from '../../src/index.js';
import { describe, expect, it } from 'vitest';
import { FAST, chromiumSuite, email, eventually, sentEverywhere, waitForRoom } from './harness.js';

const suite = chromiumSuite({ options: (srv) => ({ url: srv.wsUrl, transport: 'leader', ...FAST }) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('leader-tab mode in Chromium', () => {
  it('three pages share one socket; closing the leader elects another within a couple of seconds, and messages queued meanwhile are sent once', async () => {
    const c = await suite.context();
    const [p1] = await suite.pages(c, 1); // the first page takes the lock: it leads
    expect(await p1!.evaluate(() => chatTest.transport())).toBe('leader');
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2, p3] = await suite.pages(c, 2);
    for (const p of [p2!, p3!]) await p.waitForFunction((id) => chatTest.userId() === id, alice);
    const bob = await suite.stranger([alice]);
    await waitForRoom([p1!, p2!, p3!], bob.roomId);
    await bob.page.evaluate((r) => chatTest.send(r, 'hello all'), bob.roomId);
    await sentEverywhere([p1!, p2!, p3!], bob.roomId, 'hello all');
    expect(suite.sockets(alice)).toBe(1);
    // The leader's socket is its worker's: no page opened one (nor loaded the host's code).
    for (const p of [p1!, p2!, p3!]) expect(await p.evaluate(() => chatTest.pageSockets())).toBe(0);

    // Messages in flight on the leader's socket (the server sits on them) when the leader goes...
    suite.srv.faults.stall(600);
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
    await eventually(() => expect(suite.sockets(alice)).toBe(1), 3000);
    const rest = [p2!, p3!, bob.page];
    for (const text of ['handover 1', 'handover 2', 'handover 3']) await sentEverywhere(rest, bob.roomId, text);
    expect(Date.now() - closedAt).toBeLessThan(4000);
    for (const p of rest) {
      const messages = await p.evaluate((r) => chatTest.messages(r), bob.roomId);
      expect(messages.map((m) => m.text).sort()).toEqual(['handover 1', 'handover 2', 'handover 3', 'hello all']);
      expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    }
    await sleep(300);
    expect(suite.sockets(alice)).toBe(1);
  }, 30_000);

  it("a user's socket stays while one of their pages is open, closes a grace period after the last, and with the leader page", async () => {
    const c = await suite.context();
    // Both open before anyone signs in (a later page would resume the last session here).
    const [pa, pb] = await suite.pages(c, 2); // pa leads
    const alice = await pa!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const bob = await pb!.evaluate((e) => chatTest.signUp(e), email('bob'));
    const [pb2] = await suite.pages(c, 1); // resumes bob, the session stored last
    await pb2!.waitForFunction((id) => chatTest.userId() === id, bob);
    await eventually(() => expect([suite.sockets(alice), suite.sockets(bob)]).toEqual([1, 1]));

    await pb!.close();
    await sleep(FAST.hostGraceMs! + 300);
    expect(suite.sockets(bob)).toBe(1); // pb2 still open
    // Taken before closing: the page says bye (and the grace period starts) while close() runs.
    const goneAt = Date.now();
    await pb2!.close();
    await sleep(100);
    expect(suite.sockets(bob)).toBe(1); // the grace period
    await eventually(() => expect(suite.sockets(bob)).toBe(0), 3000);
    expect(Date.now() - goneAt).toBeGreaterThanOrEqual(FAST.hostGraceMs! - 50);
    expect(suite.sockets(alice)).toBe(1);
    await pa!.close();
    await eventually(() => expect(suite.sockets(alice)).toBe(0), 3000);
  }, 30_000);

  it('a leader page that crashes (no pagehide) releases the lock: another tab leads, one socket, nothing lost', async () => {
    const c = await suite.context();
    const [p1] = await suite.pages(c, 1);
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2, p3] = await suite.pages(c, 2);
    const bob = await suite.stranger([alice]);
    await waitForRoom([p2!, p3!], bob.roomId);
    await eventually(() => expect(suite.sockets(alice)).toBe(1));

    const cdp = await c.newCDPSession(p1!);
    const crashed = new Promise((resolve) => p1!.once('crash', resolve));
    void cdp.send('Page.crash').catch(() => undefined); // the renderer dies: no pagehide, no bye
    await crashed;
    await p2!.evaluate((r) => chatTest.send(r, 'after crash'), bob.roomId);
    await sentEverywhere([p2!, p3!, bob.page], bob.roomId, 'after crash');
    await bob.page.evaluate((r) => chatTest.send(r, 'to the new leader'), bob.roomId);
    await sentEverywhere([p2!, p3!], bob.roomId, 'to the new leader');
    await eventually(() => expect(suite.sockets(alice)).toBe(1), 3000);
    const texts = (await p3!.evaluate((r) => chatTest.messages(r), bob.roomId)).map((m) => m.text);
    expect(texts.sort()).toEqual(['after crash', 'to the new leader']);
  }, 30_000);

  it('a worker script that cannot load: the leader fails its calls saying why and leaves the lock, so every tab in turn fails the same way instead of waiting', async () => {
    const c = await suite.context();
    const missing = `${suite.site.url}/missing-worker.js`;
    const pages: Page[] = [];
    for (let i = 0; i < 3; i++) {
      const page = await c.newPage();
      await page.goto(`${suite.site.url}/`);
      await page.waitForFunction(() => typeof globalThis.chatTest === 'object');
      await page.evaluate((o) => void chatTest.create(o as ChatClientOptions), { url: suite.srv.wsUrl, transport: 'leader', ...FAST, workerUrl: missing } as unknown);
      pages.push(page);
    }
    const outcomes = await Promise.all(pages.map((page, i) =>
      page.evaluate((e) => chatTest.signUp(e).then(() => 'signed up', (error: { name: string; code: string; message: string }) => `${error.name} ${error.code} ${error.message}`), email(`nobody${i}`)),
    ));
    for (const outcome of outcomes) {
      expect(outcome).toMatch(/^ChatError BAD_REQUEST transport 'leader' cannot run: the Worker .*missing-worker\.js failed to load/);
      expect(outcome).toContain('docs/bundlers.md');
    }
  }, 30_000);
});
