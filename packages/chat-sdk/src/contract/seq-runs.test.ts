import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqRuns } from './seq-runs.js';

describe('SeqRuns', () => {
  it('tracks runs, gaps and the contiguous top as seqs arrive in any order', () => {
    const runs = new SeqRuns();
    expect([runs.highestContiguous, runs.lowest, runs.highest, runs.hasGap]).toEqual([0, null, 0, false]);
    runs.add(5);
    runs.add(6);
    expect([runs.highestContiguous, runs.lowest, runs.highest]).toEqual([6, 5, 6]);
    runs.add(9);
    runs.add(2);
    expect(runs.gaps()).toEqual([{ after: 2, before: 5 }, { after: 6, before: 9 }]);
    runs.addRange(3, 4);
    runs.add(7);
    expect(runs.gaps()).toEqual([{ after: 7, before: 9 }]);
    runs.add(8);
    expect([runs.hasGap, runs.highestContiguous]).toEqual([false, 9]);
  });

  it('a range from 0 anchors delivery (the host: "everything up to here"), and later seqs extend it', () => {
    const runs = new SeqRuns();
    runs.addRange(0, 40);
    runs.add(41);
    runs.add(43);
    expect(runs.highestContiguous).toBe(41);
    expect(runs.gaps()).toEqual([{ after: 41, before: 43 }]);
    runs.addRange(0, 43);
    expect([runs.hasGap, runs.highestContiguous]).toEqual([false, 43]);
  });

  it('matches a plain set of seqs for any sequence of adds and ranges', () => {
    const step = fc.oneof(
      fc.integer({ min: 1, max: 60 }).map((seq) => [seq, seq] as const),
      fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 10 })).map(([from, n]) => [from, from + n] as const),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const runs = new SeqRuns();
        const held = new Set<number>();
        for (const [from, to] of steps) {
          runs.addRange(from, to);
          for (let s = from; s <= to; s++) held.add(s);
        }
        const sorted = [...held].sort((a, b) => a - b);
        expect(runs.lowest).toBe(sorted[0] ?? null);
        expect(runs.highest).toBe(sorted.at(-1) ?? 0);
        let top = sorted[0] ?? 0;
        while (held.has(top + 1)) top++;
        expect(runs.highestContiguous).toBe(sorted.length ? top : 0);
        const missing = sorted.length ? Array.from({ length: sorted.at(-1)! - sorted[0]! + 1 }, (_, i) => sorted[0]! + i).filter((s) => !held.has(s)) : [];
        const fromGaps = runs.gaps().flatMap((g) => Array.from({ length: g.before - g.after - 1 }, (_, i) => g.after + 1 + i));
        expect(fromGaps).toEqual(missing);
      }),
    );
  });
});
