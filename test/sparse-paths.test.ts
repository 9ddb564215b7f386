// The spike-sparse paths of the convolutions (conv-sparse-gemm.ts in the im2col geometry, any stride;
// conv-sparse.ts in the direct one; conv-binary.ts's lookup tables for inputs of zeros and ones, any
// geometry) and of linear layers: forced sparse, forced dense, forced binary and the cost model's choice
// (setSparsePolicy) must each match an independent f64 reference on the same inputs, and agree with one
// another to float rounding, at densities from none to all non-zero, and with NaN and infinity counted
// as non-zero.
import { afterEach, expect, it } from 'vitest';
import { getEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { conv2dBackward, conv2dForward, conv2dOutputShape } from '../src/kernels/conv.js';
import { linearBackward, linearForward } from '../src/kernels/linear.js';
import { type Geo, outH, outW, refBackward, refForward } from './conv-reference.js';
import { describeEachBuild, maxRelErr, randArray } from './helpers.js';

const AUTO = 0, DENSE = 1, SPARSE = 2, BINARY = 3, PLAIN = 4;
const setPolicy = (p: number) => getEngine().kernels.setSparsePolicy(p);

const geo = (N: number, C: number, H: number, W: number, CO: number, KH: number, KW: number, SH = 1, SW = 1, PH = 0, PW = 0): Geo =>
  ({ N, C, H, W, CO, KH, KW, SH, SW, PH, PW });

// Every case but the last has more than 16 output channels, or a stride or padding the direct kernels
// refuse.
const convCases: [string, Geo][] = [
  ['1d M5-like k3, 40 channels (a ragged block of 8)', geo(3, 20, 1, 30, 40, 1, 3)],
  ['1d stride 2 padding 4 k9 (TC-ResNet-like), 24 channels', geo(2, 12, 1, 33, 24, 1, 9, 1, 2, 0, 4)],
  ['2d stride [2,3] padding [2,1], 33 channels', geo(2, 5, 9, 11, 33, 3, 2, 2, 3, 2, 1)],
  ['2d padding wider than the kernel, stride [1,2]', geo(2, 3, 9, 4, 20, 6, 1, 1, 2, 0, 2)],
  // The tables' codes are made sixteen positions at a time, a plane's rows as one run where there is no
  // padding along W: a 1x1 convolution over planes of 63 positions, and padding along H alone with a
  // ragged group of three channels (11 = 8 + 3) over rows of 37.
  ['2d 1x1 over 3 rows of 21 (BC-ResNet-like), 20 channels in, 24 out', geo(2, 20, 3, 21, 24, 1, 1)],
  ['2d padding along H only, 11 channels over 5 rows of 37', geo(2, 11, 5, 37, 20, 3, 3, 1, 1, 1, 0)],
  // Four forward chunks (1 MB of lists each) and two of the weight gradient's.
  ['1d in chunks, 64 channels in, 32 out', geo(12, 64, 1, 200, 32, 1, 3)],
  // The direct kernels' geometry (conv-sparse.ts): its sparse path under the same checks. Their weight
  // gradients multiply inputs by zeros framing dy, so an input with an infinity takes im2col's instead
  // (conv.ts, framedTaps): 800 non-finite dw entries against the reference's 480 before.
  ['2d Hjh conv2-like, 16 channels 5x5 same (direct geometry)', geo(2, 8, 12, 15, 16, 5, 5, 1, 1, 2, 2)],
];

const linearCases: [number, number, number][] = [
  [3, 7, 1],
  [20, 300, 70],
  [80, 512, 35],
];

// x with a fraction `density` of its entries non-zero: spikes (1) or random values; `special` adds a
// NaN and an infinity among them.
function inputs(n: number, density: number, seed: number, spikes: boolean, special: boolean): Float32Array {
  const values = randArray(n, seed);
  const keep = randArray(n, seed + 1, 0, 1);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) if (keep[i] < density) x[i] = spikes ? 1 : values[i];
  if (special) {
    x[Math.floor(n / 3)] = NaN;
    x[Math.floor((2 * n) / 3)] = Infinity;
  }
  return x;
}

// maxRelErr over the finite entries of the reference; the others must be the same NaN or infinity.
function relErr(a: ArrayLike<number>, ref: ArrayLike<number>, atol: number): number {
  const fa: number[] = [], fr: number[] = [];
  for (let i = 0; i < ref.length; i++) {
    if (Number.isFinite(ref[i])) {
      fa.push(a[i]);
      fr.push(ref[i]);
    } else expect(Object.is(a[i], ref[i]) || (Number.isNaN(a[i]) && Number.isNaN(ref[i])), `entry ${i}: ${a[i]} vs ${ref[i]}`).toBe(true);
  }
  return maxRelErr(fa, fr, atol);
}

const densities: [string, number, boolean, boolean][] = [
  ['no spikes', 0, true, false],
  ['15% spikes', 0.15, true, false],
  ['15% random values', 0.15, false, false],
  ['all non-zero', 1, false, false],
  ['all spikes', 1, true, false],
  ['15% spikes with NaN and infinity', 0.15, true, true],
];

describeEachBuild('sparse paths', () => {
  afterEach(() => setPolicy(AUTO));

  for (const [name, g] of convCases)
    it.each(densities)(`conv ${name}, %s: every path matches the reference and the others`, (_label, density, spikes, special) => {
      const xShape = [g.N, g.C, g.H, g.W], wShape = [g.CO, g.C, g.KH, g.KW];
      const opts = { stride: [g.SH, g.SW] as [number, number], padding: [g.PH, g.PW] as [number, number] };
      const yShape = conv2dOutputShape(xShape, wShape, opts);
      const xs = inputs(g.N * g.C * g.H * g.W, density, 7, spikes, special);
      const ws = randArray(wShape.reduce((a, b) => a * b), 8);
      const bs = randArray(g.CO, 9);
      const gs = randArray(yShape.reduce((a, b) => a * b), 10);
      const x = Tensor.from(xs, xShape), w = Tensor.from(ws, wShape), b = Tensor.from(bs, [g.CO]), dy = Tensor.from(gs, yShape);
      // PLAIN is the dense path without Winograd's transforms (test/conv-winograd.test.ts), whose
      // rounding the sparse paths' sums share closely enough to be compared below.
      const runs = [PLAIN, SPARSE, BINARY, AUTO, DENSE].map((policy) => {
        setPolicy(policy);
        const y = Tensor.empty(yShape).fill(NaN), dx = Tensor.empty(xShape).fill(NaN), dw = Tensor.empty(wShape).fill(NaN), db = Tensor.empty([g.CO]).fill(NaN);
        conv2dForward(x, w, b, y, opts);
        conv2dBackward(x, w, dy, dx, dw, db, opts);
        const out = { y: y.toArray(), dx: dx.toArray(), dw: dw.toArray(), db: db.toArray() };
        for (const t of [y, dx, dw, db]) t.free();
        return out;
      });
      for (const t of [x, w, b, dy]) t.free();
      const refY = refForward(g, xs, ws, bs);
      const ref = refBackward(g, xs, ws, gs);
      const K = g.C * g.KH * g.KW, positions = g.N * outH(g) * outW(g);
      for (const r of runs) {
        expect(relErr(r.y, refY, 2e-5 * Math.sqrt(K))).toBeLessThanOrEqual(1);
        expect(relErr(r.dw, ref.dw, 2e-5 * Math.sqrt(positions))).toBeLessThanOrEqual(1);
        expect(maxRelErr(r.dx, ref.dx, 2e-5 * Math.sqrt(g.CO * g.KH * g.KW))).toBeLessThanOrEqual(1);
        expect(maxRelErr(r.db, ref.db, 2e-5 * Math.sqrt(positions))).toBeLessThanOrEqual(1);
      }
      // The path changes only the order of the float sums: sparse and binary against plain dense, to rounding.
      const [dense, sparse, binary] = runs;
      // (Forcing the tables on an input that is not binary leaves the choice to the cost model, which
      // may take Winograd's path: the reference checks above hold that run.)
      expect(relErr(sparse.y, dense.y, 1e-6 * Math.sqrt(K))).toBeLessThanOrEqual(1);
      expect(relErr(sparse.dw, dense.dw, 1e-6 * Math.sqrt(positions))).toBeLessThanOrEqual(1);
      if (spikes) {
        expect(relErr(binary.y, dense.y, 1e-6 * Math.sqrt(K))).toBeLessThanOrEqual(1);
        expect(relErr(binary.dw, dense.dw, 1e-6 * Math.sqrt(positions))).toBeLessThanOrEqual(1);
      }
      // Binary inputs really took the tables: their sums of table rows (and of bins, for dw) round
      // differently from both other paths somewhere (with 8 or more channels there are enough terms).
      if (spikes && !special && density > 0 && density < 1 && g.C >= 8)
        for (const out of ['y', 'dw'] as const) {
          expect(binary[out].some((v, i) => v !== dense[out][i])).toBe(true);
          expect(binary[out].some((v, i) => v !== sparse[out][i])).toBe(true);
        }
      if (density === 0)
        for (const r of [sparse, binary]) {
          // No input reaches y or dw: exactly the bias, exactly zero.
          expect(Array.from(r.y)).toEqual(Array.from({ length: refY.length }, (_, i) => Math.fround(bs[Math.floor(i / (outH(g) * outW(g))) % g.CO])));
          expect(r.dw.every((v) => v === 0)).toBe(true);
        }
    });

  for (const [N, In, Out] of linearCases)
    it.each(densities)(`linear N=${N} In=${In} Out=${Out}, %s: every path matches the reference and the others`, (_label, density, spikes, special) => {
      const xs = inputs(N * In, density, 3, spikes, special);
      const ws = randArray(Out * In, 4);
      const bs = randArray(Out, 5);
      const gs = randArray(N * Out, 6);
      const x = Tensor.from(xs, [N, In]), w = Tensor.from(ws, [Out, In]), b = Tensor.from(bs, [Out]), dy = Tensor.from(gs, [N, Out]);
      const runs = [DENSE, SPARSE, AUTO].map((policy) => {
        setPolicy(policy);
        const y = Tensor.empty([N, Out]).fill(NaN), dx = Tensor.empty([N, In]).fill(NaN), dw = Tensor.empty([Out, In]).fill(NaN), db = Tensor.empty([Out]).fill(NaN);
        linearForward(x, w, b, y);
        linearBackward(x, w, dy, dx, dw, db);
        const out = { y: y.toArray(), dx: dx.toArray(), dw: dw.toArray(), db: db.toArray() };
        for (const t of [y, dx, dw, db]) t.free();
        return out;
      });
      for (const t of [x, w, b, dy]) t.free();
      // The linear layer is the 1x1 convolution of [N, In, 1, 1].
      const g = geo(N, In, 1, 1, Out, 1, 1);
      const refY = refForward(g, xs, ws, bs);
      const ref = refBackward(g, xs, ws, gs);
      for (const r of runs) {
        expect(relErr(r.y, refY, 2e-5 * Math.sqrt(In))).toBeLessThanOrEqual(1);
        expect(relErr(r.dw, ref.dw, 2e-5 * Math.sqrt(N))).toBeLessThanOrEqual(1);
        expect(maxRelErr(r.dx, ref.dx, 2e-5 * Math.sqrt(Out))).toBeLessThanOrEqual(1);
        expect(maxRelErr(r.db, ref.db, 2e-5 * Math.sqrt(N))).toBeLessThanOrEqual(1);
      }
      const [dense, sparse] = runs;
      expect(relErr(sparse.y, dense.y, 1e-6 * Math.sqrt(In))).toBeLessThanOrEqual(1);
      expect(relErr(sparse.dw, dense.dw, 1e-6 * Math.sqrt(N))).toBeLessThanOrEqual(1);
    });

  it('the binary path without a bias, and with a ragged last block and group, matches the dense one', () => {
    // 11 input channels (a group of 8 and one of 3), 20 output channels (a block of 16 and one of 4), stride 2.
    const g = geo(3, 11, 7, 9, 20, 3, 3, 2, 1, 1, 1);
    const xShape = [g.N, g.C, g.H, g.W], wShape = [g.CO, g.C, g.KH, g.KW];
    const opts = { stride: [g.SH, g.SW] as [number, number], padding: [g.PH, g.PW] as [number, number] };
    const yShape = conv2dOutputShape(xShape, wShape, opts);
    const xs = inputs(g.N * g.C * g.H * g.W, 0.4, 21, true, false);
    const ws = randArray(g.CO * g.C * g.KH * g.KW, 22);
    const x = Tensor.from(xs, xShape), w = Tensor.from(ws, wShape);
    const ys = [DENSE, BINARY].map((policy) => {
      setPolicy(policy);
      const y = Tensor.empty(yShape).fill(NaN);
      conv2dForward(x, w, null, y, opts);
      const out = y.toArray();
      y.free();
      return out;
    });
    for (const t of [x, w]) t.free();
    const refY = refForward(g, xs, ws, new Float32Array(g.CO));
    for (const y of ys) expect(relErr(y, refY, 2e-5 * Math.sqrt(g.C * g.KH * g.KW))).toBeLessThanOrEqual(1);
    expect(ys[1].some((v, i) => v !== ys[0][i])).toBe(true);
  });

  it('setSparsePolicy refuses an unknown policy', () => {
    expect(() => setPolicy(5)).toThrow();
  });
});
