import { describe, expect, it } from 'vitest';
import { ChatError } from '../protocol/index.js';
import { pacedReads } from './paced-reads.js';

function server(refusals: number, retryAfterMs = 250) {
  const calls: string[] = [];
  const waits: number[] = [];
  const request = pacedReads(
    (async (action: string) => {
      calls.push(action);
      if (calls.length <= refusals) throw new ChatError('RATE_LIMITED', 'too much data asked for', { retryAfterMs });
      return { ok: true };
    }) as never,
    async (ms) => void waits.push(ms),
  );
  return { request, calls, waits };
}

describe('pacedReads', () => {
  it('a read refused RATE_LIMITED waits the retryAfterMs the server named and asks again', async () => {
    const s = server(2);
    await expect(s.request('get_user_rooms', { limit: 25 })).resolves.toEqual({ ok: true });
    expect(s.calls).toEqual(['get_user_rooms', 'get_user_rooms', 'get_user_rooms']);
    expect(s.waits).toEqual([250, 250]);
  });

  it('a write is never repeated here (the outbox owns retries of changes)', async () => {
    const s = server(1);
    await expect(s.request('create_room', { memberIds: [] })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(s.calls).toHaveLength(1);
  });

  it('gives up on a wait over 30 s, or after 8 refusals in a row', async () => {
    await expect(server(1, 60_000).request('get_messages', {})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const stubborn = server(100);
    await expect(stubborn.request('get_messages', {})).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect(stubborn.calls).toHaveLength(8);
  });
});
