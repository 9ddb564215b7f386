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

/**
 * The zoo SNNs NIR expresses (docs/nir.md); classes kept small so the test is quick. Untrained weights
 * at threshold 1 leave most neurons silent, so every threshold is set to 0.1 (the converted model's too,
 * after it is built): every layer fires (checked below) and the outputs depend on the spikes.
 */
const EXPORTABLE: Case[] = [
  { name: 'hjh', options: { spiking: true, steps: 4, threshold: 0.1 }, exact: false },
  { name: 'm5', options: { spiking: true, steps: 3, threshold: 0.1 }, exact: false },
  { name: 'tcresnet8', options: { spiking: true, steps: 4, threshold: 0.1 }, exact: false },
  { name: 'tcresnet8', options: { spiking: true, converted: true, steps: 4 }, exact: true },
  { name: 'hjh', options: { spiking: true, steps: 4, beta: 0.8125, threshold: 0.1, form: 'legacy', reset: 'zero' }, exact: false },
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
      for (const b of model.buffers()) if (b.name.endsWith('.threshold')) b.value.f32.fill(0.1);
      try {
        const x = randArray(2 * model.inputShape.reduce((a, b) => a * b, 1), 11, 0, 4);
        model.countActivity = true;
        const before = logits(model, x);
        for (const layer of model.activity().layers) if (layer.spikeRate !== undefined) expect(layer.spikeRate, layer.name).toBeGreaterThan(0);
        // The two samples' logits differ: spikes, not the biases alone, make them.
        expect(Array.from(before.subarray(0, 3))).not.toEqual(Array.from(before.subarray(3)));
        const bytes = await exportNir(model, { classNames: ['a', 'b', 'c'], features: featuresFor(c.name) });
        const back = await importNir(bytes);
        try {
          expect(back.fromSnnVoice).toBe(true);
          expect(back.classNames).toEqual(['a', 'b', 'c']);
          expect(back.model.steps).toBe(model.steps);
          const after = logits(back.model, x);
          if (c.exact) expect(Array.from(after)).toEqual(Array.from(before));
          // Folding a batch norm rounds differently; no spike may flip, so the logits agree closely.
          else for (let i = 0; i < before.length; i++) expect(Math.abs(after[i] - before[i])).toBeLessThan(1e-4);
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
