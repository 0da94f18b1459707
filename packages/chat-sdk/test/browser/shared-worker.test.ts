import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { FAST, buildFixture, chatServer, email, eventually, launch, openChat, serveDir } from './harness.js';

let browser: Browser;
let srv: RunningServer;
let site: Awaited<ReturnType<typeof serveDir>>;
let fixture: Awaited<ReturnType<typeof buildFixture>>;

beforeAll(async () => {
  [browser, srv, fixture] = await Promise.all([launch(), chatServer(), buildFixture()]);
  site = await serveDir(fixture.dir);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await site?.close();
  fixture?.cleanup();
});

const sockets = (userId: string) => srv.stats().perUser[userId] ?? 0;

describe('SharedWorker mode in Chromium', () => {
  it('three pages of one user share one socket; a message from another user reaches all three', async () => {
    const context = await browser.newContext();
    const options = { url: srv.wsUrl, ...FAST };
    const p1 = await openChat(context, site.url, options);
    expect(await p1.evaluate(() => chatTest.transport())).toBe('shared-worker');
    const aliceEmail = email('alice');
    const alice = await p1.evaluate((e) => chatTest.signUp(e), aliceEmail);
    const p2 = await openChat(context, site.url, options);
    const p3 = await openChat(context, site.url, options);
    for (const p of [p2, p3]) await p.waitForFunction((id) => chatTest.userId() === id, alice);

    const other = await browser.newContext();
    const bobPage = await openChat(other, site.url, options);
    const bob = await bobPage.evaluate((e) => chatTest.signUp(e), email('bob'));
    const roomId = await bobPage.evaluate((id) => chatTest.createRoom([id]), alice);
    for (const p of [p1, p2, p3]) await p.waitForFunction((r) => chatTest.roomIds().includes(r), roomId);
    for (const p of [p1, p2, p3]) await p.evaluate((r) => chatTest.messages(r), roomId);
    await bobPage.evaluate((r) => chatTest.send(r, 'hello alice'), roomId);
    for (const p of [p1, p2, p3]) {
      await p.waitForFunction((r) => chatTest.messages(r).some((m) => m.text === 'hello alice' && m.status === 'sent'), roomId);
    }
    expect(sockets(alice)).toBe(1);
    expect(sockets(bob)).toBe(1);
    await context.close();
    await other.close();
  }, 30_000);
});
