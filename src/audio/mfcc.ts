// MFCC features: the log-mel spectrogram (logmel.ts), standardised per clip, then per frame meyda's
// DCT-II over the bands, y[c] = 2 sum_b x[b] cos(pi (b + 1/2) c / B), keeping the first C terms (as
// meyda's mfcc extractor does with its log mel bands). The coefficients are scaled by 1 / sqrt(2B):
// with it the DCT preserves energy for c > 0 (c = 0 gets sqrt 2 more), so they stay in the unit
// range of the standardised log-mel they come from.
import type { MfccSettings } from './settings.js';

const tables = new Map<string, Float64Array>();
let sums = new Float64Array(0);

/** cos(pi (b + 1/2) c / B) for c < C, b < B, row c at c * B (meyda tabulates the same cosines). */
function cosines(bands: number, coefficients: number): Float64Array {
  const key = `${bands}:${coefficients}`;
  let t = tables.get(key);
  if (!t) {
    t = new Float64Array(coefficients * bands);
    for (let c = 0; c < coefficients; c++) for (let b = 0; b < bands; b++) t[c * bands + b] = Math.cos((Math.PI / bands) * (b + 0.5) * c);
    tables.set(key, t);
  }
  return t;
}

/**
 * meyda's DCT-II of every column of x [bands, frames]: out[c, t] = 2 sum_b x[b, t] cos(pi (b + 1/2) c / B)
 * * scale for c < coefficients, out [coefficients, frames]. Each sum runs over b in order in doubles,
 * but a whole row of frames at a time, so the inner loop reads x and writes the sums contiguously (a
 * listener redoes every frame of its window per hop).
 */
export function dct2(x: Float32Array, bands: number, frames: number, coefficients: number, out: Float32Array, scale = 1): void {
  const cos = cosines(bands, coefficients);
  if (sums.length < frames) sums = new Float64Array(frames);
  for (let c = 0; c < coefficients; c++) {
    sums.fill(0, 0, frames);
    const r = c * bands;
    let b = 0;
    // Four bands per pass over the row, added one after another as the plain loop would: fewer round
    // trips of each sum through memory, the same rounding.
    for (; b + 4 <= bands; b += 4) {
      const k0 = cos[r + b], k1 = cos[r + b + 1], k2 = cos[r + b + 2], k3 = cos[r + b + 3];
      const a0 = b * frames, a1 = a0 + frames, a2 = a1 + frames, a3 = a2 + frames;
      for (let t = 0; t < frames; t++) {
        let v = sums[t];
        v += x[a0 + t] * k0;
        v += x[a1 + t] * k1;
        v += x[a2 + t] * k2;
        v += x[a3 + t] * k3;
        sums[t] = v;
      }
    }
    for (; b < bands; b++) {
      const k = cos[r + b];
      for (let t = 0, at = b * frames; t < frames; t++) sums[t] += x[at + t] * k;
    }
    for (let t = 0, o = c * frames; t < frames; t++) out[o + t] = 2 * sums[t] * scale;
  }
}

/** [coefficients, frames] from a standardised log-mel spectrogram [melBands, frames], in `out` (a new array when not given). */
export function mfccFromLogMel(logMel: Float32Array, s: MfccSettings, out: Float32Array = new Float32Array(s.coefficients * s.frames)): Float32Array {
  dct2(logMel, s.melBands, s.frames, s.coefficients, out, 1 / Math.sqrt(2 * s.melBands));
  return out;
}
