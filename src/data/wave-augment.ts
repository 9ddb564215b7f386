// Waveform augmentation that carries synthetic speech over to real voices and rooms, drawn from a seeded
// generator so a copy is the same every time it is made:
//   speed ±15% by resampling (pitch and tempo change together, as in Ko et al. 2015's speed
//   perturbation; there is no separate pitch shift), room reverb (an exponentially decaying noise
//   impulse response, RT60 0.1-0.6 s), background noise at 0-20 dB SNR from the data set's
//   `_background_noise_` recordings (synthesized noise colours and hum where it has none), a
//   microphone's colouring (a random smooth filter, see colour()), gain ±6 dB. On request, a vocal-tract
//   warp of the copy's mel bank (Jaitly & Hinton 2013's VTLP: formants moved, pitch and tempo kept),
//   which the featurizer applies (drawWarp).
//   Features are normalised per clip (audio/features.ts), so the gain leaves them unchanged up to
//   rounding; it matters only to features that are not normalised.
// Also the `_silence_` clips a task makes (data/tasks.ts). Core file (no node: imports).
import { padOrTrim } from '../audio/features.js';
import { WARP_RANGE } from '../audio/logmel.js';
import { addBackgroundNoise } from '../audio/noise.js';
import { resample } from '../audio/resample.js';
import { rngFor } from '../util/hash.js';
import type { Rng } from '../util/rng.js';
import { DIGITAL_SILENCE, type SilenceRecipe } from './tasks.js';

export interface WaveAugmentSettings {
  /** Speed factor range; drawn in steps of 0.005 (each step's resampling filter is built once). */
  speed: [number, number];
  /** Chance of room reverb, and its RT60 range in seconds. */
  reverbProbability: number;
  rt60: [number, number];
  /** Chance of background noise, and its SNR range in dB. */
  noiseProbability: number;
  snrDb: [number, number];
  gainDb: [number, number];
  /** Chance of a microphone's colouring, and the largest gain of its peaks and notches in dB. */
  colourProbability: number;
  colourDb: number;
  /** Vocal-tract warp factors of the copies' mel banks (audio/logmel.ts warpFrequency), drawn in steps of
   *  0.01; [1, 1] for none. A feature of the copy rather than of its waveform: the featurizer applies it. */
  warp: [number, number];
}

/**
 * The colouring is off unless asked for (`--augment-colour`): at 0.8 and 10 dB it lifted a CNN trained on
 * synthesized speech alone on real people (TC-ResNet8 on MFCC, ten commands, samples/real-speech, seeds
 * 0-2: 75.6%, 77.1%, 74.8% against 74.8%, 71.8%, 71.8%; 6 dB gave 74.0% and 74.8%, 15 dB on every copy
 * 67.9%), but it did not help the pretrained models, trained on real speech as well (docs/cli.md).
 */
export const WAVE_AUGMENT_DEFAULTS: WaveAugmentSettings = {
  speed: [0.85, 1.15],
  reverbProbability: 0.5,
  rt60: [0.1, 0.6],
  noiseProbability: 0.8,
  snrDb: [0, 20],
  gainDb: [-6, 6],
  colourProbability: 0,
  colourDb: 10,
  warp: [1, 1],
};

export function checkWaveAugment(s: WaveAugmentSettings): void {
  const range = (name: string, r: [number, number], min: number): void => {
    if (!Array.isArray(r) || !(Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] <= r[1] && r[0] >= min))
      throw new RangeError(`wave augmentation: ${name} must be [low, high] with low >= ${min}, got ${JSON.stringify(r)}`);
  };
  range('speed', s.speed, 0.5);
  range('rt60', s.rt60, 0.01);
  range('snrDb', s.snrDb, -Infinity);
  range('gainDb', s.gainDb, -Infinity);
  range('warp', s.warp, WARP_RANGE[0]);
  if (s.warp[1] > WARP_RANGE[1]) throw new RangeError(`wave augmentation: warp must be at most ${WARP_RANGE[1]}, got ${JSON.stringify(s.warp)}`);
  if (!(s.colourDb >= 0 && s.colourDb <= 40)) throw new RangeError(`wave augmentation: colourDb must be in [0, 40], got ${s.colourDb}`);
  for (const p of ['reverbProbability', 'noiseProbability', 'colourProbability'] as const)
    if (!(s[p] >= 0 && s[p] <= 1)) throw new RangeError(`wave augmentation: ${p} must be in [0, 1], got ${s[p]}`);
}

function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** In-place iterative radix-2 FFT of (re, im); length a power of two. `inverse` leaves out the 1/n. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    const half = len >> 1;
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < half; k++) {
        const a = i + k, b = a + half;
        const tr = re[b] * cr - im[b] * ci;
        const ti = re[b] * ci + im[b] * cr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
        const nr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = nr;
      }
    }
  }
}

/** The first x.length samples of x convolved with h (by FFT). */
export function convolve(x: Float32Array, h: Float32Array): Float32Array {
  let n = 1;
  while (n < x.length + h.length - 1) n <<= 1;
  const ar = new Float64Array(n), ai = new Float64Array(n), br = new Float64Array(n), bi = new Float64Array(n);
  ar.set(x);
  br.set(h);
  fft(ar, ai, false);
  fft(br, bi, false);
  for (let i = 0; i < n; i++) {
    const r = ar[i] * br[i] - ai[i] * bi[i];
    ai[i] = ar[i] * bi[i] + ai[i] * br[i];
    ar[i] = r;
  }
  fft(ar, ai, true);
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = ar[i] / n;
  return out;
}

/** A room's impulse response: a direct path (1 at t = 0) and Gaussian noise decaying by 60 dB over
 *  `rt60` seconds, with the tail's energy a random 0.3 to 1 times the direct path's. */
export function roomImpulse(rt60: number, sampleRate: number, rng: Rng): Float32Array {
  const length = Math.max(2, Math.round(rt60 * sampleRate));
  const h = new Float32Array(length);
  const decay = Math.log(1000) / (rt60 * sampleRate); // amplitude 1e-3 (-60 dB) at rt60
  let energy = 0;
  for (let i = 1; i < length; i++) {
    h[i] = gaussian(rng) * Math.exp(-decay * i);
    energy += h[i] * h[i];
  }
  const scale = energy > 0 ? Math.sqrt(rng.uniform(0.3, 1) / energy) : 0;
  for (let i = 1; i < length; i++) h[i] *= scale;
  h[0] = 1;
  return h;
}

/**
 * A microphone and channel that synthesized speech never went through: a zero-phase filter whose gain
 * in dB, over octaves o = log2(f / 1 kHz), is
 *   tilt * o                                      tilt in ±3 dB per octave
 *   - 12 log2(fHigh / f)     below fHigh          a high-pass corner at 50-300 Hz
 *   - 24 log2(f / fLow)      above fLow           a low-pass corner at 3.5-8 kHz
 *   + sum of 2 peaks g exp(-(o - c)^2 / (2 (w/2)^2))   g in ±peakDb, c at 200 Hz-6 kHz, w 0.5-2 octaves
 * with each corner's cut floored at -40 dB.
 */
export interface Colouring {
  tilt: number;
  fHigh: number;
  fLow: number;
  peaks: { g: number; c: number; w: number }[];
}

/** A colouring drawn from `rng` over the ranges above (corners and peak centres log-uniform). */
export function drawColouring(peakDb: number, rng: Rng): Colouring {
  const tilt = rng.uniform(-3, 3);
  const fHigh = 50 * Math.pow(6, rng.next());
  const fLow = 3500 * Math.pow(8000 / 3500, rng.next());
  const peaks = [0, 1].map(() => ({ g: rng.uniform(-peakDb, peakDb), c: Math.log2(0.2 * Math.pow(30, rng.next())), w: rng.uniform(0.5, 2) }));
  return { tilt, fHigh, fLow, peaks };
}

/** The colouring's gain in dB at f Hz (f > 0). */
export function colouringDb(k: Colouring, f: number): number {
  return dbAtOctave(k, Math.log2(f / 1000));
}

function dbAtOctave(k: Colouring, o: number): number {
  const high = Math.log2(k.fHigh / 1000), low = Math.log2(k.fLow / 1000);
  let db = k.tilt * o - Math.min(40, Math.max(0, 12 * (high - o))) - Math.min(40, Math.max(0, 24 * (o - low)));
  for (const p of k.peaks) db += p.g * Math.exp(-((o - p.c) ** 2) / (2 * (p.w / 2) ** 2));
  return db;
}

// Octaves from 1 kHz of each bin of an n-point spectrum, per (n, rate): a copy then pays no logarithm.
const binOctaves = new Map<string, Float64Array>();

function octavesOf(n: number, sampleRate: number): Float64Array {
  const key = `${n}:${sampleRate}`;
  let o = binOctaves.get(key);
  if (!o) {
    // DC takes the gain half a bin up: the high-pass corner's floor.
    o = Float64Array.from({ length: n / 2 + 1 }, (_, bin) => Math.log2((Math.max(bin, 0.5) * sampleRate) / n / 1000));
    binOctaves.set(key, o);
  }
  return o;
}

/** `x` through the colouring, on its spectrum zero-padded to twice its length so that the filter's
 *  short response does not wrap around. */
export function colour(x: Float32Array, sampleRate: number, k: Colouring): Float32Array {
  let n = 1;
  while (n < 2 * x.length) n <<= 1;
  const re = new Float64Array(n), im = new Float64Array(n);
  re.set(x);
  fft(re, im, false);
  const octaves = octavesOf(n, sampleRate);
  for (let bin = 0; bin <= n / 2; bin++) {
    const g = Math.exp(dbAtOctave(k, octaves[bin]) * (Math.LN10 / 20));
    re[bin] *= g;
    im[bin] *= g;
    if (bin > 0 && bin < n / 2) {
      re[n - bin] *= g;
      im[n - bin] *= g;
    }
  }
  fft(re, im, true);
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = re[i] / n;
  return out;
}

/** `x` stretched by 1/speed in time (speed > 1 is faster and higher), by resampling. */
export function changeSpeed(x: Float32Array, sampleRate: number, speed: number): Float32Array {
  const from = Math.round(sampleRate * speed);
  return from === sampleRate ? x.slice() : resample(x, from, sampleRate);
}

/**
 * One augmented copy of a clip, `length` samples long (a longer result keeps its middle): speed, then
 * reverb, then noise from `noises` (recordings at `sampleRate`), then a microphone's colouring, then gain. `rng` draws every choice.
 */
export function augmentWave(x: Float32Array, sampleRate: number, length: number, noises: readonly Float32Array[], s: WaveAugmentSettings, rng: Rng): Float32Array {
  const speed = Math.round(rng.uniform(s.speed[0], s.speed[1]) / 0.005) * 0.005;
  const reverb = rng.next() < s.reverbProbability ? rng.uniform(s.rt60[0], s.rt60[1]) : 0;
  const noise = rng.next() < s.noiseProbability && noises.length > 0;
  const gain = Math.pow(10, rng.uniform(s.gainDb[0], s.gainDb[1]) / 20);
  let y = changeSpeed(x, sampleRate, speed);
  if (reverb > 0) y = convolve(y, roomImpulse(reverb, sampleRate, rng));
  y = y.length > length ? y.slice((y.length - length) >> 1, ((y.length - length) >> 1) + length) : padOrTrim(y, length);
  if (noise) addBackgroundNoise(y, noises, s.snrDb, rng);
  // Drawn last, and only when it can happen, so copies made without it keep every other draw.
  if (s.colourProbability > 0 && rng.next() < s.colourProbability) y = colour(y, sampleRate, drawColouring(s.colourDb, rng));
  for (let i = 0; i < y.length; i++) y[i] *= gain;
  return y;
}

/** A copy's warp factor, from its own generator so that the copy's other draws do not depend on it. */
export function drawWarp(s: WaveAugmentSettings, rng: Rng): number {
  const [lo, hi] = s.warp;
  return lo === 1 && hi === 1 ? 1 : Math.round(rng.uniform(lo, hi) / 0.01) * 0.01;
}

/** A one-second `_silence_` clip by its recipe: a window of `recording` (null for digital silence). */
export function renderSilence(file: string, recipe: SilenceRecipe, recording: { samples: Float32Array; sampleRate: number } | null, fallbackRate: number): { samples: Float32Array; sampleRate: number } {
  if (recipe.source === DIGITAL_SILENCE || !recording) {
    const rng = rngFor('digital-silence', file);
    return { samples: Float32Array.from({ length: fallbackRate }, () => recipe.gain * gaussian(rng)), sampleRate: fallbackRate };
  }
  const { samples, sampleRate } = recording;
  const window = Math.min(sampleRate, samples.length);
  const start = Math.floor(recipe.position * (samples.length - window));
  const out = samples.slice(start, start + window);
  for (let i = 0; i < out.length; i++) out[i] *= recipe.gain;
  return { samples: out, sampleRate };
}
