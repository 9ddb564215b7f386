// Background noise: synthesized noise colours (the built-in set cannot download real recordings) and
// mixing a random stretch of a noise recording into a clip at a chosen signal-to-noise ratio.
import type { Rng } from '../util/rng.js';

export type NoiseColor = 'white' | 'pink' | 'brown' | 'hum';
export const NOISE_COLORS: readonly NoiseColor[] = ['white', 'pink', 'brown', 'hum'];

/** Root mean square; 0 for silence. */
export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return x.length ? Math.sqrt(s / x.length) : 0;
}

/** Gaussian from two uniforms (Box–Muller); only one of the pair is used, for simplicity of state. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** `length` samples of noise scaled to unit RMS. Pink uses Paul Kellet's economy filter (-3 dB/octave
 *  within about 0.5 dB); brown is leaky-integrated white (-6 dB/octave); hum is mains hum at 50 or 60 Hz
 *  with odd and even harmonics and a little hiss, as from a poorly grounded microphone. */
export function synthNoise(color: NoiseColor, length: number, sampleRate: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  if (color === 'white') {
    for (let i = 0; i < length; i++) out[i] = gaussian(rng);
  } else if (color === 'pink') {
    let b0 = 0, b1 = 0, b2 = 0;
    for (let i = 0; i < length; i++) {
      const w = gaussian(rng);
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      out[i] = b0 + b1 + b2 + w * 0.1848;
    }
  } else if (color === 'brown') {
    let y = 0;
    for (let i = 0; i < length; i++) {
      y = 0.998 * y + 0.05 * gaussian(rng);
      out[i] = y;
    }
  } else {
    const mains = rng.next() < 0.5 ? 50 : 60;
    const harmonics = [1, 0.5, 0.35, 0.2, 0.12].map((a) => a * rng.uniform(0.5, 1.5));
    const phases = harmonics.map(() => rng.uniform(0, 2 * Math.PI));
    const hiss = rng.uniform(0.02, 0.1);
    for (let i = 0; i < length; i++) {
      let v = 0;
      for (let h = 0; h < harmonics.length; h++) v += harmonics[h] * Math.sin((2 * Math.PI * mains * (h + 1) * i) / sampleRate + phases[h]);
      out[i] = v + hiss * gaussian(rng);
    }
  }
  const r = rms(out);
  if (r > 0) for (let i = 0; i < length; i++) out[i] /= r;
  return out;
}

/** Adds `noise` (from `offset`, wrapping around) to `signal` in place, scaled so that
 *  rms(signal) / rms(added noise) is `snrDb` decibels. A silent signal gets noise at unit-RMS scale
 *  times 10^(-snrDb/20), so silence clips still carry background. */
export function mixAtSnr(signal: Float32Array, noise: Float32Array, snrDb: number, offset = 0): Float32Array {
  if (noise.length === 0) throw new RangeError('mixAtSnr: the noise recording is empty');
  const n = signal.length;
  const segment = new Float32Array(n);
  for (let i = 0; i < n; i++) segment[i] = noise[(offset + i) % noise.length];
  const rs = rms(signal) || 0.1;
  const rn = rms(segment);
  if (rn === 0) return signal;
  const gain = rs / rn / Math.pow(10, snrDb / 20);
  for (let i = 0; i < n; i++) signal[i] += gain * segment[i];
  return signal;
}

/** Mixes a random stretch of a random recording from `noises` into `signal` at an SNR drawn
 *  uniformly from `snrDb`. */
export function addBackgroundNoise(signal: Float32Array, noises: readonly Float32Array[], snrDb: readonly [number, number], rng: Rng): Float32Array {
  if (noises.length === 0) return signal;
  const noise = noises[Math.floor(rng.next() * noises.length)];
  const offset = Math.floor(rng.next() * noise.length);
  return mixAtSnr(signal, noise, rng.uniform(snrDb[0], snrDb[1]), offset);
}
