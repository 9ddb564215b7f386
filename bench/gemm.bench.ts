import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { matmul } from '../src/kernels/gemm.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';
import { tfjsWasm } from './tfjs-wasm.js';

interface Case { name: string; M: number; N: number; K: number; transB?: boolean }

const square = (n: number): Case => ({ name: `${n}x${n}x${n}`, M: n, N: n, K: n });

// The GEMMs the zoo runs (C[M,N] = A[M,K]·B[K,N]): im2col convolutions as conv.ts lowers them
// (M = out channels, K = in channels x kernel, N = chunk of output positions), and a wide linear layer.
const modelCases: Case[] = [
  { name: 'M5 conv1 im2col 128x16000x80', M: 128, N: 16000, K: 80 },
  { name: 'M5 conv2 im2col 128x3968x384', M: 128, N: 3968, K: 384 },
  { name: 'Piczak conv1 im2col 80x8256x342', M: 80, N: 8256, K: 342 },
  { name: 'skinny 4000x128x384', M: 4000, N: 128, K: 384 },
  { name: 'linear 16x5000x5000 (x·wᵀ)', M: 16, N: 5000, K: 5000, transB: true },
];

// Plain-JavaScript baseline: i-k-j triple loop over Float32Arrays.
function jsMatmul(a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number): void {
  c.fill(0);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k];
      const row = k * N;
      const out = i * N;
      for (let j = 0; j < N; j++) c[out + j] += aik * b[row + j];
    }
}

export const suite: BenchSuite = {
  name: 'GEMM (one thread)',
  async run(all) {
    // Quick runs (the suite's smoke test) spend less time per measurement.
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const cases = options.quick
      ? [square(64), square(256), modelCases[0]]
      : [64, 128, 256, 384, 512].map(square).concat(modelCases);
    const tf = await tfjsWasm();
    const rows: BenchRow[] = [];
    for (const c of cases) {
      const flop = 2 * c.M * c.N * c.K;
      const values: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        await engineFor(flavor);
        const a = Tensor.zeros([c.M, c.K]).fill(0.5);
        const b = Tensor.zeros(c.transB ? [c.N, c.K] : [c.K, c.N]).fill(0.25);
        const out = Tensor.zeros([c.M, c.N]);
        values[flavor] = flop / (await secondsPerCall(() => matmul(a, b, out, { transB: c.transB }), options)) / 1e9;
        for (const t of [a, b, out]) t.free();
      }
      if (c.M * c.N * c.K <= 128 ** 3) {
        const a = new Float32Array(c.M * c.K).fill(0.5);
        const b = new Float32Array(c.K * c.N).fill(0.25);
        const out = new Float32Array(c.M * c.N);
        values.js = flop / (await secondsPerCall(() => jsMatmul(a, b, out, c.M, c.N, c.K), options)) / 1e9;
      }
      if (tf) {
        const a = tf.fill([c.M, c.K], 0.5);
        const b = tf.fill(c.transB ? [c.N, c.K] : [c.K, c.N], 0.25);
        values['tfjs-wasm'] = flop / (await secondsPerCall(() => tf.matMul(a, b, false, c.transB).dispose(), options)) / 1e9;
        a.dispose();
        b.dispose();
      }
      rows.push({ case: c.name, unit: 'GFLOP/s', values });
    }
    return rows;
  },
};
