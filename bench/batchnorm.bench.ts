import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { type BatchNormState, batchNormBackward, batchNormForward } from '../src/kernels/batchnorm.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { randArray, secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

// GB/s counts the bytes a kernel must move at least once: forward reads x and writes y (8 bytes a
// value), backward reads x and dy and writes dx (12).
// Hjh normalises each of its 5 steps of 16 samples on its own: one call per step. BC-ResNet-3's
// sub-spectral norm sees [C·5, F/5, T] (its first stage's 24 channels over 20 bands), its stem's norm
// the whole [48, 20, 101] map.
const shapes: { name: string; shape: number[] }[] = [
  { name: 'Hjh bn1 training, one step', shape: [16, 8, 60, 134] },
  { name: 'Hjh bn2 training, one step', shape: [16, 16, 30, 67] },
  { name: 'M5 bn training', shape: [16, 128, 1000] },
  { name: 'BC-ResNet-3 block1.ssn training, one step', shape: [16, 120, 4, 101] },
  { name: 'BC-ResNet-3 bn0 training', shape: [16, 48, 20, 101] },
];

// Plain-JavaScript baselines: the same loops a careful JS author would write.
function jsBatchNorm(x: Float32Array, y: Float32Array, N: number, C: number, L: number, mean: Float32Array, invStd: Float32Array): void {
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let l = 0, o = (n * C + c) * L; l < L; l++) s += x[o + l];
    const m = s / (N * L);
    let q = 0;
    for (let n = 0; n < N; n++) for (let l = 0, o = (n * C + c) * L; l < L; l++) q += (x[o + l] - m) ** 2;
    const inv = 1 / Math.sqrt(q / (N * L) + 1e-5);
    mean[c] = m;
    invStd[c] = inv;
    for (let n = 0; n < N; n++) for (let l = 0, o = (n * C + c) * L; l < L; l++) y[o + l] = (x[o + l] - m) * inv;
  }
}

function jsBatchNormBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, N: number, C: number, L: number, mean: Float32Array, invStd: Float32Array): void {
  const count = N * L;
  for (let c = 0; c < C; c++) {
    let sdy = 0;
    let sdyx = 0;
    for (let n = 0; n < N; n++)
      for (let l = 0, o = (n * C + c) * L; l < L; l++) {
        sdy += dy[o + l];
        sdyx += dy[o + l] * (x[o + l] - mean[c]) * invStd[c];
      }
    for (let n = 0; n < N; n++)
      for (let l = 0, o = (n * C + c) * L; l < L; l++)
        dx[o + l] = invStd[c] * (dy[o + l] - sdy / count - (x[o + l] - mean[c]) * invStd[c] * (sdyx / count));
  }
}

const gbps = (bytes: number, seconds: number) => bytes / seconds / 1e9;

export const suite: BenchSuite = {
  name: 'Batch norm (memory-bound, one thread)',
  async run(all) {
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const rows: BenchRow[] = [];
    for (const { name: label, shape } of options.quick ? shapes.slice(0, 2) : shapes) {
      const [N, C] = shape;
      const size = shape.reduce((a, b) => a * b, 1);
      const L = size / (N * C);
      const xs = randArray(size, 3);
      const fwd: Record<string, number> = {};
      const bwd: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        await engineFor(flavor);
        const x = Tensor.from(xs, shape);
        const y = Tensor.empty(shape);
        const dy = Tensor.from(randArray(size, 4), shape);
        const dx = Tensor.empty(shape);
        const [w, b, dw, db] = [Tensor.empty([C]).fill(1), Tensor.zeros([C]), Tensor.empty([C]), Tensor.empty([C])];
        const state: BatchNormState = { runningMean: Tensor.zeros([C]), runningVar: Tensor.empty([C]).fill(1), saveMean: Tensor.empty([C]), saveInvStd: Tensor.empty([C]) };
        fwd[flavor] = gbps(8 * size, await secondsPerCall(() => batchNormForward(x, w, b, y, state, { training: true }), options));
        bwd[flavor] = gbps(12 * size, await secondsPerCall(() => batchNormBackward(x, w, dy, state, dx, dw, db), options));
        for (const t of [x, y, dy, dx, w, b, dw, db, ...Object.values(state)]) t.free();
      }
      const y = new Float32Array(size);
      const dy = randArray(size, 4);
      const dx = new Float32Array(size);
      const mean = new Float32Array(C);
      const invStd = new Float32Array(C);
      fwd.js = gbps(8 * size, await secondsPerCall(() => jsBatchNorm(xs, y, N, C, L, mean, invStd), options));
      bwd.js = gbps(12 * size, await secondsPerCall(() => jsBatchNormBackward(xs, dy, dx, N, C, L, mean, invStd), options));
      const name = `${label} [${shape.join(',')}]`;
      const ms = (bytes: number, v: number) => `relaxed ${((bytes / v / 1e9) * 1e3).toFixed(2)} ms per call`;
      rows.push(
        { case: `${name} forward`, unit: 'GB/s', values: fwd, note: ms(8 * size, fwd.relaxed) },
        { case: `${name} backward`, unit: 'GB/s', values: bwd, note: ms(12 * size, bwd.relaxed) },
      );
    }
    return rows;
  },
};
