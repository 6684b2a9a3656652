import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/group-commit.js';

describe('GroupCommit', () => {
  it('runs the items added together in one batch, and those added while it runs in the next, each caller getting its own result', async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const g = new GroupCommit<number, number>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items.map((x) => x * 10);
    }, 100);
    const first = [1, 2, 3].map((x) => g.add(x));
    await new Promise((resolve) => setImmediate(resolve));
    const second = [4, 5].map((x) => g.add(x)); // while the first batch runs
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(batches).toEqual([[1, 2, 3], [4, 5]]);
  });

  it('never puts more than maxBatch items in a batch', async () => {
    const sizes: number[] = [];
    const g = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 4);
    await Promise.all(Array.from({ length: 10 }, (_, i) => g.add(i)));
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('runs a failed batch again one item at a time: only the bad item is refused', async () => {
    const batches: string[][] = [];
    const g = new GroupCommit<string, string>(async (items) => {
      batches.push(items);
      if (items.includes('bad')) throw new Error('refused');
      return items.map((s) => s.toUpperCase());
    }, 10);
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((s) => g.add(s)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 'A' },
      { status: 'rejected', reason: new Error('refused') },
      { status: 'fulfilled', value: 'C' },
    ]);
    expect(batches).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });
});
