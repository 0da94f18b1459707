// Admission at the door (src/admission.ts): new sockets per address and per process, past
// which a socket is closed 1013 with a retry hint the client can follow.
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { CloseCode, retryHintOf, retryWindowOf } from '@chat/sdk/protocol';
import type { RunningServer, ServerOptions } from '../src/index.js';
import { serverFixture } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

const LIFTED = { perSecond: 100_000, burst: 100_000 };
const opened: WebSocket[] = [];
afterEach(() => {
  for (const ws of opened.splice(0)) ws.terminate();
});

/**
 * Opens a socket as `address` (the server trusts X-Forwarded-For here) and says what came of
 * it: taken (still open a moment after the upgrade) or the close it got at once.
 */
function knock(server: RunningServer, address: string): Promise<{ taken: true } | { taken: false; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.wsUrl, { headers: { 'X-Forwarded-For': address } });
    opened.push(ws);
    ws.on('error', reject);
    ws.on('close', (code, reason) => resolve({ taken: false, code, reason: String(reason) }));
    ws.on('open', () => setTimeout(() => ws.readyState === WebSocket.OPEN && resolve({ taken: true }), 150));
  });
}

const start = (limits: NonNullable<ServerOptions['limits']>) => fx.start({ trustProxy: true, limits });

describe('admission: new sockets per address', () => {
  test("an address past its rate is closed 1013 with a retry hint; another address still gets in", async () => {
    const server = await start({ ipAccepts: { perSecond: 1, burst: 3 }, serverAccepts: LIFTED });
    for (let i = 0; i < 3; i++) expect(await knock(server, '198.51.100.1')).toEqual({ taken: true });
    const refused = await knock(server, '198.51.100.1');
    expect(refused).toMatchObject({ taken: false, code: CloseCode.TRY_AGAIN_LATER });
    const reason = (refused as { reason: string }).reason;
    expect(reason).toMatch(/^too many new connections from this address/);
    // About when a token is back at 1 a second.
    expect(retryHintOf(reason)).toBeGreaterThan(0);
    expect(retryHintOf(reason)).toBeLessThanOrEqual(1000);
    expect(await knock(server, '198.51.100.2')).toEqual({ taken: true });
  });

  test('sockets the address closed again still count: opening and closing cannot go past the rate', async () => {
    const server = await start({ ipAccepts: { perSecond: 1, burst: 2 }, serverAccepts: LIFTED });
    for (let i = 0; i < 2; i++) {
      expect(await knock(server, '198.51.100.3')).toEqual({ taken: true });
      opened.pop()!.close();
    }
    expect(await knock(server, '198.51.100.3')).toMatchObject({ taken: false, code: CloseCode.TRY_AGAIN_LATER });
  });
});

describe('admission: new sockets per process', () => {
  test('a crowd past the rate: the rest is closed 1013, each told a window as wide as the queue before it', async () => {
    const server = await start({ ipAccepts: LIFTED, serverAccepts: { perSecond: 10, burst: 10 } });
    // From 40 addresses at once: each address is within its own rate, the process is not.
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => knock(server, `203.0.113.${i + 1}`)));
    const taken = results.filter((r) => r.taken).length;
    const refused = results.flatMap((r) => (r.taken ? [] : [r]));
    // The burst, and at most what refilled while the crowd came in.
    expect(taken).toBeGreaterThanOrEqual(10);
    expect(taken).toBeLessThan(16);
    expect(refused.length).toBe(40 - taken);
    for (const r of refused) {
      expect(r.code).toBe(CloseCode.TRY_AGAIN_LATER);
      expect(r.reason).toMatch(/^server busy/);
    }
    // One slot (100 ms at 10 a second) per refusal: the last refused is told to spread over
    // the whole queue, about 3 s for 30, so the crowd comes back at about the rate.
    const windows = refused.map((r) => retryWindowOf(r.reason)!);
    expect(Math.max(...windows)).toBeGreaterThanOrEqual((refused.length - 2) * 100);
    expect(Math.max(...windows)).toBeLessThanOrEqual(refused.length * 100 + 100);
    expect(Math.min(...windows)).toBeGreaterThanOrEqual(1000);
  });

  test('the rate comes back: once the crowd has spread out, sockets are taken again', async () => {
    const server = await start({ ipAccepts: LIFTED, serverAccepts: { perSecond: 20, burst: 2 } });
    const first = await Promise.all(Array.from({ length: 6 }, (_, i) => knock(server, `203.0.113.${i + 50}`)));
    expect(first.some((r) => !r.taken)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await knock(server, '203.0.113.99')).toEqual({ taken: true });
  });
});
