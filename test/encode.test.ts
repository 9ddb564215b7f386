import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { encodeLatency, encodeRate, encodeRepeat } from '../src/kernels/encode.js';
import { describeEachBuild, randArray } from './helpers.js';

// The rate encoder's stream, written from its definition: lowbias32 keyed twice, top 24 bits.
const mix = (h: number): number => {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
};
function refRate(x: ArrayLike<number>, steps: number, seed: number): number[] {
  const k1 = mix((seed ^ 0x9e3779b9) >>> 0);
  const k2 = mix((k1 + 0x632be5ab) >>> 0);
  const n = x.length;
  const out: number[] = [];
  for (let t = 0; t < steps; t++)
    for (let j = 0; j < n; j++) {
      const u = (mix((mix(((t * n + j) ^ k1) >>> 0) ^ k2) >>> 0) >>> 8) / 2 ** 24;
      const p = Number.isNaN(x[j]) ? 0 : Math.min(Math.max(x[j], 0), 1);
      out.push(u < p ? 1 : 0);
    }
  return out;
}

/** torch.round: half to even. */
const roundHalfEven = (v: number): number => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** snntorch spikegen.latency(linear=True, normalize=True) in f32 steps, on x clamped to [0, 1]. */
function refLatency(x: ArrayLike<number>, steps: number, threshold = 0.01, clip = false): number[] {
  const n = x.length;
  const out = new Array<number>(steps * n).fill(0);
  const tau = steps - 1;
  const latest = Math.fround(-tau * (threshold - 1));
  for (let j = 0; j < n; j++) {
    const v = Number.isNaN(x[j]) ? 0 : Math.min(Math.max(x[j], 0), 1);
    if (clip && v < Math.fround(threshold)) continue;
    const time = Math.min(Math.fround(-tau * Math.fround(v - 1)), latest);
    out[roundHalfEven(time) * n + j] = 1;
  }
  return out;
}

function run(fill: (x: Tensor, out: Tensor) => void, xs: ArrayLike<number>, steps: number): number[] {
  const x = Tensor.from(xs);
  const out = Tensor.empty([steps, xs.length]).fill(7);
  fill(x, out);
  const values = Array.from(out.f32);
  x.free();
  out.free();
  return values;
}

describeEachBuild('encoders', () => {
  it.each([1, 5, 33])('repeat copies x to every step (n=%i)', (n) => {
    const xs = randArray(n, n);
    const got = run((x, out) => encodeRepeat(x, out, 3), xs, 3);
    expect(got).toEqual([...xs, ...xs, ...xs]);
  });

  it.each([1, 3, 7, 61])('rate matches its defined stream and is deterministic for a seed (n=%i)', (n) => {
    const xs = randArray(n, n + 1, -0.3, 1.3);
    xs[0] = NaN;
    const a = run((x, out) => encodeRate(x, out, 5, 1234), xs, 5);
    expect(a).toEqual(refRate(xs, 5, 1234));
    expect(run((x, out) => encodeRate(x, out, 5, 1234), xs, 5)).toEqual(a);
    if (n > 3) expect(run((x, out) => encodeRate(x, out, 5, 1235), xs, 5)).not.toEqual(a);
  });

  it('rate: spike frequency follows clamp(x, 0, 1); 0 never fires, 1 always does', () => {
    const levels = [-0.5, 0, 0.1, 0.25, 0.5, 0.9, 1, 2];
    const per = 1001;
    const steps = 20;
    const xs = levels.flatMap((v) => Array<number>(per).fill(v));
    const got = run((x, out) => encodeRate(x, out, steps, 99), xs, steps);
    levels.forEach((v, li) => {
      let fired = 0;
      for (let t = 0; t < steps; t++) for (let j = li * per; j < (li + 1) * per; j++) fired += got[t * xs.length + j];
      const p = Math.min(Math.max(v, 0), 1);
      const trials = steps * per;
      // 5 standard deviations of a binomial: a wrong probability fails, chance does not.
      expect(Math.abs(fired / trials - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / trials) + 1e-12);
    });
  });

  it('rate: different steps and neurons are not correlated', () => {
    const n = 4000;
    const got = run((x, out) => encodeRate(x, out, 2, 5), Array<number>(n).fill(0.5), 2);
    let agree = 0;
    let neighbours = 0;
    for (let j = 0; j < n; j++) {
      agree += got[j] === got[n + j] ? 1 : 0;
      if (j > 0) neighbours += got[j] === got[j - 1] ? 1 : 0;
    }
    expect(Math.abs(agree / n - 0.5)).toBeLessThan(0.04);
    expect(Math.abs(neighbours / (n - 1) - 0.5)).toBeLessThan(0.04);
  });

  it.each([
    [1, 5],
    [7, 5],
    [40, 25],
    [13, 1],
  ])('latency matches snntorch linear/normalize spike times (n=%i, steps=%i)', (n, steps) => {
    const xs = randArray(n, steps * 31 + n, -0.2, 1.2);
    const got = run((x, out) => encodeLatency(x, out, steps), xs, steps);
    expect(got).toEqual(refLatency(xs, steps));
    for (let j = 0; j < n; j++) expect(Array.from({ length: steps }, (_, t) => got[t * n + j]).reduce((a, b) => a + b)).toBe(1);
    const clipped = run((x, out) => encodeLatency(x, out, steps, { threshold: 0.2, clip: true }), xs, steps);
    expect(clipped).toEqual(refLatency(xs, steps, 0.2, true));
  });

  it('latency timing: 1 fires first, 0.5 in the middle, 0 and small values at the capped last step', () => {
    const steps = 5;
    const got = run((x, out) => encodeLatency(x, out, steps), [1, 0.5, 0.25, 0, 0.005, 0.875, NaN], steps);
    const times = [0, 1, 2, 3, 4, 5, 6].map((j) => [0, 1, 2, 3, 4].find((t) => got[t * 7 + j] === 1));
    // 0.875 -> 0.5 rounds to even (0); 0 -> 4 * 0.99 = 3.96 -> 4.
    expect(times).toEqual([0, 2, 3, 4, 4, 0, 4]);
  });

  it('rejects bad shapes and options', () => {
    const x = Tensor.zeros([6]);
    const out = Tensor.zeros([3, 5]);
    expect(() => encodeRepeat(x, out, 3)).toThrow(/encodeRepeat: out has shape \[3,5\], expected \[3,6\]/);
    expect(() => encodeRate(x, Tensor.zeros([3, 6]), 3, -1)).toThrow(/seed must be an integer/);
    expect(() => encodeLatency(x, out, 0)).toThrow(/steps must be a positive integer/);
    expect(() => encodeLatency(Tensor.zeros([2, 3]), Tensor.zeros([1, 6]), 1)).toThrow(/x has shape \[2,3\], expected \[N\]/);
    expect(() => encodeLatency(x, Tensor.zeros([3, 6]), 3, { threshold: 1 })).toThrow(/threshold must be in \(0, 1\)/);
    const shared = Tensor.zeros([1, 6]);
    expect(() => encodeRepeat(shared.reshape([6]), shared, 1)).toThrow(/out overlaps x/);
  });
});
