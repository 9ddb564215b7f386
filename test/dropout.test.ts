// Inverted dropout: exact scaling against the mask, seeded masks (same seed, same mask; other seed,
// an independent one), the drop rate, position-only draws (SIMD body and scalar tail agree), backward.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { dropoutBackward, dropoutForward } from '../src/kernels/dropout.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

function run(xs: Float32Array, p: number, seed: number, shape: number[] = [xs.length]) {
  const x = Tensor.from(xs, shape);
  const y = Tensor.zeros(shape);
  const mask = Tensor.zeros(shape, 'u8').fill(7);
  dropoutForward(x, y, mask, p, seed);
  const out = { y: y.toArray(), mask: Uint8Array.from(mask.data) };
  for (const t of [x, y, mask]) t.free();
  return out;
}

describeEachBuild('dropout', () => {
  it.each([[1, 0.5], [3, 0.2], [17, 0.9], [1001, 0.3]])('y = x / (1 - p) where the mask keeps, else 0 (n=%i, p=%f)', (n, p) => {
    const xs = randArray(n, n, 0.1, 1);
    const { y, mask } = run(xs, p, 42);
    for (let i = 0; i < n; i++) {
      expect(mask[i] === 0 || mask[i] === 1).toBe(true);
      expect(y[i]).toBe(mask[i] ? Math.fround(xs[i] * Math.fround(1 / (1 - p))) : 0);
    }
  });

  it('p = 0 is the identity', () => {
    const xs = randArray(37, 1);
    const { y, mask } = run(xs, 0, 5);
    expect(Array.from(y)).toEqual(Array.from(xs));
    expect(mask.every((m) => m === 1)).toBe(true);
  });

  it('drops close to a fraction p, the same mask for a seed, an independent one for another seed', () => {
    const n = 100_000;
    const xs = new Float32Array(n).fill(1);
    for (const p of [0.1, 0.5, 0.8]) {
      const a = run(xs, p, 1234).mask;
      const b = run(xs, p, 1234).mask;
      const c = run(xs, p, 1235).mask;
      expect(a.every((m, i) => m === b[i])).toBe(true);
      const dropped = a.reduce((s, m) => s + 1 - m, 0) / n;
      expect(Math.abs(dropped - p)).toBeLessThan(0.01);
      // Independent masks agree on a fraction p² + (1-p)²; masks that are shifts or copies would not.
      const agree = a.reduce((s, m, i) => s + (m === c[i] ? 1 : 0), 0) / n;
      expect(Math.abs(agree - (p * p + (1 - p) * (1 - p)))).toBeLessThan(0.01);
    }
  });

  it('the draw depends only on the seed and the position (SIMD body and scalar tail agree)', () => {
    const long = run(randArray(23, 3), 0.5, 77).mask;
    for (const n of [1, 2, 5, 11, 22]) expect(run(randArray(n, 3), 0.5, 77).mask).toEqual(long.slice(0, n));
  });

  it.each([[1, 0.5], [13, 0.3], [4, 0.25]])('backward matches finite differences of the seeded forward (n=%i, p=%f)', (n, p) => {
    const xs = randArray(n * 3, n, -1, 1);
    const g = randArray(n * 3, n + 1);
    const shape = [n, 3];
    const seed = 9;
    const x = Tensor.from(xs, shape);
    const y = Tensor.zeros(shape);
    const mask = Tensor.zeros(shape, 'u8');
    const dy = Tensor.from(g, shape);
    const dx = Tensor.zeros(shape).fill(5);
    dropoutForward(x, y, mask, p, seed);
    dropoutBackward(dy, mask, dx, p);
    const xd = Array.from(xs, Number);
    const fd = finiteDiff(xd, [...xd.keys()], () => run(Float32Array.from(xd), p, seed, shape).y.reduce((s, v, i) => s + v * g[i], 0), 1e-2);
    expect(maxRelErr(dx.f32, fd, 1e-4, 1e-3)).toBeLessThan(1);
    // dx may be dy itself.
    dropoutBackward(dy, mask, dy, p);
    expect(Array.from(dy.f32)).toEqual(Array.from(dx.f32));
    for (const t of [x, y, mask, dy, dx]) t.free();
  });

  it('rejects bad probabilities, seeds, masks and shapes', () => {
    const x = Tensor.zeros([2, 3]);
    const y = Tensor.zeros([2, 3]);
    const mask = Tensor.zeros([6], 'u8');
    for (const p of [1, -0.1, Number.NaN, 1.5]) expect(() => dropoutForward(x, y, mask, p, 1)).toThrow(/dropoutForward: p must be in \[0, 1\)/);
    expect(() => dropoutForward(x, y, mask, 0.5, 1.5)).toThrow(/seed must be an integer/);
    const maskF = Tensor.zeros([2, 3]);
    expect(() => dropoutForward(x, y, maskF, 0.5, 1)).toThrow(/mask must be a u8 tensor/);
    const short = Tensor.zeros([5], 'u8');
    expect(() => dropoutBackward(x, short, y, 0.5)).toThrow(/dropoutBackward: mask has shape \[5\], expected 6 values/);
    const y3 = Tensor.zeros([3, 2]);
    expect(() => dropoutForward(x, y3, mask, 0.5, 1)).toThrow(/dropoutForward: output has shape \[3,2\], expected \[2,3\]/);
    expect(() => dropoutForward(x, x, mask, 0.5, 1)).toThrow(/y overlaps x/);
    for (const t of [x, y, mask, maskF, short, y3]) t.free();
  });
});
