// Max and adaptive average pooling against plain f64 references with PyTorch's rules (floor mode,
// first maximum wins ties, adaptive bins [floor(i*L/out), ceil((i+1)*L/out))); backward by finite differences.
import { expect, it } from 'vitest';
import { ShapeError } from '../src/engine/errors.js';
import { Tensor } from '../src/engine/tensor.js';
import {
  type Pool2dOptions, adaptiveAvgPool1dBackward, adaptiveAvgPool1dForward, adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward,
  maxPool1dBackward, maxPool1dForward, maxPool1dOutputShape, maxPool2dBackward, maxPool2dForward, maxPool2dOutputShape,
} from '../src/kernels/pool.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray, rng } from './helpers.js';

const prod = (s: number[]) => s.reduce((a, v) => a * v, 1);

/** Max of each window and the plane index of its first maximum (row-major scan). */
function refMaxPool(x: ArrayLike<number>, [N, C, H, W]: number[], o: Pool2dOptions) {
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.stride ?? o.kernel;
  const OH = Math.floor((H - kh) / sh) + 1;
  const OW = Math.floor((W - kw) / sw) + 1;
  const y = new Float64Array(N * C * OH * OW);
  const arg = new Int32Array(y.length);
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        let m = -Infinity;
        let at = -1;
        for (let a = 0; a < kh; a++)
          for (let b = 0; b < kw; b++) {
            const idx = (i * sh + a) * W + j * sw + b;
            if (x[p * H * W + idx] > m) [m, at] = [x[p * H * W + idx], idx];
          }
        y[(p * OH + i) * OW + j] = m;
        arg[(p * OH + i) * OW + j] = at;
      }
  return { y, arg, shape: [N, C, OH, OW] };
}

const bins = (len: number, out: number) =>
  Array.from({ length: out }, (_, i) => [Math.floor((i * len) / out), Math.ceil(((i + 1) * len) / out)]);

function refAdaptive(x: ArrayLike<number>, [N, C, H, W]: number[], OH: number, OW: number): Float64Array {
  const y = new Float64Array(N * C * OH * OW);
  const bh = bins(H, OH);
  const bw = bins(W, OW);
  for (let p = 0; p < N * C; p++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const [h0, h1] = bh[i];
        const [w0, w1] = bw[j];
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[(p * H + h) * W + w];
        y[(p * OH + i) * OW + j] = s / ((h1 - h0) * (w1 - w0));
      }
  return y;
}

/** Distinct values at least 0.01 apart in random order: no near-ties, so finite differences are clean. */
function distinct(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.01);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [v[i], v[j]] = [v[j], v[i]];
  }
  return v;
}

const all = (n: number) => [...Array(n).keys()];

// Non-overlapping, Piczak's overlapping (4,3)/(1,3), odd windows and strides, batch 1, windows that leave a remainder.
const MAX_CASES: [number[], Pool2dOptions][] = [
  [[2, 3, 8, 10], { kernel: [2, 2] }],
  [[1, 2, 9, 11], { kernel: [4, 3], stride: [1, 3] }],
  [[3, 2, 7, 13], { kernel: [3, 2], stride: [2, 3] }],
  [[1, 1, 5, 5], { kernel: [3, 3], stride: [1, 1] }],
  [[2, 5, 1, 17], { kernel: [1, 4] }],
  [[1, 2, 9, 23], { kernel: [4, 3], stride: [1, 3] }],
  [[2, 1, 5, 21], { kernel: [2, 3], stride: [1, 2] }],
  [[1, 3, 4, 19], { kernel: [2, 2], stride: [2, 1] }],
  // 2x2 stride 2 has its own kernel: whole blocks of four outputs, a remainder, odd H and W, one plane.
  [[1, 2, 7, 19], { kernel: [2, 2] }],
  [[2, 1, 4, 16], { kernel: [2, 2] }],
  [[1, 1, 3, 3], { kernel: [2, 2] }],
  // The backward writes a plane in one pass when every winner lies in its 2x2 block at stride 2, and
  // falls back to clear-and-scatter when one does not (3x3 windows: some winners inside, some outside).
  [[2, 2, 7, 9], { kernel: [1, 1], stride: [2, 2] }],
  [[1, 1, 9, 18], { kernel: [1, 2], stride: [2, 2] }],
  [[1, 2, 6, 12], { kernel: [3, 3] }],
  // Windows of four along a row at stride 4 (M5's) have their own kernel and one-pass backward: blocks
  // of four windows, a tail, a remainder; overlapping windows of four fall back to the scatter.
  [[2, 3, 1, 31], { kernel: [1, 4] }],
  [[1, 2, 1, 22], { kernel: [1, 4], stride: [1, 2] }],
];

describeEachBuild('maxPool2d', () => {
  it.each(MAX_CASES)('forward and argmax match the reference for %j %j', (shape, opts) => {
    const xs = randArray(prod(shape), prod(shape));
    const r = refMaxPool(xs, shape, opts);
    expect(maxPool2dOutputShape(shape, opts)).toEqual(r.shape);
    const x = Tensor.from(xs, shape);
    const y = Tensor.zeros(r.shape);
    const arg = Tensor.zeros(r.shape, 'i32');
    maxPool2dForward(x, y, arg, opts);
    expect(Array.from(y.f32)).toEqual(Array.from(r.y));
    expect(Array.from(arg.data)).toEqual(Array.from(r.arg));
    for (const t of [x, y, arg]) t.free();
  });

  it.each(MAX_CASES)('backward matches finite differences (overlapping windows accumulate) for %j %j', (shape, opts) => {
    const xs = distinct(prod(shape), 3);
    const r = refMaxPool(xs, shape, opts);
    const g = randArray(r.y.length, 4);
    const x = Tensor.from(xs, shape);
    const y = Tensor.zeros(r.shape);
    const arg = Tensor.zeros(r.shape, 'i32');
    const dy = Tensor.from(g, r.shape);
    const dx = Tensor.zeros(shape).fill(7);
    maxPool2dForward(x, y, arg, opts);
    maxPool2dBackward(dy, arg, dx);
    const xd = Array.from(xs, Number);
    const fd = finiteDiff(xd, all(xd.length), () => refMaxPool(xd, shape, opts).y.reduce((a, v, i) => a + v * g[i], 0), 1e-3);
    expect(maxRelErr(dx.f32, fd, 1e-4, 1e-3)).toBeLessThan(1);
    for (const t of [x, y, arg, dy, dx]) t.free();
  });

  it.each(MAX_CASES)('on spike maps (0/1, full of ties) the argmax is the first maximum for %j %j', (shape, opts) => {
    const r0 = rng(prod(shape));
    const xs = Float32Array.from({ length: prod(shape) }, () => (r0() < 0.3 ? 1 : 0));
    const r = refMaxPool(xs, shape, opts);
    const x = Tensor.from(xs, shape);
    const y = Tensor.zeros(r.shape);
    const arg = Tensor.zeros(r.shape, 'i32');
    maxPool2dForward(x, y, arg, opts);
    expect(Array.from(y.f32)).toEqual(Array.from(r.y));
    expect(Array.from(arg.data)).toEqual(Array.from(r.arg));
    for (const t of [x, y, arg]) t.free();
  });

  it('ties send the gradient to the first maximum in row-major order, as PyTorch', () => {
    // A spike map: 0/1 values, windows with several ones; overlapping windows share winners.
    const plane = [
      0, 1, 1, 0, 1,
      1, 1, 0, 0, 1,
      0, 0, 0, 0, 0,
      1, 0, 1, 1, 1,
    ];
    const shape = [1, 1, 4, 5];
    const opts: Pool2dOptions = { kernel: [2, 3], stride: [1, 2] };
    const x = Tensor.from(plane, shape);
    const outShape = maxPool2dOutputShape(shape, opts);
    expect(outShape).toEqual([1, 1, 3, 2]);
    const y = Tensor.zeros(outShape);
    const arg = Tensor.zeros(outShape, 'i32');
    maxPool2dForward(x, y, arg, opts);
    expect(Array.from(y.f32)).toEqual([1, 1, 1, 1, 1, 1]);
    // Window (0,0) rows 0-1 cols 0-2: first 1 at (0,1); (0,1) cols 2-4: (0,2); (1,0) rows 1-2: (1,0);
    // (1,1): (1,4); (2,0) rows 2-3 cols 0-2: (3,0); (2,1) cols 2-4: (3,2).
    expect(Array.from(arg.data)).toEqual([1, 2, 5, 9, 15, 17]);
    const dy = Tensor.from([1, 2, 3, 4, 5, 6], outShape);
    const dx = Tensor.zeros(shape);
    maxPool2dBackward(dy, arg, dx);
    const want = new Array(20).fill(0);
    [1, 2, 5, 9, 15, 17].forEach((i, k) => (want[i] += k + 1));
    expect(Array.from(dx.f32)).toEqual(want);
    // An all-zero window (no spike) gives its gradient to its first element.
    const zeros = Tensor.zeros([1, 1, 2, 2]);
    const y1 = Tensor.zeros([1, 1, 1, 1]);
    const a1 = Tensor.zeros([1, 1, 1, 1], 'i32').fill(9);
    maxPool2dForward(zeros, y1, a1, { kernel: [2, 2] });
    expect(a1.data[0]).toBe(0);
    for (const t of [x, y, arg, dy, dx, zeros, y1, a1]) t.free();
  });

  it.each([[{ kernel: [2, 2] }], [{ kernel: [2, 3], stride: [2, 2] }], [{ kernel: [1, 4] }]] as [Pool2dOptions][])('a NaN takes its window; of several, the last in scan order (PyTorch) for %j', (opts) => {
    const [H, W] = [4, 23];
    const xs = Float32Array.from({ length: H * W }, (_, i) => (i % 7) * 0.5);
    const nans = [1, W, W + 3, 2 * W + 6, 3 * W + 7, 2 * W + 16, 3 * W + 17, 3 * W + 16];
    for (const i of nans) xs[i] = NaN;
    const shape = [1, 1, H, W];
    const ref = refMaxPool(xs, shape, opts);
    const out = maxPool2dOutputShape(shape, opts);
    const x = Tensor.from(xs, shape);
    const y = Tensor.zeros(out);
    const arg = Tensor.zeros(out, 'i32');
    maxPool2dForward(x, y, arg, opts);
    const [kh, kw] = opts.kernel;
    const [sh, sw] = opts.stride ?? opts.kernel;
    for (let i = 0; i < out[2]; i++)
      for (let j = 0; j < out[3]; j++) {
        const o = i * out[3] + j;
        const window = Array.from({ length: kh * kw }, (_, k) => (i * sh + Math.floor(k / kw)) * W + j * sw + (k % kw));
        const lastNaN = window.filter((k) => nans.includes(k)).pop();
        if (lastNaN === undefined) {
          expect([y.f32[o], arg.data[o]]).toEqual([ref.y[o], ref.arg[o]]);
        } else {
          expect(y.f32[o]).toBeNaN();
          expect(arg.data[o]).toBe(lastNaN);
        }
      }
    expect(out[3] % 4).not.toBe(0);
    for (const t of [x, y, arg]) t.free();
  });

  it('rejects bad calls with clear messages', () => {
    expect(() => maxPool2dOutputShape([1, 1, 3, 3], { kernel: [4, 2] })).toThrow(/maxPool2d: x has shape \[1,1,3,3\], smaller than the kernel \[4,2\]/);
    expect(() => maxPool2dOutputShape([1, 1, 3, 3], { kernel: [2, 0] })).toThrow(/kernelWidth must be a positive integer, got 0/);
    expect(() => maxPool2dOutputShape([1, 3, 3], { kernel: [2, 2] })).toThrow(ShapeError);
    const x = Tensor.zeros([1, 2, 4, 4]);
    const y = Tensor.zeros([1, 2, 2, 2]);
    const yBad = Tensor.zeros([1, 2, 2, 3]);
    const argF = Tensor.zeros([1, 2, 2, 2]);
    const arg = Tensor.zeros([1, 2, 2, 2], 'i32');
    expect(() => maxPool2dForward(x, yBad, arg, { kernel: [2, 2] })).toThrow(/maxPool2dForward: y has shape \[1,2,2,3\], expected \[1,2,2,2\]/);
    expect(() => maxPool2dForward(x, y, argF, { kernel: [2, 2] })).toThrow(/argmax must be an i32 tensor/);
    expect(() => maxPool2dBackward(yBad, arg, x)).toThrow(/maxPool2dBackward: argmax has shape \[1,2,2,2\], expected \[1,2,2,3\]/);
    const dy3 = Tensor.zeros([1, 3, 2, 2]);
    expect(() => maxPool2dBackward(dy3, arg, x)).toThrow(/which no max pool of dx \[1,2,4,4\] gives/);
    for (const t of [x, y, yBad, argF, arg, dy3]) t.free();
  });
});

describeEachBuild('maxPool1d', () => {
  it.each([[[2, 3, 17], 4, 4], [[1, 1, 10], 3, 2], [[3, 2, 9], 2, 3], [[1, 4, 1000], 4, 4]])('forward and backward match the 1d reference for %j k=%i s=%i', (shape, k, s) => {
    const xs = distinct(prod(shape), 11);
    const r = refMaxPool(xs, [shape[0], shape[1], 1, shape[2]], { kernel: [1, k], stride: [1, s] });
    const out = maxPool1dOutputShape(shape, k, s);
    expect(out).toEqual([shape[0], shape[1], r.shape[3]]);
    const x = Tensor.from(xs, shape);
    const y = Tensor.zeros(out);
    const arg = Tensor.zeros(out, 'i32');
    maxPool1dForward(x, y, arg, k, s);
    expect(Array.from(y.f32)).toEqual(Array.from(r.y));
    expect(Array.from(arg.data)).toEqual(Array.from(r.arg));
    const dy = Tensor.from(randArray(y.size, 5), out);
    const dx = Tensor.zeros(shape);
    maxPool1dBackward(dy, arg, dx);
    const want = new Float64Array(xs.length);
    const L = shape[2];
    r.arg.forEach((a, i) => (want[Math.floor(i / out[2]) * L + a] += dy.f32[i]));
    expect(maxRelErr(dx.f32, want)).toBeLessThan(1);
    for (const t of [x, y, arg, dy, dx]) t.free();
  });

  it('stride defaults to the kernel and a short input is refused', () => {
    expect(maxPool1dOutputShape([2, 3, 10], 3)).toEqual([2, 3, 3]);
    expect(() => maxPool1dOutputShape([2, 3, 2], 3)).toThrow(/smaller than the kernel/);
    expect(() => maxPool1dOutputShape([2, 3, 2, 2], 3)).toThrow(/maxPool1d: x has shape \[2,3,2,2\], expected \[N, C, L\]/);
  });
});

describeEachBuild('adaptiveAvgPool', () => {
  it('uses PyTorch bins: 10 from 60, 4 from 134 (overlapping), 3 from 5, 5 from 3', () => {
    expect(bins(60, 10)[3]).toEqual([18, 24]);
    expect(bins(134, 4)).toEqual([[0, 34], [33, 67], [67, 101], [100, 134]]);
    // A ramp makes each bin's mean the midpoint of its range, so the bin edges are read off the output.
    const H = 60;
    const W = 134;
    const xs = new Float32Array(H * W);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) xs[h * W + w] = 1000 * h + w;
    const x = Tensor.from(xs, [1, 1, H, W]);
    const y = Tensor.zeros([1, 1, 10, 4]);
    adaptiveAvgPool2dForward(x, y);
    const wMid = [16.5, 49.5, 83.5, 116.5];
    for (let i = 0; i < 10; i++) for (let j = 0; j < 4; j++) expect(y.f32[i * 4 + j]).toBeCloseTo(1000 * (6 * i + 2.5) + wMid[j], 2);
    const x5 = Tensor.from([1, 2, 3, 4, 5], [1, 1, 5]);
    const y3 = Tensor.zeros([1, 1, 3]);
    adaptiveAvgPool1dForward(x5, y3);
    expect(Array.from(y3.f32)).toEqual([1.5, 3, 4.5]); // bins [0,2) [1,4) [3,5)
    const x3 = Tensor.from([1, 2, 3], [1, 1, 3]);
    const y5 = Tensor.zeros([1, 1, 5]);
    adaptiveAvgPool1dForward(x3, y5);
    expect(Array.from(y5.f32)).toEqual([1, 1.5, 2, 2.5, 3]); // bins [0,1) [0,2) [1,2) [1,3) [2,3)
    for (const t of [x, y, x5, y3, x3, y5]) t.free();
  });

  // Bins that partition the plane (written once), full-width bins (one contiguous span), overlapping bins.
  it.each([[[2, 3, 9, 7], 4, 3], [[1, 2, 60, 13], 10, 4], [[3, 1, 5, 5], 5, 5], [[1, 1, 3, 4], 5, 6], [[2, 2, 8, 8], 1, 1], [[2, 3, 6, 9], 2, 3], [[1, 2, 7, 19], 1, 1], [[1, 1, 6, 5], 3, 1], [[1, 1, 7, 5], 3, 1], [[1, 2, 12, 134], 2, 10]])(
    '2d forward and backward match the reference and finite differences for %j -> %i x %i', (shape, OH, OW) => {
      const xs = randArray(prod(shape), OH * 7 + OW);
      const out = [shape[0], shape[1], OH, OW];
      const x = Tensor.from(xs, shape);
      const y = Tensor.zeros(out);
      adaptiveAvgPool2dForward(x, y);
      expect(maxRelErr(y.f32, refAdaptive(xs, shape, OH, OW))).toBeLessThan(1);
      const g = randArray(prod(out), 8);
      const dy = Tensor.from(g, out);
      const dx = Tensor.zeros(shape).fill(3);
      adaptiveAvgPool2dBackward(dy, dx);
      const xd = Array.from(xs, Number);
      const fd = finiteDiff(xd, all(xd.length), () => refAdaptive(xd, shape, OH, OW).reduce((a, v, i) => a + v * g[i], 0), 1e-2);
      expect(maxRelErr(dx.f32, fd, 1e-5, 1e-4)).toBeLessThan(1);
      for (const t of [x, y, dy, dx]) t.free();
    },
  );

  it('1d forward and backward match the reference for [2,3,134] -> 4 and [1,2,11] -> 3', () => {
    for (const [shape, O] of [[[2, 3, 134], 4], [[1, 2, 11], 3]] as const) {
      const xs = randArray(prod([...shape]), O);
      const x = Tensor.from(xs, shape);
      const y = Tensor.zeros([shape[0], shape[1], O]);
      adaptiveAvgPool1dForward(x, y);
      expect(maxRelErr(y.f32, refAdaptive(xs, [shape[0], shape[1], 1, shape[2]], 1, O))).toBeLessThan(1);
      const g = randArray(y.size, 2);
      const dy = Tensor.from(g, y.shape);
      const dx = Tensor.zeros(shape);
      adaptiveAvgPool1dBackward(dy, dx);
      const xd = Array.from(xs, Number);
      const fd = finiteDiff(xd, all(xd.length), () => refAdaptive(xd, [shape[0], shape[1], 1, shape[2]], 1, O).reduce((a, v, i) => a + v * g[i], 0));
      expect(maxRelErr(dx.f32, fd, 1e-5, 1e-4)).toBeLessThan(1);
      for (const t of [x, y, dy, dx]) t.free();
    }
  });

  it('rejects mismatched batch or channels and wrong ranks', () => {
    const x = Tensor.zeros([2, 3, 5, 5]);
    const y = Tensor.zeros([2, 4, 1, 1]);
    const y1 = Tensor.zeros([2, 3, 1]);
    expect(() => adaptiveAvgPool2dForward(x, y)).toThrow(/adaptiveAvgPool2dForward: y has shape \[2,4,1,1\], expected \[2,3,1,1\]/);
    expect(() => adaptiveAvgPool2dBackward(y, x)).toThrow(/adaptiveAvgPool2dBackward: dy has shape/);
    expect(() => adaptiveAvgPool1dForward(x, y1)).toThrow(/adaptiveAvgPool1dForward: x has shape \[2,3,5,5\], expected 3 positive dimensions/);
    for (const t of [x, y, y1]) t.free();
  });
});
