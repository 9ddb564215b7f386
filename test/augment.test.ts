// Training augmentation: the feature-level shift and SpecAugment masks do what they say and nothing
// else, draw the same from (seed, epoch, index) however batches fall; the loader picks waveform copies
// by hash; a run with augmentation is reproducible and resumes bit-identical; the waveform augmentation
// (speed, reverb, noise, gain) is seeded, and its copies are cached, the same on worker threads.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { encodeWav } from '../src/audio/wav.js';
import { rms } from '../src/audio/noise.js';
import { LOGMEL_60x134, WAVEFORM_4K } from '../src/audio/settings.js';
import { arrayDataset, type Dataset } from '../src/data/dataset.js';
import { loadSpeechCommands } from '../src/data/speech-commands-node.js';
import { WAVE_AUGMENT_DEFAULTS, augmentWave, changeSpeed, checkWaveAugment, colour, colouringDb, convolve, drawColouring, drawWarp, roomImpulse } from '../src/data/wave-augment.js';
import { createModel } from '../src/models/zoo.js';
import { featuresFor } from '../src/models/zoo.js';
import { augmentInto, copyFor, specAugmentFor, specRng, type SpecAugmentSettings } from '../src/train/augment.js';
import { BatchLoader } from '../src/train/batches.js';
import { MemoryCheckpointStore } from '../src/train/checkpoint.js';
import { train } from '../src/train/trainer.js';
import { rngFor } from '../src/util/hash.js';
import { spectrograms } from './train-fixtures.js';

const BANDS = 60, FRAMES = 134, PER = BANDS * FRAMES;
const SHAPE = [1, BANDS, FRAMES];
/** Every value distinct and none equal to the mean: band b, frame t holds b + t/1000 + 0.0001. */
const ramp = (): Float32Array => Float32Array.from({ length: PER }, (_, i) => Math.floor(i / FRAMES) + (i % FRAMES) / 1000 + 0.0001);
const spec = specAugmentFor(LOGMEL_60x134);
const none: SpecAugmentSettings = { shift: 0, freqMasks: 0, freqMaskBands: 0, timeMasks: 0, timeMaskFrames: 0 };

describe('feature-level augmentation', () => {
  it('is ±100 ms of shift (13 frames), 2 masks of up to 8 bands and 2 of up to 10 frames', () => {
    expect(spec).toEqual({ shift: 13, freqMasks: 2, freqMaskBands: 8, timeMasks: 2, timeMaskFrames: 10 });
    expect(specAugmentFor(WAVEFORM_4K)).toEqual({ shift: 400, freqMasks: 0, freqMaskBands: 0, timeMasks: 0, timeMaskFrames: 0 });
  });

  it('reaches as far as asked: ±250 ms is 33 frames of 7.5 ms, 1,000 samples at 4 kHz', () => {
    expect(specAugmentFor(LOGMEL_60x134, 0.25)).toEqual({ ...spec, shift: 33 });
    expect(specAugmentFor(WAVEFORM_4K, 0.25).shift).toBe(1000);
    expect(specAugmentFor(LOGMEL_60x134, 0).shift).toBe(0);
  });

  it('masks the same share of 20 MFCC rows as of 60 mel bands: up to 3 rows, not 8', () => {
    expect(specAugmentFor(featuresFor('tcresnet8', 'mfcc'))).toEqual({ shift: 13, freqMasks: 2, freqMaskBands: 3, timeMasks: 2, timeMaskFrames: 10 });
  });

  it('shifts each band by the same whole number of frames, filling with the band minimum', () => {
    const src = ramp();
    const shifts = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const dst = new Float32Array(PER);
      augmentInto(dst, src, SHAPE, { ...none, shift: 13 }, rngFor(seed));
      // The shift is where frame 20 of band 0 went.
      const d = Array.from(dst.subarray(0, FRAMES)).indexOf(src[20]) - 20;
      expect(Math.abs(d)).toBeLessThanOrEqual(13);
      shifts.add(d);
      const want = new Float32Array(PER);
      for (let b = 0; b < BANDS; b++)
        for (let t = 0; t < FRAMES; t++) {
          const from = t - d;
          want[b * FRAMES + t] = from >= 0 && from < FRAMES ? src[b * FRAMES + from] : src[b * FRAMES]; // band minimum: its first frame
        }
      expect(dst).toEqual(want);
    }
    expect(Math.min(...shifts)).toBeLessThanOrEqual(-11);
    expect(Math.max(...shifts)).toBeGreaterThanOrEqual(11);
    expect(shifts.has(0)).toBe(true);
  });

  it('masks whole bands and whole frames with the clip mean, within the widths, and leaves the rest', () => {
    const src = ramp();
    const mean = src.reduce((a, b) => a + b, 0) / PER;
    let widest = { bands: 0, frames: 0 };
    for (let seed = 0; seed < 200; seed++) {
      const dst = new Float32Array(PER);
      augmentInto(dst, src, SHAPE, { ...spec, shift: 0 }, rngFor(seed));
      const masked = (b: number, t: number) => dst[b * FRAMES + t] === Math.fround(mean);
      const fullBands = Array.from({ length: BANDS }, (_, b) => b).filter((b) => Array.from({ length: FRAMES }, (_, t) => t).every((t) => masked(b, t)));
      const fullFrames = Array.from({ length: FRAMES }, (_, t) => t).filter((t) => Array.from({ length: BANDS }, (_, b) => b).every((b) => masked(b, t)));
      let wrong = 0;
      for (let b = 0; b < BANDS; b++)
        for (let t = 0; t < FRAMES; t++)
          if (masked(b, t) ? !(fullBands.includes(b) || fullFrames.includes(t)) : dst[b * FRAMES + t] !== src[b * FRAMES + t]) wrong++;
      expect(wrong).toBe(0);
      // Two masks of each kind: at most 2 x 8 bands and 2 x 10 frames.
      expect(fullBands.length).toBeLessThanOrEqual(16);
      expect(fullFrames.length).toBeLessThanOrEqual(20);
      widest = { bands: Math.max(widest.bands, fullBands.length), frames: Math.max(widest.frames, fullFrames.length) };
    }
    expect(widest.bands).toBeGreaterThanOrEqual(12);
    expect(widest.frames).toBeGreaterThanOrEqual(15);
  });

  it('draws from (seed, epoch, index): the same for the same, another for another', () => {
    const src = ramp();
    const run = (seed: number, epoch: number, index: number) => {
      const dst = new Float32Array(PER);
      augmentInto(dst, src, SHAPE, spec, specRng(seed, epoch, index));
      return dst;
    };
    expect(run(1, 2, 3)).toEqual(run(1, 2, 3));
    expect(run(1, 2, 3)).not.toEqual(run(1, 3, 3));
    expect(run(1, 2, 3)).not.toEqual(run(1, 2, 4));
    expect(run(1, 2, 3)).not.toEqual(run(2, 2, 3));
    // The waveform is shifted with zeros.
    const wave = Float32Array.from({ length: 4000 }, (_, i) => 1 + i);
    const dst = new Float32Array(4000);
    augmentInto(dst, wave, [1, 4000], specAugmentFor(WAVEFORM_4K), rngFor(5));
    const zeros = Array.from(dst).filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThanOrEqual(400);
  });
});

describe('the batch loader', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  /** Six samples with two copies each; copy c of sample i is the ramp plus 100 i + 10 c. */
  function withCopies(): Dataset {
    const x = new Float32Array(6 * PER);
    for (let i = 0; i < 6; i++) x.set(ramp().map((v) => v + 100 * i), i * PER);
    const base = arrayDataset(x, [0, 1, 0, 1, 0, 1], ['a', 'b'], SHAPE);
    return { ...base, copies: 2, copy: (i, c) => base.features(i).map((v) => v + 10 * c) };
  }

  it('gives each sample its copy hash(seed, epoch, index) mod 3 and its own draws, whatever the batch', () => {
    const data = withCopies();
    const loader = new BatchLoader(data, 4, { seed: 3, spec, copies: true });
    const seen = new Set<number>();
    for (const epoch of [1, 2, 3, 4, 5]) {
      const order = [5, 2, 0, 4, 1, 3];
      const got = [...loader.load(order, 0, epoch).x.toArray(), ...loader.load(order, 1, epoch).x.toArray()];
      for (const [k, index] of order.entries()) {
        const c = copyFor(3, epoch, index, 2);
        seen.add(c);
        const want = new Float32Array(PER);
        augmentInto(want, data.copy!(index, c), SHAPE, spec, specRng(3, epoch, index));
        expect(Float32Array.from(got.slice(k * PER, (k + 1) * PER))).toEqual(want);
      }
    }
    expect([...seen].sort()).toEqual([0, 1, 2]);
    // Without augmentation the samples come as they are.
    const plain = new BatchLoader(data, 6);
    expect(Float32Array.from(plain.load([3, 1, 0, 2, 4, 5], 0, 7).x.toArray().slice(0, PER))).toEqual(data.features(3));
    loader.dispose();
    plain.dispose();
  });

  it('a run with augmentation is reproducible, differs from one without, and resumes bit-identical', async () => {
    const data = { train: spectrograms(48, 3, 1), validation: spectrograms(12, 3, 2) };
    const weights = (m: { parameters(): { value: { toArray(): Float32Array } }[] }) => m.parameters().map((p) => Array.from(p.value.toArray()));
    const opts = { epochs: 3, batchSize: 16, seed: 4, patience: Infinity, augment: { spec } };
    const run = async (o: object) => {
      const model = createModel('tcy', { classes: 3, seed: 1 });
      const r = await train(model, data, o);
      const w = weights(model);
      model.dispose();
      return { w, r };
    };
    const a = await run(opts);
    expect((await run(opts)).w).toEqual(a.w);
    expect((await run({ ...opts, augment: undefined })).w).not.toEqual(a.w);

    const store = new MemoryCheckpointStore();
    const controller = new AbortController();
    const first = createModel('tcy', { classes: 3, seed: 1 });
    await train(first, data, { ...opts, checkpoint: store, signal: controller.signal, onEpoch: (rec) => void (rec.epoch === 2 && controller.abort()) });
    first.dispose();
    const second = createModel('tcy', { classes: 3, seed: 1 });
    const b = await train(second, data, { ...opts, checkpoint: store, resume: true });
    expect(b.resumedFrom).toBe(2);
    expect(weights(second)).toEqual(a.w);
    second.dispose();
    // A checkpoint made without augmentation is not resumed with it.
    const plain = new MemoryCheckpointStore();
    const m = createModel('tcy', { classes: 3, seed: 1 });
    await train(m, data, { ...opts, epochs: 1, augment: undefined, checkpoint: plain });
    await expect(train(m, data, { ...opts, checkpoint: plain, resume: true })).rejects.toThrow(/cannot resume/);
    m.dispose();
  });
});

describe('waveform augmentation', () => {
  const RATE = 16000;
  const tone = (hz: number, n = RATE) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / RATE));
  const crossings = (x: Float32Array) => x.reduce((n, v, i) => n + (i > 0 && (x[i - 1] < 0) !== (v < 0) ? 1 : 0), 0);

  it('changes speed by resampling (pitch with it), convolves by FFT and decays reverb by 60 dB over RT60', () => {
    const fast = changeSpeed(tone(500), RATE, 1.1);
    expect(fast.length).toBe(Math.ceil(RATE / 1.1));
    // 500 Hz played 10% faster is 550 Hz: the same number of cycles in a shorter clip.
    expect(crossings(fast) / (fast.length / RATE)).toBeCloseTo(1100, -1);
    const x = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i * 0.3) + (i % 7) / 10);
    const h = Float32Array.from({ length: 50 }, (_, i) => Math.exp(-i / 10) * Math.cos(i));
    const direct = Float32Array.from({ length: 300 }, (_, n) => { let s = 0; for (let k = 0; k <= Math.min(n, 49); k++) s += h[k] * x[n - k]; return s; });
    const fftWay = convolve(x, h);
    for (let i = 0; i < 300; i++) expect(fftWay[i]).toBeCloseTo(direct[i], 4);
    const ir = roomImpulse(0.4, RATE, rngFor(1));
    expect(ir.length).toBe(0.4 * RATE);
    expect(ir[0]).toBe(1);
    const energy = (a: number, b: number) => ir.subarray(a, b).reduce((s, v) => s + v * v, 0) / (b - a);
    expect(10 * Math.log10(energy(1, 200) / energy(ir.length - 200, ir.length))).toBeGreaterThan(50);
  });

  it('is the same for the same generator and another for another, one second long', () => {
    const noises = [Float32Array.from({ length: 3 * RATE }, (_, i) => Math.sin(i * 1.3) * 0.2)];
    const x = tone(300, 12000);
    const a = augmentWave(x, RATE, RATE, noises, WAVE_AUGMENT_DEFAULTS, rngFor(1, 'wave'));
    expect(a).toHaveLength(RATE);
    expect(augmentWave(x, RATE, RATE, noises, WAVE_AUGMENT_DEFAULTS, rngFor(1, 'wave'))).toEqual(a);
    expect(augmentWave(x, RATE, RATE, noises, WAVE_AUGMENT_DEFAULTS, rngFor(2, 'wave'))).not.toEqual(a);
    // Gain only: ±6 dB.
    const gainOnly = { ...WAVE_AUGMENT_DEFAULTS, speed: [1, 1] as [number, number], reverbProbability: 0, noiseProbability: 0 };
    for (let s = 0; s < 20; s++) {
      const ratio = rms(augmentWave(x, RATE, RATE, noises, gainOnly, rngFor(s))) / rms(Float32Array.from({ length: RATE }, (_, i) => x[i] ?? 0));
      expect(Math.abs(20 * Math.log10(ratio))).toBeLessThanOrEqual(6.0001);
    }
  });

  it("colours like a microphone: each tone by the filter's gain at its frequency, the draws within their ranges", () => {
    const rms = (x: Float32Array) => Math.sqrt(x.subarray(2000, 14000).reduce((a, v) => a + v * v, 0) / 12000);
    for (let seed = 0; seed < 8; seed++) {
      const k = drawColouring(10, rngFor(seed, 'colour'));
      expect(Math.abs(k.tilt)).toBeLessThanOrEqual(3);
      expect(k.fHigh).toBeGreaterThanOrEqual(50);
      expect(k.fHigh).toBeLessThanOrEqual(300);
      expect(k.fLow).toBeGreaterThanOrEqual(3500);
      expect(k.fLow).toBeLessThanOrEqual(8000);
      for (const p of k.peaks) expect(Math.abs(p.g)).toBeLessThanOrEqual(10);
      // Away from the clip's edges a tone comes out scaled by the gain at its frequency (a smooth curve).
      for (const hz of [40, 150, 700, 2500, 6000, 7600]) {
        const db = 20 * Math.log10(rms(colour(tone(hz), RATE, k)) / rms(tone(hz)));
        expect(db).toBeCloseTo(colouringDb(k, hz), 1);
      }
    }
    // The corners: 12 dB per octave below fHigh, 24 above fLow, besides the tilt and the peaks.
    const flat = { tilt: 0, fHigh: 200, fLow: 4000, peaks: [] };
    expect(colouringDb(flat, 100)).toBeCloseTo(-12, 9);
    expect(colouringDb(flat, 1000)).toBe(0);
    expect(colouringDb(flat, 8000)).toBeCloseTo(-24, 9);
    expect(colouringDb(flat, 1)).toBe(-40);
    // In a copy only when asked for, seeded like every other draw.
    const noises = [Float32Array.from({ length: 3 * RATE }, (_, i) => Math.sin(i * 1.3) * 0.2)];
    const coloured = { ...WAVE_AUGMENT_DEFAULTS, colourProbability: 1 };
    const a = augmentWave(tone(300), RATE, RATE, noises, coloured, rngFor(3));
    expect(augmentWave(tone(300), RATE, RATE, noises, coloured, rngFor(3))).toEqual(a);
    expect(augmentWave(tone(300), RATE, RATE, noises, WAVE_AUGMENT_DEFAULTS, rngFor(3))).not.toEqual(a);
    expect(() => checkWaveAugment({ ...coloured, colourDb: 50 })).toThrow(/colourDb must be in \[0, 40\], got 50/);
    expect(() => checkWaveAugment({ ...coloured, colourProbability: 2 })).toThrow(/colourProbability must be in \[0, 1\]/);
  });

  it('draws a copy\'s vocal-tract warp in steps of 0.01 within its range, and none by default', () => {
    const warped = { ...WAVE_AUGMENT_DEFAULTS, warp: [0.9, 1.1] as [number, number] };
    const draws = Array.from({ length: 400 }, (_, k) => drawWarp(warped, rngFor(5, 'warp', k)));
    for (const a of draws) {
      expect(a).toBeGreaterThanOrEqual(0.9 - 1e-9);
      expect(a).toBeLessThanOrEqual(1.1 + 1e-9);
      expect(Math.abs(a * 100 - Math.round(a * 100))).toBeLessThan(1e-6);
    }
    expect(new Set(draws.map((a) => a.toFixed(2))).size).toBeGreaterThan(15);
    expect(drawWarp(warped, rngFor(5, 'warp', 7))).toBe(draws[7]);
    expect(drawWarp(WAVE_AUGMENT_DEFAULTS, rngFor(5, 'warp', 7))).toBe(1);
    expect(() => checkWaveAugment({ ...warped, warp: [0.3, 1] })).toThrow(/warp must be \[low, high\] with low >= 0.5/);
    expect(() => checkWaveAugment({ ...warped, warp: [1.1, 0.9] })).toThrow(/warp must be \[low, high\]/);
    expect(() => checkWaveAugment({ ...warped, warp: [1, 2.5] })).toThrow(/warp must be at most 2/);
  });

  describe('copies in the feature cache', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'snn-aug-'));
      const validation: string[] = [];
      for (const w of ['yes', 'no']) {
        mkdirSync(join(dir, 'data', w), { recursive: true });
        for (let k = 0; k < 4; k++) {
          writeFileSync(join(dir, 'data', w, `s${k}_nohash_0.wav`), encodeWav(tone(w === 'yes' ? 400 + 50 * k : 900 + 50 * k, 12000), RATE, 16));
          if (k === 3) validation.push(`${w}/s${k}_nohash_0.wav`);
        }
      }
      writeFileSync(join(dir, 'data', 'validation_list.txt'), validation.join('\n'));
      writeFileSync(join(dir, 'data', 'testing_list.txt'), '');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('are made once, seeded, the same on worker threads, beside the clean features', async () => {
      const settings = featuresFor('tcy');
      const load = (cache: string, seed: number, workers: number) =>
        loadSpeechCommands(join(dir, 'data'), settings, { cacheDir: join(dir, cache), augment: { copies: 2, seed }, workers });
      const a = await load('c1', 0, 1);
      expect(a.train.copies).toBe(2);
      expect(a.validation.copies).toBeUndefined();
      expect(a.buildSeconds.copies).toBeGreaterThan(0);
      for (let i = 0; i < a.train.size; i++) {
        expect(a.train.copy!(i, 0)).toEqual(a.train.features(i));
        expect(a.train.copy!(i, 1)).not.toEqual(a.train.features(i));
        expect(a.train.copy!(i, 2)).not.toEqual(a.train.copy!(i, 1));
      }
      expect(() => a.train.copy!(0, 3)).toThrow(RangeError);
      const again = await load('c1', 0, 1);
      expect(again.fromCache).toBe(true);
      const pooled = await load('c2', 0, 2);
      const other = await load('c1', 1, 1);
      expect(other.buildSeconds.features).toBe(0); // only the copies are made again
      for (let i = 0; i < a.train.size; i++)
        for (const c of [1, 2]) {
          expect(again.train.copy!(i, c)).toEqual(a.train.copy!(i, c));
          expect(pooled.train.copy!(i, c)).toEqual(a.train.copy!(i, c));
          expect(other.train.copy!(i, c)).not.toEqual(a.train.copy!(i, c));
        }
      for (const s of [a, again, pooled, other]) for (const d of [s.train, s.validation, s.test]) d.close();
    });
  });
});
