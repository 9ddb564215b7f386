import './setup.js';
import type { Tensor } from '../src/engine/tensor.js';
import type { ForwardContext } from '../src/layers/layer.js';
import { allLayers } from '../src/layers/layer.js';
import { Network } from '../src/models/network.js';
import type { BenchRow, BenchSuite } from './harness.js';
import { rig, type Variant } from './models.bench.js';
import { engineFor } from './setup.js';

// What the spike-sparse paths (assembly/conv-sparse*.ts) give a whole SNN: one training step and one
// inference pass at batch 16, with the cost model choosing per call ('auto') against the dense path
// forced everywhere ('dense', setSparsePolicy(1)), interleaved round by round in one process (relaxed
// build). The note gives the non-zero fraction of each spike-fed convolution's or linear layer's input
// in a training step (inference differs: batch norm then uses its running statistics).
const variants: Variant[] = [
  { name: 'm5', spiking: true, steps: 5 },
  { name: 'hjh', spiking: true, steps: 5 },
  { name: 'tcresnet8', spiking: true, steps: 5 },
  { name: 'bcresnet', spiking: true, steps: 5 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// The non-zero fraction of the inputs of the layers that take spikes and have weights (inside blocks
// too); past six layers, their range.
function inputDensities(model: Network, run: () => void): string {
  const seen: [string, number][] = [];
  const restore = allLayers(model.layers).map((layer) => {
    const forward = layer.forward.bind(layer);
    if (layer.sublayers || layer.parameters().length === 0) return () => {};
    layer.forward = (x: Tensor, ctx: ForwardContext) => {
      if (ctx.spikesIn) {
        let nonZero = 0;
        for (const v of x.f32) if (v !== 0) nonZero++;
        seen.push([layer.name, (100 * nonZero) / x.size]);
      }
      return forward(x, ctx);
    };
    return () => void (layer.forward = forward);
  });
  run();
  restore.forEach((r) => r());
  if (seen.length === 0) return 'no layer takes spikes';
  if (seen.length <= 6) return `non-zero inputs: ${seen.map(([name, p]) => `${name} ${p.toFixed(0)}%`).join(', ')}`;
  const ps = seen.map(([, p]) => p);
  return `non-zero inputs of ${seen.length} spike-fed layers: ${Math.min(...ps).toFixed(0)}-${Math.max(...ps).toFixed(0)}%`;
}

export const suite: BenchSuite = {
  name: 'Spike-sparse paths in whole SNNs at batch 16 (relaxed build, one thread)',
  async run(options) {
    const engine = await engineFor('relaxed');
    const rounds = options.quick ? 1 : 7;
    const rows: BenchRow[] = [];
    for (const v of options.quick ? variants.slice(1, 2) : variants) {
      const r = rig(v);
      const note = inputDensities(r.model as Network, r.trainStep);
      const t: Record<string, number[]> = { trainDense: [], trainAuto: [], inferDense: [], inferAuto: [] };
      const time = (f: () => void) => {
        const s = performance.now();
        f();
        return performance.now() - s;
      };
      r.trainStep();
      for (let i = 0; i < rounds; i++) {
        engine.kernels.setSparsePolicy(1);
        t.trainDense.push(time(r.trainStep));
        t.inferDense.push(time(r.infer));
        engine.kernels.setSparsePolicy(0);
        t.trainAuto.push(time(r.trainStep));
        t.inferAuto.push(time(r.infer));
      }
      r.dispose();
      const label = `${v.name} SNN T=${v.steps}`;
      const ratio = (dense: number[], auto: number[]) => ({ 'dense/auto': `${(median(dense) / median(auto)).toFixed(2)}x` });
      rows.push({ case: `${label} training step`, unit: 'ms', values: { dense: median(t.trainDense), auto: median(t.trainAuto) }, cells: ratio(t.trainDense, t.trainAuto), note });
      rows.push({ case: `${label} inference`, unit: 'ms', values: { dense: median(t.inferDense), auto: median(t.inferAuto) }, cells: ratio(t.inferDense, t.inferAuto) });
    }
    return rows;
  },
};
