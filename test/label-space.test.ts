// `train --label-space folder`: each training clip's softmax runs over the classes its own folder holds.
// Held here: which classes a folder holds (concat, subset), the offsets a batch carries, that the loss
// on offset logits is the softmax over the held classes alone (value and gradient, against f64), that
// validation scores each clip the same way, and the reason for it: a folder that lacks a class, and whose clips share a cue of their own (a real
// voice), teaches a full softmax that the cue rules the class out; over its own classes it does not.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { arrayDataset, concat, subset, type Dataset } from '../src/data/dataset.js';
import { add } from '../src/kernels/elementwise.js';
import { crossEntropyBackward, crossEntropyForward } from '../src/kernels/loss.js';
import { ABSENT_CLASS, BatchLoader } from '../src/train/batches.js';
import { resolveSettings } from '../src/train/run.js';
import { train } from '../src/train/trainer.js';
import { evaluate } from '../src/train/evaluate.js';
import { SoftmaxRegression } from './train-fixtures.js';
import { rng } from './helpers.js';

const CLASSES = ['a', 'b', 'c'];

/**
 * Two folders of clips with four features: one per class (the class's own, 1 plus noise) and a cue
 * of the folder (0 in the first, 1 in the second). The first folder holds every class, the second
 * only a and b.
 */
function folders(perClass: number, seed: number): { full: Dataset; partial: Dataset } {
  const r = rng(seed);
  const make = (classes: number[], cue: number): Dataset => {
    const n = perClass * classes.length;
    const x = new Float32Array(n * 4);
    const labels = classes.flatMap((c) => new Array<number>(perClass).fill(c));
    labels.forEach((c, i) => {
      for (let f = 0; f < 3; f++) x[i * 4 + f] = (f === c ? 1 : 0) + 1.6 * (r() - 0.5);
      x[i * 4 + 3] = cue;
    });
    return arrayDataset(x, labels, CLASSES, [4]);
  };
  return { full: make([0, 1, 2], 0), partial: make([0, 1], 1) };
}

describe('label spaces: each clip scored against the classes of its own folder', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  it('concat says which classes each sample’s folder holds, only when a folder lacks some; subset keeps it', () => {
    const { full, partial } = folders(4, 1);
    expect(concat([full, full]).classesHeld).toBeUndefined();
    const both = concat([full, partial]);
    expect(Array.from(both.classesHeld!(0))).toEqual([1, 1, 1]);
    expect(Array.from(both.classesHeld!(full.size))).toEqual([1, 1, 0]);
    expect(Array.from(both.classesHeld!(both.size - 1))).toEqual([1, 1, 0]);
    const picked = subset(both, [both.size - 1, 0]);
    expect(Array.from(picked.classesHeld!(0))).toEqual([1, 1, 0]);
    expect(Array.from(picked.classesHeld!(1))).toEqual([1, 1, 1]);
  });

  it('a batch carries 0 for the held classes and ABSENT_CLASS for the others, and nothing unless asked', () => {
    const { full, partial } = folders(4, 2);
    const both = concat([full, partial]);
    const order = [full.size + 1, 2, full.size + 5];
    const loader = new BatchLoader(both, 3, undefined, true);
    expect(Array.from(loader.load(order, 0).offsets!.f32)).toEqual([0, 0, ABSENT_CLASS, 0, 0, 0, 0, 0, ABSENT_CLASS]);
    loader.dispose();
    const plain = new BatchLoader(both, 3);
    expect(plain.load(order, 0).offsets).toBeUndefined();
    plain.dispose();
  });

  it('the loss of the offset logits is the softmax over the held classes: value and gradient against f64', () => {
    const z = [2.5, -1, 4, 0.3, 1.2, -0.7];
    const held = [[1, 1, 0], [0, 1, 1]];
    const labels = [1, 2];
    const logits = Tensor.from(z, [2, 3]);
    const offsets = Tensor.from(held.flat().map((h) => (h ? 0 : ABSENT_CLASS)), [2, 3]);
    const y = Tensor.from(labels, [2], 'i32');
    const probs = Tensor.empty([2, 3]), dlogits = Tensor.empty([2, 3]);
    add(logits, offsets, logits);
    const loss = crossEntropyForward(logits, y, probs);
    crossEntropyBackward(probs, y, dlogits);
    let ref = 0;
    const refGrad: number[] = [];
    for (let i = 0; i < 2; i++) {
      const row = z.slice(3 * i, 3 * i + 3);
      const sum = row.reduce((s, v, c) => s + (held[i][c] ? Math.exp(v) : 0), 0);
      ref -= Math.log(Math.exp(row[labels[i]]) / sum) / 2;
      // The loss is the batch mean: each row's gradient is (p - onehot) / batch.
      row.forEach((v, c) => refGrad.push(((held[i][c] ? Math.exp(v) / sum : 0) - (c === labels[i] ? 1 : 0)) / 2));
    }
    expect(loss).toBeCloseTo(ref, 5);
    dlogits.toArray().forEach((g, k) => expect(g).toBeCloseTo(refGrad[k], 6));
    for (const k of [2, 3]) expect(dlogits.toArray()[k]).toBe(0);
    for (const t of [logits, offsets, y, probs, dlogits]) t.free();
  });

  it("a folder's own cue rules out the classes it lacks under a full softmax, and does not over its own classes", async () => {
    const { full, partial } = folders(40, 3);
    const val = folders(10, 4);
    const data = { train: concat([full, partial]), validation: concat([val.full, val.partial]) };
    // A clip of class c with the second folder's cue: what that folder never held.
    const probe = Tensor.from([0, 0, 1, 1], [1, 4]);
    const pOfC: Record<string, number> = {};
    for (const labelSpace of ['all', 'folder'] as const) {
      const model = new SoftmaxRegression(4, 3, 5);
      const r = await train(model, data, { epochs: 30, batchSize: 16, lr: 0.05, seed: 6, labelSpace });
      expect(r.best!.top1).toBeGreaterThan(0.9);
      // Validation scores each clip as training does; over every class the second folder's clips lose more.
      const held = evaluate(model, data.validation, { heldClassesOnly: true }).loss;
      const every = evaluate(model, data.validation).loss;
      expect(r.history[r.best!.epoch - 1].validation!.loss).toBeCloseTo(labelSpace === 'folder' ? held : every, 5);
      expect(held).toBeLessThan(every);
      model.eval();
      const z = model.forward(probe).toArray();
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      pOfC[labelSpace] = e[2] / e.reduce((s, v) => s + v, 0);
      model.dispose();
    }
    probe.free();
    // Measured: 0.91 over its own classes, 0.57 under the full softmax.
    expect(pOfC.folder).toBeGreaterThan(0.8);
    expect(pOfC.all).toBeLessThan(pOfC.folder - 0.2);
  });

  it("records 'folder' in the run's settings (a checkpoint resumes only under it) and refuses it with teachers", () => {
    const model = new SoftmaxRegression(4, 3, 1);
    const { full, partial } = folders(4, 5);
    const data = { train: concat([full, partial]) };
    expect(resolveSettings(model, data, { labelSpace: 'folder' }).labelSpace).toBe('folder');
    expect(resolveSettings(model, data, {}).labelSpace).toBeUndefined();
    expect(() => resolveSettings(model, data, { labelSpace: 'folder', distill: { teachers: [model] } })).toThrow(/does not combine with distillation/);
    expect(() => resolveSettings(model, data, { labelSpace: 'some' as 'all' })).toThrow(/labelSpace must be all or folder, got 'some'/);
    model.dispose();
  });
});
