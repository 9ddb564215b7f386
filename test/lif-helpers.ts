// What the LIF kernel tests share: a record's tensors, the smooth stand-in for a spike whose derivative
// is the surrogate, and the finite-difference check of lifBackward against a loss through the reference.
import { expect } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { type LifParams, type LifRecord, lifBackward, lifForward } from '../src/kernels/lif.js';
import { randArray } from './helpers.js';

export function record(steps: number, n: number): LifRecord {
  return { membrane: Tensor.empty([steps, n]), spikes: Tensor.empty([steps, n], 'u8'), out: Tensor.empty([steps, n]) };
}

export const freeRecord = (r: LifRecord): void => [r.membrane, r.spikes, r.out].forEach((t) => t?.free());

/** A smooth function whose derivative is the surrogate: finite differences of a loss through it check BPTT. */
export function proxySpike(p: LifParams, x: number): number {
  if (p.surrogate === 'atan') return Math.atan((Math.PI / 2) * (p.alpha ?? 2) * x) / Math.PI + 0.5;
  if (p.surrogate === 'fast-sigmoid') return x / (1 + (p.slope ?? 25) * Math.abs(x));
  return Math.max(x, 0); // straight-through: d/dx = H(x) = the spike
}

/**
 * Runs the kernels on xs ([steps, n]) with dL/dout = w (seeded) and expects dinput, dbeta, dthreshold and
 * dinitial within 1e-3 (inputs) and 2e-3 (parameters) of central differences of `loss(x, p, w)`, the
 * reference forward with proxySpike in place of the spikes.
 */
export function expectFiniteDifferences(xs: Float64Array, n: number, p: LifParams, loss: (x: ArrayLike<number>, p: LifParams, w: ArrayLike<number>) => number): void {
  const steps = p.steps;
  const ws = randArray(steps * n, 5);
  const input = Tensor.from(xs, [steps, n]);
  const rec = record(steps, n);
  lifForward(input, rec, p);
  const ds = Tensor.from(ws, [steps, n]);
  const dinput = Tensor.empty([steps, n]);
  const got = lifBackward(ds, rec, p, dinput);
  const h = 1e-5;
  const fd = (f: (d: number) => number) => (f(h) - f(-h)) / (2 * h);
  for (let i = 0; i < steps * n; i++) {
    const want = fd((d) => {
      const x = Float64Array.from(xs);
      x[i] += d;
      return loss(x, p, ws);
    });
    expect(Math.abs(dinput.f32[i] - want)).toBeLessThan(1e-3 + 1e-3 * Math.abs(want));
  }
  for (const [key, value] of [['beta', got.dbeta], ['threshold', got.dthreshold], ['initial', got.dinitial]] as const) {
    const want = fd((d) => loss(xs, { ...p, [key]: (p[key] ?? 0) + d }, ws));
    expect(Math.abs(value - want), key).toBeLessThan(2e-3 + 1e-3 * Math.abs(want));
  }
  for (const t of [input, ds, dinput]) t.free();
  freeRecord(rec);
}
