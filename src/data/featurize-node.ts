// Turning clip files into feature rows, in this thread or on worker threads. Results come back in file
// order whichever way they are computed, so the cache a build writes does not depend on the number of
// workers.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeatureSettings } from '../audio/settings.js';
import { extractFeatures, padOrTrim } from '../audio/features.js';
import { typescriptSpectra } from '../audio/spectrum.js';
import { decodeWav } from '../audio/wav.js';
import type { SkippedFile } from './dataset.js';
import { addBackgroundNoise } from '../audio/noise.js';
import { loadBackgroundNoise } from './noise-node.js';
import { NOISE_COLORS, synthNoise } from '../audio/noise.js';
import { rngFor } from '../util/hash.js';
import { parseSilence } from './tasks.js';
import { augmentWave, drawWarp, renderSilence, type WaveAugmentSettings } from './wave-augment.js';
import { WorkerPool } from './worker-node.js';

export interface NoiseAugmentation {
  /** Chance that a training clip gets background noise. */
  probability: number;
  /** SNR range in dB, drawn uniformly per clip. */
  snrDb: [number, number];
  /** Seed for which clips get noise, which recording, where in it and at what SNR. Default 0. */
  seed?: number;
}

/** What every featurizer needs to know; plain data, so it can be sent to a worker. */
export interface FeaturizeTask {
  root: string;
  /** The `_background_noise_` folder. */
  noiseDir: string;
  settings: FeatureSettings;
  noise?: NoiseAugmentation;
  /** How copies (copy > 0) of training clips are augmented, and the seed of their draws. */
  wave?: WaveAugmentSettings & { seed: number };
}

/** The background recordings at each sample rate, loaded once; unreadable ones are collected. */
export class NoiseBank {
  readonly skipped: SkippedFile[] = [];
  private readonly byRate = new Map<number, Promise<Float32Array[]>>();

  constructor(private readonly dir: string) {}

  at(rate: number): Promise<Float32Array[]> {
    let n = this.byRate.get(rate);
    if (!n) {
      n = loadBackgroundNoise(this.dir, rate, (file, reason) => this.skipped.push({ file, reason })).then((noises) => {
        if (noises.length === 0) throw new Error(`noise augmentation needs WAV recordings in "${this.dir}"; there are none`);
        return noises;
      });
      this.byRate.set(rate, n);
    }
    return n;
  }

  /** The background recordings at `rate` for waveform augmentation; with none in the folder, 5 s each
   *  of synthesized white, pink, brown noise and hum (fixed seeds). */
  async forAugment(rate: number): Promise<Float32Array[]> {
    const real = await this.at(rate).catch(() => [] as Float32Array[]);
    if (real.length > 0) return real;
    let made = this.synthesized.get(rate);
    if (!made) {
      made = NOISE_COLORS.map((c) => synthNoise(c, 5 * rate, rate, rngFor('augment-noise', c)));
      this.synthesized.set(rate, made);
    }
    return made;
  }

  /** One recording of the folder at its own sample rate (for `_silence_` windows); null if unreadable. */
  native(name: string): Promise<{ samples: Float32Array; sampleRate: number } | null> {
    let r = this.natives.get(name);
    if (!r) {
      const file = join(this.dir, name);
      r = readFile(file).then((bytes) => decodeWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file)).catch((e: Error) => {
        if (!this.skipped.some((s) => s.file === file)) this.skipped.push({ file, reason: e.message });
        return null;
      });
      this.natives.set(name, r);
    }
    return r;
  }

  private readonly synthesized = new Map<number, Float32Array[]>();
  private readonly natives = new Map<string, Promise<{ samples: Float32Array; sampleRate: number } | null>>();
}

/** The features of one clip file, or the reason the file cannot be used (unreadable, not a WAV, empty).
 *  Feature extraction errors are not the file's fault and are thrown. */
export async function featurizeFile(task: FeaturizeTask, file: string, train: boolean, noises: NoiseBank, copy = 0): Promise<Float32Array | Error> {
  let clip: { samples: Float32Array; sampleRate: number };
  const silence = parseSilence(file);
  try {
    if (silence) {
      // A `_silence_` clip the task made: a window of a background recording, or digital silence.
      const recording = silence.source === 'digital' ? null : await noises.native(silence.source);
      if (silence.source !== 'digital' && !recording) throw new Error(`its background recording ${silence.source} cannot be read`);
      clip = renderSilence(file, silence, recording, task.settings.sampleRate);
    } else {
      const bytes = await readFile(join(task.root, file));
      clip = decodeWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
    }
    if (clip.samples.length === 0) throw new Error('no samples');
  } catch (e) {
    return e as Error;
  }
  let samples = clip.samples;
  if (copy > 0) {
    // A waveform-augmented copy of a training clip: its own draws, the same every time it is made.
    if (!task.wave) throw new Error('featurizeFile: a copy needs the task\'s wave augmentation settings');
    const rate = clip.sampleRate;
    samples = augmentWave(samples, rate, rate, await noises.forAugment(rate), task.wave, rngFor(task.wave.seed, 'wave', file, copy));
    return cacheFeatures(samples, rate, task.settings, drawWarp(task.wave, rngFor(task.wave.seed, 'warp', file, copy)));
  }
  const noise = task.noise;
  if (train && noise && noise.probability > 0 && !silence) {
    const rng = rngFor(noise.seed ?? 0, file);
    if (rng.next() < noise.probability) {
      // Speech Commands clips are at most 1 s long: the noise covers the whole second.
      samples = padOrTrim(samples, clip.sampleRate);
      addBackgroundNoise(samples, await noises.at(clip.sampleRate), noise.snrDb, rng);
    }
  }
  return cacheFeatures(samples, clip.sampleRate, task.settings);
}

/**
 * A clip's features for the cache: spectra by the TypeScript FFT in every thread, as worker threads have
 * no engine, so the cache does not depend on the number of workers (audio/spectrum.ts).
 */
function cacheFeatures(samples: Float32Array, rate: number, settings: FeatureSettings, warp = 1): Float32Array {
  return extractFeatures(samples, rate, settings, settings.kind === 'waveform' ? undefined : typescriptSpectra(settings.frameSize), warp);
}

/** Features of the files of one split, asked for in order: `get(k)` for increasing k, skipping any. */
export interface SplitFeaturizer {
  get(k: number): Promise<Float32Array | Error>;
}

/** Featurizes in this thread, one file at a time; `copies[k]` (default 0, the clip itself) is the
 *  augmented copy wanted of file k. */
export function localFeaturizer(task: FeaturizeTask, files: readonly string[], train: boolean, noises: NoiseBank, copies?: readonly number[]): SplitFeaturizer {
  return { get: (k) => featurizeFile(task, files[k], train, noises, copies?.[k] ?? 0) };
}

/** A featurizing worker's task, a batch of one split's files, and its answer: a row or the reason per
 *  file, and the background recordings it found unreadable since its last answer. */
export interface FeaturizeBatch {
  files: string[];
  train: boolean;
  /** The copy wanted of each file (0 or absent: the clip itself). */
  copies?: number[];
}
export interface FeaturizedBatch {
  rows: (Float32Array | { error: string })[];
  noiseSkipped: SkippedFile[];
}

const BATCH = 32;

/** A pool of featurizing worker threads shared by the splits of one build. */
export class FeaturizePool {
  private readonly pool: WorkerPool<FeaturizeBatch, FeaturizedBatch>;
  readonly noiseSkipped: SkippedFile[] = [];

  constructor(task: FeaturizeTask, count: number) {
    this.pool = new WorkerPool(import.meta.url, 'featurize-worker-node', task, count);
  }

  private async run(files: string[], train: boolean, copies?: number[]): Promise<(Float32Array | Error)[]> {
    const { rows, noiseSkipped } = await this.pool.run({ files, train, copies });
    for (const s of noiseSkipped) if (!this.noiseSkipped.some((k) => k.file === s.file)) this.noiseSkipped.push(s);
    return rows.map((r) => (r instanceof Float32Array ? r : new Error(r.error)));
  }

  /** Featurizes a split in batches, keeping every worker busy a few batches ahead of the reader. */
  featurizer(files: readonly string[], train: boolean, wanted: (k: number) => boolean, copies?: readonly number[]): SplitFeaturizer {
    const batches = new Map<number, Promise<Map<number, Float32Array | Error>>>();
    const ahead = 2 * this.pool.size;
    const start = (b: number): void => {
      if (batches.has(b) || b * BATCH >= files.length) return;
      const ks: number[] = [];
      for (let k = b * BATCH; k < Math.min(files.length, (b + 1) * BATCH); k++) if (wanted(k)) ks.push(k);
      const result = this.run(ks.map((k) => files[k]), train, copies && ks.map((k) => copies[k])).then((rows) => new Map(ks.map((k, j) => [k, rows[j]])));
      result.catch(() => {}); // observed by get(); this keeps an early failure from being "unhandled"
      batches.set(b, result);
    };
    return {
      get: async (k) => {
        const b = Math.floor(k / BATCH);
        for (let a = b; a <= b + ahead; a++) start(a);
        for (const old of batches.keys()) if (old < b) batches.delete(old);
        const row = (await batches.get(b)!).get(k);
        if (row === undefined) throw new Error(`featurizer: file ${k} was not requested`);
        return row;
      },
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
