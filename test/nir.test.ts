// NIR export and import (src/nir): every zoo SNN NIR can express round-trips with the same outputs; the
// others are refused naming the layer; a hand-broken graph is refused naming the node.
import { describe, expect, it, beforeAll } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import type { Model, ModelConfig, ModelName } from '../src/models/types.js';
import { exportNir, importNir } from '../src/index.js';
import { randArray } from './helpers.js';

function logits(model: Model, x: Float32Array, batch = 2): Float32Array {
  model.eval();
  const input = Tensor.from(x, [batch, ...model.inputShape]);
  const out = model.forward(input).toArray();
  input.free();
  return out;
}

interface Case {
  name: ModelName;
  options: Partial<ModelConfig>;
  /** No batch norm is folded on the way: the outputs must be bit-identical. */
  exact: boolean;
}

/** The zoo SNNs NIR expresses (docs/nir.md); classes kept small so the test is quick. */
const EXPORTABLE: Case[] = [
  { name: 'hjh', options: { spiking: true, steps: 4 }, exact: false },
  { name: 'm5', options: { spiking: true, steps: 3 }, exact: false },
  { name: 'tcresnet8', options: { spiking: true, steps: 4 }, exact: false },
  { name: 'tcresnet8', options: { spiking: true, converted: true, steps: 4 }, exact: true },
  { name: 'hjh', options: { spiking: true, steps: 4, beta: 0.8125, threshold: 0.75, form: 'legacy', reset: 'zero' }, exact: false },
];

/** The others, with the layer each refusal must name. */
const REFUSED: [ModelName, Partial<ModelConfig>, RegExp][] = [
  ['piczak', { spiking: true }, /pool1: NIR has no max pool node/],
  ['hjh-scnn', {}, /relu1: a ReLU layer has no NIR node/],
  ['tcy', { spiking: true }, /avgpool: adaptive average pooling to \[10,10\]/],
  ['m5', { spiking: true, converted: true }, /pool1: a SpikeMaxPool1d layer has no NIR node/],
  ['hjh', {}, /is a CNN/],
];

describe('NIR export and import', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  for (const c of EXPORTABLE) {
    it(`${c.name} ${JSON.stringify(c.options)} round-trips with ${c.exact ? 'bit-identical' : 'the same'} outputs`, async () => {
      const model = createModel(c.name, { classes: 3, seed: 7, ...c.options });
      try {
        const x = randArray(2 * model.inputShape.reduce((a, b) => a * b, 1), 11, 0, 2);
        const before = logits(model, x);
        const bytes = await exportNir(model, { classNames: ['a', 'b', 'c'], features: featuresFor(c.name) });
        const back = await importNir(bytes);
        try {
          expect(back.fromSnnVoice).toBe(true);
          expect(back.classNames).toEqual(['a', 'b', 'c']);
          expect(back.model.steps).toBe(model.steps);
          const after = logits(back.model, x);
          if (c.exact) expect(Array.from(after)).toEqual(Array.from(before));
          else for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i], 3);
        } finally {
          back.model.dispose();
        }
      } finally {
        model.dispose();
      }
    }, 120_000);
  }

  for (const [name, options, message] of REFUSED) {
    it(`${name} ${JSON.stringify(options)} is refused, naming the layer`, async () => {
      const model = createModel(name, { classes: 3, ...options });
      try {
        await expect(exportNir(model)).rejects.toThrow(message);
      } finally {
        model.dispose();
      }
    });
  }
});
