// Weight averaging in the trainer (train/average.ts): the kept model is the moving average, taken after
// every step, of every parameter and buffer (held to an f64 average of the live states the run passed
// through), validation scores that average, a killed run resumes to the same bits, and a decay out of
// range or a checkpoint made without averaging is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { createModel } from '../src/models/zoo.js';
import { exportState, type ModelState } from '../src/models/serialize.js';
import { MemoryCheckpointStore } from '../src/train/checkpoint.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/trainer.js';
import { SoftmaxRegression, blobs, spectrograms, weights } from './train-fixtures.js';

describe('weight averaging', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  it('keeps the moving average of every parameter and batch-norm statistic, and validates it', async () => {
    const data = { train: spectrograms(16, 3, 1), validation: spectrograms(12, 3, 2) };
    const model = createModel('hjh', { classes: 3, seed: 1 });
    const start = exportState(model);
    // One batch an epoch: the state after each epoch is the state after each step.
    const live: ModelState[] = [];
    const decay = 0.8;
    const r = await train(model, data, {
      epochs: 6, batchSize: 16, lr: 0.05, seed: 2, patience: Infinity, average: decay,
      onEpoch: () => void live.push(exportState(model)),
    });
    const kept = exportState(model);
    expect([...kept.keys()].some((k) => k.endsWith('running_var'))).toBe(true);

    // The reference, in f64 from the recorded states: avg = d·avg + (1 − d)·w, d = min(decay, (1 + t) / (10 + t)).
    const avg = new Map([...start].map(([k, v]) => [k, Float64Array.from(v)]));
    for (let t = 1; t <= r.best!.epoch; t++) {
      const d = Math.min(decay, (1 + t) / (10 + t));
      for (const [k, a] of avg) a.forEach((v, i) => (a[i] = d * v + (1 - d) * live[t - 1].get(k)![i]));
    }
    for (const [k, want] of avg) {
      const got = kept.get(k)!;
      const scale = Math.max(...want.map(Math.abs), 1e-3);
      want.forEach((w, i) => expect(Math.abs(got[i] - w), `${k}[${i}]`).toBeLessThanOrEqual(1e-5 * scale));
    }
    // The average is not the last live state, and the validation loss recorded is the average's.
    const last = live[r.best!.epoch - 1];
    expect([...kept].some(([k, v]) => v.some((x, i) => x !== last.get(k)![i]))).toBe(true);
    model.eval();
    expect(evaluate(model, data.validation).loss).toBeCloseTo(r.history[r.best!.epoch - 1].validation!.loss, 5);
    model.dispose();
  });

  it('a run killed after 2 epochs and resumed ends bit-identical to an uninterrupted one', async () => {
    const data = { train: blobs(96, 6, 4, 1), validation: blobs(40, 6, 4, 2) };
    const opts = { epochs: 4, batchSize: 16, lr: 0.05, seed: 3, patience: Infinity, average: 0.95 };
    const fullStore = new MemoryCheckpointStore();
    const full = new SoftmaxRegression(6, 4, 1);
    const a = await train(full, data, { ...opts, checkpoint: fullStore });
    const store = new MemoryCheckpointStore();
    const controller = new AbortController();
    const first = new SoftmaxRegression(6, 4, 1);
    await train(first, data, { ...opts, checkpoint: store, signal: controller.signal, onEpoch: (rec) => void (rec.epoch === 2 && controller.abort()) });
    first.dispose();
    const second = new SoftmaxRegression(6, 4, 1);
    const b = await train(second, data, { ...opts, checkpoint: store, resume: true });
    expect(b.resumedFrom).toBe(2);
    expect(b.best).toEqual(a.best);
    expect(weights(second)).toEqual(weights(full));
    const averaged = (s: Awaited<ReturnType<MemoryCheckpointStore['load']>>) =>
      [...s!.arrays].filter(([k]) => k.startsWith('average/')).map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer))]);
    expect(averaged(await fullStore.load()).length).toBeGreaterThan(0);
    expect(averaged(await store.load())).toEqual(averaged(await fullStore.load()));
    // Averaging changes what is kept: the plain run keeps other weights.
    const plain = new SoftmaxRegression(6, 4, 1);
    await train(plain, data, { ...opts, average: undefined });
    expect(weights(plain)).not.toEqual(weights(full));
    for (const m of [full, second, plain]) m.dispose();
  });

  it('refuses a decay outside [0.5, 1), and resuming across averaging, naming the setting', async () => {
    const data = { train: blobs(32, 6, 4, 1), validation: blobs(16, 6, 4, 2) };
    const m = new SoftmaxRegression(6, 4, 1);
    for (const average of [1, 0.3, NaN]) await expect(train(m, data, { epochs: 1, average })).rejects.toThrow(/average must be a decay in \[0.5, 1\), got/);
    const store = new MemoryCheckpointStore();
    await train(m, data, { epochs: 1, batchSize: 16, checkpoint: store });
    await expect(train(m, data, { epochs: 1, batchSize: 16, checkpoint: store, resume: true, average: 0.99 })).rejects.toThrow(
      /cannot resume, the checkpoint was made with average undefined and this run has 0.99/,
    );
    m.dispose();
  });
});
