// Messages that change (issue 14, protocol 10.5) in the demo, in real headless Chromium against
// the reference server: Ann and Bob, each in their own browser context.
import { createChatClient } from '@chat/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Page, createRoom, demoSuite, messageItems, sendText, signUp } from './harness.js';

const suite = demoSuite({ rateLimit: { perSecond: 500, burst: 500 } });
let ann: Page;
let bob: Page;

beforeAll(async () => {
  const url = suite.url();
  [{ page: ann }, { page: bob }] = await Promise.all([suite.openUser(url), suite.openUser(url)]);
  await Promise.all([signUp(ann, 'ann@example.com', 'Ann Lee'), signUp(bob, 'bob@example.com', 'Bob Stone')]);
  await createRoom(ann, ['Bob'], 'Weekend');
  await bob.getByRole('navigation', { name: 'Your rooms' }).getByRole('button', { name: /^Weekend/ }).click();
  await bob.getByRole('textbox', { name: 'Message' }).waitFor();
});

const item = (page: Page, text: string) => messageItems(page).filter({ hasText: text });
/** A message by its server id: its text may change or go. */
const byId = (page: Page, id: string) => page.getByRole('log', { name: 'Messages' }).locator(`li.message[data-id="${id}"]`);
/** Hovering a message shows its actions (as focus does). */
async function act(page: Page, row: ReturnType<typeof byId>, action: string | RegExp) {
  await row.hover();
  await row.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: action, exact: typeof action === 'string' }).click();
}

describe('messages that change', () => {
  let id = '';

  it('Ann sends, Bob reacts 👍 and Ann sees the count; a click on the chip takes it back', async () => {
    await sendText(ann, 'Hike on Saturday?');
    await item(ann, 'Hike on Saturday?').locator('[aria-label="Sent"]').waitFor();
    id = (await item(ann, 'Hike on Saturday?').getAttribute('data-id'))!;
    expect(id).toBeTruthy();
    await byId(bob, id).waitFor();

    await act(bob, byId(bob, id), 'React with 👍 (thumbs up)');
    const bobChip = byId(bob, id).getByRole('list', { name: 'Reactions' }).getByRole('button', { name: /^👍 1/ });
    await bobChip.waitFor();
    expect(await bobChip.getAttribute('aria-pressed')).toBe('true'); // his own: highlighted
    const annChip = byId(ann, id).getByRole('button', { name: /^👍 1, from Bob Stone/ });
    await annChip.waitFor();
    expect(await annChip.getAttribute('aria-pressed')).toBe('false');

    // Ann adds hers by the chip: 2; she takes it back: 1 again, on both sides.
    await annChip.click();
    await byId(bob, id).getByRole('button', { name: /^👍 2/ }).waitFor();
    await byId(ann, id).getByRole('button', { name: /^👍 2/ }).click();
    await byId(bob, id).getByRole('button', { name: /^👍 1, from you\./ }).waitFor();
    await byId(ann, id).getByRole('button', { name: /^👍 1, from Bob Stone/ }).waitFor();
  });

  it('Ann edits inline (Esc cancels, Enter saves); Bob sees the new text and "edited"', async () => {
    await act(ann, byId(ann, id), 'Edit');
    const editor = byId(ann, id).getByRole('textbox', { name: 'Edit message' });
    await editor.fill('Never mind');
    await editor.press('Escape');
    await expect.poll(() => editor.count()).toBe(0);
    expect(await byId(ann, id).locator('.text').textContent()).toBe('Hike on Saturday?');

    await act(ann, byId(ann, id), 'Edit');
    await editor.fill('Hike on Sunday instead?');
    await editor.press('Enter');
    // Saved: the focus is back in the composer, to go on writing.
    await expect.poll(() => ann.evaluate(() => document.activeElement?.closest('.composer') !== null)).toBe(true);
    await expect.poll(() => byId(bob, id).locator('.text').textContent()).toBe('Hike on Sunday instead?');
    await byId(bob, id).getByText('(edited)').waitFor();
    await byId(ann, id).getByText('(edited)').waitFor();
    // Saved: nothing pending or failed is left on Ann's side, and the reaction stayed.
    await expect.poll(() => byId(ann, id).getAttribute('class')).not.toContain('change-pending');
    expect(await byId(ann, id).getByRole('alert').count()).toBe(0);
    await byId(ann, id).getByRole('button', { name: /^👍 1/ }).waitFor();
  });

  it('Bob replies with a quote; Ann clicks the quote and the parent is highlighted', async () => {
    await act(bob, byId(bob, id), 'Reply');
    const replying = bob.getByRole('group', { name: 'Replying to' });
    await replying.getByText('Hike on Sunday instead?').waitFor();
    // × cancels, Reply again brings it back; the field has the focus, so Enter sends.
    await replying.getByRole('button', { name: 'Cancel reply' }).click();
    await expect.poll(() => replying.count()).toBe(0);
    await act(bob, byId(bob, id), 'Reply');
    await replying.waitFor();
    await expect.poll(() => bob.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.id)).toBeTruthy();
    await sendText(bob, 'Count me in');
    await expect.poll(() => replying.count()).toBe(0);

    const reply = item(ann, 'Count me in');
    const quote = reply.getByRole('button', { name: /^Reply to You: Hike on Sunday instead\?/ });
    await quote.waitFor();
    await item(bob, 'Count me in').getByRole('button', { name: /^Reply to Ann Lee: Hike on Sunday instead\?/ }).waitFor();

    await quote.click();
    await expect.poll(() => byId(ann, id).evaluate((el) => el.classList.contains('highlight'))).toBe(true);
    expect(await byId(ann, id).evaluate((el) => el === document.activeElement)).toBe(true);
    // It flashes for a moment only.
    await expect.poll(() => byId(ann, id).evaluate((el) => el.classList.contains('highlight')), { timeout: 6_000 }).toBe(false);
  });

  it('Ann deletes after a confirm; Bob sees "message deleted", in the message and in the quote', async () => {
    await act(ann, byId(ann, id), 'Delete');
    const confirm = byId(ann, id).getByRole('group', { name: 'Delete message' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => confirm.count()).toBe(0);
    expect(await byId(ann, id).locator('.text').textContent()).toBe('Hike on Sunday instead?');

    await act(ann, byId(ann, id), 'Delete');
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await byId(bob, id).getByText('message deleted').waitFor();
    await byId(ann, id).getByText('message deleted').waitFor();
    expect(await byId(bob, id).locator('.reactions').count()).toBe(0);
    // A tombstone offers no actions; the reply's quote says what became of its parent.
    await byId(bob, id).hover();
    expect(await byId(bob, id).getByRole('toolbar').count()).toBe(0);
    await item(bob, 'Count me in').getByRole('button', { name: /^Reply to Ann Lee: message deleted/ }).waitFor();
    // The room list's preview follows only the newest message (Bob's reply), untouched.
    await expect.poll(() => ann.getByRole('navigation', { name: 'Your rooms' }).textContent()).toContain('Count me in');
  });

  it('reaches the actions by keyboard', async () => {
    // Tab into a message's toolbar: the bar shows on focus, its buttons have names.
    const reply = item(ann, 'Count me in');
    await reply.focus();
    await ann.keyboard.press('Tab');
    const focused = await ann.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent);
    expect(focused).toMatch(/Reply to You|React with/);
    await reply.getByRole('button', { name: 'React with 🎉 (party)' }).focus();
    // The bar fades in over 0.12 s: read it until the fade is over (once, it read 0.9996).
    await expect.poll(() => reply.locator('.message-actions').evaluate((el) => getComputedStyle(el).opacity)).toBe('1');
    await ann.keyboard.press('Enter');
    await item(bob, 'Count me in').getByRole('button', { name: /^🎉 1, from Ann Lee/ }).waitFor();
  });

  it('shows an edit on its way as pending, and one the server refuses as failed with Retry and Discard', async () => {
    await sendText(ann, 'Typo heer');
    const row = item(ann, 'Typo heer');
    await row.locator('[aria-label="Sent"]').waitFor();
    const typo = (await row.getAttribute('data-id'))!;
    // Ann's other device (a script) deletes it while the server holds every frame for a moment,
    // so her edit from the page reaches the server after the delete: CONFLICT.
    const other = createChatClient({ url: suite.server.wsUrl, WebSocket, storage: 'memory', transport: 'websocket' });
    await other.login({ email: 'ann@example.com' });
    try {
      await expect.poll(() => other.rooms.getSnapshot().find((r) => r.name === 'Weekend')?.id).toBeTruthy();
      const roomId = other.rooms.getSnapshot().find((r) => r.name === 'Weekend')!.id;
      const store = other.messages(roomId);
      const stop = store.subscribe(() => undefined);
      await expect.poll(() => store.getSnapshot().messages.some((m) => m.id === typo)).toBe(true);

      suite.server.faults.stall(2_500);
      other.delete(roomId, typo);
      await new Promise((resolve) => setTimeout(resolve, 300)); // its frame is in first
      await act(ann, byId(ann, typo), 'Edit');
      await byId(ann, typo).getByRole('textbox', { name: 'Edit message' }).fill('Typo here');
      await byId(ann, typo).getByRole('textbox', { name: 'Edit message' }).press('Enter');
      // On its way: the new text, faded, "Saving edit…".
      expect(await byId(ann, typo).locator('.text').textContent()).toBe('Typo here');
      expect(await byId(ann, typo).getAttribute('class')).toContain('change-pending');
      await byId(ann, typo).getByLabel('Saving edit').waitFor();

      // Refused: the message is what the server has (a tombstone), the edit offers Retry and Discard.
      const failed = byId(ann, typo).getByRole('alert').filter({ hasText: 'Edit not saved' });
      await failed.waitFor({ timeout: 10_000 });
      await byId(ann, typo).getByText('message deleted').waitFor();
      await failed.getByRole('button', { name: 'Retry' }).waitFor();
      await failed.getByRole('button', { name: 'Discard' }).click();
      await expect.poll(() => failed.count()).toBe(0);
      stop();
    } finally {
      await other.close();
    }
  });

  it('scrolls to a parent far above, and says so when the quoted message is not loaded', async () => {
    // A script posts a message, 70 more, then a reply to the first: Ann's page loads only the newest page.
    const cy = createChatClient({ url: suite.server.wsUrl, WebSocket, storage: 'memory', transport: 'websocket' });
    await cy.signUp({ email: 'cy@example.com', name: 'Cy Script' });
    try {
      const annId = (await cy.users({ query: 'ann' })).users[0]!.id;
      const archive = await cy.createRoom({ memberIds: [annId], name: 'Archive' });
      const first = cy.send(archive.id, { text: 'The very first word' });
      const fillers = Array.from({ length: 70 }, (_, i) => cy.send(archive.id, { text: `filler ${i + 1}` }));
      cy.send(archive.id, { text: 'About filler 25', replyTo: fillers[24]!.clientId });
      await new Promise<void>((resolve) => {
        cy.on('messages', (_room, messages) => {
          if (messages.some((m) => m.text === 'Answering the first')) resolve();
        });
        cy.send(archive.id, { text: 'Answering the first', replyTo: first.clientId });
      });

      await ann.getByRole('navigation', { name: 'Your rooms' }).getByRole('button', { name: /^Archive/ }).click();
      const reply = item(ann, 'Answering the first');
      const quote = reply.getByRole('button', { name: /^Reply to Cy Script: The very first word/ });
      await quote.click();
      await reply.getByRole('status').filter({ hasText: 'not loaded' }).waitFor();
      // (The reply's quote holds those words too: look for the message's own text.)
      expect(await messageItems(ann).locator('.text', { hasText: 'The very first word' }).count()).toBe(0);

      // A parent that is loaded but far above: scrolled into view and highlighted.
      const filler = messageItems(ann).filter({ has: ann.locator('.text', { hasText: /^filler 25$/ }) });
      const inView = () =>
        filler.evaluate((el) => {
          const row = el.getBoundingClientRect();
          const log = el.closest('[role=log]')!.getBoundingClientRect();
          return row.top >= log.top && row.bottom <= log.bottom;
        });
      expect(await inView()).toBe(false);
      await item(ann, 'About filler 25').getByRole('button', { name: /^Reply to Cy Script: filler 25/ }).click();
      await expect.poll(() => filler.evaluate((el) => el.classList.contains('highlight'))).toBe(true);
      await expect.poll(inView).toBe(true);
    } finally {
      await cy.close();
    }
  });
});
