// The running sum and difference over steps (kernels/steps.ts) against plain loops, their backward as
// their adjoint and by finite differences; the spiking max pool built on them: binary output whose
// count is the max of each window's counts, and its gradient by finite differences.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { cumsumSteps, cumsumStepsBackward, diffSteps, diffStepsBackward } from '../src/kernels/steps.js';
import type { ForwardContext } from '../src/layers/layer.js';
import { SpikeMaxPool1d, SpikeMaxPool2d } from '../src/layers/spike-maxpool.js';
import { describeEachBuild, randArray, rng } from './helpers.js';

const refCumsum = (x: ArrayLike<number>, T: number) => {
  const n = x.length / T;
  const y = Float64Array.from(x);
  for (let t = 1; t < T; t++) for (let i = 0; i < n; i++) y[t * n + i] += y[(t - 1) * n + i];
  return y;
};
const refDiff = (x: ArrayLike<number>, T: number) => {
  const n = x.length / T;
  return Float64Array.from(x, (v, k) => (k < n ? v : v - x[k - n]));
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describeEachBuild('steps', () => {
  it.each([[1, 5], [3, 4], [6, 13], [4, 1031]])('running sum and difference match the loops, alias safely and are each other\'s inverse (T=%i, n=%i)', (T, n) => {
    const xs = randArray(T * n, T + n);
    const x = Tensor.from(xs, [T, n]);
    const y = Tensor.empty([T, n]);
    cumsumSteps(x, y, T);
    refCumsum(xs, T).forEach((v, i) => expect(y.f32[i]).toBeCloseTo(v, 4));
    const back = Tensor.empty([T, n]);
    diffSteps(y, back, T);
    xs.forEach((v, i) => expect(back.f32[i]).toBeCloseTo(v, 4));
    diffSteps(x, y, T);
    refDiff(xs, T).forEach((v, i) => expect(y.f32[i]).toBeCloseTo(v, 5));
    // In place: the output may be the input.
    const z = Tensor.from(xs, [T, n]);
    cumsumSteps(z, z, T);
    diffSteps(z, z, T);
    xs.forEach((v, i) => expect(z.f32[i]).toBeCloseTo(v, 4));
    for (const t of [x, y, back, z]) t.free();
  });

  it('backward is the adjoint (⟨f(x), g⟩ = ⟨x, f*(g)⟩), in place too, and matches finite differences', () => {
    const [T, n] = [5, 7];
    const xs = randArray(T * n, 1);
    const gs = randArray(T * n, 2);
    const x = Tensor.from(xs, [T, n]);
    const g = Tensor.from(gs, [T, n]);
    const y = Tensor.empty([T, n]);
    const dx = Tensor.empty([T, n]);
    for (const [fwd, bwd, ref] of [[cumsumSteps, cumsumStepsBackward, refCumsum], [diffSteps, diffStepsBackward, refDiff]] as const) {
      fwd(x, y, T);
      bwd(g, dx, T);
      expect(dot(y.f32, gs)).toBeCloseTo(dot(xs, dx.f32), 4);
      // Finite differences of ⟨f(x), g⟩ in x (exact: f is linear).
      for (const i of [0, 8, 20, 34]) {
        const xp = Float64Array.from(xs), xm = Float64Array.from(xs);
        xp[i] += 1e-3;
        xm[i] -= 1e-3;
        expect(dx.f32[i]).toBeCloseTo((dot(ref(xp, T), gs) - dot(ref(xm, T), gs)) / 2e-3, 4);
      }
      const inPlace = Tensor.from(gs, [T, n]);
      bwd(inPlace, inPlace, T);
      expect(Array.from(inPlace.f32)).toEqual(Array.from(dx.f32));
      inPlace.free();
    }
    expect(() => cumsumSteps(Tensor.zeros([5, 2]), Tensor.zeros([5, 2]), 2)).toThrow(/cumsumSteps: \[5,2\] does not split into 2 steps/);
    for (const t of [x, g, y, dx]) t.free();
  });
});

describeEachBuild('spiking max pool', () => {
  const ctx = (batch: number, steps: number): ForwardContext => ({ batch, steps, training: true, count: false, spikesIn: true });

  it('emits binary spikes whose count over the steps is the max of each window\'s spike counts', () => {
    const [T, B, C, L, K] = [16, 3, 4, 10, 3];
    const r = rng(5);
    const rates = Array.from({ length: B * C * L }, () => r());
    const xs = Float32Array.from({ length: T * B * C * L }, (_, k) => (r() < rates[k % (B * C * L)] ? 1 : 0));
    const x = Tensor.from(xs, [T * B, C, L]);
    const pool = new SpikeMaxPool1d('pool1', K);
    expect(pool.outputShape([C, L])).toEqual([C, 3]);
    const y = pool.forward(x, ctx(B, T)).toArray();
    expect(y.every((v) => v === 0 || v === 1)).toBe(true);
    const OL = Math.floor(L / K);
    const n = B * C * OL;
    for (let j = 0; j < n; j++) {
      const [bc, o] = [Math.floor(j / OL), j % OL];
      const counts = Array.from({ length: K }, (_, k) => {
        let s = 0;
        for (let t = 0; t < T; t++) s += xs[t * B * C * L + bc * L + o * K + k];
        return s;
      });
      let out = 0;
      for (let t = 0; t < T; t++) out += y[t * n + j];
      expect(out).toBe(Math.max(...counts));
    }
    expect(() => pool.forward(Tensor.zeros([B, C, L]), ctx(B, T))).toThrow(/pool1: 3 rows are not 16 steps of 3: a spiking max pool needs spike trains/);
    x.free();
    pool.dispose();
  });

  it('backward matches finite differences (2d, real inputs with distinct running sums)', () => {
    const [T, B, C, H, W] = [3, 2, 2, 4, 4];
    const xs = randArray(T * B * C * H * W, 9, 0, 1);
    const ws = randArray(T * B * C * 2 * 2, 10);
    const pool = new SpikeMaxPool2d('pool', [2, 2]);
    const loss = (v: Float32Array) => {
      const x = Tensor.from(v, [T * B, C, H, W]);
      const s = dot(pool.forward(x, ctx(B, T)).f32, ws);
      x.free();
      return s;
    };
    const x = Tensor.from(xs, [T * B, C, H, W]);
    pool.forward(x, ctx(B, T));
    const dy = Tensor.from(ws, [T * B, C, 2, 2]);
    const dx = pool.backward(dy, true)!.toArray();
    expect(pool.backward(dy, false)).toBeNull();
    for (let i = 0; i < xs.length; i += 5) {
      const xp = Float32Array.from(xs), xm = Float32Array.from(xs);
      xp[i] += 1e-3;
      xm[i] -= 1e-3;
      expect(dx[i]).toBeCloseTo((loss(xp) - loss(xm)) / 2e-3, 2);
    }
    for (const t of [x, dy]) t.free();
    pool.dispose();
  });
});
