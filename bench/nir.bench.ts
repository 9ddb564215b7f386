// A model read from a NIR file against the same model built natively: inference at batch 16 on the
// relaxed-SIMD build, both measured in this run, interleaved (native, imported, native, ...). importNir
// rebuilds the layers the graph names (test/nir.test.ts checks the classes match), so the two run the
// same kernels and the ratio should be near 1.
import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import type { ModelName } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import { exportNir } from '../src/nir/export.js';
import { importNir } from '../src/nir/import.js';
import { type BenchOptions, type BenchRow, type BenchSuite, randArray, secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

const BATCH = 16;

export const suite: BenchSuite = {
  name: `NIR: a model imported from NIR against the same model built natively, inference at batch ${BATCH} (one thread)`,
  async run(all) {
    const options: BenchOptions = all.quick ? { ...all, time: 1 } : all;
    const rounds = all.quick ? 1 : 3;
    await engineFor('relaxed');
    const rows: BenchRow[] = [];
    const names: ModelName[] = all.quick ? ['tcy'] : ['hjh', 'm5', 'tcresnet8', 'tcy'];
    for (const name of names) {
      const native = createModel(name, { classes: 35, seed: 1, spiking: true, steps: 5 });
      const imported = (await importNir(await exportNir(native))).model;
      const x = Tensor.from(randArray(BATCH * native.inputShape.reduce((a, b) => a * b, 1), 3), [BATCH, ...native.inputShape]);
      try {
        native.eval();
        imported.eval();
        const ours: number[] = [];
        const theirs: number[] = [];
        for (let r = 0; r < rounds; r++) {
          ours.push(BATCH / (await secondsPerCall(() => native.forward(x), options)));
          theirs.push(BATCH / (await secondsPerCall(() => imported.forward(x), options)));
        }
        const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
        const ratio = median(theirs) / median(ours);
        rows.push({
          case: `${name} SNN T=5 inference`,
          unit: 'samples/s',
          values: { native: median(ours), 'from NIR': median(theirs) },
          cells: { 'from NIR / native': ratio.toFixed(2) },
          note: `median of ${rounds} interleaved round${rounds === 1 ? '' : 's'}`,
        });
      } finally {
        x.free();
        native.dispose();
        imported.dispose();
      }
    }
    return rows;
  },
};
