// The resampler keeps in-band tones (frequency and amplitude) and removes what would alias.
import { describe, expect, it } from 'vitest';
import { resample } from '../src/audio/resample.js';

const tone = (n: number, rate: number, hz: number, amp: number) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

/** Amplitude of the component at `hz`, by a DFT over the middle of the signal (edges excluded). */
function amplitudeAt(x: Float32Array, rate: number, hz: number): number {
  const from = Math.floor(x.length / 4), to = Math.floor((3 * x.length) / 4);
  let re = 0, im = 0;
  for (let i = from; i < to; i++) {
    const a = (2 * Math.PI * hz * i) / rate;
    re += x[i] * Math.cos(a);
    im += x[i] * Math.sin(a);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

describe('resample', () => {
  // The last two ratios have too many phases to tabulate exactly: the nearest phase is used.
  for (const [from, to, hz] of [[16000, 4000, 440], [44100, 16000, 1000], [8000, 16000, 1500], [22050, 16000, 3000], [16000, 4000, 1500], [44101, 16000, 1000], [7999, 16000, 3000]]) {
    it(`${from} -> ${to} Hz keeps a ${hz} Hz tone's frequency and amplitude`, () => {
      const y = resample(tone(from, from, hz, 0.6), from, to);
      expect(y.length).toBe(to);
      expect(amplitudeAt(y, to, hz)).toBeCloseTo(0.6, 2);
      // Nothing leaks to a neighbouring frequency.
      expect(amplitudeAt(y, to, hz * 1.3)).toBeLessThan(0.01);
    });
  }

  it('attenuates content above the new Nyquist by more than 40 dB', () => {
    for (const hz of [2600, 3000, 5000, 7000]) {
      const y = resample(tone(16000, 16000, hz, 1), 16000, 4000);
      const alias = Math.abs(((hz + 2000) % 4000) - 2000);
      expect(20 * Math.log10(amplitudeAt(y, 4000, alias) + 1e-12)).toBeLessThan(-40);
    }
  });

  it('is the identity at equal rates and refuses bad rates', () => {
    const x = tone(100, 8000, 100, 1);
    expect(Array.from(resample(x, 8000, 8000))).toEqual(Array.from(x));
    expect(() => resample(x, 0, 8000)).toThrow(/from must be a positive integer/);
    expect(() => resample(x, 8000, 4000.5)).toThrow(/to must be a positive integer/);
  });
});
