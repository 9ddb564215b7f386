// MFCC features: the log-mel spectrogram (logmel.ts), standardised per clip, then per frame meyda's
// DCT-II over the bands, y[c] = 2 sum_b x[b] cos(pi (b + 1/2) c / B), keeping the first C terms (as
// meyda's mfcc extractor does with its log mel bands). The coefficients are scaled by 1 / sqrt(2B):
// with it the DCT preserves energy for c > 0 (c = 0 gets sqrt 2 more), so they stay in the unit
// range of the standardised log-mel they come from.
import type { MfccSettings } from './settings.js';

const tables = new Map<string, Float64Array>();
let column = new Float64Array(0);

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
 * meyda's DCT-II of a column of `bands` values read at x[at + b * stride], its first `coefficients`
 * terms written to out[o + c * stride] times `scale` (2 sum_b x[b] cos(pi (b + 1/2) c / B) * scale).
 */
export function dct2(
  x: ArrayLike<number>, at: number, bands: number, coefficients: number,
  out: Float32Array, o: number, stride: number, scale = 1,
): void {
  const cos = cosines(bands, coefficients);
  // The column once into contiguous doubles: each coefficient then reads it in order.
  if (column.length < bands) column = new Float64Array(bands);
  for (let b = 0; b < bands; b++) column[b] = x[at + b * stride];
  for (let c = 0; c < coefficients; c++) {
    let sum = 0;
    for (let b = 0, r = c * bands; b < bands; b++) sum += column[b] * cos[r + b];
    out[o + c * stride] = 2 * sum * scale;
  }
}

/** [coefficients, frames] from a standardised log-mel spectrogram [melBands, frames], in `out` (a new array when not given). */
export function mfccFromLogMel(logMel: Float32Array, s: MfccSettings, out: Float32Array = new Float32Array(s.coefficients * s.frames)): Float32Array {
  const scale = 1 / Math.sqrt(2 * s.melBands);
  for (let t = 0; t < s.frames; t++) dct2(logMel, t, s.melBands, s.coefficients, out, t, s.frames, scale);
  return out;
}
