// A model read from a NIR file against the same model built natively: inference at batch 16 on the
// relaxed-SIMD build, both measured in this run. importNir rebuilds the layers the graph names
// (test/nir.test.ts checks the classes match), so the two run the same kernels and the ratio should be
// 1. The calls alternate one by one (native, imported, imported, native, ...) and the medians are
// compared: on a shared, loaded machine, blocks of calls timed one after the other differed by up to 4x
// either way while single interleaved calls agreed.
import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import type { Model, ModelName } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import { exportNir } from '../src/nir/export.js';
import { importNir } from '../src/nir/import.js';
import { type BenchRow, type BenchSuite, randArray } from './harness.js';
import { engineFor } from './setup.js';

const BATCH = 16;

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** Seconds of one call. */
function once(model: Model, x: Tensor): number {
  const start = performance.now();
  model.forward(x);
  return (performance.now() - start) / 1000;
}

export const suite: BenchSuite = {
  name: `NIR: a model imported from NIR against the same model built natively, inference at batch ${BATCH} (one thread)`,
  async run(all) {
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
        once(native, x); // warm-up: buffers allocated
        once(imported, x);
        const ours: number[] = [];
        const theirs: number[] = [];
        // Pairs until `time` ms per contender have passed, at least 3 (1 in quick mode) and at most 200.
        const [least, most] = all.quick ? [1, 1] : [3, 200];
        let spent = 0;
        for (let r = 0; r < most && (r < least || spent < all.time / 1000); r++) {
          const [a, b] = r % 2 === 0 ? [once(native, x), once(imported, x)] : [once(imported, x), once(native, x)].reverse();
          ours.push(a);
          theirs.push(b);
          spent += a;
        }
        const [n, i] = [BATCH / median(ours), BATCH / median(theirs)];
        rows.push({
          case: `${name} SNN T=5 inference`,
          unit: 'samples/s',
          values: { native: n, 'from NIR': i },
          cells: { 'from NIR / native': (i / n).toFixed(2) },
          note: `median of ${ours.length} interleaved calls each`,
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
