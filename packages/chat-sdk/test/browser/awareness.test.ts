import { describe, expect, it } from 'vitest';
import { FAST, chromiumSuite, email, eventually, waitForRoom } from './harness.js';

// Three tabs of one user in Chromium, sharing the SDK's SharedWorker: the server sees one
// typing stream and one presence, however many tabs type, and closing two tabs changes nothing.
const suite = chromiumSuite({ options: (srv) => ({ url: srv.wsUrl, ...FAST }) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('typing and presence across tabs in Chromium', () => {
  it('3 tabs of one user: one typing stream and one presence at the server', async () => {
    const c = await suite.context();
    const [p1] = await suite.pages(c, 1);
    expect(await p1!.evaluate(() => chatTest.transport())).toBe('shared-worker');
    const alice = await p1!.evaluate((e) => chatTest.signUp(e), email('alice'));
    const [p2, p3] = await suite.pages(c, 2);
    for (const p of [p2!, p3!]) await p.waitForFunction((id) => chatTest.userId() === id, alice);
    const tabs = [p1!, p2!, p3!];
    const bob = await suite.stranger([alice]);
    await waitForRoom(tabs, bob.roomId);
    await bob.page.evaluate((id) => chatTest.watchPresence([id]), alice);
    await bob.page.waitForFunction((id) => chatTest.presence([id])[id]?.online === true, alice);
    expect(suite.sockets(alice)).toBe(1);

    const framesBefore = suite.srv.awareness().typingFrames;
    // Each tab types on every keystroke, all at once, for about a second.
    for (let i = 0; i < 15; i++) {
      await Promise.all(tabs.map((p) => p.evaluate((r) => chatTest.startTyping(r), bob.roomId)));
      await sleep(50);
    }
    await bob.page.waitForFunction(([r, id]) => chatTest.typing(r!).includes(id!), [bob.roomId, alice]);
    await eventually(() => expect(suite.srv.awareness().typingFrames - framesBefore).toBe(1));
    for (const p of tabs) expect(await p.evaluate((r) => chatTest.typing(r), bob.roomId)).toEqual([]);

    // Two of the three tabs close: still one socket, still online, no presence change at bob.
    await p1!.close();
    await p2!.close();
    await sleep(FAST.hostGraceMs! + 300);
    expect(suite.sockets(alice)).toBe(1);
    expect(suite.srv.awareness().online).toBe(2); // alice and bob
    const seen = await bob.page.evaluate(() => chatTest.presenceSeen);
    expect(seen.every((value) => Object.values(value).every((p) => p.online))).toBe(true);
    expect(await bob.page.evaluate((id) => chatTest.presence([id])[id]?.online, alice)).toBe(true);
  }, 40_000);
});
