// Depthwise 2d convolution (PyTorch's Conv2d with groups = in_channels = out_channels), kernels in
// assembly/conv-depthwise.ts: channel c's plane is correlated with its own filter w[c, 0]:
//   y[n,c,oh,ow] = b[c] + Σ_kh Σ_kw w[c,0,kh,kw] · x[n,c, oh·SH + kh·DH − PH, ow·SW + kw·DW − PW]
import { getEngine } from '../engine/engine.js';
import { ShapeError, expectNonNegative, expectPositive, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { partsFor, ranges, streamMicros } from '../engine/split.js';

export interface DepthwiseOptions {
  /** [height, width]; default [1, 1]. */
  stride?: [number, number];
  /** Zeros on each side, [height, width]; default [0, 0]. */
  padding?: [number, number];
  /** Spacing of the taps, [height, width]; default [1, 1]. */
  dilation?: [number, number];
}

interface Geometry {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  sizes: number[];
  out: number[];
}

function geometry(op: string, xShape: readonly number[], wShape: readonly number[], opts: DepthwiseOptions): Geometry {
  if (xShape.length !== 4) throw new ShapeError(`${op}: x has shape ${fmtShape(xShape)}, expected [N, C, H, W]`);
  if (wShape.length !== 4 || wShape[1] !== 1) throw new ShapeError(`${op}: w has shape ${fmtShape(wShape)}, expected [C, 1, KH, KW]`);
  const [N, C, H, W] = xShape;
  const [Cw, , KH, KW] = wShape;
  const [SH, SW] = opts.stride ?? [1, 1];
  const [PH, PW] = opts.padding ?? [0, 0];
  const [DH, DW] = opts.dilation ?? [1, 1];
  expectPositive(op, { N, C, H, W, KH, KW, strideH: SH, strideW: SW, dilationH: DH, dilationW: DW });
  expectNonNegative(op, { paddingH: PH, paddingW: PW });
  if (Cw !== C) throw new ShapeError(`${op}: w ${fmtShape(wShape)} has ${Cw} filters, x ${fmtShape(xShape)} has ${C} channels; depthwise needs one per channel`);
  const spanH = (KH - 1) * DH + 1;
  const spanW = (KW - 1) * DW + 1;
  if (H + 2 * PH < spanH || W + 2 * PW < spanW)
    throw new ShapeError(`${op}: kernel ${KH}x${KW} at dilation ${DH}x${DW} spans ${spanH}x${spanW}, more than the padded input ${H + 2 * PH}x${W + 2 * PW} of x ${fmtShape(xShape)}`);
  const OH = Math.floor((H + 2 * PH - spanH) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - spanW) / SW) + 1;
  return { N, C, H, W, KH, KW, sizes: [H, W, KH, KW, SH, SW, PH, PW, DH, DW], out: [N, C, OH, OW] };
}

// Bands of planes (forward, input gradient) or channels (weight gradient), one per thread when the
// call moves enough bytes; each thread gets its own padded plane of scratch.
function bands(items: number, bytes: number, planeBytes: number): Array<[number, number, number]> {
  const engine = getEngine();
  const parts = partsFor(engine.threads, streamMicros(bytes), items);
  const out = ranges(items, parts);
  // Every scratch is taken before any call runs: taking one can grow memory.
  const at = out.map((_, t) => engine.scratch(planeBytes, t));
  return out.map(([lo, hi], t) => [lo, hi, at[t]]);
}

const scratchBytes = (g: Geometry): number => {
  const [H, W, KH, KW, , , PH, PW, , DW] = g.sizes;
  return getEngine().kernels.depthwiseScratchBytes(H, W, g.out[2], g.out[3], KH, KW, PH, PW, DW);
};

/** [N, C, OH, OW] for x [N, C, H, W] and w [C, 1, KH, KW]. */
export function depthwiseOutputShape(xShape: readonly number[], wShape: readonly number[], opts: DepthwiseOptions = {}): number[] {
  return geometry('depthwiseOutputShape', xShape, wShape, opts).out;
}

/** y = the depthwise correlation of x with w, + b (none when null). */
export function depthwiseForward(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, opts: DepthwiseOptions = {}): void {
  const op = 'depthwiseForward';
  expectF32(op, 'x', x, 4);
  expectF32(op, 'w', w, 4);
  const g = geometry(op, x.shape, w.shape, opts);
  if (b) expectShape(op, 'b', b.shape, [g.C]);
  expectShape(op, 'y', y.shape, g.out);
  expectDisjoint(op, ['y', y], ['x', x], ['w', w], ['b', b]);
  const inPlane = g.H * g.W, outPlane = g.out[2] * g.out[3];
  getEngine().parallel(bands(g.N * g.C, 4 * (x.size + y.size), scratchBytes(g)).map(([p0, p1, scratch]) => [
    ['depthwiseForward', x.ptr + 4 * p0 * inPlane, w.ptr, b ? b.ptr : 0, y.ptr + 4 * p0 * outPlane, p1 - p0, g.C, p0 % g.C, ...g.sizes, scratch],
  ]));
}

/** dx (overwritten) = ∂ sum(dy·y) / ∂x. */
export function depthwiseBackwardInput(w: Tensor, dy: Tensor, dx: Tensor, opts: DepthwiseOptions = {}): void {
  const op = 'depthwiseBackwardInput';
  expectF32(op, 'dx', dx, 4);
  expectF32(op, 'w', w, 4);
  expectF32(op, 'dy', dy, 4);
  const g = geometry(op, dx.shape, w.shape, opts);
  expectShape(op, 'dy', dy.shape, g.out);
  expectDisjoint(op, ['dx', dx], ['w', w], ['dy', dy]);
  const inPlane = g.H * g.W, outPlane = g.out[2] * g.out[3];
  getEngine().parallel(bands(g.N * g.C, 4 * (dx.size + dy.size), scratchBytes(g)).map(([p0, p1, scratch]) => [
    ['depthwiseBackwardInput', w.ptr, dy.ptr + 4 * p0 * outPlane, dx.ptr + 4 * p0 * inPlane, p1 - p0, g.C, p0 % g.C, ...g.sizes, scratch],
  ]));
}

/** dw and db (skipped when null), overwritten: ∂ sum(dy·y) / ∂w, ∂b, summed over the samples. */
export function depthwiseBackwardWeight(x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, opts: DepthwiseOptions = {}): void {
  const op = 'depthwiseBackwardWeight';
  expectF32(op, 'x', x, 4);
  expectF32(op, 'dw', dw, 4);
  expectF32(op, 'dy', dy, 4);
  const g = geometry(op, x.shape, dw.shape, opts);
  expectShape(op, 'dy', dy.shape, g.out);
  if (db) expectShape(op, 'db', db.shape, [g.C]);
  expectDisjoint(op, ['dw', dw], ['x', x], ['dy', dy], ['db', db]);
  // Channels split among threads: each sums its own filters over every sample, so no partial sums.
  getEngine().parallel(bands(g.C, 4 * (x.size + dy.size * g.KH * g.KW), scratchBytes(g)).map(([c0, c1, scratch]) => [
    ['depthwiseBackwardWeight', x.ptr, dy.ptr, dw.ptr, db ? db.ptr : 0, g.N, g.C, c0, c1, ...g.sizes, scratch],
  ]));
}
