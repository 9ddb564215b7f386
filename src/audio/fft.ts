// The amplitude spectrum meyda computes, bit for bit, without its per-frame allocations: a radix-2
// decimation-in-time FFT with the same twiddles (cos and sin of -2*pi*k/N, evaluated the same way), the
// same butterfly arithmetic, and the same storage: meyda keeps the real parts in a Float32Array (its
// complex array copies the input with slice()) and the imaginary parts in plain doubles, so real parts
// are rounded to float32 after every stage. Matching that rounding is what makes the result identical,
// so features computed without an engine are meyda's, only faster (audio/spectrum.ts; test/fft.test.ts
// holds the two equal).

export class AmplitudeSpectrum {
  private readonly reversed: Int32Array;
  /** Per stage (half-size h = 1, 2, 4, ...), h twiddles at offset h - 1. */
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly re: Float32Array;
  private readonly im: Float64Array;
  /** Bins 0 .. size/2 - 1, as meyda returns them. */
  readonly out: Float32Array;

  constructor(readonly size: number) {
    const bits = Math.log2(size);
    if (!Number.isInteger(bits) || size < 2) throw new RangeError(`AmplitudeSpectrum: size must be a power of two, got ${size}`);
    this.reversed = Int32Array.from({ length: size }, (_, i) => {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      return r;
    });
    this.cos = new Float64Array(size - 1);
    this.sin = new Float64Array(size - 1);
    for (let n = 2; n <= size; n *= 2)
      for (let k = 0; k < n / 2; k++) {
        const x = (-2 * Math.PI * k) / n;
        this.cos[n / 2 - 1 + k] = Math.cos(x);
        this.sin[n / 2 - 1 + k] = Math.sin(x);
      }
    this.re = new Float32Array(size);
    this.im = new Float64Array(size);
    this.out = new Float32Array(size / 2);
  }

  /** The amplitude spectrum of `frame` (already windowed), in `out` (overwritten by the next call). */
  compute(frame: Float32Array): Float32Array {
    const { size, reversed, cos, sin, re, im, out } = this;
    for (let i = 0; i < size; i++) {
      re[reversed[i]] = frame[i];
      im[i] = 0;
    }
    for (let h = 1; h < size; h *= 2) {
      for (let start = 0; start < size; start += 2 * h) {
        for (let k = 0; k < h; k++) {
          const even = start + k, odd = even + h;
          const wr = cos[h - 1 + k], wi = sin[h - 1 + k];
          const or = re[odd], oi = im[odd];
          const tr = wr * or - wi * oi;
          const ti = wr * oi + wi * or;
          const er = re[even], ei = im[even];
          re[odd] = er - tr;
          im[odd] = ei - ti;
          re[even] = tr + er;
          im[even] = ti + ei;
        }
      }
    }
    for (let i = 0; i < size / 2; i++) out[i] = Math.sqrt(Math.pow(re[i], 2) + Math.pow(im[i], 2));
    return out;
  }
}
