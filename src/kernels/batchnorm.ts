import { getEngine } from '../engine/engine.js';
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import type { KernelCall } from '../engine/threads.js';
import { expectDisjoint } from '../engine/checks.js';
import { partsFor, ranges, streamMicros } from '../engine/split.js';

/**
 * Per-channel statistics of one batch norm: the running estimates (updated in training) and what the
 * last training forward saw, which its backward needs.
 */
export interface BatchNormState {
  runningMean: Tensor;
  runningVar: Tensor;
  saveMean: Tensor;
  saveInvStd: Tensor;
}

export interface BatchNormOptions {
  /** Batch statistics (and running-statistic updates) when true; running statistics when false. */
  training: boolean;
  /** Weight of the new batch statistic in the running estimates; PyTorch's default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root; default 1e-5. */
  eps?: number;
}

/** [N, C, L] of x [N, C, ...rest], L the product of rest (1 when there is none). */
function dims(op: string, x: Tensor): [number, number, number] {
  if (x.dtype !== 'f32') throw new TypeError(`${op}: x must be an f32 tensor, got ${x.dtype}`);
  if (x.shape.length < 2 || x.shape.some((d) => !(d > 0)))
    throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)}, expected [N, C, ...] with positive dimensions`);
  const [N, C, ...rest] = x.shape;
  return [N, C, rest.reduce((a, b) => a * b, 1)];
}

function expectChannels(op: string, C: number, operands: Record<string, Tensor | null>): void {
  for (const [name, t] of Object.entries(operands)) {
    if (!t) continue;
    if (t.dtype !== 'f32') throw new TypeError(`${op}: ${name} must be an f32 tensor, got ${t.dtype}`);
    expectShape(op, name, t.shape, [C]);
  }
}

/**
 * y = (x - mean) / sqrt(var + eps) * weight + bias, per channel of x [N, C, ...rest]. Training uses the
 * batch mean and biased variance, stores them in state.saveMean / saveInvStd for the backward, and moves
 * the running mean and the running UNBIASED variance by `momentum`, as PyTorch. Eval uses the running
 * statistics and leaves saveMean / saveInvStd alone.
 */
export function batchNormForward(x: Tensor, weight: Tensor, bias: Tensor, y: Tensor, state: BatchNormState, opts: BatchNormOptions): void {
  const op = 'batchNormForward';
  const [N, C, L] = dims(op, x);
  const { training, momentum = 0.1, eps = 1e-5 } = opts;
  if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0 && Number.isFinite(eps))) throw new RangeError(`${op}: eps must be a positive number, got ${eps}`);
  if (training && N * L < 2)
    throw new ShapeError(`${op}: x has shape ${fmtShape(x.shape)}: training needs more than one value per channel`);
  expectChannels(op, C, { weight, bias, ...state });
  expectShape(op, 'y', y.shape, x.shape);
  expectDisjoint(op, ['y', y], ['x', x], ['weight', weight], ['bias', bias], ...Object.entries(state));
  const { runningMean, runningVar, saveMean, saveInvStd } = state;
  const samples = sampleBands(N, C, L, training ? 12 : 8);
  if (samples && training) return forwardBySamples(x, weight, bias, y, state, samples, [N, C, L], momentum, eps);
  if (samples) {
    // Eval has no statistics to gather: each thread normalises its own samples with the running ones.
    getEngine().parallel(samples.map(([n0, n1]) => [
      ['batchNormForward', x.ptr + 4 * n0 * C * L, weight.ptr, bias.ptr, y.ptr + 4 * n0 * C * L, runningMean.ptr, runningVar.ptr, saveMean.ptr, saveInvStd.ptr, n1 - n0, C, L, 0, momentum, eps, C],
    ]));
    return;
  }
  // One thread, or a single sample: bands of channels. Training reads x twice and writes y; eval reads once.
  const at = (c0: number) => (t: Tensor) => t.ptr + 4 * c0;
  channelBands(N, C, L, training ? 12 : 8, (c0, c1) => {
    const [px, py] = [x, y].map((t) => t.ptr + 4 * c0 * L);
    const [w, b, rm, rv, sm, si] = [weight, bias, runningMean, runningVar, saveMean, saveInvStd].map(at(c0));
    return ['batchNormForward', px, w, b, py, rm, rv, sm, si, N, c1 - c0, L, training ? 1 : 0, momentum, eps, C];
  });
}

/**
 * Bands of whole samples, one per thread, when the engine has threads, the call moves enough bytes
 * and there are samples to share; else null (one thread, or bands of channels). The convolutions,
 * activations and residual adds around a batch norm give each thread the same samples, so a thread
 * reads what it wrote; bands of channels read half their rows from the other core, which left
 * BC-ResNet-3's batch norms no faster on two threads than on one (docs/threads.md).
 */
function sampleBands(N: number, C: number, L: number, bytesPerElement: number): Array<[number, number]> | null {
  const engine = getEngine();
  const parts = partsFor(engine.threads, streamMicros(bytesPerElement * N * C * L), N);
  return parts > 1 ? ranges(N, parts) : null;
}

/** Per channel, the f64 sum over samples of a [N, C] (stride `stride`) array of per-row results, in sample order. */
function sumOverSamples(rows: Float64Array, N: number, C: number, stride = 1, offset = 0): Float64Array {
  const sums = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) sums[c] += rows[(n * C + c) * stride + offset];
  return sums;
}

/**
 * The training forward on bands of samples: the rows' sums, then their squared deviations, each added
 * here per channel in sample order, then the normalisation; the arithmetic of batchNormForward in
 * assembly/batchnorm.ts, step for step, so the results are the same to the bit.
 */
function forwardBySamples(
  x: Tensor, weight: Tensor, bias: Tensor, y: Tensor, state: BatchNormState, bands: Array<[number, number]>, [N, C, L]: [number, number, number], momentum: number, eps: number,
): void {
  const engine = getEngine();
  const rows = engine.scratch(8 * N * C);
  const sample = 4 * C * L;
  const count = N * L;
  const { runningMean, runningVar, saveMean, saveInvStd } = state;
  engine.parallel(bands.map(([n0, n1]) => [['batchNormRowSums', x.ptr + sample * n0, rows + 8 * C * n0, n1 - n0, C, L]]));
  const sums = sumOverSamples(engine.f64(rows, N * C), N, C);
  const mean = saveMean.f32;
  for (let c = 0; c < C; c++) mean[c] = sums[c] / count;
  engine.parallel(bands.map(([n0, n1]) => [['batchNormRowSqDevs', x.ptr + sample * n0, saveMean.ptr, rows + 8 * C * n0, n1 - n0, C, L]]));
  const q = sumOverSamples(engine.f64(rows, N * C), N, C);
  // The kernel takes momentum and eps as f32.
  const [m, e] = [Math.fround(momentum), Math.fround(eps)];
  const [invStd, rm, rv] = [saveInvStd.f32, runningMean.f32, runningVar.f32];
  for (let c = 0; c < C; c++) {
    invStd[c] = 1 / Math.sqrt(q[c] / count + e);
    rm[c] = (1 - m) * rm[c] + m * mean[c];
    rv[c] = (1 - m) * rv[c] + m * (q[c] / (count - 1));
  }
  engine.parallel(bands.map(([n0, n1]) => [
    ['batchNormRowApply', x.ptr + sample * n0, weight.ptr, bias.ptr, saveMean.ptr, saveInvStd.ptr, y.ptr + sample * n0, n1 - n0, C, L],
  ]));
}

// Runs one call per band of channels, one band per thread when the call is large enough (estimated
// from the bytes per element it moves); every channel is computed as on one thread.
function channelBands(N: number, C: number, L: number, bytesPerElement: number, call: (c0: number, c1: number) => KernelCall): void {
  const engine = getEngine();
  const parts = partsFor(engine.threads, streamMicros(bytesPerElement * N * C * L), C);
  engine.parallel(ranges(C, parts).map(([c0, c1]) => [call(c0, c1)]));
}

/**
 * Gradients of sum(dy * y) through a training-mode forward (its saved batch statistics): dx (skipped
 * when null; it may be dy itself), dweight and dbias [C] (each skipped when null); all overwritten.
 */
export function batchNormBackward(
  x: Tensor, weight: Tensor, dy: Tensor, state: BatchNormState, dx: Tensor | null, dweight: Tensor | null, dbias: Tensor | null,
): void {
  const op = 'batchNormBackward';
  const [N, C, L] = dims(op, x);
  expectChannels(op, C, { weight, saveMean: state.saveMean, saveInvStd: state.saveInvStd, dweight, dbias });
  expectShape(op, 'dy', dy.shape, x.shape);
  if (dx) expectShape(op, 'dx', dx.shape, x.shape);
  const inputs: [string, Tensor][] = [['x', x], ['weight', weight], ['dy', dy], ['saveMean', state.saveMean], ['saveInvStd', state.saveInvStd]];
  // dx may be dy itself (a batch norm that adopted its gradient's memory): the pass that writes dx reads
  // each dy just before writing dx in its place. Same shape: the same start is the same memory.
  const inPlace = dx !== null && dx.ptr === dy.ptr;
  for (const [name, out] of [['dx', dx], ['dweight', dweight], ['dbias', dbias]] as const)
    if (out) expectDisjoint(op, [name, out], ...inputs.filter(([n]) => !(inPlace && name === 'dx' && n === 'dy')));
  // Reads x and dy twice (sums, then dx) and writes dx.
  const samples = sampleBands(N, C, L, dx ? 20 : 8);
  if (samples) return backwardBySamples(x, weight, dy, state, dx, dweight, dbias, samples, [N, C, L]);
  const at = (c0: number, t: Tensor | null, per: number) => (t ? t.ptr + 4 * c0 * per : 0);
  channelBands(N, C, L, dx ? 20 : 8, (c0, c1) => [
    'batchNormBackward', at(c0, x, L), at(c0, weight, 1), at(c0, dy, L), at(c0, state.saveMean, 1), at(c0, state.saveInvStd, 1),
    at(c0, dx, L), at(c0, dweight, 1), at(c0, dbias, 1), N, c1 - c0, L, C,
  ]);
}

/**
 * The backward on bands of samples: the rows' two sums, added here per channel in sample order, the
 * per-channel constants folded as batchNormBackward folds them, then dx. The same bits as one thread.
 */
function backwardBySamples(
  x: Tensor, weight: Tensor, dy: Tensor, state: BatchNormState, dx: Tensor | null, dweight: Tensor | null, dbias: Tensor | null,
  bands: Array<[number, number]>, [N, C, L]: [number, number, number],
): void {
  const engine = getEngine();
  // Two f64 sums a row, then each channel's three f32 constants for the dx pass.
  const rows = engine.scratch(16 * N * C + 12 * C);
  const consts = rows + 16 * N * C;
  const sample = 4 * C * L;
  const count = N * L;
  engine.parallel(bands.map(([n0, n1]) => [['batchNormRowGradSums', x.ptr + sample * n0, dy.ptr + sample * n0, state.saveMean.ptr, rows + 16 * C * n0, n1 - n0, C, L]]));
  const sumRows = engine.f64(rows, 2 * N * C);
  const [sdy, sdyx] = [sumOverSamples(sumRows, N, C, 2, 0), sumOverSamples(sumRows, N, C, 2, 1)];
  const [w, invStd, folded, dwv, dbv] = [weight.f32, state.saveInvStd.f32, engine.f32(consts, 3 * C), dweight?.f32, dbias?.f32];
  for (let c = 0; c < C; c++) {
    const dw = sdyx[c] * invStd[c];
    if (dwv) dwv[c] = dw;
    if (dbv) dbv[c] = sdy[c];
    // dx = k * dy + kx * (x - mean) + k0, in the kernel's f64 steps, each rounded to f32 where it rounds.
    const k = Math.fround(w[c] * invStd[c]);
    folded[3 * c] = k;
    folded[3 * c + 1] = (-k * dw * invStd[c]) / count;
    folded[3 * c + 2] = (-k * sdy[c]) / count;
  }
  if (!dx) return;
  engine.parallel(bands.map(([n0, n1]) => [
    ['batchNormRowDx', x.ptr + sample * n0, dy.ptr + sample * n0, dx.ptr + sample * n0, state.saveMean.ptr, consts, n1 - n0, C, L],
  ]));
}
