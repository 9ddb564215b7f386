import { getEngine } from '../engine/engine.js';
import { ShapeError, expectNonNegative, expectPositive, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';

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

// Writes the descriptor and takes the scratch behind it: [descriptor, scratch, scratch bytes]. The
// descriptor is written again when the scratch had to grow (growing moves it).
function prepare(g: Geometry): [number, number, number] {
  const engine = getEngine();
  let at = engine.scratch(GEOMETRY_BYTES);
  engine.i32(at, GEOMETRY_SLOTS).set(g);
  const bytes = engine.kernels.conv2dScratchBytes(at);
  const moved = engine.scratch(GEOMETRY_BYTES + bytes);
  if (moved !== at) {
    at = moved;
    engine.i32(at, GEOMETRY_SLOTS).set(g);
  }
  return [at, at + GEOMETRY_BYTES, bytes];
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
  const [desc, scratch, bytes] = prepare(g);
  getEngine().kernels.conv2dForward(desc, x.ptr, w.ptr, b ? b.ptr : 0, y.ptr, scratch, bytes);
}

/** dx = ∂ sum(dy·y) / ∂x, overwritten. */
export function conv2dBackwardInput(w: Tensor, dy: Tensor, dx: Tensor, opts: Conv2dOptions = {}): void {
  checkTensors('conv2dBackwardInput', dx, w, 4);
  const { g, out } = geometry('conv2dBackwardInput', dx.shape, w.shape, opts);
  expectShape('conv2dBackwardInput', 'dy', dy.shape, out);
  expectDisjoint('conv2dBackwardInput', ['dx', dx], ['w', w], ['dy', dy]);
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
