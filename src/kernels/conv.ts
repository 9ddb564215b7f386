import { getEngine } from '../engine/engine.js';
import { ShapeError, expectNonNegative, expectPositive, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { KernelCall } from '../engine/threads.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { computeMicros, partsFor, ranges } from '../engine/split.js';

export interface Conv2dOptions {
  /** [height, width]; default [1, 1]. */
  stride?: [number, number];
  /** Zeros added on each side, [height, width]; default [0, 0]. */
  padding?: [number, number];
}

export interface Conv1dOptions {
  stride?: number;
  padding?: number;
}

/** The padding that keeps the length at stride 1 (PyTorch's 'same'): (k-1)/2, odd kernels only. */
export function samePadding(kernel: number): number {
  if (!Number.isInteger(kernel) || kernel <= 0 || kernel % 2 === 0)
    throw new ShapeError(`samePadding: kernel must be a positive odd integer, got ${kernel}`);
  return (kernel - 1) / 2;
}

// The geometry descriptor every conv2d kernel reads (assembly/conv-geometry.ts, ConvGeometry), one i32
// each: N, C, H, W, CO, KH, KW, SH, SW, PH, PW, groups. groups is 1 until grouped convolution exists.
type Geometry = [number, number, number, number, number, number, number, number, number, number, number, number];
const GEOMETRY_SLOTS = 12;
// The descriptor sits in front of the kernel's scratch; 64 bytes keep the scratch cache-line aligned.
const GEOMETRY_BYTES = 64;

function geometry(op: string, xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions): { g: Geometry; out: number[] } {
  if (xShape.length !== 4) throw new ShapeError(`${op}: x has shape ${fmtShape(xShape)}, expected [N, C, H, W]`);
  if (wShape.length !== 4) throw new ShapeError(`${op}: w has shape ${fmtShape(wShape)}, expected [Cout, Cin, KH, KW]`);
  const [N, C, H, W] = xShape;
  const [CO, Cw, KH, KW] = wShape;
  const [SH, SW] = opts.stride ?? [1, 1];
  const [PH, PW] = opts.padding ?? [0, 0];
  expectPositive(op, { N, C, H, W, Cout: CO, KH, KW, strideH: SH, strideW: SW });
  expectNonNegative(op, { paddingH: PH, paddingW: PW });
  if (Cw !== C) throw new ShapeError(`${op}: w ${fmtShape(wShape)} expects ${Cw} input channels, x ${fmtShape(xShape)} has ${C}`);
  if (H + 2 * PH < KH || W + 2 * PW < KW)
    throw new ShapeError(`${op}: kernel ${KH}x${KW} is larger than the padded input ${H + 2 * PH}x${W + 2 * PW} of x ${fmtShape(xShape)}`);
  const OH = Math.floor((H + 2 * PH - KH) / SH) + 1;
  const OW = Math.floor((W + 2 * PW - KW) / SW) + 1;
  return { g: [N, C, H, W, CO, KH, KW, SH, SW, PH, PW, 1], out: [N, CO, OH, OW] };
}

// Writes the descriptor into a thread's scratch and takes the scratch behind it, plus `extra` bytes
// after the kernel's: [descriptor, scratch, scratch bytes, extra]. The descriptor is written again
// when the scratch had to grow (growing moves it).
function prepare(g: Geometry, thread = 0, extra = 0): [number, number, number, number] {
  const engine = getEngine();
  let at = engine.scratch(GEOMETRY_BYTES, thread);
  engine.i32(at, GEOMETRY_SLOTS).set(g);
  const bytes = engine.kernels.conv2dScratchBytes(at);
  const kernelBytes = Math.ceil(bytes / GEOMETRY_BYTES) * GEOMETRY_BYTES;
  const moved = engine.scratch(GEOMETRY_BYTES + kernelBytes + extra, thread);
  if (moved !== at) {
    at = moved;
    engine.i32(at, GEOMETRY_SLOTS).set(g);
  }
  return [at, at + GEOMETRY_BYTES, bytes, at + GEOMETRY_BYTES + kernelBytes];
}

// Threads for a convolution of geometry g: its multiply-adds decide whether splitting pays.
function convParts(g: Geometry, out: number[]): number {
  const [N, C, , , CO, KH, KW] = g;
  return partsFor(getEngine().threads, computeMicros(2 * CO * out[2] * out[3] * C * KH * KW * N), N);
}

/**
 * Runs a conv2d export once per band of samples, one band per thread: each with its own descriptor
 * (N the band's samples) and scratch. `call` builds the export's call from the band's first sample,
 * its descriptor, scratch, scratch bytes and the extra bytes asked for.
 */
function bySamples(g: Geometry, parts: number, call: (n0: number, t: number, at: [number, number, number, number]) => KernelCall, extra = 0): void {
  const bands = ranges(g[0], parts);
  // Every thread's scratch is taken before any call is built: taking one can grow memory, not move another.
  const areas = bands.map(([n0, n1], t) => prepare([n1 - n0, ...g.slice(1)] as Geometry, t, t > 0 ? extra : 0));
  getEngine().parallel(bands.map(([n0], t) => [call(n0, t, areas[t])]));
}

function checkTensors(op: string, x: Tensor | null, w: Tensor, rank: number): void {
  if (x) expectF32(op, 'x', x, rank);
  expectF32(op, 'w', w, rank);
}

/** [N, Cout, OH, OW] for x [N, C, H, W] and w [Cout, C, KH, KW]. */
export function conv2dOutputShape(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): number[] {
  return geometry('conv2dOutputShape', xShape, wShape, opts).out;
}

/** y = x ⋆ w + b (cross-correlation, as PyTorch's Conv2d); no bias when b is null. */
export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, opts: Conv2dOptions = {}): void {
  checkTensors('conv2dForward', x, w, 4);
  const { g, out } = geometry('conv2dForward', x.shape, w.shape, opts);
  if (b) expectShape('conv2dForward', 'b', b.shape, [g[4]]);
  expectShape('conv2dForward', 'y', y.shape, out);
  expectDisjoint('conv2dForward', ['y', y], ['x', x], ['w', w], ['b', b]);
  const parts = convParts(g, out);
  if (parts > 1) {
    const [, C, H, W, CO] = g;
    // Samples are independent: each thread's band of y is the same as on one thread.
    bySamples(g, parts, (n0, _t, [desc, scratch, bytes]) =>
      ['conv2dForward', desc, x.ptr + 4 * n0 * C * H * W, w.ptr, b ? b.ptr : 0, y.ptr + 4 * n0 * CO * out[2] * out[3], scratch, bytes]);
    return;
  }
  const [desc, scratch, bytes] = prepare(g);
  getEngine().kernels.conv2dForward(desc, x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, scratch, bytes);
}

/** dx = ∂ sum(dy·y) / ∂x, overwritten. */
export function conv2dBackwardInput(w: Tensor, dy: Tensor, dx: Tensor, opts: Conv2dOptions = {}): void {
  checkTensors('conv2dBackwardInput', dx, w, 4);
  const { g, out } = geometry('conv2dBackwardInput', dx.shape, w.shape, opts);
  expectShape('conv2dBackwardInput', 'dy', dy.shape, out);
  expectDisjoint('conv2dBackwardInput', ['dx', dx], ['w', w], ['dy', dy]);
  const parts = convParts(g, out);
  if (parts > 1) {
    const [, C, H, W, CO] = g;
    bySamples(g, parts, (n0, _t, [desc, scratch, bytes]) =>
      ['conv2dBackwardInput', desc, w.ptr, dy.ptr + 4 * n0 * CO * out[2] * out[3], dx.ptr + 4 * n0 * C * H * W, scratch, bytes]);
    return;
  }
  const [desc, scratch, bytes] = prepare(g);
  getEngine().kernels.conv2dBackwardInput(desc, w.ptr, dy.ptr, dx.ptr, scratch, bytes);
}

/** dw and db (skipped when null) = ∂ sum(dy·y) / ∂w, ∂b; overwritten. */
export function conv2dBackwardWeight(x: Tensor, dy: Tensor, dw: Tensor, db: Tensor | null, opts: Conv2dOptions = {}): void {
  checkTensors('conv2dBackwardWeight', x, dw, 4);
  const { g, out } = geometry('conv2dBackwardWeight', x.shape, dw.shape, opts);
  expectShape('conv2dBackwardWeight', 'dy', dy.shape, out);
  if (db) expectShape('conv2dBackwardWeight', 'db', db.shape, [g[4]]);
  expectDisjoint('conv2dBackwardWeight', ['dw', dw], ['x', x], ['dy', dy]);
  if (db) expectDisjoint('conv2dBackwardWeight', ['db', db], ['x', x], ['dy', dy], ['dw', dw]);
  const parts = convParts(g, out);
  if (parts > 1) {
    // dw and db sum over the samples: thread 0 writes its band's sums into dw and db, every other
    // thread into its own scratch, and those are added in thread order after (so the result is the
    // same for a given number of threads, but rounds differently from one thread's single sum).
    const [, C, H, W, CO] = g;
    const partial: number[] = [];
    bySamples(g, parts, (n0, t, [desc, scratch, bytes, extra]) => {
      partial[t] = extra;
      const [dwAt, dbAt] = t === 0 ? [dw.ptr, db ? db.ptr : 0] : [extra, db ? extra + 4 * dw.size : 0];
      return ['conv2dBackwardWeight', desc, x.ptr + 4 * n0 * C * H * W, dy.ptr + 4 * n0 * CO * out[2] * out[3], dwAt, dbAt, scratch, bytes];
    }, 4 * (dw.size + CO));
    const k = getEngine().kernels;
    for (let t = 1; t < partial.length; t++) {
      k.addForward(dw.ptr, partial[t], dw.ptr, dw.size);
      if (db) k.addForward(db.ptr, partial[t] + 4 * dw.size, db.ptr, CO);
    }
    return;
  }
  const [desc, scratch, bytes] = prepare(g);
  getEngine().kernels.conv2dBackwardWeight(desc, x.ptr, dy.ptr, dw.ptr, db ? db.ptr : 0, scratch, bytes);
}

/** Gradients of sum(dy·y) for y = conv2dForward(x, w, b): dx (skipped when null), dw, db (skipped when null); overwritten. */
export function conv2dBackward(x: Tensor, w: Tensor, dy: Tensor, dx: Tensor | null, dw: Tensor, db: Tensor | null, opts: Conv2dOptions = {}): void {
  expectShape('conv2dBackward', 'dw', dw.shape, w.shape);
  if (dx) expectShape('conv2dBackward', 'dx', dx.shape, x.shape);
  conv2dBackwardWeight(x, dy, dw, db, opts);
  if (dx) conv2dBackwardInput(w, dy, dx, opts);
}

// conv1d is conv2d with H = KH = 1: [N, C, L] is viewed as [N, C, 1, L].
function as2d(opts: Conv1dOptions): Conv2dOptions {
  return { stride: [1, opts.stride ?? 1], padding: [0, opts.padding ?? 0] };
}

function view2d(op: string, t: Tensor, name: string): Tensor {
  return t.reshape(shape2d(op, t.shape, name));
}

function shape2d(op: string, s: readonly number[], name: string): number[] {
  if (s.length !== 3) throw new ShapeError(`${op}: ${name} has shape ${fmtShape(s)}, expected 3 dimensions [N, C, L]`);
  return [s[0], s[1], 1, s[2]];
}

function outputShape1d(op: string, xShape: readonly number[], wShape: readonly number[], opts: Conv1dOptions): number[] {
  const [N, CO, , OL] = geometry(op, shape2d(op, xShape, 'x'), shape2d(op, wShape, 'w'), as2d(opts)).out;
  return [N, CO, OL];
}

/** [N, Cout, OL] for x [N, C, L] and w [Cout, C, K]. */
export function conv1dOutputShape(xShape: readonly number[], wShape: readonly number[], opts: Conv1dOptions = {}): number[] {
  return outputShape1d('conv1dOutputShape', xShape, wShape, opts);
}

/** y = x ⋆ w + b over [N, C, L] (PyTorch's Conv1d); no bias when b is null. */
export function conv1dForward(x: Tensor, w: Tensor, b: Tensor | null, y: Tensor, opts: Conv1dOptions = {}): void {
  const op = 'conv1dForward';
  expectShape(op, 'y', y.shape, outputShape1d(op, x.shape, w.shape, opts));
  conv2dForward(view2d(op, x, 'x'), view2d(op, w, 'w'), b, view2d(op, y, 'y'), as2d(opts));
}

/** Gradients of sum(dy·y) for y = conv1dForward(x, w, b); dx and db skipped when null; overwritten. */
export function conv1dBackward(x: Tensor, w: Tensor, dy: Tensor, dx: Tensor | null, dw: Tensor, db: Tensor | null, opts: Conv1dOptions = {}): void {
  const op = 'conv1dBackward';
  expectShape(op, 'dy', dy.shape, outputShape1d(op, x.shape, w.shape, opts));
  if (dx) expectShape(op, 'dx', dx.shape, x.shape);
  expectShape(op, 'dw', dw.shape, w.shape);
  conv2dBackward(view2d(op, x, 'x'), view2d(op, w, 'w'), view2d(op, dy, 'dy'), dx ? view2d(op, dx, 'dx') : null, view2d(op, dw, 'dw'), db, as2d(opts));
}
