// evaluate(): loss, top-k and confusion against a hand-made example (a model whose logits are its
// input), energy from the activity report, and refusal of data that does not fit the model.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { arrayDataset } from '../src/data/dataset.js';
import { evaluate } from '../src/train/evaluate.js';
import { energyEstimate } from '../src/train/metrics.js';
import { createModel } from '../src/models/zoo.js';
import { FixedLogits, spectrograms } from './train-fixtures.js';

// Seven samples over six classes; the comment gives the rank of the true class and the prediction.
const rows: Array<[number[], number]> = [
  [[5, 1, 0, 0, 0, 0], 0], // rank 1, predicted 0
  [[1, 5, 0, 0, 0, 0], 0], // rank 2, predicted 1
  [[0, 1, 2, 3, 4, 5], 0], // rank 6, predicted 5
  [[0, 1, 2, 3, 4, 5], 1], // rank 5, predicted 5
  [[3, 2, 9, 1, 0, 0], 2], // rank 1, predicted 2
  [[3, 2, 9, 1, -1, -1], 3], // rank 4, predicted 2
  [[0, 0, 0, 0, 7, 8], 4], // rank 2, predicted 5
];

function meanCrossEntropy(): number {
  let sum = 0;
  for (const [logits, label] of rows) {
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, v) => s + Math.exp(v - max), 0));
    sum += lse - logits[label];
  }
  return sum / rows.length;
}

describe('evaluate', () => {
  const classes = ['a', 'b', 'c', 'd', 'e', 'f'];
  const data = arrayDataset(Float32Array.from(rows.flatMap(([l]) => l)), rows.map(([, y]) => y), classes, [6]);
  const report = { layers: [{ name: 'lif1', neurons: 10, spikeRate: 0.1 }], denseMacs: 1000, macs: 100, acs: 400 };

  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  for (const batchSize of [3, 7, 64]) {
    it(`scores the hand-made example (batch size ${batchSize})`, () => {
      const model = new FixedLogits(6, report);
      const r = evaluate(model, data, { batchSize });
      expect(r.samples).toBe(7);
      expect(r.top1).toBeCloseTo(2 / 7, 12);
      expect(r.top2).toBeCloseTo(4 / 7, 12);
      expect(r.top5).toBeCloseTo(6 / 7, 12);
      expect(r.loss).toBeCloseTo(meanCrossEntropy(), 5);
      expect(r.confusion).toEqual([
        [1, 1, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0],
      ]);
      expect(r.activity.samples).toBe(7);
      model.dispose();
    });
  }

  it('estimates energy per sample from the 45 nm figures', () => {
    const model = new FixedLogits(6, report);
    const { energy } = evaluate(model, data);
    expect(energy.cnnPicojoules).toBeCloseTo(1000 * 4.6, 9);
    expect(energy.snnPicojoules).toBeCloseTo(100 * 4.6 + 400 * 0.9, 9);
    expect(energy.ratio).toBeCloseTo(4600 / 820, 9);
    expect(energyEstimate({ samples: 1, layers: [], denseMacs: 0, macs: 0, acs: 0 }).ratio).toBe(0);
    model.dispose();
  });

  it('counts top-2 and top-5 as certain when there are fewer classes than k', () => {
    const two = arrayDataset(Float32Array.from([2, 1, 2, 1, 1, 2]), [0, 1, 1], ['x', 'y'], [2]);
    const model = new FixedLogits(2, report);
    const r = evaluate(model, two);
    expect([r.top1, r.top2, r.top5]).toEqual([2 / 3, 1, 1]);
    model.dispose();
  });

  it('runs in evaluation mode and restores the training mode', () => {
    const model = new FixedLogits(6, report);
    const seen: boolean[] = [];
    const forward = model.forward.bind(model);
    model.forward = (x) => (seen.push(model.training), forward(x));
    model.train();
    evaluate(model, data, { batchSize: 4 });
    expect(seen).toEqual([false, false]);
    expect(model.training).toBe(true);
    model.dispose();
  });

  it('refuses data of another shape or class count, and non-finite losses', () => {
    const model = new FixedLogits(6, report);
    expect(() => evaluate(model, arrayDataset(new Float32Array(10), [0, 1], ['a', 'b', 'c', 'd', 'e', 'f'], [5]))).toThrow(
      /samples have shape \[5\], the tcy model takes \[6\]/,
    );
    expect(() => evaluate(model, arrayDataset(new Float32Array(6), [0], ['a', 'b', 'c', 'd', 'e', 'f', 'g'], [6]))).toThrow(
      /7 classes, the tcy model has 6/,
    );
    const nan = arrayDataset(Float32Array.from([0, 0, 0, 0, 0, 0, NaN, 0, 0, 0, 0, 0]), [0, 1], classes, [6]);
    expect(() => evaluate(model, nan, { batchSize: 1 })).toThrow(/loss of batch 2 is NaN/);
    model.dispose();
  });

  it('reports spike rates and spike-driven operations for a zoo SNN, dense MACs only for its CNN twin', () => {
    const data = spectrograms(6, 4, 5);
    const snn = createModel('hjh', { classes: 4, spiking: true, steps: 3, seed: 2 });
    const cnn = createModel('hjh', { classes: 4, seed: 2 });
    const s = evaluate(snn, data, { batchSize: 4 });
    const c = evaluate(cnn, data, { batchSize: 4 });
    const leaky = s.activity.layers.filter((l) => l.spikeRate !== undefined);
    expect(leaky.length).toBeGreaterThanOrEqual(2);
    for (const l of leaky) {
      expect(l.spikeRate).toBeGreaterThanOrEqual(0);
      expect(l.spikeRate).toBeLessThanOrEqual(1);
    }
    expect(s.activity.samples).toBe(6);
    expect(s.activity.acs).toBeGreaterThan(0);
    expect(s.energy.snnPicojoules).toBeCloseTo(s.activity.macs * 4.6 + s.activity.acs * 0.9, 3);
    expect(s.energy.cnnPicojoules).toBeCloseTo(s.activity.denseMacs * 4.6, 3);
    // The CNN does every multiply-accumulate and no accumulates.
    expect(c.activity.acs).toBe(0);
    expect(c.activity.macs).toBe(c.activity.denseMacs);
    expect(c.energy.ratio).toBeCloseTo(1, 12);
    expect(s.confusion.flat().reduce((a, b) => a + b, 0)).toBe(6);
    snn.dispose();
    cnn.dispose();
  });
});
