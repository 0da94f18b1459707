// `npm run screenshots`: the demo's main screens, saved to docs/images/ for the README.
// Not a test (vitest runs test/**/*.test.ts only), so `npm test` leaves the tree clean.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { createChatClient } from '@chat/sdk';
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
  alan.send(design.id, { text: 'Agreed, nice work!' });
  await messageItems(page).filter({ hasText: 'nice work' }).waitFor();
  // A picture whose bytes the server refuses: it fails and offers retry and discard.
  await page.locator('input[type=file]').setInputFiles({ name: 'sketch.png', mimeType: 'image/png', buffer: Buffer.from('not really a png') });
  await sendText(page, 'And my sketch');
  await page.getByRole('button', { name: 'Retry' }).waitFor();
  await page.getByRole('textbox', { name: 'Message' }).fill('Draft: maybe the button could be');
  await page.evaluate(() => Promise.all([...document.images].map((img) => img.decode().catch(() => undefined))));
  await shot(page, 'chat');

  await page.getByRole('button', { name: '+ New room' }).click();
  await page.getByRole('searchbox', { name: 'People' }).fill('a');
  await page.getByRole('checkbox', { name: /Alan Turing/ }).check();
  await page.getByRole('checkbox', { name: /Katherine Johnson/ }).check();
  await page.getByLabel(/Room name/).fill('Launch plan');
  await page.getByRole('searchbox', { name: 'People' }).fill('');
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
