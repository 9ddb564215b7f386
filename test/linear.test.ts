import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { linearBackward, linearForward } from '../src/kernels/linear.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

// Naive f64 reference: y[n,o] = b[o] + sum_i x[n,i] w[o,i].
function refLinear(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null, N: number, In: number, Out: number): Float64Array {
  const y = new Float64Array(N * Out);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < In; i++) s += x[n * In + i] * w[o * In + i];
      y[n * Out + o] = s;
    }
  return y;
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 3],
  [5, 13, 10],
  [16, 35, 9],
  [3, 300, 101],
];

describeEachBuild('linear', () => {
  for (const [N, In, Out] of shapes)
    for (const bias of [true, false])
      it(`N=${N} In=${In} Out=${Out} bias=${bias}: forward matches the reference, backward finite differences`, () => {
        const xs = randArray(N * In, N + In);
        const ws = randArray(Out * In, Out);
        const bs = randArray(Out, 3);
        const gs = randArray(N * Out, 4);
        const x = Tensor.from(xs, [N, In]);
        const w = Tensor.from(ws, [Out, In]);
        const b = bias ? Tensor.from(bs, [Out]) : null;
        const y = Tensor.empty([N, Out]).fill(NaN);
        const dy = Tensor.from(gs, [N, Out]);
        const dx = Tensor.empty([N, In]).fill(NaN);
        const dw = Tensor.empty([Out, In]).fill(NaN);
        const db = Tensor.empty([Out]).fill(NaN);
        linearForward(x, w, b, y);
        linearBackward(x, w, dy, dx, dw, bias ? db : null);
        expect(maxRelErr(y.f32, refLinear(xs, ws, bias ? bs : null, N, In, Out), 2e-5 * Math.sqrt(In))).toBeLessThanOrEqual(1);
        const xd = Array.from(xs), wd = Array.from(ws), bd = Array.from(bs);
        const loss = () => refLinear(xd, wd, bias ? bd : null, N, In, Out).reduce((s, v, i) => s + v * gs[i], 0);
        // A sample of indices keeps the larger shapes quick; it always includes the first and last.
        const pick = (n: number) => [...new Set([0, n - 1, ...Array.from({ length: 40 }, (_, k) => Math.floor((k * 7919) % n))])];
        const check = (got: Float32Array, values: number[]) => {
          const idx = pick(values.length);
          const fd = finiteDiff(values, idx, loss);
          expect(maxRelErr(idx.map((i) => got[i]), fd, 1e-4, 1e-3)).toBeLessThanOrEqual(1);
        };
        check(dx.f32, xd);
        check(dw.f32, wd);
        if (bias) check(db.f32, bd);
        for (const t of [x, w, y, dy, dx, dw, db]) t.free();
        b?.free();
      });

  it('skips dx and db when null', () => {
    const x = Tensor.from(randArray(6, 1), [2, 3]);
    const w = Tensor.from(randArray(12, 2), [4, 3]);
    const dy = Tensor.from(randArray(8, 3), [2, 4]);
    const dw = Tensor.zeros([4, 3]);
    linearBackward(x, w, dy, null, dw, null);
    const ref = new Float64Array(12);
    for (let o = 0; o < 4; o++) for (let i = 0; i < 3; i++) for (let n = 0; n < 2; n++) ref[o * 3 + i] += dy.f32[n * 4 + o] * x.f32[n * 3 + i];
    expect(maxRelErr(dw.f32, ref)).toBeLessThanOrEqual(1);
    for (const t of [x, w, dy, dw]) t.free();
  });

  it('rejects mismatched shapes with a ShapeError naming them', () => {
    const x = Tensor.zeros([2, 3]);
    const w = Tensor.zeros([4, 3]);
    const y = Tensor.zeros([2, 4]);
    expect(() => linearForward(x, Tensor.zeros([4, 5]), null, y)).toThrow(/linearForward: w has shape \[4,5\], expected \[out, 3\] for x \[2,3\]/);
    expect(() => linearForward(x, w, Tensor.zeros([5]), y)).toThrow(/linearForward: b has shape \[5\], expected \[4\]/);
    expect(() => linearForward(x, w, null, Tensor.zeros([2, 5]))).toThrow(/linearForward: y has shape \[2,5\], expected \[2,4\]/);
    expect(() => linearForward(Tensor.zeros([0, 3]), w, null, y)).toThrow(/linearForward: x has shape \[0,3\], expected 2 positive dimensions/);
    expect(() => linearBackward(x, w, y, Tensor.zeros([3, 2]), Tensor.zeros([4, 3]), null)).toThrow(/linearBackward: dx has shape \[3,2\], expected \[2,3\]/);
    expect(() => linearBackward(x, w, y, null, Tensor.zeros([3, 4]), null)).toThrow(/linearBackward: dw has shape \[3,4\], expected \[4,3\]/);
    for (const t of [x, w, y]) t.free();
  });
});
