import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import {
  crossEntropyBackward, crossEntropyForward, distillBackward, distillForward, softTargetsAccumulate, sumOverSteps, sumOverStepsBackward, topKCorrect,
} from '../src/kernels/loss.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray, rng } from './helpers.js';

/** Mean softmax cross-entropy in f64, straight from the definition (no max shift needed at these scales). */
function refLoss(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): { loss: number; probs: number[] } {
  const b = labels.length;
  const probs: number[] = [];
  let loss = 0;
  for (let r = 0; r < b; r++) {
    const row = Array.from({ length: c }, (_, k) => logits[r * c + k]);
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    row.forEach((v) => probs.push(Math.exp(v) / z));
    loss -= Math.log(Math.exp(row[labels[r]]) / z);
  }
  return { loss: loss / b, probs };
}

/** Softmax of each row of z / temperature, f64, from the definition. */
function refSoftmax(z: ArrayLike<number>, c: number, temperature: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < z.length / c; r++) {
    const e = Array.from({ length: c }, (_, k) => Math.exp(z[r * c + k] / temperature));
    const sum = e.reduce((a, v) => a + v, 0);
    out.push(...e.map((v) => v / sum));
  }
  return out;
}

/** α · τ² · mean KL(t ‖ softmax(z / τ)) + (1 − α) · mean cross-entropy, f64, from the definition. */
function refDistill(z: ArrayLike<number>, targets: ArrayLike<number>, labels: ArrayLike<number>, c: number, temperature: number, alpha: number): number {
  const q = refSoftmax(z, c, temperature);
  const b = labels.length;
  let kl = 0;
  for (let i = 0; i < b * c; i++) if (targets[i] > 0) kl += targets[i] * Math.log(targets[i] / q[i]);
  return alpha * temperature * temperature * (kl / b) + (1 - alpha) * refLoss(z, labels, c).loss;
}

function refTopK(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number, k: number): number {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    const target = logits[r * c + labels[r]];
    const ranked = Array.from({ length: c }, (_, j) => logits[r * c + j]).sort((a, b) => b - a);
    if (ranked[k - 1] <= target) correct++;
  }
  return correct;
}

const labelsFor = (b: number, c: number, seed: number) => {
  const r = rng(seed);
  return Int32Array.from({ length: b }, () => Math.floor(r() * c));
};

describeEachBuild('loss', () => {
  it.each([
    [1, 1, 3],
    [3, 2, 5],
    [5, 7, 35],
  ])('sumOverSteps and its backward match the reference (steps=%i, B=%i, C=%i)', (steps, b, c) => {
    const xs = randArray(steps * b * c, steps + c);
    const x = Tensor.from(xs, [steps * b, c]);
    const y = Tensor.empty([b, c]);
    sumOverSteps(x, y, steps);
    const want = Array.from({ length: b * c }, (_, j) => {
      let s = 0;
      for (let t = 0; t < steps; t++) s += xs[t * b * c + j];
      return s;
    });
    expect(maxRelErr(y.f32, want)).toBeLessThanOrEqual(1);
    const dx = Tensor.empty([steps * b, c]);
    sumOverStepsBackward(y, dx, steps);
    for (let t = 0; t < steps; t++) expect(Array.from(dx.f32.subarray(t * b * c, (t + 1) * b * c))).toEqual(Array.from(y.f32));
    for (const t of [x, y, dx]) t.free();
  });

  it.each([
    [1, 2],
    [4, 3],
    [9, 35],
  ])('cross-entropy forward matches the f64 reference (B=%i, C=%i)', (b, c) => {
    const xs = randArray(b * c, b * c, -4, 4);
    const labels = labelsFor(b, c, c);
    const logits = Tensor.from(xs, [b, c]);
    const lt = Tensor.from(labels, [b], 'i32');
    const probs = Tensor.empty([b, c]);
    const loss = crossEntropyForward(logits, lt, probs);
    const ref = refLoss(xs, labels, c);
    expect(loss).toBeCloseTo(ref.loss, 6);
    expect(maxRelErr(probs.f32, ref.probs, 1e-7, 1e-5)).toBeLessThanOrEqual(1);
    for (const t of [logits, lt, probs]) t.free();
  });

  it('cross-entropy is stable for large logits (shifted by the row maximum)', () => {
    const logits = Tensor.from([1000, 999, 0, -1000, -1001, -1002], [2, 3]);
    const labels = Tensor.from([1, 0], [2], 'i32');
    const probs = Tensor.empty([2, 3]);
    const loss = crossEntropyForward(logits, labels, probs);
    const shifted = refLoss([1, 0, -999, 2, 1, 0], [1, 0], 3);
    expect(loss).toBeCloseTo(shifted.loss, 6);
    expect(maxRelErr(probs.f32, shifted.probs, 1e-7, 1e-5)).toBeLessThanOrEqual(1);
    for (const t of [logits, labels, probs]) t.free();
  });

  it('cross-entropy backward is the gradient of the mean loss (finite differences)', () => {
    const b = 3;
    const c = 7;
    const xs = Array.from(randArray(b * c, 77, -2, 2));
    const labels = labelsFor(b, c, 78);
    const logits = Tensor.from(xs, [b, c]);
    const lt = Tensor.from(labels, [b], 'i32');
    const probs = Tensor.empty([b, c]);
    const dlogits = Tensor.empty([b, c]);
    crossEntropyForward(logits, lt, probs);
    crossEntropyBackward(probs, lt, dlogits);
    const fd = finiteDiff(xs, [...Array(b * c).keys()], () => refLoss(xs, labels, c).loss, 1e-4);
    expect(maxRelErr(dlogits.f32, fd, 1e-6, 1e-4)).toBeLessThanOrEqual(1);
    for (const t of [logits, lt, probs, dlogits]) t.free();
  });

  it('NaN or infinite logits give a NaN loss, never a finite one; topKCorrect throws naming the entry', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const logits = Tensor.from([0, 1, 2, 3, bad, 5], [2, 3]);
      const labels = Tensor.from([0, 2], [2], 'i32');
      const probs = Tensor.empty([2, 3]);
      expect(crossEntropyForward(logits, labels, probs)).toBeNaN();
      expect(() => topKCorrect(logits, labels, 1)).toThrow(new RegExp(`topKCorrect: logits\\[1, 1\\] is ${bad}`));
      for (const t of [logits, labels, probs]) t.free();
    }
  });

  it.each([1, 2, 5])('topKCorrect matches a sort-based reference (k=%i); ties count for the label', (k) => {
    const b = 41;
    const c = 10;
    // Coarse values so ties are common.
    const xs = Array.from(randArray(b * c, 90 + k, 0, 4), Math.round);
    const labels = labelsFor(b, c, 91);
    const logits = Tensor.from(xs, [b, c]);
    const lt = Tensor.from(labels, [b], 'i32');
    expect(topKCorrect(logits, lt, k)).toBe(refTopK(xs, labels, c, k));
    logits.free();
    lt.free();
    const tie = Tensor.from([1, 1, 0], [1, 3]);
    const l1 = Tensor.from([1], [1], 'i32');
    expect(topKCorrect(tie, l1, 1)).toBe(1);
    tie.free();
    l1.free();
  });

  it.each([
    [1, 3, 1],
    [4, 9, 2],
    [7, 35, 4],
  ])('soft targets of two teachers and the distillation loss match the f64 reference (B=%i, C=%i, τ=%i)', (b, c, temperature) => {
    const teachers = [randArray(b * c, 5 * c, -4, 4), randArray(b * c, 6 * c, -4, 4)];
    const targets = Tensor.zeros([b, c]);
    const scratch = Tensor.empty([b, c]);
    for (const z of teachers) {
      const logits = Tensor.from(z, [b, c]);
      softTargetsAccumulate(logits, targets, scratch, temperature, 0.5);
      logits.free();
    }
    const want = refSoftmax(teachers[0], c, temperature).map((p, i) => (p + refSoftmax(teachers[1], c, temperature)[i]) / 2);
    expect(maxRelErr(targets.f32, want, 1e-7, 1e-5)).toBeLessThanOrEqual(1);
    const zs = randArray(b * c, 7 * c, -4, 4);
    const logits = Tensor.from(zs, [b, c]);
    const probs = Tensor.empty([b, c]);
    const loss = distillForward(logits, targets, probs, temperature);
    expect(loss).toBeCloseTo(refDistill(zs, targets.f32, new Int32Array(b), c, temperature, 1), 5);
    expect(maxRelErr(probs.f32, refSoftmax(zs, c, temperature), 1e-7, 1e-5)).toBeLessThanOrEqual(1);
    for (const t of [targets, scratch, logits, probs]) t.free();
  });

  it.each([0, 0.5, 1])('distillation backward is the gradient of the blended loss (α=%s, finite differences)', (alpha) => {
    const b = 3;
    const c = 6;
    const temperature = 3;
    const xs = Array.from(randArray(b * c, 81, -2, 2));
    const targets = refSoftmax(randArray(b * c, 82, -3, 3), c, 1);
    const labels = labelsFor(b, c, 83);
    const logits = Tensor.from(xs, [b, c]);
    const lt = Tensor.from(labels, [b], 'i32');
    const tt = Tensor.from(targets, [b, c]);
    const probs = Tensor.empty([b, c]);
    const soft = Tensor.empty([b, c]);
    const dlogits = Tensor.empty([b, c]);
    crossEntropyForward(logits, lt, probs);
    crossEntropyBackward(probs, lt, dlogits);
    distillForward(logits, tt, soft, temperature);
    distillBackward(soft, tt, dlogits, temperature, alpha);
    const fd = finiteDiff(xs, [...Array(b * c).keys()], () => refDistill(xs, targets, labels, c, temperature, alpha), 1e-4);
    expect(maxRelErr(dlogits.f32, fd, 1e-6, 1e-4)).toBeLessThanOrEqual(1);
    for (const t of [logits, lt, tt, probs, soft, dlogits]) t.free();
  });

  it("distillation's loss stays exact where the student's probability underflows f32 (from the log-partition, not log q)", () => {
    const zs = [0, -200, 3, -150];
    const t = [0.5, 0.5, 0.25, 0.75];
    const logits = Tensor.from(zs, [2, 2]);
    const targets = Tensor.from(t, [2, 2]);
    const probs = Tensor.empty([2, 2]);
    const loss = distillForward(logits, targets, probs, 1);
    expect(probs.f32[1]).toBe(0);
    expect(loss).toBeCloseTo(refDistill(zs, t, new Int32Array(2), 2, 1, 1), 6);
    for (const x of [logits, targets, probs]) x.free();
  });

  it('distillation: a non-finite logit gives NaN or an error naming it; bad temperatures and α are refused', () => {
    const logits = Tensor.from([0, 1, NaN, 3, 4, 5], [2, 3]);
    const targets = Tensor.from([0.2, 0.3, 0.5, 0.1, 0.1, 0.8], [2, 3]);
    const scratch = Tensor.empty([2, 3]);
    expect(distillForward(logits, targets, scratch, 2)).toBeNaN();
    expect(() => softTargetsAccumulate(logits, Tensor.zeros([2, 3]), scratch, 2, 1)).toThrow(/softTargetsAccumulate: a teacher's logits\[0, 2\] is NaN/);
    expect(() => distillForward(targets, targets, scratch, 0)).toThrow(/temperature must be a positive number, got 0/);
    expect(() => distillBackward(targets, targets, scratch, 2, 1.5)).toThrow(/alpha must be in \[0, 1\], got 1.5/);
    expect(() => distillForward(targets, Tensor.zeros([3, 2]), scratch, 2)).toThrow(/targets has shape \[3,2\], expected \[2,3\]/);
    for (const t of [logits, targets, scratch]) t.free();
  });

  it('labels out of range and bad shapes are refused with clear errors', () => {
    const logits = Tensor.zeros([2, 3]);
    const probs = Tensor.zeros([2, 3]);
    const bad = Tensor.from([0, 3], [2], 'i32');
    const neg = Tensor.from([-1, 0], [2], 'i32');
    expect(() => crossEntropyForward(logits, bad, probs)).toThrow(/crossEntropyForward: label 3 of sample 1 is outside \[0, 2\] \(3 classes\)/);
    expect(() => crossEntropyBackward(probs, neg, Tensor.zeros([2, 3]))).toThrow(/label -1 of sample 0/);
    expect(() => topKCorrect(logits, bad, 1)).toThrow(/topKCorrect: label 3/);
    expect(() => crossEntropyForward(logits, Tensor.from([0, 1], [2]), probs)).toThrow(/labels must be an i32 tensor/);
    expect(() => crossEntropyForward(logits, Tensor.from([0], [1], 'i32'), probs)).toThrow(/labels has shape \[1\], expected \[2\]/);
    expect(() => topKCorrect(logits, Tensor.from([0, 1], [2], 'i32'), 4)).toThrow(/k = 4 exceeds the 3 classes/);
    expect(() => sumOverSteps(Tensor.zeros([5, 3]), probs, 2)).toThrow(/sumOverSteps: x has shape \[5,3\], expected \[4,3\]/);
    expect(() => crossEntropyForward(logits, Tensor.from([0, 1], [2], 'i32'), logits)).toThrow(/probs overlaps logits/);
  });
});
