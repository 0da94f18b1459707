import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import type { ChatClient } from '../src/index.js';
import { client, email, server, until } from './helpers.js';

/**
 * A crowd comes back to a server that admits only so many new sockets a second (after a
 * crash: no 1001 with a hint went out). The server closes the excess 1013 with a retry
 * window; the SDK follows it, so the crowd gets in without hammering the door.
 */

const clients: ChatClient[] = [];
let real: RunningServer | undefined;
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await real?.close();
  real = undefined;
});

describe('a crowd refused at the door (real server)', () => {
  it('follows the 1013 retry windows: every client gets in, most on their first retry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-admission-'));
    const db = join(dir, 'chat.sqlite');
    const crowd = 12;
    try {
      real = await server({ db });
      const port = Number(new URL(real.wsUrl).port);
      for (let i = 0; i < crowd; i++) {
        const c = client(real, { storage: 'memory' });
        clients.push(c);
        await c.signUp({ email: email('crowd') });
      }
      // Each client's reconnect attempts from now on (its own backoff retries every 20-200 ms).
      const attempts = clients.map(() => 0);
      clients.forEach((c, i) =>
        c.connection.subscribe(() => {
          if (c.connection.getSnapshot().status === 'connecting') attempts[i]!++;
        }),
      );
      await real.close();
      // Back at once, taking 8 new sockets a second after a burst of 3: most of the crowd is refused.
      real = await server({ db, port, limits: { ...TEST_SERVER_OPTIONS.limits, serverAccepts: { perSecond: 8, burst: 3 } } });
      attempts.fill(0); // the knocks on the closed port before it listened again are not the door's doing
      await Promise.all(clients.map((c) => until(c.connection, (s) => s.status === 'open', 12_000, 'back in')));
      const total = attempts.reduce((a, b) => a + b, 0);
      // Following the windows, a refused client comes back about once or twice (about 2 each
      // here); a refusal without the window leaves each to its own 20-200 ms backoff, and the
      // crowd knocks about 5 times each (55-59 in all, tried) in the second or two the queue lasts.
      expect(total).toBeGreaterThanOrEqual(crowd);
      expect(total).toBeLessThanOrEqual(crowd * 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
