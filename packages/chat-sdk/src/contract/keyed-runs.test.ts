import { describe, expect, it } from 'vitest';
import { KeyedRuns } from './keyed-runs.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('KeyedRuns', () => {
  it('runs one pass per key at a time; a call during a pass shares it and brings exactly one more round', async () => {
    const runs = new KeyedRuns(() => {});
    let passes = 0;
    let release!: () => void;
    const pass = () => {
      passes++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const first = runs.run('r1', pass);
    const second = runs.run('r1', pass);
    const third = runs.run('r1', pass);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(runs.isRunning('r1')).toBe(true);
    release();
    await tick();
    expect(passes).toBe(2); // the calls during the first pass asked for one more round, not two
    release();
    await first;
    expect(runs.isRunning('r1')).toBe(false);
  });

  it('keys run independently; cancelAgain drops the extra round; an error is reported and ends the run', async () => {
    const errors: unknown[] = [];
    const runs = new KeyedRuns((error) => errors.push(error));
    let passes = 0;
    let release!: () => void;
    const slow = () => {
      passes++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const run = runs.run('a', slow);
    runs.run('a', slow);
    runs.cancelAgain('a');
    await runs.run('b', async () => {
      throw new Error('boom');
    });
    expect(errors).toEqual([new Error('boom')]);
    release();
    await run;
    expect(passes).toBe(1);
  });
});
