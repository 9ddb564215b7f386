import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { adamStep, averageStep, sgdStep } from '../src/kernels/optim.js';
import { describeEachBuild, maxRelErr, randArray } from './helpers.js';

/** torch.optim.Adam's single-tensor loop, in f64. */
function refAdam(p: number[], grads: number[][], o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }) {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((grad, s) => {
    const step = s + 1;
    const bc1 = 1 - o.beta1 ** step;
    const bc2 = 1 - o.beta2 ** step;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i] + o.weightDecay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      p[i] -= (o.lr / bc1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps));
    }
  });
  return { p, m, v };
}

/** torch.optim.SGD (dampening 0, no Nesterov): the first step's buffer is a copy of g. */
function refSgd(p: number[], grads: number[][], o: { lr: number; momentum: number; weightDecay: number }) {
  let buf: number[] | null = null;
  for (const grad of grads) {
    const g = grad.map((v, i) => v + o.weightDecay * p[i]);
    let d = g;
    if (o.momentum !== 0) {
      buf = buf === null ? [...g] : buf.map((b, i) => o.momentum * b + g[i]);
      d = buf;
    }
    for (let i = 0; i < p.length; i++) p[i] -= o.lr * d[i];
  }
  return { p, velocity: buf };
}

describeEachBuild('optimizers', () => {
  it.each([
    [1, 0],
    [7, 0],
    [37, 0.01],
    [130, 0.1],
  ])('Adam over 6 steps matches PyTorch formula (n=%i, weightDecay=%f)', (n, weightDecay) => {
    const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
    const p0 = randArray(n, n);
    const grads = Array.from({ length: 6 }, (_, s) => Array.from(randArray(n, 100 * n + s, -2, 2)));
    const param = Tensor.from(p0);
    const grad = Tensor.empty([n]);
    const m = Tensor.zeros([n]);
    const v = Tensor.zeros([n]);
    grads.forEach((g, s) => {
      grad.f32.set(g);
      adamStep(param, grad, m, v, { lr: o.lr, weightDecay, step: s + 1 });
    });
    const ref = refAdam(Array.from(p0), grads, o);
    expect(maxRelErr(param.f32, ref.p, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    expect(maxRelErr(m.f32, ref.m, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    expect(maxRelErr(v.f32, ref.v, 1e-7, 1e-5)).toBeLessThanOrEqual(1);
    for (const t of [param, grad, m, v]) t.free();
  });

  it('Adam first step moves each parameter by lr against the gradient sign (bias correction from step 1)', () => {
    const param = Tensor.from([1, 1, 1, 1, 1]);
    const grad = Tensor.from([3, -0.001, 50, -2, 0.5]);
    const m = Tensor.zeros([5]);
    const v = Tensor.zeros([5]);
    adamStep(param, grad, m, v, { lr: 0.1, beta1: 0.8, beta2: 0.99, step: 1 });
    expect(maxRelErr(param.f32, [0.9, 1.1, 0.9, 1.1, 0.9], 1e-5, 1e-4)).toBeLessThanOrEqual(1);
    for (const t of [param, grad, m, v]) t.free();
  });

  it.each([
    [5, 0.9, 0],
    [23, 0.9, 0.05],
    [11, 0, 0.01],
  ])('SGD over 5 steps matches PyTorch formula (n=%i, momentum=%f, weightDecay=%f)', (n, momentum, weightDecay) => {
    const o = { lr: 0.05, momentum, weightDecay };
    const p0 = randArray(n, n + 1);
    const grads = Array.from({ length: 5 }, (_, s) => Array.from(randArray(n, 7 * n + s, -1, 1)));
    const param = Tensor.from(p0);
    const grad = Tensor.empty([n]);
    const velocity = Tensor.zeros([n]);
    grads.forEach((g, s) => {
      grad.f32.set(g);
      sgdStep(param, grad, velocity, o);
      if (s === 0 && momentum !== 0) expect(maxRelErr(velocity.f32, g.map((v, i) => v + weightDecay * p0[i]))).toBeLessThanOrEqual(1);
    });
    const ref = refSgd(Array.from(p0), grads, o);
    expect(maxRelErr(param.f32, ref.p, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    if (ref.velocity) expect(maxRelErr(velocity.f32, ref.velocity, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    else expect(Array.from(velocity.f32).every((v) => v === 0)).toBe(true);
    for (const t of [param, grad, velocity]) t.free();
  });

  it('rejects bad shapes and options with clear messages', () => {
    const p = Tensor.zeros([4]);
    const g = Tensor.zeros([4]);
    const m = Tensor.zeros([4]);
    const v = Tensor.zeros([4]);
    expect(() => adamStep(p, Tensor.zeros([5]), m, v, { lr: 0.1, step: 1 })).toThrow(/adamStep: grad has shape \[5\], expected \[4\]/);
    expect(() => adamStep(p, g, m, v, { lr: 0.1, step: 0 })).toThrow(/adamStep: step must be an integer >= 1/);
    expect(() => adamStep(p, g, m, v, { lr: NaN, step: 1 })).toThrow(/adamStep: lr must be finite/);
    expect(() => adamStep(p, g, m, v, { lr: 0.1, beta2: 1, step: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
    expect(() => adamStep(p, g, m, m, { lr: 0.1, step: 1 })).toThrow(/m overlaps v/);
    expect(() => sgdStep(p, g, Tensor.zeros([2, 2]), { lr: 0.1 })).toThrow(/sgdStep: velocity has shape \[2,2\], expected \[4\]/);
    expect(() => sgdStep(p, g, v, { lr: 0.1, momentum: -1 })).toThrow(/momentum must be finite and >= 0/);
    expect(() => sgdStep(p, g, v, { lr: 0.1, weightDecay: -0.1 })).toThrow(/weightDecay must be finite and >= 0/);
  });

  it.each([1, 7, 37, 130])('a moving average over 5 steps matches the f64 formula, and a constant stays exact (n=%i)', (n) => {
    const decays = [0.1, 0.5, 0.9, 0.99, 0.999];
    const start = randArray(n, 3 * n, -3, 3);
    const values = decays.map((_, s) => randArray(n, 7 * n + s, -2, 2));
    const avg = Tensor.from(start), value = Tensor.empty([n]);
    const ref = Array.from(start);
    decays.forEach((d, s) => {
      value.f32.set(values[s]);
      averageStep(avg, value, d);
      for (let i = 0; i < n; i++) ref[i] = d * ref[i] + (1 - d) * values[s][i];
    });
    expect(maxRelErr(avg.f32, ref, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    // avg += (1 - d)(v - avg): an average already at v does not drift by rounding.
    avg.f32.set(values[0]);
    value.f32.set(values[0]);
    averageStep(avg, value, 0.999);
    expect(Array.from(avg.f32)).toEqual(Array.from(values[0]));
    expect(() => averageStep(avg, value, 1.5)).toThrow(/averageStep: decay must be in \[0, 1\], got 1.5/);
    avg.free();
    value.free();
  });
});
