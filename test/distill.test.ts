// Knowledge distillation in the trainer: the teachers' soft targets teach a student what its labels do
// not say, α = 0 is the plain run to the bit, a checkpoint resumes only with the same teachers'
// settings, and teachers that do not fit the student are refused by name. A teacher on other features
// (a listener) hears each training clip in its own features and teaches as one on the student's would.
import { beforeAll, describe, expect, it } from 'vitest';
import { arrayDataset, type Dataset } from '../src/data/dataset.js';
import { initEngine } from '../src/engine/engine.js';
import type { Model } from '../src/models/types.js';
import { MemoryCheckpointStore } from '../src/train/checkpoint.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/trainer.js';
import { maxRelErr } from './helpers.js';
import { SoftmaxRegression, blobs, relabel, weights } from './train-fixtures.js';

const trainSet = blobs(240, 6, 4, 1);
const validation = blobs(80, 6, 4, 2);

/** The same clips in other features: four of the six values, reversed and doubled. */
function heard(d: Dataset): Dataset {
  const x = new Float32Array(d.size * 4);
  for (let i = 0; i < d.size; i++) {
    const f = d.features(i);
    for (let k = 0; k < 4; k++) x[i * 4 + k] = 2 * f[5 - k];
  }
  return arrayDataset(x, d.labels, d.classes, [4]);
}

describe('distillation', () => {
  let teachers: Model[];
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
    teachers = [];
    for (const seed of [1, 2]) {
      const t = new SoftmaxRegression(6, 4, seed);
      await train(t, { train: trainSet, validation }, { epochs: 8, batchSize: 16, lr: 0.05, seed });
      teachers.push(t);
    }
    for (const t of teachers) expect(evaluate(t, validation).top1).toBeGreaterThan(0.95);
  });

  it('a student whose labels are all wrong learns the task from the teachers alone (α = 1)', async () => {
    const wrong = { train: relabel(trainSet, () => 0), validation };
    const plain = new SoftmaxRegression(6, 4, 7);
    await train(plain, wrong, { epochs: 8, batchSize: 16, lr: 0.05, seed: 3 });
    const taught = new SoftmaxRegression(6, 4, 7);
    await train(taught, wrong, { epochs: 8, batchSize: 16, lr: 0.05, seed: 3, distill: { teachers, alpha: 1, temperature: 2 } });
    // The labels alone teach "always class 0", a quarter of the validation set (the epoch kept by the
    // validation loss may be an early one, a little above).
    expect(evaluate(plain, validation).top1).toBeLessThan(0.5);
    expect(evaluate(taught, validation).top1).toBeGreaterThan(0.9);
    plain.dispose();
    taught.dispose();
  });

  it('at α = 0 the run is the plain run to the bit; at α = 0.5 it is another', async () => {
    const data = { train: trainSet, validation };
    const runs = [];
    for (const distill of [undefined, { teachers, alpha: 0 }, { teachers, alpha: 0.5 }]) {
      const m = new SoftmaxRegression(6, 4, 5);
      await train(m, data, { epochs: 2, batchSize: 16, lr: 0.05, seed: 4, distill });
      runs.push(weights(m));
      m.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).not.toEqual(runs[0]);
  });

  it('resumes only with the same teachers, α and τ, naming the setting', async () => {
    const store = new MemoryCheckpointStore();
    const m = new SoftmaxRegression(6, 4, 5);
    const data = { train: trainSet, validation };
    await train(m, data, { epochs: 1, batchSize: 16, checkpoint: store, distill: { teachers, temperature: 2 } });
    await expect(train(m, data, { epochs: 1, batchSize: 16, checkpoint: store, resume: true, distill: { teachers, temperature: 4 } })).rejects.toThrow(
      /cannot resume, the checkpoint was made with distill .*"temperature":2.* and this run has .*"temperature":4/,
    );
    await expect(train(m, data, { epochs: 1, batchSize: 16, checkpoint: store, resume: true })).rejects.toThrow(/cannot resume, the checkpoint was made with distill/);
    // The same architecture with other weights is another teacher.
    const other = new SoftmaxRegression(6, 4, 9);
    await expect(train(m, data, { epochs: 1, batchSize: 16, checkpoint: store, resume: true, distill: { teachers: [teachers[0], other], temperature: 2 } })).rejects.toThrow(
      /cannot resume, the checkpoint was made with distill/,
    );
    other.dispose();
    m.dispose();
  });

  it('a teacher on other features teaches from its own view of each clip: alone it teaches what the labels do not; on the same view it is a teacher', async () => {
    const listener = new SoftmaxRegression(4, 4, 3);
    await train(listener, { train: heard(trainSet), validation: heard(validation) }, { epochs: 8, batchSize: 16, lr: 0.05, seed: 3 });
    expect(evaluate(listener, heard(validation)).top1).toBeGreaterThan(0.9);
    const wrong = relabel(trainSet, () => 0);
    const taught = new SoftmaxRegression(6, 4, 7);
    await train(taught, { train: wrong, validation }, { epochs: 8, batchSize: 16, lr: 0.05, seed: 3, distill: { teachers: [], listeners: [{ model: listener, train: heard(wrong) }], alpha: 1 } });
    expect(evaluate(taught, validation).top1).toBeGreaterThan(0.9);
    // A teacher of the student's own features as a listener over the same clips: the run a teacher gives
    // (no augmentation, so both hear the clips as they are), up to the rows' rounding in other batches.
    const runs = [];
    for (const distill of [{ teachers }, { teachers: [], listeners: teachers.map((model) => ({ model, train: trainSet })) }, { teachers: [teachers[0]], listeners: [{ model: teachers[1], train: trainSet }] }]) {
      const m = new SoftmaxRegression(6, 4, 5);
      await train(m, { train: trainSet, validation }, { epochs: 2, batchSize: 16, lr: 0.05, seed: 4, distill });
      runs.push(m.parameters().flatMap((p) => Array.from(p.value.toArray())));
      m.dispose();
    }
    for (const run of runs.slice(1)) expect(maxRelErr(run, runs[0])).toBeLessThan(1e-5);
    // A listener trained on the heard view teaches another run than no listener at all.
    const plain = new SoftmaxRegression(6, 4, 5);
    await train(plain, { train: trainSet, validation }, { epochs: 2, batchSize: 16, lr: 0.05, seed: 4, distill: { teachers, listeners: [{ model: listener, train: heard(trainSet) }] } });
    expect(maxRelErr(plain.parameters().flatMap((p) => Array.from(p.value.toArray())), runs[0])).toBeGreaterThan(1e-3);
    for (const m of [listener, taught, plain]) m.dispose();
  });

  it('refuses a listener whose clips are not the student\'s, or whose input is not its clips\'', async () => {
    const m = new SoftmaxRegression(6, 4, 5);
    const listener = new SoftmaxRegression(4, 4, 3);
    const data = { train: trainSet };
    await expect(train(m, data, { distill: { teachers: [], listeners: [{ model: listener, train: heard(blobs(200, 6, 4, 1)) }] } })).rejects.toThrow(
      /teacher 1 \(.*\)'s training split is not the student's clip for clip \(200 clips against 240/,
    );
    await expect(train(m, data, { distill: { teachers, listeners: [{ model: listener, train: heard(relabel(trainSet, (l) => (l + 1) % 4)) }] } })).rejects.toThrow(
      /teacher 3 \(.*\)'s training split is not the student's clip for clip/,
    );
    await expect(train(m, data, { distill: { teachers: [], listeners: [{ model: listener, train: trainSet }] } })).rejects.toThrow(
      /teacher 1 \(.*\) takes inputs of \[4\], its training split holds \[6\]/,
    );
    await expect(train(m, data, { distill: { teachers: [], listeners: [] } })).rejects.toThrow(/needs at least one teacher/);
    for (const t of [m, listener]) t.dispose();
  });

  it('refuses teachers that do not fit the student, and bad α and τ', async () => {
    const m = new SoftmaxRegression(6, 4, 5);
    const data = { train: trainSet };
    const otherClasses = new SoftmaxRegression(6, 3, 1);
    const otherInput = new SoftmaxRegression(5, 4, 1);
    await expect(train(m, data, { distill: { teachers: [otherClasses] } })).rejects.toThrow(/teacher 1 \(.*\) has 3 classes, the student 4/);
    await expect(train(m, data, { distill: { teachers: [teachers[0], otherInput] } })).rejects.toThrow(/teacher 2 \(.*\) takes inputs of \[5\], the student \[6\]/);
    await expect(train(m, data, { distill: { teachers: [m] } })).rejects.toThrow(/teacher 1 is the student itself/);
    await expect(train(m, data, { distill: { teachers: [] } })).rejects.toThrow(/needs at least one teacher/);
    await expect(train(m, data, { distill: { teachers, alpha: 2 } })).rejects.toThrow(/alpha must be in \[0, 1\], got 2/);
    await expect(train(m, data, { distill: { teachers, temperature: 0 } })).rejects.toThrow(/temperature must be a positive number, got 0/);
    for (const t of [m, otherClasses, otherInput]) t.dispose();
  });
});
