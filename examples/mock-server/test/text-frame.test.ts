import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { textFrame } from '../src/text-frame.js';

/**
 * The server writes its frames itself (src/text-frame.ts): a real `ws` client must read each
 * as the text it was made from, across the three length encodings (7-bit, 16-bit, 64-bit) and
 * with characters of several bytes, whether handed a string or bytes.
 */
describe('textFrame', () => {
  test('a ws client reads every frame as the text it was made from', async () => {
    const texts = ['', 'hi', 'x'.repeat(125), 'y'.repeat(126), 'é'.repeat(40_000), 'z'.repeat(65_535), '🙂'.repeat(20_000)];
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => wss.once('listening', resolve));
    wss.on('connection', (ws, req) => {
      // Straight to the socket under ws, as Connection.sendFrame does.
      texts.forEach((text, i) => req.socket.write(textFrame(i % 2 === 0 ? text : Buffer.from(text))));
    });
    const { port } = wss.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(String(data));
        if (received.length === texts.length) resolve();
      });
      client.on('error', reject);
    });
    expect(received.map((t) => t.length)).toEqual(texts.map((t) => t.length));
    expect(received).toEqual(texts);
    client.close();
    wss.close();
  });
});
