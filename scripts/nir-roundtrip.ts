// How close each exportable zoo SNN comes back from NIR: `npx tsx scripts/nir-roundtrip.ts`. For each
// model (35 classes, T = 5, every threshold 0.1 so untrained layers fire, 4 random inputs) it prints
// the largest logit difference after importNir(exportNir(model)), and after the same file stripped of
// snn-voice's node metadata (the batch norm kept unfolded, the pool behind a composed Affine): the
// folded and composed weights, what another NIR reader runs.
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { exportNir, importNir } from '../src/index.js';
import type { Model, ModelConfig, ModelName } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import { type H5Group, readHdf5, writeHdf5 } from '../src/nir/hdf5.js';

const BATCH = 4;
const CASES: [ModelName, Partial<ModelConfig>][] = [
  ['hjh', {}], ['m5', {}], ['tcresnet8', {}], ['tcy', {}], ['tcresnet8', { converted: true }], ['tcy', { converted: true }],
];

function logits(model: Model, x: Float32Array): Float32Array {
  model.eval();
  const t = Tensor.from(x, [BATCH, ...model.inputShape]);
  const out = model.forward(t).toArray();
  t.free();
  return out;
}

/** The file as another reader sees it: no batch norm to unfold, no pool behind the composed Affine. */
async function withoutOurNodeMetadata(bytes: Uint8Array): Promise<Uint8Array> {
  const tree = await readHdf5(bytes);
  for (const node of ((tree.get('node') as H5Group).get('nodes') as H5Group).values()) {
    const m = node instanceof Map ? node.get('metadata') : undefined;
    if (m instanceof Map) for (const k of ['batch_norm', 'pool']) m.delete(k);
  }
  return writeHdf5(tree);
}

await initEngine({ flavor: 'simd' });
console.log('| model | max logit | snn-voice round trip: max diff (relative) | other readers: max diff (relative) |');
console.log('| --- | --- | --- | --- |');
for (const [name, options] of CASES) {
  const model = createModel(name, { classes: 35, seed: 7, spiking: true, steps: 5, threshold: 0.1, ...options });
  for (const b of model.buffers()) if (b.name.endsWith('.threshold')) b.value.f32.fill(0.1);
  let s = 12345;
  const x = new Float32Array(BATCH * model.inputShape.reduce((a, b) => a * b, 1)).map(() => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 4);
  const before = logits(model, x);
  const scale = before.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const bytes = await exportNir(model);
  const cells: string[] = [];
  for (const file of [bytes, await withoutOurNodeMetadata(bytes)]) {
    const back = (await importNir(file)).model;
    const d = logits(back, x).reduce((m, v, i) => Math.max(m, Math.abs(v - before[i])), 0);
    cells.push(d === 0 ? 'bit-identical' : `${d.toExponential(2)} (${(d / scale).toExponential(1)})`);
    back.dispose();
  }
  console.log(`| ${name}${options.converted ? ' converted' : ' SNN'} | ${scale.toFixed(3)} | ${cells.join(' | ')} |`);
  model.dispose();
}
