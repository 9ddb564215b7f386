import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { reluForward } from '../src/kernels/activation.js';
import type { BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

export const suite: BenchSuite = {
  name: 'ReLU (memory-bound)',
  async run(options) {
    const n = options.quick ? 1 << 16 : 1 << 21;
    const values: Record<string, number> = {};
    for (const flavor of ['relaxed', 'simd'] as const) {
      await engineFor(flavor);
      const x = Tensor.zeros([n]);
      const y = Tensor.zeros([n]);
      values[flavor] = (8 * n) / (await secondsPerCall(() => reluForward(x, y), options)) / 1e9;
      x.free();
      y.free();
    }
    const xs = new Float32Array(n);
    const ys = new Float32Array(n);
    values.js = (8 * n) / (await secondsPerCall(() => { for (let i = 0; i < n; i++) ys[i] = xs[i] > 0 ? xs[i] : 0; }, options)) / 1e9;
    return [{ case: `relu forward n=${n}`, unit: 'GB/s', values }];
  },
};
