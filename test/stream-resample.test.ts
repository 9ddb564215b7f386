// The streaming resampler is resample() cut into chunks: its outputs, concatenated, are the batch
// outputs sample for sample (up to the last few it holds back for want of future input), whatever the
// chunk sizes, and its memory does not grow with the stream.
import { describe, expect, it } from 'vitest';
import { StreamResampler, resample } from '../src/audio/resample.js';

function signal(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = 0.5 * Math.sin(i * 0.031) + 0.3 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

describe('StreamResampler', () => {
  // 44101 and 7999 have too many phases to tabulate exactly (the rounded-phase path).
  for (const [from, to] of [[48000, 16000], [44100, 16000], [16000, 4000], [8000, 16000], [44101, 16000], [7999, 16000], [16000, 16000]]) {
    it(`${from} -> ${to} Hz in random chunks equals resample() of the whole`, () => {
      const x = signal(Math.round(from * 0.7), from);
      const whole = resample(x, from, to);
      const r = new StreamResampler(from, to);
      const parts: number[] = [];
      let seed = 11;
      for (let at = 0; at < x.length; ) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        const n = [1, 7, 128, 1000, 4096][seed % 5];
        parts.push(...r.push(x.subarray(at, at + n)));
        at += n;
      }
      // All but the outputs whose filter runs past the end of the input so far.
      expect(parts.length).toBeGreaterThan(whole.length - Math.ceil(0.01 * to));
      expect(parts.length).toBeLessThanOrEqual(whole.length);
      expect(Float32Array.from(parts)).toEqual(whole.subarray(0, parts.length));
    });
  }

  it('keeps a bounded buffer over a long stream and starts afresh after reset', () => {
    const r = new StreamResampler(48000, 16000);
    const chunk = signal(480, 1);
    let total = 0;
    for (let i = 0; i < 2000; i++) total += r.push(chunk).length;
    expect(total).toBeGreaterThan(2000 * 160 - 100);
    const held = (r as unknown as { buf: Float32Array }).buf.length;
    expect(held).toBeLessThan(4096);
    r.reset();
    const x = signal(48000, 5);
    const again = Float32Array.from(r.push(x));
    expect(again).toEqual(resample(x, 48000, 16000).subarray(0, again.length));
  });
});
