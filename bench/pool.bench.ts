import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import {
  type Pool2dOptions, adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, maxPool2dBackward, maxPool2dForward, maxPool2dOutputShape,
} from '../src/kernels/pool.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { randArray, secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

// Memory-bound kernels: GB/s counts the bytes a kernel must move at least once (inputs read, outputs
// written), so the figure compares contenders, not cache traffic.

interface PoolCase { name: string; x: [number, number, number, number]; opts: Pool2dOptions }

// Hjh's training step pools 16 samples x 5 steps = 80 rows after conv1.
const pools: PoolCase[] = [
  { name: 'Hjh maxpool2d [80,8,60,134] 2x2', x: [80, 8, 60, 134], opts: { kernel: [2, 2] } },
  { name: 'M5 maxpool1d [16,128,1000] k4', x: [16, 128, 1, 1000], opts: { kernel: [1, 4] } },
  { name: 'Piczak maxpool2d [16,80,4,129] (4,3) s(1,3)', x: [16, 80, 4, 129], opts: { kernel: [4, 3], stride: [1, 3] } },
];

// Plain-JavaScript baselines: the same loops a careful JS author would write.
function jsMaxPool(x: Float32Array, y: Float32Array, arg: Int32Array, [N, C, H, W]: number[], o: Pool2dOptions, OH: number, OW: number): void {
  const [KH, KW] = o.kernel;
  const [SH, SW] = o.stride ?? o.kernel;
  for (let p = 0; p < N * C; p++) {
    const xp = p * H * W;
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let best = oh * SH * W + ow * SW;
        let m = x[xp + best];
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const i = (oh * SH + kh) * W + ow * SW + kw;
            const v = x[xp + i];
            if (v > m) {
              m = v;
              best = i;
            }
          }
        const o = (p * OH + oh) * OW + ow;
        y[o] = m;
        arg[o] = best;
      }
  }
}

function jsMaxPoolBackward(dy: Float32Array, arg: Int32Array, dx: Float32Array, P: number, plane: number, oplane: number): void {
  dx.fill(0);
  for (let p = 0; p < P; p++) for (let i = 0; i < oplane; i++) dx[p * plane + arg[p * oplane + i]] += dy[p * oplane + i];
}

function jsGlobalAvgPool(x: Float32Array, y: Float32Array, P: number, plane: number): void {
  for (let p = 0; p < P; p++) {
    let s = 0;
    for (let i = p * plane, end = i + plane; i < end; i++) s += x[i];
    y[p] = s / plane;
  }
}

function jsGlobalAvgPoolBackward(dy: Float32Array, dx: Float32Array, P: number, plane: number): void {
  for (let p = 0; p < P; p++) dx.fill(dy[p] / plane, p * plane, (p + 1) * plane);
}

const gbps = (bytes: number, seconds: number) => bytes / seconds / 1e9;
const ms = (bytes: number, v: number) => `relaxed ${((bytes / v / 1e9) * 1e3).toFixed(2)} ms per call`;

export const suite: BenchSuite = {
  name: 'Max pool (memory-bound, one thread)',
  async run(all) {
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const rows: BenchRow[] = [];
    for (const c of options.quick ? pools.slice(0, 2) : pools) {
      const yShape = maxPool2dOutputShape(c.x, c.opts);
      const size = c.x.reduce((a, b) => a * b, 1);
      const outSize = yShape.reduce((a, b) => a * b, 1);
      const xs = randArray(size, 1);
      const fwd: Record<string, number> = {};
      const bwd: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        await engineFor(flavor);
        const x = Tensor.from(xs, c.x);
        const y = Tensor.empty(yShape);
        const arg = Tensor.empty(yShape, 'i32');
        const dy = Tensor.from(randArray(outSize, 2), yShape);
        const dx = Tensor.empty(c.x);
        fwd[flavor] = gbps(4 * size + 8 * outSize, await secondsPerCall(() => maxPool2dForward(x, y, arg, c.opts), options));
        bwd[flavor] = gbps(8 * outSize + 4 * size, await secondsPerCall(() => maxPool2dBackward(dy, arg, dx), options));
        for (const t of [x, y, arg, dy, dx]) t.free();
      }
      const y = new Float32Array(outSize);
      const arg = new Int32Array(outSize);
      const dy = randArray(outSize, 2);
      const dx = new Float32Array(size);
      fwd.js = gbps(4 * size + 8 * outSize, await secondsPerCall(() => jsMaxPool(xs, y, arg, c.x, c.opts, yShape[2], yShape[3]), options));
      bwd.js = gbps(8 * outSize + 4 * size, await secondsPerCall(() => jsMaxPoolBackward(dy, arg, dx, c.x[0] * c.x[1], c.x[2] * c.x[3], yShape[2] * yShape[3]), options));
      rows.push(
        { case: `${c.name} forward`, unit: 'GB/s', values: fwd, note: ms(4 * size + 8 * outSize, fwd.relaxed) },
        { case: `${c.name} backward`, unit: 'GB/s', values: bwd, note: ms(8 * outSize + 4 * size, bwd.relaxed) },
      );
    }
    // Hjh's global average pool after conv2: [80,16,30,67] -> [80,16,1,1].
    {
      const shape = [80, 16, 30, 67];
      const P = shape[0] * shape[1];
      const size = shape.reduce((a, b) => a * b, 1);
      const xs = randArray(size, 5);
      const gs = randArray(P, 6);
      const fwd: Record<string, number> = {};
      const bwd: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        await engineFor(flavor);
        const x = Tensor.from(xs, shape);
        const y = Tensor.empty([shape[0], shape[1], 1, 1]);
        const dy = Tensor.from(gs, y.shape);
        const dx = Tensor.empty(shape);
        fwd[flavor] = gbps(4 * size, await secondsPerCall(() => adaptiveAvgPool2dForward(x, y), options));
        bwd[flavor] = gbps(4 * size, await secondsPerCall(() => adaptiveAvgPool2dBackward(dy, dx), options));
        for (const t of [x, y, dy, dx]) t.free();
      }
      const plane = size / P;
      const y = new Float32Array(P);
      const dx = new Float32Array(size);
      fwd.js = gbps(4 * size, await secondsPerCall(() => jsGlobalAvgPool(xs, y, P, plane), options));
      bwd.js = gbps(4 * size, await secondsPerCall(() => jsGlobalAvgPoolBackward(gs, dx, P, plane), options));
      const name = `Hjh adaptive avg pool [${shape.join(',')}] -> 1x1`;
      rows.push(
        { case: `${name} forward`, unit: 'GB/s', values: fwd, note: ms(4 * size, fwd.relaxed) },
        { case: `${name} backward`, unit: 'GB/s', values: bwd, note: ms(4 * size, bwd.relaxed) },
      );
    }
    return rows;
  },
};
