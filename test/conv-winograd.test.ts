// Winograd's F(4, 3) along the width (assembly/conv-winograd.ts), which conv.ts takes instead of
// im2col for 3-tap kernels at stride 1 in the width when its cost model predicts it faster: forward,
// input gradient and weight gradient against the f64 reference, the backward also against finite
// differences, at ragged row ends (the tiles are rounded up to fours), each padding it takes, rows
// lowered from a taller kernel at a vertical stride, and batches cut into several chunks. Each case
// also runs with the plain dense path forced (setSparsePolicy(4)): the two must differ somewhere in
// their rounding (so Winograd really ran) and agree within it. The same for 1-d kernels past 3 taps
// or at a stride, folded into rows of a 3-tap correlation (assembly/conv-fold.ts).
import { afterEach, expect, it } from 'vitest';
import { getEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { conv2dBackward, conv2dForward, conv2dOutputShape } from '../src/kernels/conv.js';
import { type Geo, outH, outW, refBackward, refForward } from './conv-reference.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

const AUTO = 0, PLAIN = 4;
const setPolicy = (p: number) => getEngine().kernels.setSparsePolicy(p);

const geo = (N: number, C: number, H: number, W: number, CO: number, KH: number, SH = 1, PH = 0, PW = 0): Geo =>
  ({ N, C, H, W, CO, KH, KW: 3, SH, SW: 1, PH, PW });

// Channel counts at which the cost model takes Winograd (about two thirds of im2col's multiply-adds and
// up, see winogradCost).
const cases: [string, Geo, boolean][] = [
  ['1d, rows a multiple of four tiles', geo(2, 40, 1, 34, 40, 1), true],
  ['1d, padding 1, a ragged row end (45 outputs)', geo(3, 64, 1, 45, 48, 1, 1, 0, 1), true],
  ['1d, padding 2, no bias', geo(2, 48, 1, 29, 48, 1, 1, 0, 2), false],
  ['1d M5 conv4-like: 13 outputs, one vector of four tiles', geo(2, 64, 1, 15, 64, 1), true],
  ['2d 3x3 at vertical stride 2, padding [1,1]', geo(2, 32, 9, 31, 48, 3, 2, 1, 1), true],
  // About 160 KB of transformed values per sample: three chunks of whole samples (2 MB each).
  ['1d in three chunks', geo(26, 64, 1, 200, 64, 1, 1, 0, 1), true],
];

// 1-d, K taps at stride S: folded by phase (S) and in groups of three taps.
const fold = (N: number, C: number, W: number, CO: number, K: number, S: number, P: number): Geo =>
  ({ N, C, H: 1, W, CO, KH: 1, KW: K, SH: 1, SW: S, PH: 0, PW: P });

// Geometries the cost model folds (see foldCost).
const folds: [string, Geo, boolean][] = [
  ["M5's first layer: 80 taps at stride 4, padding 39", fold(2, 1, 803, 64, 80, 4, 39), true],
  ['9 taps at stride 1, padding 4 (TC-ResNet8-like)', fold(2, 48, 80, 48, 9, 1, 4), true],
  ['9 taps at stride 2, padding 4, an odd input length', fold(3, 64, 121, 96, 9, 2, 4), false],
  ['50 taps at stride 3 (neither a multiple of the other nor of three), padding 7', fold(2, 2, 301, 96, 50, 3, 7), true],
  // About 56 KB of gathered rows per sample: two chunks (2 MB each), dw summed over both.
  ['M5-like in two chunks', fold(40, 1, 2000, 64, 80, 4, 39), true],
];

interface Out { y: Float32Array; dx: Float32Array; dw: Float32Array; db: Float32Array }

function run(g: Geo, bias: boolean, xs: Float32Array, ws: Float32Array, bs: Float32Array, gs: Float32Array): Out {
  const xShape = [g.N, g.C, g.H, g.W], wShape = [g.CO, g.C, g.KH, g.KW];
  const opts = { stride: [g.SH, g.SW] as [number, number], padding: [g.PH, g.PW] as [number, number] };
  const yShape = conv2dOutputShape(xShape, wShape, opts);
  const x = Tensor.from(xs, xShape), w = Tensor.from(ws, wShape), b = bias ? Tensor.from(bs, [g.CO]) : null, dy = Tensor.from(gs, yShape);
  // Garbage in the outputs: every pass must overwrite them.
  const y = Tensor.empty(yShape).fill(NaN), dx = Tensor.empty(xShape).fill(NaN), dw = Tensor.empty(wShape).fill(NaN), db = Tensor.empty([g.CO]).fill(NaN);
  conv2dForward(x, w, b, y, opts);
  conv2dBackward(x, w, dy, dx, dw, bias ? db : null, opts);
  const out = { y: y.toArray(), dx: dx.toArray(), dw: dw.toArray(), db: db.toArray() };
  for (const t of [x, w, dy, y, dx, dw, db]) t.free();
  b?.free();
  return out;
}

const tol = (k: number) => 2e-5 * Math.sqrt(k);
const bad0 = (r: Out) => [r.y, r.dx, r.dw].some((a) => a.some((x) => !Number.isFinite(x)));

describeEachBuild('conv through Winograd F(4, 3)', () => {
  afterEach(() => setPolicy(AUTO));

  it.each([...cases, ...folds])('%s: forward and backward match the reference, and differ from the plain path only by rounding', (_name, g, bias) => {
    const yLen = g.N * g.CO * outH(g) * outW(g);
    const xs = randArray(g.N * g.C * g.H * g.W, 1), ws = randArray(g.CO * g.C * g.KH * g.KW, 2), bs = randArray(g.CO, 3), gs = randArray(yLen, 4);
    setPolicy(AUTO);
    const wino = run(g, bias, xs, ws, bs, gs);
    setPolicy(PLAIN);
    const plain = run(g, bias, xs, ws, bs, gs);
    const ref = refBackward(g, xs, ws, gs);
    const refY = refForward(g, xs, ws, bias ? bs : null);
    const positions = g.N * outH(g) * outW(g);
    for (const r of [wino, plain]) {
      expect(maxRelErr(r.y, refY, tol(g.C * g.KH * g.KW))).toBeLessThanOrEqual(1);
      expect(maxRelErr(r.dx, ref.dx, tol(g.CO * g.KH * g.KW))).toBeLessThanOrEqual(1);
      expect(maxRelErr(r.dw, ref.dw, tol(positions))).toBeLessThanOrEqual(1);
      if (bias) expect(maxRelErr(r.db, ref.db, tol(positions))).toBeLessThanOrEqual(1);
    }
    for (const k of ['y', 'dx', 'dw'] as const) expect(wino[k].some((v, i) => v !== plain[k][i]), `${k} took the Winograd path`).toBe(true);
  });

  it.each([
    ['3 taps', geo(2, 64, 1, 45, 48, 1, 1, 0, 1)],
    ['9 taps at stride 2, folded', fold(2, 64, 121, 96, 9, 2, 4)],
  ] as [string, Geo][])('%s: a NaN or an infinity in x, dy or w gives what the plain path gives (im2col runs instead), never NaN spread over its tile', (_name, g) => {
    const yLen = g.N * g.CO * outH(g) * outW(g);
    const clean = () => ({ xs: randArray(g.N * g.C * g.W, 11), ws: randArray(g.CO * g.C * g.KW, 12), gs: randArray(yLen, 13) });
    const cases: [string, (v: ReturnType<typeof clean>) => void][] = [
      // Mid-row, where a tile's transform would mix it into its neighbours.
      ['x', (v) => { v.xs[3 * g.W + 13] = Infinity; v.xs[g.C * g.W + 7 * g.W + 22] = NaN; }],
      ['dy', (v) => { v.gs[5 * outW(g) + 9] = -Infinity; }],
      ['w', (v) => { v.ws[4 * g.KW + 1] = Infinity; }],
    ];
    // Clean, this geometry takes Winograd's path (its rounding differs from the plain path's).
    const c = clean();
    setPolicy(AUTO);
    const y0 = run(g, true, c.xs, c.ws, randArray(g.CO, 14), c.gs).y;
    setPolicy(PLAIN);
    expect(run(g, true, c.xs, c.ws, randArray(g.CO, 14), c.gs).y.some((x, i) => x !== y0[i])).toBe(true);
    for (const [where, poison] of cases) {
      const v = clean();
      poison(v);
      setPolicy(AUTO);
      const wino = run(g, true, v.xs, v.ws, randArray(g.CO, 14), v.gs);
      setPolicy(PLAIN);
      const plain = run(g, true, v.xs, v.ws, randArray(g.CO, 14), v.gs);
      for (const k of ['y', 'dx', 'dw'] as const) {
        const bad = (a: Float32Array) => Array.from(a, (x, i) => (Number.isFinite(x) ? -1 : i)).filter((i) => i >= 0);
        expect(bad(wino[k]), `${k} with a non-finite ${where}`).toEqual(bad(plain[k]));
        for (const i of bad(plain[k])) expect(Object.is(wino[k][i], plain[k][i]) || (Number.isNaN(wino[k][i]) && Number.isNaN(plain[k][i]))).toBe(true);
      }
      expect(bad0(plain), `a non-finite ${where} reaches some output`).toBe(true);
    }
  });

  it("M5's own first layer at batch 16 is folded: within rounding of the plain path, and not the same bits", () => {
    const g = fold(16, 1, 4000, 128, 80, 4, 39);
    const xs = randArray(g.N * g.W, 31), ws = randArray(g.CO * g.KW, 32), bs = randArray(g.CO, 33), gs = randArray(g.N * g.CO * outW(g), 34);
    const folded = run(g, true, xs, ws, bs, gs);
    setPolicy(PLAIN);
    const plain = run(g, true, xs, ws, bs, gs);
    for (const [k, sum] of [['y', g.KW], ['dx', g.CO * g.KW], ['dw', g.N * outW(g)]] as const) {
      expect(maxRelErr(folded[k], plain[k], 2 * tol(sum)), k).toBeLessThanOrEqual(1);
      expect(folded[k].some((v, i) => v !== plain[k][i]), `${k} took the fold`).toBe(true);
    }
  });

  it('a sample too long for a chunk (over 8 MB transformed) takes im2col: the same bits as the plain path', () => {
    const g = geo(1, 64, 1, 12000, 64, 1, 1, 0, 1);
    const xs = randArray(g.C * g.W, 21), ws = randArray(g.CO * g.C * 3, 22), bs = randArray(g.CO, 23), gs = randArray(g.CO * outW(g), 24);
    const auto = run(g, true, xs, ws, bs, gs);
    setPolicy(PLAIN);
    const plain = run(g, true, xs, ws, bs, gs);
    for (const k of ['y', 'dx', 'dw', 'db'] as const) expect(auto[k].every((v, i) => Object.is(v, plain[k][i])), k).toBe(true);
  });

  it.each([
    ['3 taps, 2 rows', geo(1, 32, 2, 15, 32, 2, 1, 1, 1)],
    ['18 taps at stride 3, folded', fold(1, 4, 101, 96, 18, 3, 5)],
  ] as [string, Geo][])('%s: backward matches finite differences of the reference', (_name, g) => {
    const yLen = g.N * g.CO * outH(g) * outW(g);
    const xs = randArray(g.N * g.C * g.H * g.W, 5), ws = randArray(g.CO * g.C * g.KH * g.KW, 6), bs = randArray(g.CO, 7), gs = randArray(yLen, 8);
    const r = run(g, true, xs, ws, bs, gs);
    setPolicy(PLAIN);
    const plain = run(g, true, xs, ws, bs, gs);
    expect(r.dw.some((v, i) => v !== plain.dw[i])).toBe(true);
    const xd = Array.from(xs), wd = Array.from(ws), bd = Array.from(bs);
    const loss = () => refForward(g, xd, wd, bd).reduce((s, v, i) => s + v * gs[i], 0);
    const every = (n: number, step: number) => [...Array(Math.ceil(n / step)).keys()].map((i) => i * step);
    const xi = every(xd.length, 7), wi = every(wd.length, 23);
    expect(maxRelErr(xi.map((i) => r.dx[i]), finiteDiff(xd, xi, loss), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(maxRelErr(wi.map((i) => r.dw[i]), finiteDiff(wd, wi, loss), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  });
});
