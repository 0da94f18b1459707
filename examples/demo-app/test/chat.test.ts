// The demo in real headless Chromium against the reference server: three people, one room.
import { createChatClient } from '@chat/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Page, PNG, createRoom, demoSuite, draftStored, messageItems, sendText, signUp } from './harness.js';

const suite = demoSuite({ rateLimit: { perSecond: 500, burst: 500 } });
let ada: Page;
let bob: Page;
let carol: Page;

beforeAll(async () => {
  const url = suite.url();
  const users = await Promise.all([suite.openUser(url), suite.openUser(url), suite.openUser(url)]);
  [ada, bob, carol] = users.map((u) => u.page) as [Page, Page, Page];
  await Promise.all([
    signUp(ada, 'ada@example.com', 'Ada Lovelace'),
    signUp(bob, 'bob@example.com', 'Bob Stone'),
    signUp(carol, 'carol@example.com', 'Carol Reyes'),
  ]);
});

const room = (page: Page, name: RegExp | string) => page.getByRole('navigation', { name: 'Your rooms' }).getByRole('button', { name });
const item = (page: Page, text: string) => messageItems(page).filter({ hasText: text });

describe('demo app', () => {
  it('shows the transport, creates a room live for everyone, delivers and names messages', async () => {
    await expect.poll(() => ada.locator('[data-transport]').getAttribute('data-transport')).toBe('shared-worker');

    await createRoom(ada, ['Bob', 'Carol'], 'Team');
    // Bob and Carol see the room appear without a reload.
    await room(bob, /^Team/).waitFor();
    await room(carol, /^Team/).waitFor();

    await sendText(ada, 'Hello team');
    await item(ada, 'Hello team').locator('[aria-label="Sent"]').waitFor();
    // The room list shows the preview and, for the others, the unread marker.
    await room(bob, 'Team, 1 new message').waitFor();
    await expect.poll(() => room(bob, /Team/).textContent()).toContain('Ada Lovelace: Hello team');

    await room(bob, /Team/).click();
    await item(bob, 'Hello team').waitFor();
    expect(await item(bob, 'Hello team').locator('.sender').textContent()).toBe('Ada Lovelace');
    await room(bob, 'Team').waitFor(); // read: the count is gone
    // Ada sees that Bob read it (Carol has not opened the room yet).
    await item(ada, 'Hello team').locator('[aria-label="Seen by Bob Stone"]').waitFor();

    await room(carol, /Team/).click();
    await item(carol, 'Hello team').waitFor();

    await sendText(bob, 'Hi Ada!\nTwo lines.');
    await item(ada, 'Hi Ada!').waitFor();
    await item(carol, 'Two lines.').waitFor();
    expect(await item(ada, 'Hi Ada!').locator('.sender').textContent()).toBe('Bob Stone');
    expect(await item(ada, 'Hi Ada!').locator('.text').innerText()).toBe('Hi Ada!\nTwo lines.');
  });

  it('shows Shift+Enter as a new line and message text as text, never HTML', async () => {
    const box = ada.getByRole('textbox', { name: 'Message' });
    await box.fill('first line');
    await box.press('Shift+Enter');
    await box.pressSequentially('<img src=x onerror="window.__pwned=1"><b>bold</b>');
    expect(await box.inputValue()).toBe('first line\n<img src=x onerror="window.__pwned=1"><b>bold</b>');
    await box.press('Enter');
    await expect.poll(() => box.inputValue()).toBe('');

    const sent = item(bob, '<b>bold</b>');
    await sent.waitFor();
    expect(await sent.locator('.text img, .text b').count()).toBe(0);
    expect(await bob.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it('attaches pictures by picker, paste and drop, previews them, and shows them sent', async () => {
    await ada.locator('input[type=file]').setInputFiles({ name: 'square.png', mimeType: 'image/png', buffer: PNG });
    await ada.getByRole('img', { name: 'Picture to send' }).waitFor();
    await sendText(ada, 'A picture');
    const mine = item(ada, 'A picture');
    await mine.locator('[aria-label="Sent"]').waitFor();
    await expect.poll(() => mine.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);

    // Bob sees it from the server's url.
    const theirs = item(bob, 'A picture').locator('img');
    await theirs.waitFor();
    expect(await theirs.getAttribute('src')).toMatch(new RegExp(`^${suite.server.httpUrl}/uploads/`));
    await expect.poll(() => theirs.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(160);

    // Paste and drop go to the same place.
    const bytes = [...PNG];
    await carol.getByRole('textbox', { name: 'Message' }).evaluate((el, data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'pasted.png', { type: 'image/png' }));
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    }, bytes);
    await carol.getByText('pasted.png').waitFor();
    await carol.getByRole('button', { name: 'Remove picture' }).click();
    await carol.locator('section.chat').evaluate((el, data) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
      el.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, bytes);
    await carol.getByText('dropped.png').waitFor();
    await carol.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => messageItems(ada).last().locator('img').count()).toBe(1);
    await expect.poll(() => messageItems(ada).last().locator('.sender').textContent()).toBe('Carol Reyes');

    // A file that is not an image, and one that is too large, are explained and not attached.
    await ada.locator('input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    await ada.getByRole('alert').filter({ hasText: '“notes.txt” is not an image' }).waitFor();
    await ada.locator('input[type=file]').setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.alloc(5 * 1024 * 1024 + 1) });
    await ada.getByRole('alert').filter({ hasText: 'at most 5.0 MB' }).waitFor();
    expect(await ada.getByRole('img', { name: 'Picture to send' }).count()).toBe(0);
  });

  it('keeps a draft (text and picture) across room switches and reloads; sending clears it', async () => {
    await createRoom(bob, ['Carol']); // a second room to switch to
    await room(bob, /Team/).click();
    const box = bob.getByRole('textbox', { name: 'Message' });
    await box.fill('half-written thought');
    await bob.locator('input[type=file]').setInputFiles({ name: 'draft.png', mimeType: 'image/png', buffer: PNG });
    await bob.getByText('draft.png').waitFor();

    await room(bob, /Carol Reyes/).click();
    await expect.poll(() => box.inputValue()).toBe('');
    await room(bob, /Team/).click();
    await expect.poll(() => box.inputValue()).toBe('half-written thought');

    await draftStored(bob, 'half-written thought', true);
    await bob.reload();
    await expect.poll(() => box.inputValue()).toBe('half-written thought');
    await bob.getByRole('img', { name: 'Picture to send' }).waitFor();
    // The session survived the reload too.
    await bob.getByRole('button', { name: 'Log out' }).waitFor();

    await box.press('Enter');
    await item(bob, 'half-written thought').locator('[aria-label="Sent"]').waitFor();
    expect(await box.inputValue()).toBe('');
    expect(await bob.getByRole('img', { name: 'Picture to send' }).count()).toBe(0);
    await bob.reload();
    await bob.getByRole('log', { name: 'Messages' }).waitFor();
    await expect.poll(() => box.isEnabled()).toBe(true);
    expect(await box.inputValue()).toBe('');
  });

  it('marks a message the server refuses as failed, with retry and discard', async () => {
    await ada.locator('input[type=file]').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('these bytes are not a PNG') });
    await sendText(ada, 'Broken picture');
    const failed = item(ada, 'Broken picture');
    await failed.getByRole('button', { name: 'Retry' }).waitFor();
    expect(await failed.getAttribute('data-status')).toBe('failed');

    await failed.getByRole('button', { name: 'Retry' }).click();
    // Refused again (the bytes did not change): failed once more, still offering both.
    await failed.getByRole('button', { name: 'Discard' }).waitFor();
    await failed.getByRole('button', { name: 'Discard' }).click();
    await expect.poll(() => failed.count()).toBe(0);
    // The room went on: a later message is sent.
    await sendText(ada, 'After the broken one');
    await item(bob, 'After the broken one').waitFor();
  });

  it('loads older pages without jumping and follows new messages', async () => {
    // A script signed in as Ada opens a room with Carol and posts 130 messages into it.
    // More than the 100 messages a client caches per room, so Carol has history to page through.
    const bot = createChatClient({ url: suite.server.wsUrl, WebSocket, storage: 'memory', transport: 'websocket' });
    await bot.login({ email: 'ada@example.com' });
    const carolId = (await bot.users({ query: 'carol' })).users[0]!.id;
    const history = await bot.createRoom({ memberIds: [carolId], name: 'History' });
    await new Promise<void>((resolve) => {
      bot.on('messages', (_room, messages) => {
        if (messages.some((m) => m.text === 'bulk 130')) resolve();
      });
      for (let i = 1; i <= 130; i++) bot.send(history.id, { text: `bulk ${i}` });
    });

    await room(carol, /^History/).click();
    const log = carol.getByRole('log', { name: 'Messages' });
    await item(carol, 'bulk 130').waitFor();
    const atBottom = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 48);
    await expect.poll(atBottom).toBe(true);

    // Scroll to the top: the older page loads above, and what was in view stays put.
    const count = await messageItems(carol).count();
    expect(count).toBeLessThan(130);
    const oldest = await messageItems(carol).first().locator('.text').textContent();
    const topBefore = await log.evaluate((el) => {
      el.scrollTop = 0;
      return el.querySelector('li.message .bubble')!.getBoundingClientRect().top;
    });
    await expect.poll(() => messageItems(carol).count()).toBeGreaterThan(count);
    const topAfter = await item(carol, oldest!).first().locator('.bubble').evaluate((el) => el.getBoundingClientRect().top);
    expect(Math.abs(topAfter - topBefore)).toBeLessThan(3);

    // Scrolled up, a new message from someone else shows a button instead of moving the view.
    bot.send(history.id, { text: 'While you were reading' });
    const button = carol.getByRole('button', { name: /1 new message/ });
    await button.waitFor();
    expect(await atBottom()).toBe(false);
    await button.click();
    await expect.poll(atBottom).toBe(true);

    // At the bottom, others' messages are followed; one's own always is.
    bot.send(history.id, { text: 'Followed' });
    await item(carol, 'Followed').waitFor();
    await expect.poll(atBottom).toBe(true);
    await log.evaluate((el) => el.scrollTo(0, 0));
    await sendText(carol, 'Mine, from far up');
    await item(carol, 'Mine, from far up').waitFor();
    await expect.poll(atBottom).toBe(true);
    bot.close();
  });

  it('logs out and back in', async () => {
    await carol.getByRole('button', { name: 'Log out' }).click();
    await carol.getByRole('heading', { name: 'Log in' }).waitFor();
    await carol.getByLabel('Email').fill('nobody@example.com');
    await carol.getByRole('button', { name: 'Log in' }).click();
    await carol.getByRole('alert').filter({ hasText: 'No account with this email' }).waitFor();
    await carol.getByLabel('Email').fill('carol@example.com');
    await carol.getByRole('button', { name: 'Log in' }).click();
    await room(carol, /Team/).waitFor();
  });
});
