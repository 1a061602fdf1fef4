import { describe, expect, it } from 'vitest';
import { limiter } from '../../src/util/pool.js';

describe('limiter (BMC reads started while the sweep still listens)', () => {
  it('never runs more than its limit at once, starts tasks in the order given, and passes results and errors through', async () => {
    const bounded = limiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (i === 3) throw new Error('bmc 3');
      return i * 10;
    };
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => bounded(task(i))));
    expect(peak).toBe(2);
    expect(started).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([
      10,
      20,
      'bmc 3',
      40,
      50,
    ]);
  });
});
