import { describe, expect, it } from 'vitest';
import { getEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import {
  conv1dBackward, conv1dForward, conv1dOutputShape, conv2dBackward, conv2dForward, conv2dOutputShape, samePadding,
} from '../src/kernels/conv.js';
import { type Geo, outH, outW, refBackward, refForward } from './conv-reference.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

// density: the fraction of x kept non-zero (as a spiking layer's input); conv.ts visits only the
// non-zero inputs when they are few.
interface Case { name: string; g: Geo; bias: boolean; oneD: boolean; density?: number }

const c2 = (name: string, [N, C, H, W]: number[], [CO, KH, KW]: number[], [SH, SW]: number[], [PH, PW]: number[], bias = true): Case =>
  ({ name, g: { N, C, H, W, CO, KH, KW, SH, SW, PH, PW }, bias, oneD: false });
const c1 = (name: string, [N, C, L]: number[], [CO, K]: number[], S: number, P: number, bias = true): Case =>
  ({ name, g: { N, C, H: 1, W: L, CO, KH: 1, KW: K, SH: 1, SW: S, PH: 0, PW: P }, bias, oneD: true });

const sparse = (c: Case, density: number): Case => ({ ...c, name: `${c.name}, ${density * 100}% non-zero x`, density });

const small: Case[] = [
  c2('2d batch 1, 3x3 same', [1, 1, 5, 7], [2, 3, 3], [1, 1], [1, 1]),
  c2('2d stride [2,1], padding [1,0], no bias', [2, 3, 6, 5], [4, 2, 3], [2, 1], [1, 0], false),
  c2('2d 5x5 same', [2, 2, 7, 9], [3, 5, 5], [1, 1], [samePadding(5), samePadding(5)]),
  c2('2d stride [2,3], padding [2,1]', [2, 3, 7, 8], [3, 3, 2], [2, 3], [2, 1]),
  c2('2d kernel taller than wide, padding wider than kernel', [2, 2, 9, 4], [3, 6, 1], [1, 2], [0, 2]),
  c1('1d stride 2 padding 2', [2, 3, 17], [4, 5], 2, 2),
  c1('1d batch 1, M5-like stride 4', [1, 1, 41], [3, 8], 4, 3),
  c1('1d k3 same, no bias', [3, 4, 9], [5, 3], 1, samePadding(3), false),
  sparse(c2('2d 5x5 same', [2, 3, 7, 9], [5, 5, 5], [1, 1], [2, 2]), 0.05),
  sparse(c2('2d batch 1, 3x4 padding [2,1], no bias', [1, 2, 9, 13], [6, 3, 4], [1, 1], [2, 1], false), 0.05),
];

// Larger shapes against the reference backward. conv.ts picks im2col + GEMM for more than 16 output
// channels (here over three 4 MB chunks, and beyond the GEMM's blocks), direct loops for fewer at stride 1.
const big: Case[] = [
  c2('2d im2col in three chunks', [5, 8, 64, 61], [20, 3, 3], [1, 1], [1, 1]),
  // The weight gradient's pieces (512 columns) end inside a sample and inside an output row.
  c2('2d im2col at stride 2, pieces cut mid-row', [5, 6, 20, 23], [20, 3, 3], [2, 2], [1, 1]),
  c1('1d im2col wide', [3, 130, 37], [100, 3], 1, 1),
  // TC-ResNet8's strided block convolution: the even-lane gathers of lower() and col2im, each row's
  // last four outputs left to the scalar tail so no vector reads past the input row.
  c1('1d im2col stride 2, TC-ResNet8 block1.conv1', [3, 16, 67], [24, 9], 2, 4),
  c1('1d im2col stride 2, 1x1 shortcut', [2, 16, 30], [24, 1], 2, 0),
  // 1x1 at stride 1 without padding: GEMMs over x, y and dy in place (BC-ResNet's pointwise layers).
  c2('2d 1x1 pointwise in place', [3, 40, 5, 21], [24, 1, 1], [1, 1], [0, 0]),
  c1('1d 1x1 pointwise in place', [2, 20, 30], [36, 1], 1, 0),
  c2('2d direct, channel groups with a ragged tail', [3, 6, 20, 37], [10, 5, 5], [1, 1], [2, 2]),
  c2('2d direct, one input channel', [2, 1, 13, 70], [8, 5, 3], [1, 1], [2, 1]),
  // Two output channels: single-channel blocks over whole rows plus a ragged tail and an odd row count;
  // the weight gradient's channel group is half zeros and its tap count (3*3*5) is odd.
  c2('2d direct, two output channels, wide rows', [3, 3, 9, 37], [2, 3, 5], [1, 1], [1, 2]),
  // Rows an exact multiple of every block width: no tail, no padding of dy.
  c2('2d direct, rows without a ragged edge', [2, 4, 6, 16], [5, 3, 3], [1, 1], [1, 1]),
  sparse(c2('2d Hjh conv2-like', [3, 8, 30, 67], [16, 5, 5], [1, 1], [2, 2]), 0.15),
  sparse(c2('2d one output channel', [2, 3, 11, 21], [1, 3, 5], [1, 1], [1, 0]), 0.01),
  sparse(c2('2d ten output channels', [2, 3, 8, 11], [10, 3, 3], [1, 1], [1, 1]), 0.05),
  sparse(c2('2d 3x1 kernel, two output channels', [2, 2, 10, 12], [2, 3, 1], [1, 1], [1, 0]), 0.01),
  sparse(c2('2d all zero input', [2, 2, 5, 6], [6, 3, 3], [1, 1], [1, 1]), 0),
];

function shapes(c: Case) {
  const { N, C, H, W, CO, KH, KW } = c.g;
  const OH = outH(c.g), OW = outW(c.g);
  return c.oneD
    ? { x: [N, C, W], w: [CO, C, KW], y: [N, CO, OW] }
    : { x: [N, C, H, W], w: [CO, C, KH, KW], y: [N, CO, OH, OW] };
}

function run(c: Case, seed: number) {
  const s = shapes(c);
  const xs = randArray(s.x.reduce((a, b) => a * b), seed);
  if (c.density !== undefined) {
    const keep = randArray(xs.length, seed + 9, 0, 1);
    for (let i = 0; i < xs.length; i++) if (keep[i] >= c.density) xs[i] = 0;
  }
  const ws = randArray(s.w.reduce((a, b) => a * b), seed + 1);
  const bs = randArray(c.g.CO, seed + 2);
  const gs = randArray(s.y.reduce((a, b) => a * b), seed + 3);
  const x = Tensor.from(xs, s.x);
  const w = Tensor.from(ws, s.w);
  const b = c.bias ? Tensor.from(bs, [c.g.CO]) : null;
  const y = Tensor.empty(s.y).fill(NaN);
  const dy = Tensor.from(gs, s.y);
  // Garbage in the outputs: the backward must overwrite them.
  const dx = Tensor.empty(s.x).fill(NaN);
  const dw = Tensor.empty(s.w).fill(NaN);
  const db = Tensor.empty([c.g.CO]).fill(NaN);
  const opts1 = { stride: c.g.SW, padding: c.g.PW };
  const opts2 = { stride: [c.g.SH, c.g.SW] as [number, number], padding: [c.g.PH, c.g.PW] as [number, number] };
  if (c.oneD) {
    expect(conv1dOutputShape(s.x, s.w, opts1)).toEqual(s.y);
    conv1dForward(x, w, b, y, opts1);
    conv1dBackward(x, w, dy, dx, dw, c.bias ? db : null, opts1);
  } else {
    expect(conv2dOutputShape(s.x, s.w, opts2)).toEqual(s.y);
    conv2dForward(x, w, b, y, opts2);
    conv2dBackward(x, w, dy, dx, dw, c.bias ? db : null, opts2);
  }
  const out = { y: y.toArray(), dx: dx.toArray(), dw: dw.toArray(), db: db.toArray() };
  for (const t of [x, w, y, dy, dx, dw, db]) t.free();
  b?.free();
  return { xs, ws, bs: c.bias ? bs : null, gs, ...out };
}

const tol = (k: number) => 2e-5 * Math.sqrt(k);

describeEachBuild('conv', () => {
  it.each(small)('$name: forward matches the reference, backward matches finite differences', (c) => {
    const r = run(c, 11);
    const { g } = c;
    const K = g.C * g.KH * g.KW;
    expect(maxRelErr(r.y, refForward(g, r.xs, r.ws, r.bs), tol(K))).toBeLessThanOrEqual(1);
    const loss = (x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null) =>
      refForward(g, x, w, b).reduce((s, v, i) => s + v * r.gs[i], 0);
    const xd = Array.from(r.xs), wd = Array.from(r.ws), bd = r.bs ? Array.from(r.bs) : null;
    const all = (n: number) => [...Array(n).keys()];
    expect(maxRelErr(r.dx, finiteDiff(xd, all(xd.length), () => loss(xd, wd, bd)), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    expect(maxRelErr(r.dw, finiteDiff(wd, all(wd.length), () => loss(xd, wd, bd)), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
    if (bd) expect(maxRelErr(r.db, finiteDiff(bd, all(bd.length), () => loss(xd, wd, bd)), 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  });

  it.each(big)('$name: forward and backward match the reference', (c) => {
    const r = run(c, 5);
    const { g } = c;
    const ref = refBackward(g, r.xs, r.ws, r.gs);
    const OHW = outH(g) * outW(g);
    expect(maxRelErr(r.y, refForward(g, r.xs, r.ws, r.bs), tol(g.C * g.KH * g.KW))).toBeLessThanOrEqual(1);
    expect(maxRelErr(r.dx, ref.dx, tol(g.CO * g.KH * g.KW))).toBeLessThanOrEqual(1);
    expect(maxRelErr(r.dw, ref.dw, tol(g.N * OHW))).toBeLessThanOrEqual(1);
    expect(maxRelErr(r.db, ref.db, tol(g.N * OHW))).toBeLessThanOrEqual(1);
  });

  it('the im2col weight gradient is the same to the bit for any scratch size: pieces end on the GEMM\'s blocks', () => {
    // N, C, H, W, CO, KH, KW, SH, SW, PH, PW, groups: pieces of a few KC-blocks cut mid-sample and mid-row,
    // and a second sum chunk (4 MiB of columns) after the first.
    for (const g of [[5, 6, 20, 23, 20, 3, 3, 2, 2, 1, 1, 1], [40, 24, 1, 130, 24, 1, 9, 1, 1, 0, 4, 1]]) {
      const k = getEngine().kernels;
      const desc = Tensor.empty([16], 'i32');
      desc.data.set(g);
      const [N, C, H, W, CO, KH, KW] = g;
      const OH = Math.floor((H + 2 * g[9] - KH) / g[7]) + 1, OW = Math.floor((W + 2 * g[10] - KW) / g[8]) + 1;
      const x = Tensor.from(randArray(N * C * H * W, 3), [N * C * H * W]);
      const dy = Tensor.from(randArray(N * CO * OH * OW, 4), [N * CO * OH * OW]);
      const least = k.conv2dScratchBytes(desc.ptr);
      const dw = (bytes: number): Float32Array => {
        const scratch = Tensor.empty([bytes / 4 + 16]);
        const out = Tensor.empty([CO * C * KH * KW]).fill(NaN);
        k.conv2dBackwardWeight(desc.ptr, x.ptr, dy.ptr, out.ptr, 0, scratch.ptr + 64 - (scratch.ptr % 64), bytes);
        const v = out.toArray();
        scratch.free();
        out.free();
        return v;
      };
      const small = dw(least);
      expect(small.every(Number.isFinite)).toBe(true);
      expect(dw(least * 16), `geometry ${g}`).toEqual(small);
      for (const t of [desc, x, dy]) t.free();
    }
  });

  it('rejects bad shapes and options with a ShapeError naming them', () => {
    const x = Tensor.zeros([2, 3, 8, 8]);
    const w = Tensor.zeros([4, 3, 3, 3]);
    const y = Tensor.zeros([2, 4, 6, 6]);
    const dw = Tensor.zeros([4, 3, 3, 3]);
    expect(() => conv2dForward(x, Tensor.zeros([4, 2, 3, 3]), null, y)).toThrow(/conv2dForward: w \[4,2,3,3\] expects 2 input channels, x \[2,3,8,8\] has 3/);
    expect(() => conv2dForward(x, w, null, Tensor.zeros([2, 4, 8, 8]))).toThrow(/conv2dForward: y has shape \[2,4,8,8\], expected \[2,4,6,6\]/);
    expect(() => conv2dForward(x, w, Tensor.zeros([3]), y)).toThrow(/conv2dForward: b has shape \[3\], expected \[4\]/);
    expect(() => conv2dOutputShape([2, 3, 2, 8], [4, 3, 3, 3])).toThrow(/kernel 3x3 is larger than the padded input 2x8/);
    expect(() => conv2dOutputShape([2, 3, 8, 8], [4, 3, 3, 3], { stride: [0, 1] })).toThrow(/strideH must be a positive integer, got 0/);
    expect(() => conv2dOutputShape([2, 3, 8, 8], [4, 3, 3, 3], { padding: [1, -1] })).toThrow(/paddingW must be a non-negative integer, got -1/);
    expect(() => conv2dOutputShape([0, 3, 8, 8], [4, 3, 3, 3])).toThrow(/N must be a positive integer, got 0/);
    expect(() => conv2dOutputShape([3, 8, 8], [4, 3, 3, 3])).toThrow(/x has shape \[3,8,8\], expected \[N, C, H, W\]/);
    expect(() => conv2dBackward(x, w, Tensor.zeros([2, 4, 6, 5]), null, dw, null)).toThrow(/conv2dBackwardWeight: dy has shape \[2,4,6,5\], expected \[2,4,6,6\]/);
    expect(() => conv2dBackward(x, w, y, Tensor.zeros([2, 3, 8, 7]), dw, null)).toThrow(/conv2dBackward: dx has shape \[2,3,8,7\], expected \[2,3,8,8\]/);
    expect(() => conv1dForward(Tensor.zeros([2, 3, 10]), Tensor.zeros([4, 3, 3]), null, Tensor.zeros([2, 4, 9]))).toThrow(
      /conv1dForward: y has shape \[2,4,9\], expected \[2,4,8\]/,
    );
    expect(() => conv1dOutputShape([2, 3, 10], [4, 3, 3, 3])).toThrow(/conv1dOutputShape: w has shape \[4,3,3,3\], expected 3 dimensions/);
    expect(() => conv2dForward(y.reshape([2, 4, 6, 6]), Tensor.zeros([4, 4, 1, 1]), null, y)).toThrow(/conv2dForward: y overlaps x in memory/);
    for (const t of [x, w, y, dw]) t.free();
  });
});

describe('samePadding', () => {
  it('is (k-1)/2 for odd kernels and refuses even ones', () => {
    expect([1, 3, 5, 57].map(samePadding)).toEqual([0, 1, 2, 28]);
    expect(() => samePadding(4)).toThrow(/samePadding: kernel must be a positive odd integer, got 4/);
  });
});
