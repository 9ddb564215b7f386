// Per-item seeds derived from a run seed and the item's identity (clip index, file name), so any one
// item's random choices are the same however many items come before it: runs resume and subsets match.
import { Rng } from '../train/batches.js';

/** A 32-bit seed mixed from numbers and strings (FNV-1a over the parts, then a murmur3 finaliser). */
export function hashSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  const mix = (byte: number): void => {
    h = Math.imul(h ^ (byte & 0xff), 0x01000193);
  };
  for (const part of parts) {
    if (typeof part === 'number') {
      const v = part >>> 0;
      mix(v);
      mix(v >>> 8);
      mix(v >>> 16);
      mix(v >>> 24);
    } else {
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        mix(c);
        mix(c >>> 8);
      }
    }
    mix(0x1f); // separator: ('ab', 'c') and ('a', 'bc') differ
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A generator seeded from `hashSeed(...parts)`. */
export function rngFor(...parts: (number | string)[]): Rng {
  return new Rng(hashSeed(...parts));
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** One element of `items`, uniformly. */
export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)];
}
