// Seeds derived from a run seed and an item's identity (clip index, file name, layer name), so any one
// item's random choices are the same however many items come before it: runs resume and subsets match.
import { Rng } from './rng.js';

/** A 32-bit hash of numbers and strings (FNV-1a over the parts, then a murmur3 finaliser). */
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

/**
 * A layer's seed from the model seed and the layer's name, so layers draw independent numbers. Model
 * files rebuild their weights from it, so its output must never change.
 */
export function deriveSeed(seed: number, salt: string): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  for (let i = 0; i < salt.length; i++) h = Math.imul(h ^ salt.charCodeAt(i), 0x01000193) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}
