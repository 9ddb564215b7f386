import { getEngine } from '../engine/engine.js';
import { ShapeError, expectPositive, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint, expectF32 } from '../engine/checks.js';
import { streamShares } from '../engine/split.js';
import type { KernelCall } from '../engine/threads.js';

export interface Pool2dOptions {
  kernel: [number, number];
  /** Defaults to the kernel (non-overlapping windows). */
  stride?: [number, number];
}

function expectI32(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.dtype !== 'i32') throw new TypeError(`${op}: ${name} must be an i32 tensor, got ${t.dtype}`);
  expectShape(op, name, t.shape, shape);
}

/** [N, C, OH, OW] of a max pool over x [N, C, H, W]: floor mode, no padding, as PyTorch. */
export function maxPool2dOutputShape(xShape: readonly number[], opts: Pool2dOptions): number[] {
  const op = 'maxPool2d';
  const [KH, KW] = opts.kernel;
  const [SH, SW] = opts.stride ?? opts.kernel;
  expectPositive(op, { kernelHeight: KH, kernelWidth: KW, strideHeight: SH, strideWidth: SW });
  if (xShape.length !== 4 || xShape.some((d) => !(d > 0)))
    throw new ShapeError(`${op}: x has shape ${fmtShape(xShape)}, expected [N, C, H, W] with positive dimensions`);
  const [N, C, H, W] = xShape;
  if (H < KH || W < KW) throw new ShapeError(`${op}: x has shape ${fmtShape(xShape)}, smaller than the kernel [${KH},${KW}]`);
  return [N, C, Math.floor((H - KH) / SH) + 1, Math.floor((W - KW) / SW) + 1];
}

/** y = the max of each window; argmax (i32, y's shape) = the index in its plane (h*W + w) of the first maximum. */
export function maxPool2dForward(x: Tensor, y: Tensor, argmax: Tensor, opts: Pool2dOptions): void {
  const op = 'maxPool2dForward';
  expectF32(op, 'x', x, 4);
  const shape = maxPool2dOutputShape(x.shape, opts);
  expectF32(op, 'y', y, 4);
  expectShape(op, 'y', y.shape, shape);
  expectI32(op, 'argmax', argmax, shape);
  expectDisjoint(op, ['y', y], ['x', x], ['argmax', argmax]);
  expectDisjoint(op, ['argmax', argmax], ['x', x]);
  const [N, C, H, W] = x.shape;
  const [KH, KW] = opts.kernel;
  const [SH, SW] = opts.stride ?? opts.kernel;
  const [OH, OW] = [shape[2], shape[3]];
  // Planes are independent: each thread pools a band of them (x read once, y and argmax written).
  byPlanes(N * C, 4 * (H * W + 2 * OH * OW), (p0, p1) => [
    'maxPool2dForward', x.ptr + 4 * p0 * H * W, y.ptr + 4 * p0 * OH * OW, argmax.ptr + 4 * p0 * OH * OW, p1 - p0, H, W, KH, KW, SH, SW, OH, OW,
  ]);
}

/** dx [N, C, H, W] (overwritten) = each dy added at its window's argmax. */
export function maxPool2dBackward(dy: Tensor, argmax: Tensor, dx: Tensor): void {
  const op = 'maxPool2dBackward';
  expectF32(op, 'dy', dy, 4);
  expectF32(op, 'dx', dx, 4);
  const [N, C, H, W] = dx.shape;
  if (dy.shape[0] !== N || dy.shape[1] !== C || dy.shape[2] > H || dy.shape[3] > W)
    throw new ShapeError(`${op}: dy has shape ${fmtShape(dy.shape)}, which no max pool of dx ${fmtShape(dx.shape)} gives`);
  expectI32(op, 'argmax', argmax, dy.shape);
  expectDisjoint(op, ['dx', dx], ['dy', dy], ['argmax', argmax]);
  const [OH, OW] = [dy.shape[2], dy.shape[3]];
  byPlanes(N * C, 4 * (H * W + 2 * OH * OW), (p0, p1) => [
    'maxPool2dBackward', dy.ptr + 4 * p0 * OH * OW, argmax.ptr + 4 * p0 * OH * OW, dx.ptr + 4 * p0 * H * W, p1 - p0, H, W, OH, OW,
  ]);
}

// One call per band of planes, a band per thread when the planes move enough bytes (bytesPerPlane each).
function byPlanes(P: number, bytesPerPlane: number, call: (p0: number, p1: number) => KernelCall): void {
  const engine = getEngine();
  engine.parallel(streamShares(engine.threads, P, bytesPerPlane, call));
}

const as2d = (t: Tensor): Tensor => t.reshape([t.shape[0], t.shape[1], 1, t.shape[2]]);

function expect1d(op: string, name: string, t: Tensor): void {
  expectF32(op, name, t, 3);
}

/** [N, C, OL] of a max pool 1d over x [N, C, L]; stride defaults to the kernel. */
export function maxPool1dOutputShape(xShape: readonly number[], kernel: number, stride: number = kernel): number[] {
  if (xShape.length !== 3) throw new ShapeError(`maxPool1d: x has shape ${fmtShape(xShape)}, expected [N, C, L]`);
  const [N, C, , OL] = maxPool2dOutputShape([xShape[0], xShape[1], 1, xShape[2]], { kernel: [1, kernel], stride: [1, stride] });
  return [N, C, OL];
}

/** Max pool 1d on [N, C, L]: the 2d kernel with H = 1; argmax holds positions along L. */
export function maxPool1dForward(x: Tensor, y: Tensor, argmax: Tensor, kernel: number, stride: number = kernel): void {
  const op = 'maxPool1dForward';
  expect1d(op, 'x', x);
  expect1d(op, 'y', y);
  expectShape(op, 'y', y.shape, maxPool1dOutputShape(x.shape, kernel, stride));
  expectI32(op, 'argmax', argmax, y.shape);
  maxPool2dForward(as2d(x), as2d(y), argmax.reshape([y.shape[0], y.shape[1], 1, y.shape[2]]), { kernel: [1, kernel], stride: [1, stride] });
}

export function maxPool1dBackward(dy: Tensor, argmax: Tensor, dx: Tensor): void {
  const op = 'maxPool1dBackward';
  expect1d(op, 'dy', dy);
  expect1d(op, 'dx', dx);
  expectI32(op, 'argmax', argmax, dy.shape);
  maxPool2dBackward(as2d(dy), argmax.reshape([dy.shape[0], dy.shape[1], 1, dy.shape[2]]), as2d(dx));
}

function adaptiveDims(op: string, big: [string, Tensor], small: [string, Tensor]): number[] {
  expectF32(op, big[0], big[1], 4);
  expectF32(op, small[0], small[1], 4);
  const [N, C, H, W] = big[1].shape;
  const [, , OH, OW] = small[1].shape;
  expectShape(op, small[0], small[1].shape, [N, C, OH, OW]);
  return [N * C, H, W, OH, OW];
}

/**
 * y [N, C, OH, OW] = the mean of each of PyTorch's adaptive bins of x [N, C, H, W]: bin i of `out` over
 * `len` is [floor(i*len/out), ceil((i+1)*len/out)), so bins may overlap. The output size is read from y.
 */
export function adaptiveAvgPool2dForward(x: Tensor, y: Tensor): void {
  const op = 'adaptiveAvgPool2dForward';
  const d = adaptiveDims(op, ['x', x], ['y', y]);
  expectDisjoint(op, ['y', y], ['x', x]);
  const [P, H, W, OH, OW] = d;
  // Planes are independent: a band of them per thread computes what one thread would, each thread
  // with its own row of W sums in scratch. Scratch is taken while the calls are listed, before any runs.
  const engine = getEngine();
  let thread = 0;
  byPlanes(P, 4 * (H * W + OH * OW), (p0, p1) => [
    'adaptiveAvgPool2dForward', x.ptr + 4 * p0 * H * W, y.ptr + 4 * p0 * OH * OW, p1 - p0, H, W, OH, OW, engine.scratch(4 * W, thread++),
  ]);
}

/** dx (overwritten) = each dy spread evenly over its bin; elements in two bins collect from both. */
export function adaptiveAvgPool2dBackward(dy: Tensor, dx: Tensor): void {
  const op = 'adaptiveAvgPool2dBackward';
  const d = adaptiveDims(op, ['dx', dx], ['dy', dy]);
  expectDisjoint(op, ['dx', dx], ['dy', dy]);
  const [P, H, W, OH, OW] = d;
  byPlanes(P, 4 * (H * W + OH * OW), (p0, p1) => ['adaptiveAvgPool2dBackward', dy.ptr + 4 * p0 * OH * OW, dx.ptr + 4 * p0 * H * W, p1 - p0, H, W, OH, OW]);
}

/** Adaptive average pool 1d on [N, C, L]: the 2d kernel with H = 1; output length read from y. */
export function adaptiveAvgPool1dForward(x: Tensor, y: Tensor): void {
  const op = 'adaptiveAvgPool1dForward';
  expect1d(op, 'x', x);
  expect1d(op, 'y', y);
  adaptiveAvgPool2dForward(as2d(x), as2d(y));
}

export function adaptiveAvgPool1dBackward(dy: Tensor, dx: Tensor): void {
  const op = 'adaptiveAvgPool1dBackward';
  expect1d(op, 'dy', dy);
  expect1d(op, 'dx', dx);
  adaptiveAvgPool2dBackward(as2d(dy), as2d(dx));
}
