// Knowledge distillation in the trainer: the teachers' soft targets teach a student what its labels do
// not say, α = 0 is the plain run to the bit, a checkpoint resumes only with the same teachers'
// settings, and teachers that do not fit the student are refused by name.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import type { Model } from '../src/models/types.js';
import { MemoryCheckpointStore } from '../src/train/checkpoint.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/trainer.js';
import { SoftmaxRegression, blobs, relabel, weights } from './train-fixtures.js';

const trainSet = blobs(240, 6, 4, 1);
const validation = blobs(80, 6, 4, 2);


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
