// `npm run screenshots`: the demo's main screens, saved to docs/images/ for the README.
// Not a test (vitest runs test/**/*.test.ts only), so `npm test` leaves the tree clean.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { type ChatClient, createChatClient } from '@chat/sdk';
import WebSocket from 'ws';
import { type Page, buildDemo, demoUrl, launch, makePng, messageItems, openUser, sendText, serveDir } from './harness.js';

const out = fileURLToPath(new URL('../../../docs/images/', import.meta.url));
mkdirSync(out, { recursive: true });

const server = await startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS });
const built = await buildDemo();
const app = await serveDir(built.dir);
const browser = await launch();
const url = demoUrl(app.url, server.wsUrl);
const shot = (page: Page, name: string) => page.screenshot({ path: `${out}${name}.png` });

/** Resolves once `client`'s store of the room holds the message (it stays subscribed for the run). */
function held(client: ChatClient, roomId: string, id: string): Promise<void> {
  const store = client.messages(roomId);
  return new Promise((resolve) => {
    const check = () => {
      if (store.getSnapshot().messages.some((m) => m.id === id)) resolve();
    };
    store.subscribe(check);
    check();
  });
}

try {
  // Other people, signed up by a script.
  const bots = await Promise.all(
    [
      ['grace@example.com', 'Grace Hopper'],
      ['alan@example.com', 'Alan Turing'],
      ['katherine@example.com', 'Katherine Johnson'],
    ].map(async ([email, name]) => {
      const client = createChatClient({ url: server.wsUrl, WebSocket, storage: 'memory', transport: 'websocket' });
      await client.signUp({ email: email!, name: name! });
      return client;
    }),
  );
  const [grace, alan] = bots as [(typeof bots)[0], (typeof bots)[0]];

  const { page } = await openUser(browser, url);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByLabel('Email').fill('ada@example.com');
  await page.getByLabel('Display name').fill('Ada Lovelace');
  await shot(page, 'login');
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: '+ New room' }).waitFor();
  const adaId = (await grace.users({ query: 'ada' })).users[0]!.id;
  const alanId = (await grace.users({ query: 'alan' })).users[0]!.id;

  // Some rooms with history, made by the others (they appear live).
  const lunch = await alan.createRoom({ memberIds: [adaId], name: null });
  alan.send(lunch.id, { text: 'Lunch at noon?' });
  const design = await grace.createRoom({ memberIds: [adaId, alanId], name: 'Design review' });
  grace.send(design.id, { text: 'Morning! The new onboarding flow is up for review.' });
  grace.send(design.id, { text: 'Here is the first screen:' });
  const sky = makePng(360, 220, (x, y) => [90 + Math.round(y * 0.5), 130 + Math.round(y * 0.45), 200 + Math.round(x * 0.1)]);
  grace.send(design.id, { image: new Blob([new Uint8Array(sky)], { type: 'image/png' }) });
  await page.getByRole('button', { name: /Design review/ }).waitFor();
  await page.getByRole('button', { name: /Alan Turing/ }).waitFor();

  await page.getByRole('button', { name: /Design review/ }).click();
  await messageItems(page).filter({ has: page.locator('img') }).waitFor();
  await sendText(page, 'Looks calm and clear. One question about the second step…');
  const mine = messageItems(page).filter({ hasText: 'One question' });
  await mine.locator('[aria-label="Sent"]').waitFor();
  // Messages that change: reactions (Ada's own highlighted), an edit, and a reply with its quote.
  // A client changes only messages its room store holds: the bots watch the room until both are there.
  const picture = messageItems(page).filter({ has: page.locator('img') });
  const morning = (await picture.getAttribute('data-id'))!;
  const question = (await mine.getAttribute('data-id'))!;
  await Promise.all([held(grace, design.id, question), held(alan, design.id, morning)]);
  grace.react(design.id, question, '👍');
  alan.react(design.id, morning, '🎉');
  alan.react(design.id, morning, '👍');
  await picture.getByRole('button', { name: /^👍 1/ }).click();
  await mine.hover();
  await mine.getByRole('button', { name: 'Edit', exact: true }).click();
  await mine.getByRole('textbox', { name: 'Edit message' }).fill('Looks calm and clear! One question about the second step…');
  await mine.getByRole('textbox', { name: 'Edit message' }).press('Enter');
  await mine.getByText('(edited)').waitFor();
  alan.send(design.id, { text: 'Agreed, nice work! The second step is optional.', replyTo: question });
  await messageItems(page).filter({ hasText: 'nice work' }).locator('.quote').waitFor();
  await picture.getByRole('button', { name: /^👍 2/ }).waitFor();
  // A picture whose bytes the server refuses: it fails and offers retry and discard.
  await page.locator('input[type=file]').setInputFiles({ name: 'sketch.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
  await sendText(page, 'And my sketch');
  await page.getByRole('button', { name: 'Retry' }).waitFor();
  await page.getByRole('textbox', { name: 'Message' }).fill('Draft: maybe the button could be');
  await page.evaluate(() => Promise.all([...document.images].map((img) => img.decode().catch(() => undefined))));
  // The reaction bar as a pointer over Alan's reply shows it.
  await messageItems(page).filter({ hasText: 'nice work' }).locator('.bubble').hover();
  await page.waitForTimeout(200);
  await shot(page, 'chat');
  await page.mouse.move(0, 0);

  await page.getByRole('button', { name: '+ New room' }).click();
  // The directory searches by prefix of a name or email: one person at a time.
  await page.getByRole('searchbox', { name: 'People' }).fill('Alan');
  await page.getByRole('checkbox', { name: /Alan Turing/ }).check();
  await page.getByRole('searchbox', { name: 'People' }).fill('Katherine');
  await page.getByRole('checkbox', { name: /Katherine Johnson/ }).check();
  await page.getByLabel(/Room name/).fill('Launch plan');
  await page.getByRole('searchbox', { name: 'People' }).fill('G');
  await page.getByRole('checkbox', { name: /Grace Hopper/ }).waitFor();
  await shot(page, 'create-room');

  await page.getByRole('button', { name: /Design review/ }).click();
  await messageItems(page).first().waitFor();
  await server.close();
  await page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
  await sendText(page, 'Sent while the server is down: it waits and goes out later.');
  await page.evaluate(() => Promise.all([...document.images].map((img) => img.decode().catch(() => undefined))));
  await shot(page, 'offline');
  for (const bot of bots) bot.close();
  process.stdout.write(`screenshots saved to ${out}\n`);
} finally {
  await browser.close();
  await app.close();
  await server.close();
  built.cleanup();
}
