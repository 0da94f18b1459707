import { describe, expect, it } from 'vitest';
import { authorizationMatrix } from './authz.js';
import { runChanges } from './changes.js';
import { runDelivery } from './delivery.js';
import { fuzzParser, fuzzServer } from './fuzz.js';
import { SHORT, runHostile } from './hostile.js';

// The short form of `npm run chaos`: the same checks at a size that takes seconds.
// Only guarantees are asserted, never a time.
describe('chaos (short)', () => {
  it('2 clients x 150 messages through a cutting, delaying, splitting proxy with a server restart: each stored once, none lost, all clients agree, none pending', async () => {
    const result = await runDelivery({
      clients: 2,
      rooms: 2,
      messagesPerClient: 150,
      restarts: 1,
      restartMode: 'close',
      sendEveryMs: 10,
      proxy: { lifetimeMs: [100, 700], maxDelayMs: 15, splitChance: 0.5 },
      chaosAfterSendsMs: 500,
      settleMs: 30_000,
    });
    expect(result.violations).toEqual([]);
    expect(result.stored).toBe(300);
    expect(result.restarts).toBe(1);
  });

  it('3 clients x 40 edits, deletes and reactions through the cutting proxy with a server restart: every view equals the server\'s, each change applied once, none pending', async () => {
    const result = await runChanges({
      clients: 3,
      messagesPerClient: 4,
      changesPerClient: 40,
      restarts: 1,
      changeEveryMs: 15,
      proxy: { lifetimeMs: [100, 700], maxDelayMs: 15, splitChance: 0.5 },
      chaosAfterChangesMs: 500,
      settleMs: 30_000,
    });
    expect(result.violations).toEqual([]);
    expect(result.restarts).toBe(1);
    expect(result.applied).toBeGreaterThan(60);
  }, 90_000);

  it('authorization matrix: every action refused with the protocol code', async () => {
    const rows = await authorizationMatrix();
    expect(rows.filter((r) => !r.ok)).toEqual([]);
    expect(rows.length).toBeGreaterThan(20);
  });

  it('fuzz: the SDK frame parser never throws and rejects with protocol codes', () => {
    expect(fuzzParser(500).cases).toBe(500);
  });

  it('fuzz: the server answers random frames as the protocol says and keeps serving', async () => {
    const result = await fuzzServer(300);
    expect(result.cases).toBeGreaterThanOrEqual(300);
    expect(result.requests).toBeGreaterThan(0);
  });

  it('hostile clients: every attack of the abuse report is met (limits per user and per address, quotas, privacy), no bystander message lost', async () => {
    const rows = await runHostile(SHORT);
    expect(rows.filter((r) => !r.ok).map((r) => `${r.attack}: ${r.now}`)).toEqual([]);
    expect(rows.map((r) => r.lost)).toEqual(rows.map(() => 0));
    expect(rows.length).toBe(11);
  }, 240_000);
});
