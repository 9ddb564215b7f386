// Augmentation as training batches are loaded, on the features of the cache. Every draw comes from a
// generator seeded by (run seed, epoch, sample index) (util/hash.ts rngFor), so a sample is augmented
// the same way whatever batch it lands in, and a resumed run draws what an uninterrupted one would.
//   - copies: a data set with waveform-augmented copies (Dataset.copies = K, data/wave-augment.ts) gives
//     each sample copy number hash(seed, epoch, index) mod (K + 1) in an epoch; 0 is the clean clip.
//   - shift: the clip moved in time by up to ±100 ms, the frames shifted in filled with each band's
//     minimum (the waveform: with zeros).
//   - masks (SpecAugment, Park et al. 2019): frequency masks of up to F rows (mel bands, or MFCC) and
//     time masks of up to T frames, filled with the clip's mean (not the waveform).
// Core file (no node: imports).
import type { FeatureSettings } from '../audio/settings.js';
import { hashSeed, rngFor } from '../util/hash.js';
import type { Rng } from '../util/rng.js';

export interface SpecAugmentSettings {
  /** Largest shift either way, in frames (log-mel) or samples (waveform); 0 for none. */
  shift: number;
  /** Frequency masks per clip and the most bands each covers. */
  freqMasks: number;
  freqMaskBands: number;
  /** Time masks per clip and the most frames each covers. */
  timeMasks: number;
  timeMaskFrames: number;
}

export interface AugmentOptions {
  /** Feature-level shift and masks; absent or null for none. */
  spec?: SpecAugmentSettings | null;
  /** Use the data set's waveform-augmented copies, when it has any. */
  copies?: boolean;
}

/** The time shift's default reach either way, in seconds (kws_streaming's 100 ms). */
export const DEFAULT_SHIFT_SECONDS = 0.1;

/**
 * ±100 ms of shift (or `shiftSeconds`), 2 frequency masks of up to an eighth of the rows (8 of 60 mel bands, 3 of 20 MFCC)
 * and 2 time masks of up to 10 frames (for the 134 frames of 7.5 ms: a shift of ±13 frames); the
 * waveform gets the shift only.
 */
export function specAugmentFor(settings: FeatureSettings, shiftSeconds: number = DEFAULT_SHIFT_SECONDS): SpecAugmentSettings {
  if (settings.kind === 'waveform') return { shift: Math.round(shiftSeconds * settings.sampleRate), freqMasks: 0, freqMaskBands: 0, timeMasks: 0, timeMaskFrames: 0 };
  // Masks of 8 rows, sized for 60 mel bands, would blank up to 16 of 20 MFCC: TC-ResNet8 on 20 MFCC
  // scored 1.7 points lower on real speech's test split with them than with 3 (docs/accuracy.md).
  const rows = settings.kind === 'mfcc' ? settings.coefficients : settings.melBands;
  return { shift: Math.round((shiftSeconds * settings.sampleRate) / settings.hop), freqMasks: 2, freqMaskBands: Math.round((8 * rows) / 60), timeMasks: 2, timeMaskFrames: 10 };
}

export function checkAugment(a: AugmentOptions): void {
  if (!a.spec) return;
  for (const [key, v] of Object.entries(a.spec))
    if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`augment: spec.${key} must be a non-negative integer, got ${v}`);
}

/** The seed of one kind of draw ('copy' or 'spec') in an epoch; a sample's draw then hashes its index
 *  into it, so the loader hashes the run seed and epoch once per batch rather than per sample. */
export function epochSeed(seed: number, kind: 'copy' | 'spec', epoch: number): number {
  return hashSeed(seed, kind, epoch);
}

/** The copy a sample uses in an epoch: hash(seed, epoch, index) mod (copies + 1); 0 is the clean clip. */
export function copyFor(seed: number, epoch: number, index: number, copies: number): number {
  return copies > 0 ? hashSeed(epochSeed(seed, 'copy', epoch), index) % (copies + 1) : 0;
}

/** The generator of a sample's feature-level draws in an epoch. */
export function specRng(seed: number, epoch: number, index: number): Rng {
  return rngFor(epochSeed(seed, 'spec', epoch), index);
}

const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.next() * (hi - lo + 1));

/** What the fills need of a clip: each band's minimum, then the mean of all its values (bands + 1 values). */
export function clipStats(x: Float32Array, frames: number, into: Float32Array = new Float32Array(x.length / frames + 1)): Float32Array {
  const bands = x.length / frames;
  let sum = 0;
  for (let b = 0; b < bands; b++) {
    const o = b * frames;
    let min = x[o];
    for (let t = 0; t < frames; t++) {
      const v = x[o + t];
      sum += v;
      if (v < min) min = v;
    }
    into[b] = min;
  }
  into[bands] = sum / x.length;
  return into;
}

/**
 * Writes sample `src` into `dst` shifted and masked. `shape` is the per-sample shape: [1, bands, frames]
 * for log-mel (row-major, band by band), [1, samples] for the waveform (shifted only, filled with zeros).
 * `stats` holds clipStats(src) from `statsAt` (log-mel only; computed when absent). Draws, in order: the shift (a whole
 * number of frames in -shift..shift), then per frequency mask its width (0..F) and first band, then per
 * time mask its width (0..T) and first frame. Costs about one copy of the sample: the shift is a single
 * offset copy of the whole sample whose few values that crossed a band's edge are then refilled.
 */
export function augmentInto(dst: Float32Array, src: Float32Array, shape: readonly number[], s: SpecAugmentSettings, rng: Rng, stats?: Float32Array, statsAt = 0): void {
  const n = src.length;
  const frames = shape[shape.length - 1];
  const bands = n / frames;
  const waveform = shape.length === 2;
  const st = waveform ? null : stats ? stats : clipStats(src, frames);
  const at = stats ? statsAt : 0;
  const reach = Math.min(s.shift, frames);
  const d = reach > 0 ? int(rng, -reach, reach) : 0;
  if (d === 0) dst.set(src);
  else if (d > 0) {
    dst.set(src.subarray(0, n - d), d);
    for (let b = 0; b < bands; b++) {
      const fill = st ? st[at + b] : 0;
      for (let t = b * frames, end = t + d; t < end; t++) dst[t] = fill;
    }
  } else {
    dst.set(src.subarray(-d), 0);
    for (let b = 0; b < bands; b++) {
      const fill = st ? st[at + b] : 0;
      for (let t = (b + 1) * frames + d, end = (b + 1) * frames; t < end; t++) dst[t] = fill;
    }
  }
  if (!st) return;
  const mean = st[at + bands];
  for (let m = 0; m < s.freqMasks; m++) {
    const w = int(rng, 0, Math.min(s.freqMaskBands, bands));
    const f0 = int(rng, 0, bands - w);
    if (w > 0) dst.fill(mean, f0 * frames, (f0 + w) * frames);
  }
  // The time masks' spans first, then one pass over the bands for all of them.
  const spans: number[] = [];
  for (let m = 0; m < s.timeMasks; m++) {
    const w = int(rng, 0, Math.min(s.timeMaskFrames, frames));
    const t0 = int(rng, 0, frames - w);
    if (w > 0) spans.push(t0, t0 + w);
  }
  if (spans.length)
    for (let o = 0; o < n; o += frames)
      for (let k = 0; k < spans.length; k += 2) for (let t = o + spans[k], end = o + spans[k + 1]; t < end; t++) dst[t] = mean;
}
