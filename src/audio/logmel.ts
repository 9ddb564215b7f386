// Log-mel spectrogram: spectra from audio/spectrum.ts (the WASM FFT when the engine runs, else the
// TypeScript twin of meyda's); the mel filters are ours because meyda's bank rounds band edges to whole
// FFT bins, which leaves the lowest of 60 bands empty at a 512-point FFT. Filters are Slaney-style
// triangles on the HTK mel scale, evaluated at fractional bins.
import type { SpectralSettings } from './settings.js';
import { type MelBank, type PowerSpectra, spectraFor } from './spectrum.js';

const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);

/** Everything that depends only on the settings, built once and reused by every clip: the window and the mel bank. */
interface Plan extends MelBank {
  /** Periodic Hann window (as torch.hann_window), applied by the spectra backend (in WASM, while loading the frames). */
  window: Float32Array;
}

const plans = new Map<string, Plan>();
// Banks warped by factors other than 1 are kept up to this many (training draws few distinct factors).
const MAX_PLANS = 64;

/** Warp factors a bank takes: beyond these, a voice is no longer a voice. */
export const WARP_RANGE: readonly [number, number] = [0.5, 2];

/**
 * Vocal-tract length perturbation (Jaitly & Hinton 2013): the bank reads the spectrum at g(f) instead
 * of f, as if the speaker's formants sat at α times their frequency. g is piecewise linear so that the
 * bank still ends at fmax:
 *
 *   g(f) = f / α                                  for f <= B, B = 0.85 · fmax · min(1, α)
 *   g(f) = B / α + (f - B) · (fmax - B / α) / (fmax - B)   above
 */
export function warpFrequency(f: number, alpha: number, fmax: number): number {
  if (alpha === 1) return f;
  const b = 0.85 * fmax * Math.min(1, alpha);
  return f <= b ? f / alpha : b / alpha + ((f - b) * (fmax - b / alpha)) / (fmax - b);
}

function planFor(s: SpectralSettings, warp: number): Plan {
  const key = `${s.sampleRate}:${s.frameSize}:${s.melBands}:${s.fmin}:${s.fmax}:${warp}`;
  let plan = plans.get(key);
  if (plan) return plan;
  if (!(warp >= WARP_RANGE[0] && warp <= WARP_RANGE[1])) throw new RangeError(`log-mel: warp factor must be in [${WARP_RANGE.join(', ')}], got ${warp}`);
  if (plans.size >= MAX_PLANS) for (const k of plans.keys()) if (!k.endsWith(':1')) plans.delete(k);
  const bins = s.frameSize / 2; // meyda returns bins 0 .. frameSize/2 - 1
  const binHz = s.sampleRate / s.frameSize;
  const edges = Array.from({ length: s.melBands + 2 }, (_, i) => warpFrequency(hz(mel(s.fmin) + (i * (mel(s.fmax) - mel(s.fmin))) / (s.melBands + 1)), warp, s.fmax));
  const firstBin = new Int32Array(s.melBands);
  const bandStart = new Int32Array(s.melBands + 1);
  const weights: number[] = [];
  for (let b = 0; b < s.melBands; b++) {
    const [lo, mid, hi] = [edges[b], edges[b + 1], edges[b + 2]];
    const first = Math.max(0, Math.ceil(lo / binHz));
    const last = Math.min(bins - 1, Math.floor(hi / binHz));
    // Slaney normalisation: each triangle has unit area, so wide high bands do not dominate.
    const norm = 2 / (hi - lo);
    firstBin[b] = first;
    bandStart[b] = weights.length;
    for (let k = first; k <= last; k++) {
      const f = k * binHz;
      weights.push(norm * Math.max(0, Math.min((f - lo) / (mid - lo), (hi - f) / (hi - mid))));
    }
  }
  bandStart[s.melBands] = weights.length;
  const window = Float32Array.from({ length: s.frameSize }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / s.frameSize));
  plan = { window, firstBin, bandStart, weights: Float32Array.from(weights) };
  plans.set(key, plan);
  return plan;
}

/** Index into a signal of length n mirrored at both ends without repeating the edge (numpy 'reflect'). */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/**
 * Mel energies (power, before the log) of frames first .. first+count-1 of `signal`: frame t is centred
 * on sample t * hop and reflect-padded where it runs past either end. Band b of frame t goes to
 * out[at + b * bandStride + (t - first) * frameStride], so a caller picks the layout (the spectrogram
 * is band-major; a streaming ring keeps each frame's bands together). Energies scale with the square
 * of the signal, which lets a stream compute them once on raw samples and apply each window's peak
 * scaling afterwards. All frames go to `spectra` in one call (the WASM FFT runs four frames at once).
 */
export function melEnergies(
  signal: Float32Array, s: SpectralSettings, first: number, count: number,
  out: Float32Array | Float64Array, at: number, bandStride: number, frameStride: number,
  spectra: PowerSpectra = spectraFor(s.frameSize), warp = 1,
): void {
  const plan = planFor(s, warp);
  const { window, firstBin, bandStart, weights } = plan;
  const n = signal.length, size = s.frameSize, half = size / 2, bands = s.melBands;
  if (spectra.size !== size) throw new RangeError(`melEnergies: a ${spectra.size}-point spectrum for ${size}-sample frames`);
  const frames = spectra.frames(count);
  for (let f = 0; f < count; f++) {
    const from = (first + f) * s.hop - half, o = f * size;
    if (from >= 0 && from + size <= n) frames.set(signal.subarray(from, from + size), o);
    else for (let k = 0; k < size; k++) frames[o + k] = signal[reflect(from + k, n)];
  }
  const power = spectra.compute(count, window);
  // The engine's kernel sums as the loop below does, four frames at once.
  const mel = spectra.mel?.(count, plan);
  for (let f = 0; f < count; f++) {
    const o = at + f * frameStride;
    if (mel) for (let b = 0, m = f * bands; b < bands; b++) out[o + b * bandStride] = mel[m + b];
    else
      for (let b = 0; b < bands; b++) {
        let e = 0;
        for (let j = bandStart[b], k = f * half + firstBin[b]; j < bandStart[b + 1]; j++, k++) e += weights[j] * power[k];
        out[o + b * bandStride] = e;
      }
  }
}

/**
 * In place, mel energies to features: the log of each energy floored at logFloor, standardised by the
 * mean and standard deviation of the values above the floor, clamped to +-clamp.
 */
export function standardiseLogMel(values: Float32Array, s: SpectralSettings): Float32Array {
  const out = values;
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
  const scale = 1 / std, clamp = s.clamp;
  for (let i = 0; i < out.length; i++) {
    const z = (out[i] - mean) * scale;
    out[i] = z > clamp ? clamp : z < -clamp ? -clamp : z;
  }
  return out;
}

/**
 * [melBands, frames] row-major. Frames are centred (the clip is reflect-padded by frameSize/2 at both
 * ends), so a clip of `length` samples gives 1 + floor(length / hop) frames. Values: log of the mel
 * energy floored at logFloor, standardised by the mean and standard deviation of the values above the
 * floor, clamped to +-clamp. With `warp` other than 1 the bank is warped (warpFrequency): training's
 * vocal-tract length perturbation.
 */
export function logMelSpectrogram(clip: Float32Array, s: SpectralSettings, spectra?: PowerSpectra, warp = 1): Float32Array {
  const out = new Float32Array(s.melBands * s.frames);
  melEnergies(clip, s, 0, s.frames, out, 0, s.frames, 1, spectra, warp);
  return standardiseLogMel(out, s);
}
