// Which epoch's weights a run ends with (train/run.ts KEEP_EPOCHS): the best by the monitored loss, or
// the last under keep 'last' (the moving average's, when averaging); a run stopped by the signal ends
// with its best either way, and an unknown choice is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/trainer.js';
import { SoftmaxRegression, blobs, relabel, weights } from './train-fixtures.js';

const trainSet = blobs(240, 6, 4, 1);
// Validation labels shifted by one class: the better the model learns, the worse it scores there, so
// the best epoch by validation loss is an early one and the last is not it.
const shifted = relabel(trainSet, (y) => (y + 1) % 4);
const data = { train: trainSet, validation: shifted };
const opts = { epochs: 6, batchSize: 16, lr: 0.05, seed: 1, patience: Infinity };

describe("train's kept epoch", () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  it("keeps the best epoch's weights by default and the last epoch's under keep 'last'", async () => {
    const states: number[][][] = [];
    const best = new SoftmaxRegression(6, 4, 1);
    const a = await train(best, data, { ...opts, onEpoch: () => void states.push(weights(best)) });
    expect(a.best!.epoch).toBeLessThan(opts.epochs);
    expect(a.kept).toBe(a.best!.epoch);
    expect(weights(best)).toEqual(states[a.best!.epoch - 1]);

    const last = new SoftmaxRegression(6, 4, 1);
    const b = await train(last, data, { ...opts, keep: 'last' });
    // The same run: only what it ends with differs.
    expect(b.history.map((e) => e.validation)).toEqual(a.history.map((e) => e.validation));
    expect(b.best).toEqual(a.best);
    expect(b.kept).toBe(opts.epochs);
    expect(weights(last)).toEqual(states[opts.epochs - 1]);
    expect(evaluate(last, shifted, { batchSize: 16 }).loss).toBeCloseTo(b.history[opts.epochs - 1].validation!.loss, 6);
    for (const m of [best, last]) m.dispose();
  });

  it("ends with the last epoch's moving average when averaging: the weights its validation scored", async () => {
    const model = new SoftmaxRegression(6, 4, 1);
    const r = await train(model, data, { ...opts, keep: 'last', average: 0.9 });
    expect(r.kept).toBe(opts.epochs);
    const live = new SoftmaxRegression(6, 4, 1);
    await train(live, data, { ...opts, keep: 'last' });
    expect(weights(model)).not.toEqual(weights(live));
    expect(evaluate(model, shifted, { batchSize: 16 }).loss).toBeCloseTo(r.history[opts.epochs - 1].validation!.loss, 6);
    for (const m of [model, live]) m.dispose();
  });

  it("a run stopped by the signal ends with its best epoch's weights under keep 'last' too", async () => {
    const controller = new AbortController();
    const states: number[][][] = [];
    const model = new SoftmaxRegression(6, 4, 1);
    const r = await train(model, data, {
      ...opts,
      keep: 'last',
      signal: controller.signal,
      onEpoch: (record) => {
        states.push(weights(model));
        if (record.epoch === 4) controller.abort();
      },
    });
    expect(r.aborted).toBe(true);
    expect(r.kept).toBe(r.best!.epoch);
    expect(r.best!.epoch).toBeLessThan(4);
    expect(weights(model)).toEqual(states[r.best!.epoch - 1]);
    model.dispose();
  });

  it('refuses an unknown choice, naming the option', async () => {
    const model = new SoftmaxRegression(6, 4, 1);
    await expect(train(model, data, { ...opts, keep: 'first' as 'last' })).rejects.toThrow(/keep must be best or last, got 'first'/);
    model.dispose();
  });
});
