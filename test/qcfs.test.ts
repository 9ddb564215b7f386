// QCFS (the quantisation clip-floor-shift activation): the kernel against an f32 reference written out
// operation by operation, its straight-through gradient against finite differences (of the function
// itself where it is differentiable, of its straight-through proxy inside the quantised range), and
// the layer: learned λ, a tied λ summing both layers' gradients, the IF count it stands for.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { qcfsBackward, qcfsForward } from '../src/kernels/activation.js';
import { QCFS } from '../src/layers/qcfs.js';
import { describeEachBuild, randArray } from './helpers.js';

const f = Math.fround;

/** y = λ·floor(clamp(x/λ, 0, 1)·L + 1/2)/L as the kernel computes it, in f32. */
function refQcfs(x: number, lambda: number, L: number): number {
  const u = f(x * f(1 / lambda));
  const c = Math.min(Math.max(u, 0), 1);
  return f(Math.floor(f(f(c * L) + 0.5)) * f(lambda / L));
}

/** The form, in f64: λ·clip(floor(x·L/λ + 1/2)/L, 0, 1). */
const paperQcfs = (x: number, lambda: number, L: number): number => lambda * Math.min(Math.max(Math.floor((x * L) / lambda + 0.5) / L, 0), 1);

describeEachBuild('qcfs', () => {
  it.each([[1, 0.7, 1], [5, 1.3, 4], [37, 2, 8], [1003, 0.45, 16]])('forward matches the f32 reference (n=%i, λ=%f, L=%i) and the paper\'s form', (n, lambda, L) => {
    const xs = randArray(n, n, -0.5 * lambda, 1.5 * lambda);
    const x = Tensor.from(xs);
    const y = Tensor.empty([n]);
    qcfsForward(x, y, lambda, L);
    expect(Array.from(y.f32)).toEqual(Array.from(xs, (v) => refQcfs(v, lambda, L)));
    // Off the rounding boundaries (probability zero here) it is the paper's formula.
    for (let i = 0; i < n; i++) expect(y.f32[i]).toBeCloseTo(paperQcfs(xs[i], lambda, L), 5);
    // L + 1 levels from 0 to λ.
    for (const v of y.f32) expect(Math.abs((v / lambda) * L - Math.round((v / lambda) * L))).toBeLessThan(1e-4);
    for (const t of [x, y]) t.free();
  });

  it('backward: dx passes where 0 <= x/λ <= 1; dλ = Σ dy·(q − x/λ) inside plus Σ dy above', () => {
    const [n, lambda, L] = [203, 1.7, 4];
    const xs = randArray(n, 11, -1, 3);
    const ws = randArray(n, 12);
    const x = Tensor.from(xs);
    const dy = Tensor.from(ws);
    const dx = Tensor.empty([n]);
    const dl = qcfsBackward(x, dy, dx, lambda, L);
    let want = 0;
    xs.forEach((v, i) => {
      const u = f(v * f(1 / lambda));
      const inside = u >= 0 && u <= 1;
      expect(dx.f32[i]).toBe(inside ? ws[i] : 0);
      if (inside) want += ws[i] * (f(Math.floor(f(f(u * L) + 0.5)) / L) - u);
      else if (u > 1) want += ws[i];
    });
    expect(dl).toBeCloseTo(want, 4);
    for (const t of [x, dy, dx]) t.free();
  });

  it('backward matches finite differences: of QCFS where it is differentiable, of its straight-through proxy inside', () => {
    const [lambda, L, h] = [1.3, 8, 1e-4];
    const x0 = [-0.9, -0.2, 1.6, 2.5, 0.31, 0.77, 1.05];
    const w = [0.3, -1.2, 0.8, -0.5, 1.1, 0.7, -0.9];
    const x = Tensor.from(x0);
    const dy = Tensor.from(w);
    const dx = Tensor.empty([x0.length]);
    const dl = qcfsBackward(x, dy, dx, lambda, L);
    // Saturated (x < 0 or x > λ): y = 0 or y = λ, differentiable in x and λ.
    const loss = (xs: number[], lam: number, idx: number[]) => idx.reduce((s, i) => s + w[i] * paperQcfs(xs[i], lam, L), 0);
    const outside = [0, 1, 2, 3];
    for (const i of outside) {
      const xp = [...x0], xm = [...x0];
      xp[i] += h;
      xm[i] -= h;
      expect(dx.f32[i]).toBeCloseTo((loss(xp, lambda, [i]) - loss(xm, lambda, [i])) / (2 * h), 6);
    }
    const dlOutside = (loss(x0, lambda + h, outside) - loss(x0, lambda - h, outside)) / (2 * h);
    // Inside, the straight-through proxy λ·(q₀ − u₀) + clamp(x, 0, λ) with q₀, u₀ frozen: its gradient
    // is the kernel's (the floor's jumps are what the straight-through estimate ignores).
    const inside = [4, 5, 6];
    const q0 = inside.map((i) => paperQcfs(x0[i], lambda, L) / lambda);
    const u0 = inside.map((i) => x0[i] / lambda);
    const proxy = (xs: number[], lam: number) => inside.reduce((s, i, k) => s + w[i] * (lam * (q0[k] - u0[k]) + Math.min(Math.max(xs[i], 0), lam)), 0);
    for (const i of inside) {
      const xp = [...x0], xm = [...x0];
      xp[i] += h;
      xm[i] -= h;
      expect(dx.f32[i]).toBeCloseTo((proxy(xp, lambda) - proxy(xm, lambda)) / (2 * h), 5);
    }
    const dlInside = (proxy(x0, lambda + h) - proxy(x0, lambda - h)) / (2 * h);
    expect(dl).toBeCloseTo(dlOutside + dlInside, 4);
    for (const t of [x, dy, dx]) t.free();
  });

  it('refuses a non-positive λ, levels below 1 and mismatched shapes', () => {
    const x = Tensor.zeros([4]);
    const y = Tensor.zeros([5]);
    expect(() => qcfsForward(x, x, 0, 4)).toThrow(/qcfsForward: lambda must be a positive number, got 0/);
    expect(() => qcfsForward(x, x, 1, 0)).toThrow(/levels must be an integer >= 1/);
    expect(() => qcfsForward(x, y, 1, 4)).toThrow(/qcfsForward: y has shape \[5\], expected \[4\]/);
    expect(() => new QCFS('qcfs1', 2.5)).toThrow(/qcfs1: levels must be an integer >= 1/);
    for (const t of [x, y]) t.free();
  });

  it('layer: λ is its one parameter; a tied layer uses the owner\'s λ and adds its gradient to the owner\'s', () => {
    const owner = new QCFS('block1.qcfs2', 4, 1.5);
    const tied = new QCFS('block1.qcfsdown', 4, undefined, owner);
    expect(owner.parameters().map((p) => p.name)).toEqual(['block1.qcfs2.lambda']);
    expect(tied.parameters()).toEqual([]);
    expect(tied.scale).toBe(1.5);
    const xs = randArray(12, 3, -1, 3);
    const x = Tensor.from(xs, [3, 4]);
    const ya = owner.forward(x).toArray();
    expect(tied.forward(x).toArray()).toEqual(ya);
    const dy = Tensor.from(randArray(12, 4), [3, 4]);
    owner.backward(dy, true);
    const alone = owner.lambda.grad.f32[0];
    tied.backward(dy, false);
    expect(owner.lambda.grad.f32[0]).toBeCloseTo(2 * alone, 5);
    owner.lambda.value.f32[0] = 0.9;
    expect(tied.scale).toBeCloseTo(0.9, 6);
    expect(new QCFS('c', 4, tied).parameters().length).toBe(1);
    for (const t of [x, dy]) t.free();
    [owner, tied].forEach((l) => l.dispose());
  });
});
