// Typing and presence in the demo, in real headless Chromium against the reference server.
import { describe, expect, it } from 'vitest';
import { createRoom, demoSuite, messageItems, signUp } from './harness.js';

const suite = demoSuite({ presenceGraceMs: 300 });

describe('demo app: typing and presence', () => {
  it('shows "Ada is typing…" under the messages, a green dot on who is online, and "last seen" in the header', async () => {
    const url = suite.url();
    const [adaUser, bobUser] = await Promise.all([suite.openUser(url), suite.openUser(url)]);
    const ada = adaUser.page;
    const bob = bobUser.page;
    await Promise.all([signUp(ada, 'ada@example.com', 'Ada Lovelace'), signUp(bob, 'bob@example.com', 'Bob Stone')]);
    await createRoom(ada, ['Bob'], 'Pair');
    await bob.getByRole('navigation', { name: 'Your rooms' }).getByRole('button', { name: /^Pair/ }).click();
    await bob.getByRole('textbox', { name: 'Message' }).waitFor();

    // Both online: the header says so and Ada's name has the dot.
    await bob.locator('.last-seen.online').waitFor();
    await bob.locator('.members [data-online]').waitFor();

    await ada.getByRole('textbox', { name: 'Message' }).pressSequentially('Hel');
    await expect.poll(() => bob.locator('.typing-line').textContent()).toBe('Ada Lovelace is typing…');
    expect(await ada.locator('.typing-line').textContent()).toBe('');
    await ada.getByRole('textbox', { name: 'Message' }).press('Enter');
    await messageItems(bob).filter({ hasText: 'Hel' }).waitFor();
    await expect.poll(() => bob.locator('.typing-line').textContent()).toBe('');

    // Ada closes her last tab: after the grace, offline, with when she was last seen.
    await adaUser.context.close();
    await expect.poll(() => bob.locator('.last-seen').textContent(), { timeout: 10_000 }).toMatch(/^last seen /);
    expect(await bob.locator('.members [data-online]').count()).toBe(0);
  }, 60_000);
});
