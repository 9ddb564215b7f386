// Signed integrate-and-fire neurons with memory (kernels signedIfForward/signedIfBackward through
// lifForward/lifBackward with `signed`): against an independent f64 reference, by finite differences of
// a smooth proxy, and the property they exist for: with every step's |I| <= θ the count over T steps
// is exactly max(0, floor(ΣI/θ + u₀)), which unsigned neurons miss when the input changes in time.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { type LifParams, type SurrogateName, lifBackward, lifForward } from '../src/kernels/lif.js';
import { Leaky, NEURON_SETTINGS } from '../src/layers/leaky.js';
import { defaultsOf } from '../src/util/schema.js';
import { describeEachBuild, maxRelErr, randArray } from './helpers.js';
import { expectFiniteDifferences, freeRecord, proxySpike, record } from './lif-helpers.js';

interface Ref { mem: Float64Array; out: Float64Array; gate: Uint8Array; count: number }

const clamp01 = (b: number) => Math.min(1, Math.max(0, b));

/** The equations of layers/leaky.ts written out per neuron: C counts the net spikes before the step. */
function refForward(input: ArrayLike<number>, once: boolean, n: number, p: LifParams): Ref {
  const T = p.steps;
  const [b, thr] = [clamp01(p.beta), p.threshold];
  const mem = new Float64Array(T * n);
  const out = new Float64Array(T * n);
  const gate = new Uint8Array(T * n);
  let count = 0;
  for (let j = 0; j < n; j++) {
    let [u, s, c] = [p.initial ?? 0, 0, 0];
    for (let t = 0; t < T; t++) {
      const k = t * n + j;
      u = b * u + input[once ? j : k] - s * thr;
      gate[k] = c > 0 ? 1 : 0;
      s = u >= thr ? 1 : u < 0 && c > 0 ? -1 : 0;
      c += s;
      mem[k] = u;
      out[k] = s;
      count += Math.abs(s);
    }
  }
  return { mem, out, gate, count };
}

function surrogate(p: LifParams, x: number, fired: boolean): number {
  if (p.surrogate === 'atan') {
    const a = p.alpha ?? 2;
    return a / 2 / (1 + ((Math.PI / 2) * a * x) ** 2);
  }
  if (p.surrogate === 'fast-sigmoid') return 1 / ((p.slope ?? 25) * Math.abs(x) + 1) ** 2;
  return fired ? 1 : 0;
}

/** BPTT in f64: dS/dU = σ'(U − θ) + gate·σ'(U), resets and gate constant; dU[t]/dU[t−1] = β. */
function refBackward(ref: Ref, ds: ArrayLike<number>, once: boolean, n: number, p: LifParams) {
  const T = p.steps;
  const [b, thr] = [clamp01(p.beta), p.threshold];
  const dinput = new Float64Array(once ? n : T * n);
  let [dbeta, dthreshold, dinitial] = [0, 0, 0];
  for (let j = 0; j < n; j++) {
    let carry = 0;
    for (let t = T - 1; t >= 0; t--) {
      const k = t * n + j;
      const up = surrogate(p, ref.mem[k] - thr, ref.out[k] > 0);
      const down = ref.gate[k] * surrogate(p, ref.mem[k], ref.out[k] < 0);
      const g = ds[k] * (up + down) + carry;
      if (once) dinput[j] += g;
      else dinput[k] = g;
      dbeta += g * (t > 0 ? ref.mem[k - n] : (p.initial ?? 0));
      dthreshold += -ds[k] * up - g * (t > 0 ? ref.out[k - n] : 0);
      carry = g * b;
    }
    dinitial += carry;
  }
  return { dinput, dbeta: p.beta < 0 || p.beta > 1 ? 0 : dbeta, dthreshold, dinitial };
}

/** The signed spike's smooth stand-in: the upper spike's, minus the gated lower one's. */
function proxyLoss(input: ArrayLike<number>, n: number, p: LifParams, w: ArrayLike<number>): number {
  const ref = refForward(input, false, n, p);
  let s = 0;
  for (let k = 0; k < ref.mem.length; k++) s += w[k] * (proxySpike(p, ref.mem[k] - p.threshold) - ref.gate[k] * proxySpike(p, -ref.mem[k]));
  return s;
}

const signedIf = (steps: number, surrogate: SurrogateName, extra: Partial<LifParams> = {}): LifParams => ({
  steps, beta: 1, threshold: 1, form: 'current', reset: 'subtract', surrogate, signed: true, ...extra,
});
const SURROGATES: SurrogateName[] = ['atan', 'fast-sigmoid', 'straight-through'];

describeEachBuild('signed lif', () => {
  it.each(SURROGATES)('forward and backward match the f64 reference: %s', (name) => {
    // 8195 and 8194 span two tiles of 8192 neurons and end in a partial vector.
    for (const [steps, n, once, beta, initial] of [[6, 37, false, 1, 0.5], [5, 13, true, 0.8, 0.45], [8, 64, false, 0.9, 0], [3, 8195, false, 1, 0.5], [2, 8194, true, 1, 0]] as const) {
      const p = signedIf(steps, name, { beta, threshold: 0.9, initial, alpha: 2.5, slope: 10 });
      // Inputs of both signs, so neurons fire both ways.
      const xs = randArray(once ? n : steps * n, steps * 100 + n, -0.9, 1.1);
      const input = Tensor.from(xs, once ? [n] : [steps, n]);
      const rec = record(steps, n);
      const count = lifForward(input, rec, p);
      const ref = refForward(xs, once, n, p);
      expect(Array.from(rec.out.f32)).toEqual(Array.from(ref.out));
      expect(Array.from(rec.spikes!.data)).toEqual(Array.from(ref.out, Math.abs));
      expect(count).toBe(ref.count);
      expect(maxRelErr(rec.membrane.f32, ref.mem)).toBeLessThan(1);
      if (!once && steps > 4) expect(ref.out.some((s) => s < 0) && ref.out.some((s) => s > 0)).toBe(true);

      const ws = randArray(steps * n, n + 7);
      const ds = Tensor.from(ws, [steps, n]);
      const dinput = Tensor.empty(once ? [n] : [steps, n]);
      const got = lifBackward(ds, rec, p, dinput);
      const want = refBackward(ref, ws, once, n, p);
      expect(maxRelErr(dinput.f32, want.dinput, 1e-4, 1e-3)).toBeLessThan(1);
      expect(got.dbeta).toBeCloseTo(want.dbeta, 2);
      expect(got.dthreshold).toBeCloseTo(want.dthreshold, 2);
      expect(got.dinitial).toBeCloseTo(want.dinitial, 3);
      for (const t of [input, ds, dinput]) t.free();
      freeRecord(rec);
    }
  });

  it.each(SURROGATES)('backward matches central finite differences of a smooth proxy: %s', (name) => {
    const [steps, n] = [6, 11];
    const p = signedIf(steps, name, { beta: 0.8, initial: 0.5 });
    const xs = Float64Array.from(randArray(steps * n, 42, -0.8, 1));
    // Keep every membrane 0.02 from 0 and from the threshold, so no spike flips under the perturbation.
    for (let pass = 0; pass < 20; pass++) {
      const ref = refForward(xs, false, n, p);
      const i = ref.mem.findIndex((m) => Math.abs(m) < 0.02 || Math.abs(m - 1) < 0.02);
      if (i < 0) break;
      xs[i] += 0.05;
    }
    const ref = refForward(xs, false, n, p);
    expect(Math.min(...Array.from(ref.mem, (m) => Math.min(Math.abs(m), Math.abs(m - 1))))).toBeGreaterThan(0.005);
    expect(ref.out.some((s) => s < 0)).toBe(true);
    expectFiniteDifferences(xs, n, p, (x, q, w) => proxyLoss(x, n, q, w));
  });

  it('with |I[t]| <= θ the count over T is max(0, floor(ΣI/θ + u₀)) exactly; unsigned neurons miss it', () => {
    const n = 4000;
    for (const T of [2, 4, 8, 32]) {
      for (const initial of [0, 0.5]) {
        // Currents that change from step to step, as spikes arriving through weights do.
        const xs = randArray(T * n, 7 * T + initial * 10, -0.6, 1);
        const input = Tensor.from(xs, [T, n]);
        const [signed, unsigned] = [record(T, n), record(T, n)];
        lifForward(input, signed, signedIf(T, 'atan', { initial }));
        // The unsigned neuron at its best: the same >= threshold (strict > differs only on ties).
        lifForward(input, unsigned, { ...signedIf(T, 'atan', { initial }), signed: false });
        let [checked, unsignedWrong] = [0, 0];
        for (let j = 0; j < n; j++) {
          let [sum, cs, cu] = [0, 0, 0];
          for (let t = 0; t < T; t++) {
            sum += xs[t * n + j];
            cs += signed.out.f32[t * n + j];
            cu += unsigned.out.f32[t * n + j];
          }
          // f32 accumulation in the kernel: leave out sums within rounding of a whole level.
          const level = sum + initial;
          if (Math.abs(level - Math.round(level)) < 1e-4) continue;
          const want = Math.max(0, Math.floor(level));
          expect(cs, `T=${T} u0=${initial} neuron ${j}`).toBe(want);
          if (cu !== want) unsignedWrong++;
          checked++;
        }
        expect(checked).toBeGreaterThan(0.95 * n);
        // What the signed neuron corrects: unsigned ones that fired too early cannot take it back.
        if (T > 2) expect(unsignedWrong, `T=${T} u0=${initial}`).toBeGreaterThan(0.05 * n);
        input.free();
        [signed, unsigned].forEach(freeRecord);
      }
    }
  });

  it('never goes below zero net spikes; on a constant input it rounds T·I/θ, as the unsigned neuron', () => {
    const [T, n] = [16, 500];
    const xs = randArray(n, 3, -1, 1.5);
    const input = Tensor.from(xs);
    const a = record(T, n);
    lifForward(input, a, signedIf(T, 'atan', { initial: 0.5 }));
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let t = 0; t < T; t++) {
        c += a.out.f32[t * n + j];
        expect(c).toBeGreaterThanOrEqual(0);
      }
      // A constant current >= 0 never takes a membrane from [0, θ) below 0: no −1 spike, and the count
      // is the unsigned neuron's (docs/conversion.md), but for ties at θ, which >= fires and > does not.
      const level = T * xs[j] + 0.5;
      if (xs[j] >= 0 && Math.abs(level - Math.round(level)) > 1e-4) expect(c).toBe(Math.min(T, Math.floor(level)));
    }
    input.free();
    freeRecord(a);
  });

  it('refuses forms it does not have, in the kernel and in the layer, naming them', () => {
    const rec = record(2, 3);
    const x = Tensor.zeros([3]);
    expect(() => lifForward(x, rec, { ...signedIf(2, 'atan'), form: 'legacy' })).toThrow(/lifForward: signed neurons need form current, reset subtract and a positive threshold, got legacy, subtract, 1/);
    expect(() => lifForward(x, rec, { ...signedIf(2, 'atan'), reset: 'zero' })).toThrow(/signed neurons need form current, reset subtract/);
    expect(() => lifBackward(Tensor.zeros([2, 3]), rec, { ...signedIf(2, 'atan'), threshold: -1 }, x)).toThrow(/lifBackward: signed neurons need .* positive threshold/);
    x.free();
    freeRecord(rec);
    const settings = { ...defaultsOf(NEURON_SETTINGS), signed: true, form: 'legacy' } as const;
    expect(() => new Leaky('lif1', settings)).toThrow(/lif1: signed neurons need form current and reset subtract, got legacy and subtract/);
  });
});
