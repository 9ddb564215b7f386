import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { reluForward } from '../src/kernels/activation.js';
import { selectByBits, spikeWords } from '../src/kernels/spike-bits.js';
import type { BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

// A training pass's ReLU also writes the mask (x > 0) as bits, and its backward passes dy through it
// (selectByBits): GB/s counts x and y (8 bytes a value), or dy and dx, the mask's 1/32 left out.
export const suite: BenchSuite = {
  name: 'ReLU (memory-bound)',
  async run(options) {
    const n = options.quick ? 1 << 16 : 1 << 21;
    const values: Record<string, number> = {};
    const masked: Record<string, number> = {};
    const select: Record<string, number> = {};
    const xs = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898));
    for (const flavor of ['relaxed', 'simd'] as const) {
      await engineFor(flavor);
      const x = Tensor.from(xs, [n]);
      const y = Tensor.zeros([n]);
      const mask = Tensor.empty([spikeWords(n)], 'i32');
      values[flavor] = (8 * n) / (await secondsPerCall(() => reluForward(x, y), options)) / 1e9;
      masked[flavor] = (8 * n) / (await secondsPerCall(() => reluForward(x, y, mask), options)) / 1e9;
      select[flavor] = (8 * n) / (await secondsPerCall(() => selectByBits(mask, x, y), options)) / 1e9;
      for (const t of [x, y, mask]) t.free();
    }
    const ys = new Float32Array(n);
    const bits = new Int32Array(spikeWords(n));
    values.js = (8 * n) / (await secondsPerCall(() => { for (let i = 0; i < n; i++) ys[i] = xs[i] > 0 ? xs[i] : 0; }, options)) / 1e9;
    masked.js = (8 * n) / (await secondsPerCall(() => {
      bits.fill(0);
      for (let i = 0; i < n; i++) {
        const v = xs[i];
        ys[i] = v > 0 ? v : 0;
        if (v > 0) bits[i >> 5] |= 1 << (i & 31);
      }
    }, options)) / 1e9;
    select.js = (8 * n) / (await secondsPerCall(() => { for (let i = 0; i < n; i++) ys[i] = (bits[i >> 5] >>> (i & 31)) & 1 ? xs[i] : 0; }, options)) / 1e9;
    return [
      { case: `relu forward n=${n}`, unit: 'GB/s', values },
      { case: `relu forward with its mask as bits n=${n}`, unit: 'GB/s', values: masked },
      { case: `relu backward through the mask (selectByBits) n=${n}`, unit: 'GB/s', values: select },
    ];
  },
};
