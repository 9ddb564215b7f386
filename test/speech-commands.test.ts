// The Speech Commands loader on a small tree written here: official splits, labels in WORDS order,
// bad files skipped and reported, the feature cache reused, and rebuilt when damaged.
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractFeatures } from '../src/audio/features.js';
import { featuresFor } from '../src/models/zoo.js';
import { featureShape } from '../src/audio/settings.js';
import { decodeWav, encodeWav } from '../src/audio/wav.js';
import { CacheError, FeatureFileWriter, openFeatureFile } from '../src/data/feature-cache-node.js';
import { loadSpeechCommands, type SpeechCommandsSplits } from '../src/data/speech-commands-node.js';
import { rngFor } from '../src/util/hash.js';
import { mixAtSnr, rms, synthNoise } from '../src/audio/noise.js';

const RATE = 16000;
const WORDS_HERE = ['yes', 'bed', 'cat']; // written out of order: classes must come back in WORDS order
const settings = featuresFor('tcy');

/** A clip per (word, n): a tone whose pitch names the word, some shorter than a second. */
function clip(word: string, n: number): Float32Array {
  const f = 200 + 150 * WORDS_HERE.indexOf(word) + 20 * n;
  const len = n % 2 ? 12000 : RATE;
  const rng = rngFor(7, word, n);
  return Float32Array.from({ length: len }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / RATE) + 0.01 * (rng.next() - 0.5));
}

/** The clip as the loader sees it: through 16-bit WAV, padded to one second. */
function stored(x: Float32Array): Float32Array {
  const out = new Float32Array(RATE);
  out.set(decodeWav(encodeWav(x, RATE, 16)).samples);
  return out;
}

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'snn-sc-'));
  const validation: string[] = [], testing: string[] = [];
  for (const w of WORDS_HERE) {
    mkdirSync(join(root, w));
    for (let n = 0; n < 4; n++) {
      const rel = `${w}/spk${n}_nohash_0.wav`;
      writeFileSync(join(root, rel), encodeWav(clip(w, n), RATE, 16));
      if (n === 2) validation.push(rel);
      if (n === 3) testing.push(rel);
    }
  }
  // A bad file and a truncated one among the training clips; a listed file that does not exist.
  writeFileSync(join(root, 'bed/corrupt_nohash_0.wav'), Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 0xff));
  writeFileSync(join(root, 'cat/short_nohash_0.wav'), encodeWav(clip('cat', 0), RATE, 16).subarray(0, 30));
  testing.push('yes/gone_nohash_0.wav');
  // Ignored: a folder that is not a keyword, a non-WAV file.
  mkdirSync(join(root, 'notaword'));
  writeFileSync(join(root, 'notaword/x_nohash_0.wav'), encodeWav(clip('yes', 0), RATE, 16));
  writeFileSync(join(root, 'yes/README.txt'), 'not audio');
  mkdirSync(join(root, '_background_noise_'));
  const noise = Float32Array.from({ length: 3 * RATE }, (_, i) => Math.sin(i * 1.7) * 0.3);
  writeFileSync(join(root, '_background_noise_/buzz.wav'), encodeWav(noise, RATE, 16));
  writeFileSync(join(root, 'validation_list.txt'), validation.join('\n') + '\n');
  writeFileSync(join(root, 'testing_list.txt'), testing.join('\r\n') + '\r\n');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const closeAll = (s: SpeechCommandsSplits): void => {
  s.train.close();
  s.validation.close();
  s.test.close();
};

describe('loadSpeechCommands', () => {
  it('gives the official splits, labels in WORDS order and the skipped files', async () => {
    const cacheDir = join(root, 'cache-a');
    const s = await loadSpeechCommands(root, settings, { cacheDir });
    expect(s.fromCache).toBe(false);
    expect(s.train.classes).toEqual(['bed', 'cat', 'yes']);
    expect(s.train.featureShape).toEqual(featureShape(settings));
    expect([s.train.size, s.validation.size, s.test.size]).toEqual([6, 3, 3]);
    expect(s.train.files).toEqual(['bed/spk0_nohash_0.wav', 'bed/spk1_nohash_0.wav', 'cat/spk0_nohash_0.wav', 'cat/spk1_nohash_0.wav', 'yes/spk0_nohash_0.wav', 'yes/spk1_nohash_0.wav']);
    expect(Array.from(s.train.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(s.validation.files).toEqual(['bed/spk2_nohash_0.wav', 'cat/spk2_nohash_0.wav', 'yes/spk2_nohash_0.wav']);
    expect(Array.from(s.test.labels)).toEqual([0, 1, 2]);
    expect(s.skipped.map((f) => f.file).sort()).toEqual(['bed/corrupt_nohash_0.wav', 'cat/short_nohash_0.wav', 'yes/gone_nohash_0.wav']);
    expect(s.train.skipped).toHaveLength(2);
    expect(s.test.skipped[0].reason).toMatch(/testing_list\.txt/);
    for (const f of s.skipped) expect(f.reason.length).toBeGreaterThan(0);
    // Features are exactly what extraction gives for the clip padded to one second.
    for (const ds of [s.train, s.validation, s.test])
      for (let i = 0; i < ds.size; i++) {
        const n = Number(/spk(\d)/.exec(ds.files[i])![1]);
        expect(ds.features(i)).toEqual(extractFeatures(stored(clip(ds.classes[ds.labels[i]], n)), RATE, settings));
      }
    closeAll(s);
  });

  it('reads the cache on the second load and rebuilds it when damaged or truncated', async () => {
    const cacheDir = join(root, 'cache-b');
    const first = await loadSpeechCommands(root, settings, { cacheDir });
    const expected = Array.from({ length: first.train.size }, (_, i) => first.train.features(i).slice());
    const trainFile = join(first.cacheDir, 'train.f32');
    const built = statSync(trainFile).mtimeMs;
    closeAll(first);

    const second = await loadSpeechCommands(root, settings, { cacheDir });
    expect(second.fromCache).toBe(true);
    expect(statSync(trainFile).mtimeMs).toBe(built);
    expect(second.skipped).toHaveLength(3);
    for (let i = 0; i < expected.length; i++) expect(second.train.features(i)).toEqual(expected[i]);
    closeAll(second);

    const bytes = readFileSync(trainFile);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(trainFile, bytes);
    const third = await loadSpeechCommands(root, settings, { cacheDir });
    expect(third.fromCache).toBe(false);
    for (let i = 0; i < expected.length; i++) expect(third.train.features(i)).toEqual(expected[i]);
    closeAll(third);

    // Truncated, with temp files of a build that died (removed) and of one still running here (kept).
    writeFileSync(trainFile, readFileSync(trainFile).subarray(0, 100));
    const dead = `${trainFile}.2147483646.0.tmp`, running = `${trainFile}.${process.pid}.999.tmp`;
    writeFileSync(dead, 'partial');
    writeFileSync(running, 'partial');
    const fourth = await loadSpeechCommands(root, settings, { cacheDir });
    expect(fourth.fromCache).toBe(false);
    expect(fourth.train.size).toBe(6);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(running)).toBe(true);
    closeAll(fourth);

    rmSync(join(fourth.cacheDir, 'index.json'));
    const fifth = await loadSpeechCommands(root, settings, { cacheDir });
    expect(fifth.fromCache).toBe(false);
    closeAll(fifth);
  });

  it('keeps only the words asked for, as classes in WORDS order', async () => {
    const s = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-w'), words: ['yes', 'bed'] });
    expect(s.train.classes).toEqual(['bed', 'yes']);
    expect(s.train.files).toEqual(['bed/spk0_nohash_0.wav', 'bed/spk1_nohash_0.wav', 'yes/spk0_nohash_0.wav', 'yes/spk1_nohash_0.wav']);
    expect(Array.from(s.train.labels)).toEqual([0, 0, 1, 1]);
    expect(s.skipped.map((f) => f.file).sort()).toEqual(['bed/corrupt_nohash_0.wav', 'yes/gone_nohash_0.wav']);
    closeAll(s);
  });

  it('reads row by row above the memory limit, with the same features', async () => {
    const cacheDir = join(root, 'cache-c');
    const inMemory = await loadSpeechCommands(root, settings, { cacheDir });
    const lazy = await loadSpeechCommands(root, settings, { cacheDir, memoryLimitBytes: 0 });
    expect(lazy.fromCache).toBe(true);
    for (let i = 0; i < inMemory.train.size; i++) expect(lazy.train.features(i)).toEqual(inMemory.train.features(i));
    expect(() => lazy.train.features(6)).toThrow(RangeError);
    closeAll(inMemory);
    closeAll(lazy);
  });

  it('limits clips per class and mixes noise into training clips only, reproducibly', async () => {
    const limited = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-d'), limitPerClass: 1 });
    expect([limited.train.size, limited.validation.size, limited.test.size]).toEqual([3, 3, 3]);
    expect(Array.from(limited.train.labels)).toEqual([0, 1, 2]);
    closeAll(limited);

    const noise = { probability: 1, snrDb: [10, 10] as [number, number], seed: 5 };
    const clean = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-e') });
    const noisy = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-e'), noise });
    const again = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-f'), noise });
    expect(noisy.fromCache).toBe(false);
    for (let i = 0; i < clean.train.size; i++) {
      expect(noisy.train.features(i)).not.toEqual(clean.train.features(i));
      expect(again.train.features(i)).toEqual(noisy.train.features(i));
    }
    for (let i = 0; i < clean.test.size; i++) expect(noisy.test.features(i)).toEqual(clean.test.features(i));
    for (const s of [clean, noisy, again]) closeAll(s);
  });

  it('builds the same cache on worker threads, with noise and a limit', async () => {
    // A limit of 2 with a bad file first in bed/ and cat/: the limit counts readable clips only.
    const noise = { probability: 0.5, snrDb: [0, 20] as [number, number], seed: 9 };
    const local = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-g'), noise, limitPerClass: 2, workers: 1 });
    const pooled = await loadSpeechCommands(root, settings, { cacheDir: join(root, 'cache-h'), noise, limitPerClass: 2, workers: 2 });
    expect(pooled.fromCache).toBe(false);
    expect(local.train.size).toBe(6);
    expect(local.train.skipped).toHaveLength(2);
    for (const name of ['train', 'validation', 'test'] as const) {
      expect(pooled[name].files).toEqual(local[name].files);
      expect(pooled[name].labels).toEqual(local[name].labels);
      expect(pooled[name].skipped).toEqual(local[name].skipped);
      for (let i = 0; i < local[name].size; i++) expect(pooled[name].features(i)).toEqual(local[name].features(i));
    }
    closeAll(local);
    closeAll(pooled);
  });

  it('names the problem: missing folder, no word folders, missing split list', async () => {
    await expect(loadSpeechCommands(join(root, 'nope'), settings)).rejects.toThrow(/nope" not found/);
    const empty = join(root, 'notaword');
    await expect(loadSpeechCommands(empty, settings)).rejects.toThrow(/no word folders/);
    const partial = mkdtempSync(join(tmpdir(), 'snn-sc-partial-'));
    try {
      mkdirSync(join(partial, 'yes'));
      writeFileSync(join(partial, 'validation_list.txt'), '');
      await expect(loadSpeechCommands(partial, settings)).rejects.toThrow(/testing_list\.txt" not found/);
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
    await expect(loadSpeechCommands(root, settings, { limitPerClass: 0 })).rejects.toThrow(/limitPerClass/);
    await expect(loadSpeechCommands(root, settings, { words: ['yes', 'hello'] })).rejects.toThrow(/"hello" is not a Speech Commands word/);
    await expect(loadSpeechCommands(root, settings, { words: ['yes', 'stop'] })).rejects.toThrow(/no folder for the word "stop"/);
    await expect(loadSpeechCommands(root, settings, { noise: { probability: 2, snrDb: [0, 1] } })).rejects.toThrow(/noise\.probability/);
  });
});

describe('feature cache file', () => {
  it('round-trips rows and refuses damage, in memory and row by row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snn-fc-'));
    try {
      const path = join(dir, 'rows.f32');
      const w = await FeatureFileWriter.create(path, 5);
      const rows = [0, 1, 2].map((r) => Float32Array.from({ length: 5 }, (_, i) => r * 10 + i + 0.5));
      for (const r of rows) await w.append(r);
      await expect(w.append(new Float32Array(4))).rejects.toThrow(/expected 5/);
      await w.finish();
      for (const memoryLimitBytes of [undefined, 0]) {
        const f = await openFeatureFile(path, { count: 3, per: 5 }, { memoryLimitBytes });
        for (let i = 0; i < 3; i++) expect(f.row(i)).toEqual(rows[i]);
        f.close();
      }
      await expect(openFeatureFile(path, { count: 4, per: 5 })).rejects.toThrow(CacheError);
      // A damaged row found only when read lazily (the spot checks at open cover just some rows in big files).
      const bytes = readFileSync(path);
      bytes[32 + 4 * 5 + 3] ^= 1; // row 1
      writeFileSync(path, bytes);
      await expect(openFeatureFile(path, { count: 3, per: 5 })).rejects.toThrow(/row 1 is damaged/);
      bytes[3] ^= 1;
      writeFileSync(path, bytes);
      await expect(openFeatureFile(path, { count: 3, per: 5 })).rejects.toThrow(/bad magic/);
      await expect(openFeatureFile(join(dir, 'none.f32'), { count: 3, per: 5 })).rejects.toThrow(CacheError);

      // In a bigger file, damage in a row the spot checks at open skip is caught when that row is read.
      const big = join(dir, 'big.f32');
      const wb = await FeatureFileWriter.create(big, 3);
      for (let r = 0; r < 40; r++) await wb.append(Float32Array.of(r, r + 0.25, r + 0.5));
      await wb.finish();
      const probed = new Set(Array.from({ length: 33 }, (_, k) => Math.floor((k * 39) / 32)));
      const victim = Array.from({ length: 40 }, (_, i) => i).find((i) => !probed.has(i))!;
      const damaged = readFileSync(big);
      damaged[32 + victim * 12 + 5] ^= 0x10;
      writeFileSync(big, damaged);
      for (const memoryLimitBytes of [undefined, 0]) {
        const f = await openFeatureFile(big, { count: 40, per: 3 }, { memoryLimitBytes });
        expect(f.row(victim + 1)).toEqual(Float32Array.of(victim + 1, victim + 1.25, victim + 1.5));
        expect(() => f.row(victim)).toThrow(new RegExp(`row ${victim} is damaged`));
        f.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('noise mixing', () => {
  it('hits the requested SNR', () => {
    const signal = Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i * 0.05));
    const noise = Float32Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
    const before = signal.slice();
    mixAtSnr(signal, noise, 20, 123);
    const added = signal.map((v, i) => v - before[i]);
    expect(20 * Math.log10(rms(before) / rms(added))).toBeCloseTo(20, 3);
    expect(added[0]).toBeCloseTo((rms(before) / rms(noise.map((_, i) => noise[(123 + i) % 1000])) / 10) * noise[123], 5);
  });

  /** Mean power of `x` within ±10% of `hz` (naive DFT over 32 frequencies: one bin alone varies too much). */
  const power = (x: Float32Array, hz: number): number => {
    let total = 0;
    const freqs = Array.from({ length: 32 }, (_, k) => hz * (0.9 + (0.2 * k) / 31));
    for (const f of freqs) {
      let re = 0, im = 0;
      for (let i = 0; i < x.length; i++) {
        re += x[i] * Math.cos((2 * Math.PI * f * i) / RATE);
        im -= x[i] * Math.sin((2 * Math.PI * f * i) / RATE);
      }
      total += (re * re + im * im) / x.length;
    }
    return total / freqs.length;
  };

  it('makes unit-RMS noise of the right colour, the same for a seed', () => {
    const n = 8000;
    const slope = (c: 'white' | 'pink' | 'brown'): number => {
      const x = synthNoise(c, n, RATE, rngFor(1, c));
      expect(rms(x)).toBeCloseTo(1, 5);
      // Power ratio between 4 kHz and 250 Hz, four octaves apart: 1 for white, 1/16 for pink (-3 dB/oct), 1/256 for brown.
      return power(x, 4000) / power(x, 250);
    };
    expect(slope('white')).toBeGreaterThan(0.3);
    expect(slope('white')).toBeLessThan(3);
    expect(slope('pink')).toBeGreaterThan(1 / 64);
    expect(slope('pink')).toBeLessThan(1 / 4);
    expect(slope('brown')).toBeLessThan(1 / 64);
    const hum = synthNoise('hum', n, RATE, rngFor(2, 'hum'));
    expect(Math.max(power(hum, 50), power(hum, 60))).toBeGreaterThan(100 * power(hum, 3000));
    expect(synthNoise('pink', 100, RATE, rngFor(3))).toEqual(synthNoise('pink', 100, RATE, rngFor(3)));
    expect(synthNoise('pink', 100, RATE, rngFor(3))).not.toEqual(synthNoise('pink', 100, RATE, rngFor(4)));
  });
});
