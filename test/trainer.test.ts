// The trainer: it learns, stops early, reproduces from its seed, resumes a killed run to the same
// bits, refuses to resume under other settings, stops on a NaN loss naming the epoch and batch, and
// reports progress per epoch.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEngine, initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import type { Dataset } from '../src/data/dataset.js';
import { MemoryCheckpointStore, type Checkpoint } from '../src/train/checkpoint.js';
import { FileCheckpointStore } from '../src/train/checkpoint-node.js';
import { evaluate } from '../src/train/evaluate.js';
import { epochLogger, readEpochLog } from '../src/train/log-node.js';
import type { ProgressFactory } from '../src/util/progress.js';
import { TrainingError, train } from '../src/train/trainer.js';
import { type EpochRecord, type TrainCheckpointMeta } from '../src/train/run.js';
import { createModel } from '../src/models/zoo.js';
import { SoftmaxRegression, blobs, relabel, spectrograms, weights } from './train-fixtures.js';

const trainSet = blobs(240, 6, 4, 1);
const validation = blobs(80, 6, 4, 2);
const data = { train: trainSet, validation };

/** Epoch records without the wall-clock fields. */
const scoresOf = (h: readonly EpochRecord[]) => h.map(({ seconds, samplesPerSecond, memoryBytes, ...rest }) => rest);
const bits = (c: Checkpoint) => new Map([...c.arrays].map(([k, v]) => [k, Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length))]));

describe('train', () => {
  let dir: string;
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
    dir = await mkdtemp(join(tmpdir(), 'snn-voice-trainer-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  for (const [optimizer, lr] of [['adam', 0.05], ['sgd', 0.2]] as const) {
    it(`lowers the loss on a learnable problem (${optimizer}) and returns the best weights`, async () => {
      const model = new SoftmaxRegression(6, 4, 1);
      const before = evaluate(model, validation).loss;
      const r = await train(model, data, { epochs: 8, batchSize: 16, lr, optimizer, seed: 3 });
      expect(r.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(r.stoppedEarly).toBe(false);
      expect(r.aborted).toBe(false);
      const last = r.history[7];
      expect(last.train.loss).toBeLessThan(r.history[0].train.loss / 2);
      expect(r.best!.loss).toBeLessThan(before / 4);
      expect(r.best!.top1).toBeGreaterThan(0.95);
      expect(r.best!.monitor).toBe('validation');
      // The model holds the best epoch's weights.
      const after = evaluate(model, validation, { batchSize: 16 });
      expect(after.loss).toBeCloseTo(r.history[r.best!.epoch - 1].validation!.loss, 6);
      for (const h of r.history) {
        expect(h.seconds).toBeGreaterThan(0);
        expect(h.samplesPerSecond).toBeGreaterThan(0);
        expect(h.memoryBytes).toBeGreaterThan(0);
        expect(h.train.top1).toBeLessThanOrEqual(h.train.top2);
        expect(h.train.top2).toBeLessThanOrEqual(h.train.top5);
      }
      // The OneCycle schedule ends near zero after its single peak.
      expect(last.lr).toBeLessThan(lr / 25 / 1e4);
      expect(last.momentum).toBeCloseTo(0.95, 6);
      model.dispose();
    });
  }

  it("reports each run's own peak memory: a run after a larger one is not charged for it", async () => {
    const small = new SoftmaxRegression(6, 4, 1);
    const first = await train(small, data, { epochs: 1, batchSize: 16 });
    // Held and freed between the runs, and larger than all memory so far: the memory grows.
    const big = Tensor.empty([getEngine().memoryBytes / 4]);
    big.free();
    const second = await train(small, data, { epochs: 1, batchSize: 16 });
    expect(second.history[0].memoryBytes).toBe(first.history[0].memoryBytes);
    expect(second.history[0].memoryBytes).toBeLessThan(getEngine().memoryBytes / 2);
    small.dispose();
  });

  it('stops early when the validation loss stops improving', async () => {
    // Validation labels shifted by one class: the better the model learns, the worse it scores there.
    const shifted = relabel(trainSet, (y) => (y + 1) % 4);
    const model = new SoftmaxRegression(6, 4, 1);
    const r = await train(model, { train: trainSet, validation: shifted }, { epochs: 30, batchSize: 16, lr: 0.05, patience: 2 });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history).toHaveLength(r.best!.epoch + 2);
    expect(r.history.length).toBeLessThan(30);
    expect(evaluate(model, shifted, { batchSize: 16 }).loss).toBeCloseTo(r.best!.loss, 6);
    model.dispose();
  });

  it('is reproducible from its seed, and another seed gives another run', async () => {
    const run = async (seed: number) => {
      const model = new SoftmaxRegression(6, 4, 1);
      await train(model, data, { epochs: 2, batchSize: 16, seed });
      const w = weights(model);
      model.dispose();
      return w;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });

  it('a run killed after 3 epochs and resumed ends bit-identical to an uninterrupted one', async () => {
    const opts = { epochs: 6, batchSize: 16, lr: 0.05, seed: 9, patience: Infinity };
    const fullStore = new MemoryCheckpointStore();
    const full = new SoftmaxRegression(6, 4, 1);
    const a = await train(full, data, { ...opts, checkpoint: fullStore });

    const store = new FileCheckpointStore(join(dir, 'run.ckpt'));
    const log = epochLogger(join(dir, 'run.jsonl'));
    const controller = new AbortController();
    const first = new SoftmaxRegression(6, 4, 1);
    const b1 = await train(first, data, {
      ...opts,
      checkpoint: store,
      signal: controller.signal,
      onEpoch: async (record, history) => {
        await log(record, history);
        if (record.epoch === 3) controller.abort();
      },
    });
    expect(b1.aborted).toBe(true);
    expect(b1.history).toHaveLength(3);
    first.dispose();

    // A new process: fresh weights, which the checkpoint must overwrite.
    const second = new SoftmaxRegression(6, 4, 1);
    for (const p of second.parameters()) p.value.fill(0.5);
    const b2 = await train(second, data, { ...opts, checkpoint: store, resume: true, onEpoch: log });
    expect(b2.resumedFrom).toBe(3);
    expect(scoresOf(b2.history)).toEqual(scoresOf(a.history));
    expect(b2.best).toEqual(a.best);
    expect(weights(second)).toEqual(weights(full));
    // Last weights, optimizer slots and best weights, all bit for bit.
    expect(bits((await store.load())!)).toEqual(bits((await fullStore.load())!));
    expect(scoresOf(await readEpochLog(join(dir, 'run.jsonl')))).toEqual(scoresOf(a.history));

    // Resuming a finished run trains nothing and returns its result.
    const third = new SoftmaxRegression(6, 4, 1);
    let batches = 0;
    const done = await train(third, data, { ...opts, checkpoint: store, resume: true, progress: () => ({ update: () => batches++, stop() {} }) });
    expect(batches).toBe(0);
    expect(done.history).toHaveLength(6);
    expect(weights(third)).toEqual(weights(full));
    for (const m of [full, second, third]) m.dispose();
  });

  it('refuses to resume a checkpoint made with other settings, naming the setting', async () => {
    const store = new MemoryCheckpointStore();
    const model = new SoftmaxRegression(6, 4, 1);
    await train(model, data, { epochs: 1, batchSize: 16, checkpoint: store });
    await expect(train(model, data, { epochs: 1, batchSize: 8, checkpoint: store, resume: true })).rejects.toThrow(
      /cannot resume, the checkpoint was made with batchSize 16 and this run has 8/,
    );
    model.dispose();
  });

  it('resumes a checkpoint written before a model setting existed: the missing setting takes its default', async () => {
    const spectra = { train: spectrograms(32, 4, 1), validation: spectrograms(16, 4, 2) };
    const store = new MemoryCheckpointStore();
    const model = createModel('tcy', { classes: 4, seed: 1 });
    await train(model, spectra, { epochs: 1, batchSize: 16, checkpoint: store });
    const saved = (await store.load())!;
    const meta = saved.meta as TrainCheckpointMeta;
    const { signed: _s, features: _f, ...older } = meta.settings.model as Record<string, unknown>;
    await store.save({ ...saved, meta: { ...meta, settings: { ...meta.settings, model: older } } });
    const resumed = await train(model, spectra, { epochs: 1, batchSize: 16, checkpoint: store, resume: true });
    expect(resumed.resumedFrom).toBe(1);
    // A setting that differs still refuses.
    await store.save({ ...saved, meta: { ...meta, settings: { ...meta.settings, model: { ...older, seed: 2 } } } });
    await expect(train(model, spectra, { epochs: 1, batchSize: 16, checkpoint: store, resume: true })).rejects.toThrow(/cannot resume, the checkpoint was made with model .*"seed":2/);
    model.dispose();
  });

  it('a NaN loss stops the run naming epoch and batch; the last good checkpoint and the best weights stay', async () => {
    let poisoned = false;
    const poisonedSet: Dataset = { ...trainSet, features: (i) => (poisoned && i === 5 ? new Float32Array(6).fill(NaN) : trainSet.features(i)) };
    const store = new MemoryCheckpointStore();
    const model = new SoftmaxRegression(6, 4, 1);
    const error = await train(model, { train: poisonedSet, validation }, {
      epochs: 4,
      batchSize: 16,
      checkpoint: store,
      onEpoch: (r) => {
        if (r.epoch === 2) poisoned = true;
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingError);
    expect((error as TrainingError).epoch).toBe(3);
    expect((error as TrainingError).message).toMatch(/the loss is NaN at epoch 3, batch \d+ of 15/);
    expect(((await store.load())!.meta as TrainCheckpointMeta).epochsDone).toBe(2);
    expect(model.parameters().every((p) => p.value.toArray().every(Number.isFinite))).toBe(true);
    model.dispose();
  });

  it('shows one progress bar per epoch with loss, accuracy and speed, and honours maxBatchesPerEpoch', async () => {
    const bars: Array<{ label: string; total: number; updates: number; fields: Record<string, string | number> }> = [];
    const progress: ProgressFactory = (label, total) => {
      const bar = { label, total, updates: 0, fields: {} as Record<string, string | number>, stopped: false };
      bars.push(bar);
      return {
        update(_done, fields) {
          bar.updates++;
          if (fields) bar.fields = fields;
        },
        stop() {},
      };
    };
    const model = new SoftmaxRegression(6, 4, 1);
    await train(model, data, { epochs: 2, batchSize: 16, maxBatchesPerEpoch: 4, progress });
    expect(bars.map((b) => [b.label, b.total])).toEqual([
      ['epoch 1/2', 4],
      ['epoch 2/2', 4],
    ]);
    expect(bars[0].updates).toBe(5); // 4 batches, then the validation scores
    expect(Object.keys(bars[0].fields)).toEqual(['loss', 'acc', 'val loss', 'val acc', 'samples/s']);
    model.dispose();
  });

  it('an abort mid-epoch stops after the current batch and keeps only finished epochs', async () => {
    const controller = new AbortController();
    let batches = 0;
    const model = new SoftmaxRegression(6, 4, 1);
    const r = await train(model, data, {
      epochs: 5,
      batchSize: 16,
      signal: controller.signal,
      progress: (label) => ({
        update() {
          if (label.startsWith('epoch 2') && ++batches === 3) controller.abort();
        },
        stop() {},
      }),
    });
    expect(r.aborted).toBe(true);
    expect(r.history).toHaveLength(1);
    expect(batches).toBe(3);
    expect(r.best!.epoch).toBe(1);
    model.dispose();
  });

  it('refuses bad options and data that does not fit the model', async () => {
    const model = new SoftmaxRegression(6, 4, 1);
    await expect(train(model, data, { epochs: 0 })).rejects.toThrow(/epochs must be a positive integer/);
    await expect(train(model, data, { lr: -1 })).rejects.toThrow(/lr must be a positive number/);
    await expect(train(model, data, { optimizer: 'rmsprop' as 'adam' })).rejects.toThrow(/optimizer must be 'adam' or 'sgd'/);
    await expect(train(model, data, { resume: true })).rejects.toThrow(/resume needs a checkpoint store/);
    await expect(train(model, { train: blobs(8, 5, 4, 1) })).rejects.toThrow(/training data: samples have shape \[5\]/);
    model.dispose();
  });
});

describe('train with zoo models', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });
  const data = { train: spectrograms(32, 4, 1), validation: spectrograms(16, 4, 2) };

  it('a Tcy CNN learns band-limited spectrograms', async () => {
    const model = createModel('tcy', { classes: 4, seed: 1 });
    const before = evaluate(model, data.validation).loss;
    const r = await train(model, data, { epochs: 6, batchSize: 8, lr: 0.05 });
    expect(r.best!.loss).toBeLessThan(before / 2);
    expect(r.best!.top1).toBeGreaterThan(0.9);
    model.dispose();
  });

  it('a spiking Hjh (batch norm, learnable beta) resumed after a kill ends bit-identical', async () => {
    const make = () => createModel('hjh', { classes: 4, spiking: true, steps: 2, learnBeta: true, seed: 3 });
    const opts = { epochs: 3, batchSize: 8, lr: 0.01, seed: 4, maxBatchesPerEpoch: 2 };
    const full = make();
    expect(full.buffers().length).toBeGreaterThan(0);
    expect(full.parameters().some((p) => !p.weightDecay)).toBe(true);
    const fullStore = new MemoryCheckpointStore();
    const a = await train(full, data, { ...opts, checkpoint: fullStore });

    const store = new MemoryCheckpointStore();
    const controller = new AbortController();
    const first = make();
    await train(first, data, { ...opts, checkpoint: store, signal: controller.signal, onEpoch: (r) => (r.epoch === 1 ? controller.abort() : undefined) });
    first.dispose();
    const second = make();
    const b = await train(second, data, { ...opts, checkpoint: store, resume: true });
    expect(b.resumedFrom).toBe(1);
    expect(scoresOf(b.history)).toEqual(scoresOf(a.history));
    expect(weights(second)).toEqual(weights(full));
    expect(bits((await store.load())!)).toEqual(bits((await fullStore.load())!));
    full.dispose();
    second.dispose();
  });
});
