// The server goes away and comes back: the banner says so, and what was sent meanwhile goes out.
import { expect, it } from 'vitest';
import { type Page, createRoom, demoSuite, messageItems, sendText, signUp } from './harness.js';

// The server's data in a SQLite file, so the server that comes back still knows Ada and Bob.
const suite = demoSuite({}, { sqlite: true });

it('shows reconnecting while the server is down, and sends what was written offline when it is back', async () => {
  const url = suite.url();
  const [a, b] = await Promise.all([suite.openUser(url), suite.openUser(url)]);
  const [ada, bob] = [a.page, b.page] as [Page, Page];
  await Promise.all([signUp(ada, 'ada@example.com', 'Ada Lovelace'), signUp(bob, 'bob@example.com', 'Bob Stone')]);
  await createRoom(ada, ['Bob']);
  await sendText(ada, 'Before the outage');
  await bob.getByRole('navigation', { name: 'Your rooms' }).getByRole('button', { name: /Ada Lovelace/ }).click();
  await messageItems(bob).filter({ hasText: 'Before the outage' }).waitFor();
  expect(await ada.getByRole('status').count()).toBe(0); // connected: no banner

  await suite.server.close();
  const banner = ada.getByRole('status').filter({ hasText: 'Reconnecting' });
  await banner.waitFor();
  expect(await banner.getAttribute('data-status')).toBe('reconnecting');
  await expect.poll(() => banner.textContent()).toMatch(/attempt \d+, (next try in \d+ s|trying now)/);

  // It says why, with the SDK's code (a server that is gone: the client's own codes).
  const reason = banner.locator('.banner-reason');
  await reason.waitFor();
  const code = await reason.getAttribute('data-code');
  expect(code).toMatch(/^(NETWORK|CLOSED|TIMEOUT)$/);
  expect(await reason.textContent()).toContain(`${code}: `);
  await expect.poll(() => ada.locator('footer.status-line [data-code]').textContent()).toMatch(/^ \((NETWORK|CLOSED|TIMEOUT)\)$/);

  await sendText(ada, 'Written while offline');
  const offline = messageItems(ada).filter({ hasText: 'Written while offline' });
  expect(await offline.getAttribute('data-status')).toBe('pending');

  // Wait for a long backoff, bring the server back, and press "Try now": it connects at once
  // instead of after the wait, and what was written offline goes out.
  const msLeft = async () => Number((await banner.getAttribute('data-next-retry-at')) ?? 0) - Date.now();
  await expect.poll(msLeft, { timeout: 80_000, interval: 100 }).toBeGreaterThanOrEqual(5_000);
  await suite.restartServer();
  expect(await msLeft()).toBeGreaterThanOrEqual(3_000);
  await banner.getByRole('button', { name: 'Try now' }).click();
  await offline.locator('[aria-label="Sent"]').waitFor({ timeout: 2_500 });
  await banner.waitFor({ state: 'detached' });
  await messageItems(bob).filter({ hasText: 'Written while offline' }).waitFor({ timeout: 40_000 });
}, 150_000);
