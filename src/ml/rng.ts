// A small seedable PRNG (mulberry32): reproducible sampling and batching
// without touching Math.random.
export type Rng = () => number;

export function makeRng(seed: number = Date.now() ^ (Math.random() * 2 ** 32)): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed drawn from `rng`, for a seeded generator of its own (makeRng, tfjs's seeded ops). */
export function nextSeed(rng: Rng): number {
  return Math.floor(rng() * 2 ** 32);
}
