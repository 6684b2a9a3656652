/** Seeded pseudo-random numbers for the statistics tests: reproducible, no Math.random. */

/** mulberry32: uniform in [0, 1) from a 32-bit seed. */
export function uniform(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Normal(mean, sd) by Box-Muller from `next`. */
export function normal(next: () => number, mean: number, sd: number): number {
  const u = 1 - next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}
