// Sharpness-aware minimization in the trainer (train/sam.ts): a step's update is the optimizer's from
// the gradient at w + ρ·g/‖g‖ (held to that gradient computed here, with ε in f64), batch norm keeps the
// first pass's statistics alone, the scores are w's, and a radius out of range is refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { crossEntropyBackward, crossEntropyForward } from '../src/kernels/loss.js';
import type { Model } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import { exportState } from '../src/models/serialize.js';
import { MemoryCheckpointStore } from '../src/train/checkpoint.js';
import { OneCycle } from '../src/train/schedule.js';
import { train } from '../src/train/trainer.js';
import { spectrograms } from './train-fixtures.js';

/** Every parameter's gradient of the batch's mean cross-entropy at the weights the model holds (training mode). */
function gradients(model: Model, x: Tensor, labels: Tensor): Float64Array[] {
  model.train();
  const logits = model.forward(x);
  const probs = Tensor.empty(logits.shape), dlogits = Tensor.empty(logits.shape);
  crossEntropyForward(logits, labels, probs);
  crossEntropyBackward(probs, labels, dlogits);
  model.backward(dlogits);
  probs.free();
  dlogits.free();
  return model.parameters().map((p) => Float64Array.from(p.grad.f32));
}

describe('sharpness-aware minimization', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  it("steps with the gradient at w + ρ·g/‖g‖ and keeps the first pass's batch-norm statistics", async () => {
    const data = { train: spectrograms(16, 3, 1) };
    const rho = 1;
    // One batch of the whole set, one step of SGD (its first step is w − lr·g), no weight decay: the
    // run stops after its first epoch of ten, at the schedule's first rate.
    const once = () => {
      const controller = new AbortController();
      return { signal: controller.signal, onEpoch: () => controller.abort() };
    };
    const opts = { epochs: 10, batchSize: 16, lr: 1, seed: 2, optimizer: 'sgd' as const, weightDecay: 0, patience: Infinity };
    const plain = createModel('hjh', { classes: 3, seed: 1 });
    const sharp = createModel('hjh', { classes: 3, seed: 1 });
    const start = exportState(plain);
    const plainRun = await train(plain, data, { ...opts, ...once() });
    const sharpRun = await train(sharp, data, { ...opts, ...once(), sam: rho });

    // The reference: the same batch (in its own order, so batch norm's sums round otherwise).
    const ref = createModel('hjh', { classes: 3, seed: 1 });
    const per = 60 * 134;
    const xs = new Float32Array(16 * per);
    for (let i = 0; i < 16; i++) xs.set(data.train.features(i), i * per);
    const x = Tensor.from(xs, [16, 1, 60, 134]);
    const labels = Tensor.from(data.train.labels, [16], 'i32');
    const g = gradients(ref, x, labels);
    const norm = Math.sqrt(g.reduce((s, gi) => s + gi.reduce((a, v) => a + v * v, 0), 0));
    ref.parameters().forEach((p, i) => p.value.f32.set(start.get(p.name)!.map((w, k) => w + (rho / norm) * g[i][k])));
    const gAtPeak = gradients(ref, x, labels);
    const lr = new OneCycle({ maxLr: opts.lr, totalSteps: opts.epochs }).at(0).lr;

    // ‖a − b‖ / ‖b‖ over every parameter.
    const distance = (a: (i: number, k: number) => number, b: (i: number, k: number) => number): number => {
      let d = 0, n = 0;
      g.forEach((gi, i) => gi.forEach((_, k) => {
        d += (a(i, k) - b(i, k)) ** 2;
        n += b(i, k) ** 2;
      }));
      return Math.sqrt(d / n);
    };
    const apart = distance((i, k) => g[i][k], (i, k) => gAtPeak[i][k]);
    // The update each run made, against the one from the gradient it should have used: far closer
    // than the two gradients are to each other, so the check tells them apart.
    const update = (model: Model) => {
      const params = model.parameters();
      return (i: number, k: number) => (start.get(params[i].name)![k] - params[i].value.f32[k]) / lr;
    };
    expect(apart).toBeGreaterThan(0.1);
    expect(distance(update(plain), (i, k) => g[i][k])).toBeLessThan(1e-3);
    expect(distance(update(sharp), (i, k) => gAtPeak[i][k])).toBeLessThan(1e-3);

    // The statistics of the first pass alone: those of the plain run to the bit.
    const sharpState = exportState(sharp), plainState = exportState(plain);
    const statistics = [...plainState.keys()].filter((k) => k.includes('running'));
    expect(statistics.length).toBeGreaterThan(0);
    for (const k of statistics) expect(Array.from(sharpState.get(k)!), k).toEqual(Array.from(plainState.get(k)!));
    // The epoch's training scores are those at w, as the plain run's.
    expect(sharpRun.history[0].train.loss).toBe(plainRun.history[0].train.loss);
    for (const m of [plain, sharp, ref]) m.dispose();
    x.free();
    labels.free();
  });

  it('refuses a radius out of range, and a checkpoint made without it', async () => {
    const data = { train: spectrograms(8, 2, 1) };
    const m = createModel('tcy', { classes: 2, seed: 1 });
    for (const sam of [0, -0.1, 3, NaN]) await expect(train(m, data, { epochs: 1, sam })).rejects.toThrow(/sam must be a radius above 0 and at most 2, got/);
    const store = new MemoryCheckpointStore();
    const controller = new AbortController();
    await train(m, data, { epochs: 2, batchSize: 8, checkpoint: store, signal: controller.signal, onEpoch: () => controller.abort() });
    await expect(train(m, data, { epochs: 2, batchSize: 8, checkpoint: store, resume: true, sam: 0.05 })).rejects.toThrow(
      /cannot resume, the checkpoint was made with sam undefined and this run has 0.05/,
    );
    m.dispose();
  });
});
