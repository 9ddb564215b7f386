import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { linearBackward, linearForward } from '../src/kernels/linear.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

// Linear layers fed spikes at 80 rows (T = 5 steps of batch 16): the cost model (assembly/
// conv-sparse-gemm.ts) picks the sparse path or the GEMM per call; 'relaxed dense' forces the GEMM on
// the same spikes (setSparsePolicy(1)). GFLOP/s counts the dense operations, as the conv bench does.
interface Case { name: string; N: number; In: number; Out: number; spikes: number }

const cases: Case[] = [
  { name: 'M5 SNN fc [80,512]->35', N: 80, In: 512, Out: 35, spikes: 0.15 },
  { name: 'linear [80,2000]->500', N: 80, In: 2000, Out: 500, spikes: 0.15 },
  { name: 'linear [80,2000]->500', N: 80, In: 2000, Out: 500, spikes: 0.4 },
];

export const suite: BenchSuite = {
  name: 'Linear layers on spikes (one thread)',
  async run(all) {
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const rows: BenchRow[] = [];
    for (const c of options.quick ? cases.slice(0, 2) : cases) {
      const flop = 2 * c.N * c.In * c.Out;
      const fwd: Record<string, number> = {};
      const dw: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        const engine = await engineFor(flavor);
        const x = Tensor.zeros([c.N, c.In]);
        // A fixed scatter of spikes: Weyl sequence of the golden ratio.
        for (let i = 0; i < x.size; i++) x.f32[i] = (i * 0.6180339887) % 1 < c.spikes ? 1 : 0;
        const w = Tensor.zeros([c.Out, c.In]).fill(0.01);
        const b = Tensor.zeros([c.Out]);
        const y = Tensor.zeros([c.N, c.Out]).fill(0.5);
        const gw = Tensor.zeros([c.Out, c.In]);
        const gb = Tensor.zeros([c.Out]);
        const time = async (label: string) => {
          fwd[label] = flop / (await secondsPerCall(() => linearForward(x, w, b, y), options)) / 1e9;
          dw[label] = flop / (await secondsPerCall(() => linearBackward(x, w, y, null, gw, gb), options)) / 1e9;
        };
        await time(flavor);
        if (flavor === 'relaxed') {
          engine.kernels.setSparsePolicy(1);
          await time('relaxed dense');
          engine.kernels.setSparsePolicy(0);
        }
        for (const t of [x, w, b, y, gw, gb]) t.free();
      }
      const name = `${c.name}, ${c.spikes * 100}% spikes`;
      rows.push({ case: `${name} forward`, unit: 'GFLOP/s', values: fwd });
      rows.push({ case: `${name} dw (and db)`, unit: 'GFLOP/s', values: dw });
    }
    return rows;
  },
};
