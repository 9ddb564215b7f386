// Log-mel spectrogram: meyda computes each frame's power spectrum; the mel filters are ours because
// meyda's bank rounds band edges to whole FFT bins, which leaves the lowest of 60 bands empty at a
// 512-point FFT. Filters are Slaney-style triangles on the HTK mel scale, evaluated at fractional bins.
import MeydaModule from 'meyda';

interface MeydaApi {
  bufferSize: number;
  sampleRate: number;
  windowingFunction: string;
  extract(feature: string, signal: Float32Array): unknown;
}
// Node's CommonJS interop hands over meyda's object itself, a bundler may wrap it as { default }; its
// type declarations describe neither under NodeNext resolution.
const Meyda = ((MeydaModule as unknown as { default?: MeydaApi }).default ?? MeydaModule) as unknown as MeydaApi;
import type { LogMelSettings } from './features.js';

const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);

interface Bank {
  /** Per band: first bin and weights over consecutive bins. */
  start: Int32Array;
  weights: Float32Array[];
}

const banks = new Map<string, Bank>();

function melBank(s: LogMelSettings): Bank {
  const key = `${s.sampleRate}:${s.frameSize}:${s.melBands}:${s.fmin}:${s.fmax}`;
  let bank = banks.get(key);
  if (bank) return bank;
  const bins = s.frameSize / 2; // meyda returns bins 0 .. frameSize/2 - 1
  const binHz = s.sampleRate / s.frameSize;
  const edges = Array.from({ length: s.melBands + 2 }, (_, i) => hz(mel(s.fmin) + (i * (mel(s.fmax) - mel(s.fmin))) / (s.melBands + 1)));
  const start = new Int32Array(s.melBands);
  const weights: Float32Array[] = [];
  for (let b = 0; b < s.melBands; b++) {
    const [lo, mid, hi] = [edges[b], edges[b + 1], edges[b + 2]];
    const first = Math.max(0, Math.ceil(lo / binHz));
    const last = Math.min(bins - 1, Math.floor(hi / binHz));
    const w = new Float32Array(Math.max(0, last - first + 1));
    // Slaney normalisation: each triangle has unit area, so wide high bands do not dominate.
    const norm = 2 / (hi - lo);
    for (let k = first; k <= last; k++) {
      const f = k * binHz;
      w[k - first] = norm * Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid)));
    }
    start[b] = first;
    weights.push(w);
  }
  bank = { start, weights };
  banks.set(key, bank);
  return bank;
}

/**
 * [melBands, frames] row-major. Frames are centred (the clip is reflect-padded by frameSize/2 at both
 * ends), so a clip of `length` samples gives 1 + floor(length / hop) frames. Values: log of the mel
 * energy floored at logFloor, standardised by the mean and standard deviation of the values above the
 * floor, clamped to +-clamp.
 */
export function logMelSpectrogram(clip: Float32Array, s: LogMelSettings): Float32Array {
  const bank = melBank(s);
  const half = s.frameSize / 2;
  const frame = new Float32Array(s.frameSize);
  const out = new Float32Array(s.melBands * s.frames);
  const reflect = (i: number) => {
    const n = clip.length;
    if (n === 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  Meyda.bufferSize = s.frameSize;
  Meyda.sampleRate = s.sampleRate;
  Meyda.windowingFunction = 'hanning';
  for (let t = 0; t < s.frames; t++) {
    const from = t * s.hop - half;
    if (from >= 0 && from + s.frameSize <= clip.length) frame.set(clip.subarray(from, from + s.frameSize));
    else for (let k = 0; k < s.frameSize; k++) frame[k] = clip[reflect(from + k)];
    const power = Meyda.extract('powerSpectrum', frame) as unknown as Float32Array;
    for (let b = 0; b < s.melBands; b++) {
      const w = bank.weights[b];
      const first = bank.start[b];
      let e = 0;
      for (let k = 0; k < w.length; k++) e += w[k] * power[first + k];
      out[b * s.frames + t] = e;
    }
  }
  const floor = Math.log(s.logFloor);
  let sum = 0, sumSq = 0, count = 0;
  for (let i = 0; i < out.length; i++) {
    const v = Math.log(Math.max(out[i], s.logFloor));
    out[i] = v;
    if (v > floor) { sum += v; sumSq += v * v; count++; }
  }
  if (count === 0) return out.fill(0); // silence: nothing above the floor, all features equal
  const mean = sum / count;
  const std = Math.sqrt(Math.max(sumSq / count - mean * mean, 0)) || 1;
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-s.clamp, Math.min(s.clamp, (out[i] - mean) / std));
  return out;
}
