// Depthwise convolution and the row broadcast against naive f64 loops written here, and every backward
// against finite differences of those loops.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { spreadRows, sumRows } from '../src/kernels/broadcast.js';
import { type DepthwiseOptions, depthwiseBackwardInput, depthwiseBackwardWeight, depthwiseForward, depthwiseOutputShape } from '../src/kernels/depthwise.js';
import { conv2dForward } from '../src/kernels/conv.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

interface Case {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  bias: boolean;
}

const c = (name: string, x: Case['x'], k: Case['k'], stride: Case['stride'] = [1, 1], padding: Case['padding'] = [0, 0], dilation: Case['dilation'] = [1, 1], bias = true): Case =>
  ({ name, x, k, stride, padding, dilation, bias });

const cases: Case[] = [
  c('3x1 along frequency, same padding (BC-ResNet)', [2, 3, 8, 11], [3, 1], [1, 1], [1, 0]),
  c('3x1 at frequency stride 2 (a transition block)', [2, 3, 9, 10], [3, 1], [2, 1], [1, 0]),
  c('1x3 along time, dilation 4', [2, 2, 1, 23], [1, 3], [1, 1], [0, 4], [1, 4]),
  c('5x5 no bias, wider than 8 columns', [1, 4, 7, 21], [5, 5], [1, 1], [2, 2], [1, 1], false),
  c('3x3 at stride [2, 2], padding [1, 0]', [2, 2, 7, 9], [3, 3], [2, 2], [1, 0]),
  c('2x4 dilation [2, 3], no padding', [1, 3, 6, 17], [2, 4], [1, 1], [0, 0], [2, 3]),
  // Padding wider than the kernel at stride 1: the input gradient gathers rows instead of correlating.
  c('1x1 padded by [1, 2]', [2, 2, 5, 3], [1, 1], [1, 1], [1, 2]),
  // Strides along H: each row of dx gathers up to three rows of dy (5x1), or runs of taps (5x3).
  c('5x1 at stride [2, 1], padding [2, 0]', [1, 3, 9, 7], [5, 1], [2, 1], [2, 0]),
  c('5x3 at stride [3, 1], padding [2, 1], dilation [1, 2]', [2, 2, 11, 9], [5, 3], [3, 1], [2, 1], [1, 2]),
  c('rows of 2 outputs (no vector block)', [1, 2, 6, 2], [3, 1], [1, 1], [1, 0]),
  c('rows of 5 and 13 outputs (an overlapping last block)', [2, 2, 3, 5], [3, 3], [1, 1], [1, 1]),
  c('rows of 13 outputs', [1, 2, 4, 13], [3, 3], [1, 1], [1, 1]),
];

const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - (k - 1) * d - 1) / s) + 1;

// Plain loops in f64: every (output, tap) pair whose input lies inside x.
function reference(cs: Case, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const [N, C, H, W] = cs.x;
  const [KH, KW] = cs.k;
  const OH = outSize(H, KH, cs.stride[0], cs.padding[0], cs.dilation[0]);
  const OW = outSize(W, KW, cs.stride[1], cs.padding[1], cs.dilation[1]);
  const y = new Float64Array(N * C * OH * OW);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b[ch] : 0;
          for (let kh = 0; kh < KH; kh++)
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * cs.stride[0] + kh * cs.dilation[0] - cs.padding[0];
              const iw = ow * cs.stride[1] + kw * cs.dilation[1] - cs.padding[1];
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += w[(ch * KH + kh) * KW + kw] * x[((n * C + ch) * H + ih) * W + iw];
            }
          y[((n * C + ch) * OH + oh) * OW + ow] = s;
        }
  return y;
}

function run(cs: Case, seed: number) {
  const [N, C] = cs.x;
  const wShape = [C, 1, ...cs.k];
  const opts: DepthwiseOptions = { stride: cs.stride, padding: cs.padding, dilation: cs.dilation };
  const yShape = depthwiseOutputShape(cs.x, wShape, opts);
  const size = (s: readonly number[]) => s.reduce((a, v) => a * v, 1);
  const xs = randArray(size(cs.x), seed), ws = randArray(size(wShape), seed + 1), bs = randArray(C, seed + 2), gs = randArray(size(yShape), seed + 3);
  const x = Tensor.from(xs, cs.x), w = Tensor.from(ws, wShape), b = cs.bias ? Tensor.from(bs, [C]) : null, dy = Tensor.from(gs, yShape);
  // NaN in every output: each kernel must overwrite its own.
  const y = Tensor.empty(yShape).fill(NaN), dx = Tensor.empty(cs.x).fill(NaN), dw = Tensor.empty(wShape).fill(NaN), db = Tensor.empty([C]).fill(NaN);
  depthwiseForward(x, w, b, y, opts);
  depthwiseBackwardInput(w, dy, dx, opts);
  depthwiseBackwardWeight(x, dy, dw, cs.bias ? db : null, opts);
  const out = { y: y.toArray(), dx: dx.toArray(), dw: dw.toArray(), db: db.toArray(), N };
  for (const t of [x, w, b, dy, y, dx, dw, db]) t?.free();
  return { xs, ws, bs: cs.bias ? bs : null, gs, ...out };
}

describeEachBuild('depthwise conv2d', () => {
  it.each(cases)('$name: forward matches plain loops, every gradient matches finite differences', (cs) => {
    const r = run(cs, 7);
    expect(maxRelErr(r.y, reference(cs, r.xs, r.ws, r.bs), 1e-5, 1e-4)).toBeLessThanOrEqual(1);
    const xd = Array.from(r.xs), wd = Array.from(r.ws), bd = r.bs ? Array.from(r.bs) : null;
    const loss = () => reference(cs, xd, wd, bd).reduce((s, v, i) => s + v * r.gs[i], 0);
    const all = (n: number) => [...Array(n).keys()];
    expect(maxRelErr(r.dx, finiteDiff(xd, all(xd.length), loss), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(maxRelErr(r.dw, finiteDiff(wd, all(wd.length), loss), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    if (bd) expect(maxRelErr(r.db, finiteDiff(bd, all(bd.length), loss), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  });

  it('equals a dense convolution whose weights are zero off the diagonal', () => {
    const [N, C, H, W, KH, KW] = [3, 5, 12, 40, 3, 3];
    const xs = randArray(N * C * H * W, 1), ws = randArray(C * KH * KW, 2), bs = randArray(C, 3);
    const dense = new Float32Array(C * C * KH * KW);
    for (let ch = 0; ch < C; ch++) dense.set(ws.subarray(ch * KH * KW, (ch + 1) * KH * KW), (ch * C + ch) * KH * KW);
    const x = Tensor.from(xs, [N, C, H, W]), b = Tensor.from(bs, [C]);
    const wd = Tensor.from(ws, [C, 1, KH, KW]), wf = Tensor.from(dense, [C, C, KH, KW]);
    const opts = { stride: [2, 1] as [number, number], padding: [1, 1] as [number, number] };
    const shape = depthwiseOutputShape([N, C, H, W], [C, 1, KH, KW], opts);
    const [a, f] = [Tensor.empty(shape), Tensor.empty(shape)];
    depthwiseForward(x, wd, b, a, opts);
    conv2dForward(x, wf, b, f, opts);
    expect(maxRelErr(a.toArray(), f.toArray(), 1e-5, 1e-5)).toBeLessThanOrEqual(1);
    for (const t of [x, b, wd, wf, a, f]) t.free();
  });

  it('refuses a filter count other than the channels, and a kernel wider than the padded input, by shape', () => {
    expect(() => depthwiseOutputShape([1, 4, 5, 5], [3, 1, 3, 3])).toThrow('w [3,1,3,3] has 3 filters, x [1,4,5,5] has 4 channels');
    expect(() => depthwiseOutputShape([1, 4, 5, 5], [4, 2, 3, 3])).toThrow('expected [C, 1, KH, KW]');
    expect(() => depthwiseOutputShape([1, 2, 5, 5], [2, 1, 3, 3], { dilation: [1, 3] })).toThrow('kernel 3x3 at dilation 1x3 spans 3x7');
  });
});

describeEachBuild('rows summed and spread', () => {
  it('spreadRows repeats a scaled row down the plane, sumRows sums the scaled rows; each is the other\'s gradient (finite differences)', () => {
    const [N, C, H, W, scale] = [2, 3, 5, 13, 0.37];
    const rs = randArray(N * C * W, 1), ps = randArray(N * C * H * W, 2);
    const row = Tensor.from(rs, [N, C, 1, W]), plane = Tensor.from(ps, [N, C, H, W]);
    const spread = Tensor.empty([N, C, H, W]).fill(NaN), summed = Tensor.empty([N, C, 1, W]).fill(NaN);
    spreadRows(row, spread, scale);
    sumRows(plane, summed, scale);
    // Plain loops: spread(r)[i] = scale · r[plane, w]; the loss Σ spread(r)·p has gradient sumRows(p) in r.
    const spreadRef = (r: ArrayLike<number>) => Float64Array.from({ length: N * C * H * W }, (_, i) => scale * r[Math.floor(i / (H * W)) * W + (i % W)]);
    expect(maxRelErr(spread.toArray(), spreadRef(rs), 1e-6, 1e-6)).toBeLessThanOrEqual(1);
    const rd = Array.from(rs);
    const grad = finiteDiff(rd, [...rd.keys()], () => spreadRef(rd).reduce((s, v, i) => s + v * ps[i], 0));
    expect(maxRelErr(summed.toArray(), grad, 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(() => spreadRows(plane, row)).toThrow('spreadRows: [2,3,5,13] and [2,3,1,13] are not a row and its plane');
    expect(() => sumRows(plane, row, NaN)).toThrow('sumRows: scale must be finite, got NaN');
    for (const t of [row, plane, spread, summed]) t.free();
  });
});
