import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { rowsView } from '../src/layers/layer.js';
import { DEFAULT_NEURON, type LifParams, STUDY_NEURON, lifBackward, lifForward } from '../src/kernels/lif.js';
import type { LifForm, ResetMode, SurrogateName } from '../src/kernels/lif.js';
import { describeEachBuild, maxRelErr, randArray } from './helpers.js';
import { expectFiniteDifferences, freeRecord, proxySpike, record } from './lif-helpers.js';

// Independent f64 reference: the equations of docs/design.md written out per form and reset.
interface Ref { mem: Float64Array; spk: Uint8Array; count: number }

const clamp01 = (b: number) => Math.min(1, Math.max(0, b));

function refForward(input: ArrayLike<number>, once: boolean, n: number, p: LifParams): Ref {
  const T = p.steps;
  const b = clamp01(p.beta);
  const thr = p.threshold;
  const mem = new Float64Array(T * n);
  const spk = new Uint8Array(T * n);
  let count = 0;
  for (let j = 0; j < n; j++) {
    let m = p.initial ?? 0;
    for (let t = 0; t < T; t++) {
      const I = input[once ? j : t * n + j];
      // No spike precedes the first step, whatever the initial membrane.
      const r = t > 0 && m - thr > 0 ? 1 : 0;
      if (p.form === 'current') m = p.reset === 'subtract' ? b * m + I - r * thr : (1 - r) * (b * m + I);
      else m = p.reset === 'subtract' ? b * (m - r * thr) + I : b * (1 - r) * m + I;
      mem[t * n + j] = m;
      spk[t * n + j] = m - thr > 0 ? 1 : 0;
      count += spk[t * n + j];
    }
  }
  return { mem, spk, count };
}

function surrogateGrad(p: LifParams, x: number, spk: number): number {
  if (p.surrogate === 'atan') {
    const a = p.alpha ?? 2;
    return a / 2 / (1 + ((Math.PI / 2) * a * x) ** 2);
  }
  if (p.surrogate === 'fast-sigmoid') return 1 / ((p.slope ?? 25) * Math.abs(x) + 1) ** 2;
  return spk;
}

/** Reference BPTT in f64 from the reference forward; returns dinput [steps*n] (or [n]), dbeta, dthreshold, dinitial. */
function refBackward(ref: Ref, ds: ArrayLike<number>, once: boolean, n: number, p: LifParams) {
  const T = p.steps;
  const b = clamp01(p.beta);
  const thr = p.threshold;
  const dinput = new Float64Array(once ? n : T * n);
  let dbeta = 0;
  let dthr = 0;
  let dinitial = 0;
  for (let j = 0; j < n; j++) {
    let dmemNext = 0; // dL/dmem_{t+1}
    for (let t = T - 1; t >= 0; t--) {
      const k = t * n + j;
      const prev = t > 0 ? ref.mem[k - n] : (p.initial ?? 0);
      const r = t > 0 && prev - thr > 0 ? 1 : 0;
      const rNext = ref.mem[k] - thr > 0 ? 1 : 0; // the reset at t+1
      const sg = surrogateGrad(p, ref.mem[k] - thr, ref.spk[k]);
      // d mem_{t+1} / d mem_t for each form, reset held constant.
      const dNextdMem = t < T - 1 ? (p.reset === 'subtract' ? b : b * (1 - rNext)) : 0;
      const g = ds[k] * sg + dmemNext * dNextdMem;
      let dI: number, dB: number, dTh: number;
      if (p.form === 'current' && p.reset === 'subtract') [dI, dB, dTh] = [1, prev, -r];
      else if (p.form === 'legacy' && p.reset === 'subtract') [dI, dB, dTh] = [1, prev - r * thr, -b * r];
      else if (p.form === 'current') [dI, dB, dTh] = [1 - r, (1 - r) * prev, 0];
      else [dI, dB, dTh] = [1, (1 - r) * prev, 0];
      if (once) dinput[j] += g * dI;
      else dinput[k] = g * dI;
      dbeta += g * dB;
      dthr += g * dTh - ds[k] * sg;
      dmemNext = g;
    }
    // mem_0 depends on the initial membrane through b*prev in every form (r_0 = 0).
    dinitial += dmemNext * b;
  }
  if (p.beta < 0 || p.beta > 1) dbeta = 0;
  return { dinput, dbeta, dthreshold: dthr, dinitial };
}

function proxyLoss(input: ArrayLike<number>, once: boolean, n: number, p: LifParams, w: ArrayLike<number>): number {
  const ref = refForward(input, once, n, p);
  let s = 0;
  for (let i = 0; i < ref.mem.length; i++) s += w[i] * proxySpike(p, ref.mem[i] - p.threshold);
  return s;
}

const FORMS: LifForm[] = ['current', 'legacy'];
const RESETS: ResetMode[] = ['subtract', 'zero'];
const SURROGATES: SurrogateName[] = ['atan', 'fast-sigmoid', 'straight-through'];
const CASES = FORMS.flatMap((form) => RESETS.flatMap((reset) => SURROGATES.map((surrogate) => ({ form, reset, surrogate }))));

describeEachBuild('lif', () => {
  it.each(CASES)('forward and backward match the f64 reference: $form $reset $surrogate', ({ form, reset, surrogate }) => {
    // 8195 and 8194 span two of the kernel's tiles of 8192 neurons and end in a partial vector.
    for (const [steps, n, once, initial] of [[5, 37, false, 0], [4, 1, false, 0.45], [7, 13, true, 0.45], [6, 64, false, 0], [2, 8195, false, 1.2], [2, 8194, true, 0]] as const) {
      // initial 1.2 starts above the threshold: it fires at step 0 but resets only from step 1.
      const p: LifParams = { steps, beta: 0.83, threshold: 0.9, form, reset, surrogate, alpha: 2.5, slope: 10, initial };
      const xs = randArray(once ? n : steps * n, steps * 100 + n, -0.4, 1.3);
      const input = Tensor.from(xs, once ? [n] : [steps, n]);
      const rec = record(steps, n);
      const count = lifForward(input, rec, p);
      const ref = refForward(xs, once, n, p);
      expect(Array.from(rec.spikes!.data)).toEqual(Array.from(ref.spk));
      expect(Array.from(rec.out.f32)).toEqual(Array.from(ref.spk));
      expect(count).toBe(ref.count);
      expect(maxRelErr(rec.membrane.f32, ref.mem)).toBeLessThan(1);
      // The threshold is crossed both ways: some neuron steps fire, some do not.
      if (steps * n > 20) expect(count > 0 && count < steps * n).toBe(true);

      const ws = randArray(steps * n, n + 7);
      const ds = Tensor.from(ws, [steps, n]);
      const dinput = Tensor.empty(once ? [n] : [steps, n]);
      const got = lifBackward(ds, rec, p, dinput);
      const want = refBackward(ref, ws, once, n, p);
      expect(maxRelErr(dinput.f32, want.dinput, 1e-4, 1e-3)).toBeLessThan(1);
      expect(got.dbeta).toBeCloseTo(want.dbeta, 3);
      expect(got.dthreshold).toBeCloseTo(want.dthreshold, 3);
      expect(got.dinitial).toBeCloseTo(want.dinitial, 3);
      for (const t of [input, ds, dinput]) t.free();
      freeRecord(rec);
    }
  });

  it.each(CASES)('backward matches central finite differences of a smooth proxy: $form $reset $surrogate', ({ form, reset, surrogate }) => {
    const steps = 5;
    const n = 11;
    const p: LifParams = { steps, beta: 0.7, threshold: 1, form, reset, surrogate, initial: 0.5 };
    const xs = Float64Array.from(randArray(steps * n, 42, -0.3, 1.4));
    // Keep every membrane at least 0.02 from the threshold so no reset flips under the perturbation.
    const ref0 = refForward(xs, false, n, p);
    for (let i = 0; i < ref0.mem.length; i++) if (Math.abs(ref0.mem[i] - 1) < 0.02) xs[i] += 0.05;
    const ref = refForward(xs, false, n, p);
    expect(Math.min(...Array.from(ref.mem, (m) => Math.abs(m - 1)))).toBeGreaterThan(0.005);
    expect(ref.count).toBeGreaterThan(0);
    expectFiniteDifferences(xs, n, p, (x, q, w) => proxyLoss(x, false, n, q, w));
  });

  it('an input given once ([N]) equals the same input at every step, and its gradient is the sum', () => {
    const steps = 6;
    const n = 23;
    const p: LifParams = { steps, beta: 0.9, threshold: 0.5, ...DEFAULT_NEURON };
    const xs = randArray(n, 3, -0.2, 0.8);
    const once = Tensor.from(xs);
    const full = Tensor.from(Array.from({ length: steps * n }, (_, i) => xs[i % n]), [steps, n]);
    const [r1, r2] = [record(steps, n), record(steps, n)];
    expect(lifForward(once, r1, p)).toBe(lifForward(full, r2, p));
    expect(Array.from(r1.membrane.f32)).toEqual(Array.from(r2.membrane.f32));
    const ds = Tensor.from(randArray(steps * n, 4), [steps, n]);
    const d1 = Tensor.empty([n]);
    const d2 = Tensor.empty([steps, n]);
    const g1 = lifBackward(ds, r1, p, d1);
    const g2 = lifBackward(ds, r2, p, d2);
    const summed = Array.from({ length: n }, (_, j) => Array.from({ length: steps }, (_, t) => d2.f32[t * n + j]).reduce((a, b) => a + b));
    expect(maxRelErr(d1.f32, summed)).toBeLessThan(1);
    expect(g1.dbeta).toBeCloseTo(g2.dbeta, 4);
    expect(g1.dthreshold).toBeCloseTo(g2.dthreshold, 4);
    for (const t of [once, full, ds, d1, d2]) t.free();
    [r1, r2].forEach(freeRecord);
  });

  it('backward recomputing the membrane from the input current gives the stored membrane\'s gradients to the bit', () => {
    const [steps, n] = [5, 8192 + 4099]; // two tiles, the second ending in a partial vector
    const neurons = [DEFAULT_NEURON, STUDY_NEURON, { form: 'current', reset: 'zero', surrogate: 'fast-sigmoid' } as const, { form: 'legacy', reset: 'zero', surrogate: 'atan' } as const];
    for (const neuron of neurons)
      for (const once of [true, false]) {
        const p: LifParams = { steps, beta: 0.85, threshold: 0.7, initial: 0.2, ...neuron };
        const current = Tensor.from(randArray(once ? n : steps * n, 41, -0.3, 1.2), once ? [n] : [steps, n]);
        const rec = { ...record(steps, n), spikes: null };
        lifForward(current, rec, p);
        const ds = Tensor.from(randArray(steps * n, 42), [steps, n]);
        const [d1, d2] = [Tensor.empty(current.shape), Tensor.empty(current.shape)];
        const stored = lifBackward(ds, rec, p, d1);
        // The stored membrane is gone: the recomputation cannot read it.
        rec.membrane.fill(Number.NaN);
        expect(lifBackward(ds, { current }, p, d2), `${neuron.form} ${neuron.reset} ${neuron.surrogate} once=${once}`).toEqual(stored);
        expect(Buffer.from(d2.f32.buffer, d2.f32.byteOffset, d2.size * 4).equals(Buffer.from(d1.f32.buffer, d1.f32.byteOffset, d1.size * 4))).toBe(true);
        for (const t of [current, ds, d1, d2, rec.membrane, rec.out]) t.free();
      }
    const p: LifParams = { steps: 2, beta: 1, threshold: 1, ...DEFAULT_NEURON };
    const [x, ds, dx] = [Tensor.zeros([3]), Tensor.zeros([2, 3]), Tensor.zeros([2, 3])];
    expect(() => lifBackward(ds, { current: x }, p, dx)).toThrow(/lifBackward: current has shape \[3\] and dinput \[2,3\]/);
    expect(() => lifBackward(ds, { current: x }, { ...p, signed: true }, dx)).toThrow(/signed neurons read their stored record/);
    for (const t of [x, ds, dx]) t.free();
  });

  it('backward recomputing per-step currents from their affine map (a batch norm\'s) gives the stored membrane\'s gradients to the bit', () => {
    // 5 samples of 3 channels of 1,003 positions: channels change mid-vector and mid-tile (8,192).
    const [steps, samples, channels, plane] = [4, 5, 3, 1003];
    const n = samples * channels * plane;
    const x = Tensor.from(randArray(steps * n, 71, -2, 2), [steps, n]);
    const scaleShift = Tensor.from(randArray(steps * 2 * channels, 72, -1.5, 1.5), [steps, 2, channels]);
    // The currents as a batch norm writes them: one f32 multiply, then one f32 add.
    const ss = scaleShift.f32;
    const current = Tensor.from(Array.from(x.f32, (v, k) => {
      const t = Math.floor(k / n);
      const c = Math.floor((k % n) / plane) % channels;
      return Math.fround(Math.fround(v * ss[t * 2 * channels + c]) + ss[t * 2 * channels + channels + c]);
    }), [steps, n]);
    for (const neuron of [DEFAULT_NEURON, STUDY_NEURON, { form: 'current', reset: 'zero', surrogate: 'fast-sigmoid' } as const]) {
      const p: LifParams = { steps, beta: 0.8, threshold: 0.6, initial: 0.1, ...neuron };
      const rec = { ...record(steps, n), spikes: null };
      lifForward(current, rec, p);
      const ds = Tensor.from(randArray(steps * n, 73), [steps, n]);
      const [d1, d2] = [Tensor.empty([steps, n]), Tensor.empty([steps, n])];
      const stored = lifBackward(ds, rec, p, d1);
      rec.membrane.fill(Number.NaN);
      expect(lifBackward(ds, { current: x, affine: { scaleShift, plane } }, p, d2), `${neuron.form} ${neuron.reset} ${neuron.surrogate}`).toEqual(stored);
      expect(Buffer.from(d2.f32.buffer, d2.f32.byteOffset, d2.size * 4).equals(Buffer.from(d1.f32.buffer, d1.f32.byteOffset, d1.size * 4))).toBe(true);
      for (const t of [ds, d1, d2, rec.membrane, rec.out]) t.free();
    }
    const p: LifParams = { steps, beta: 0.5, threshold: 1, ...DEFAULT_NEURON };
    const [ds, dx, once, wrong] = [Tensor.zeros([steps, n]), Tensor.zeros([steps, n]), Tensor.zeros([n]), Tensor.zeros([steps, 3, channels])];
    expect(() => lifBackward(ds, { current: x, affine: { scaleShift: wrong, plane } }, p, dx)).toThrow(/lifBackward: affine scaleShift has shape \[4,3,3\], expected \[4, 2, C\]/);
    expect(() => lifBackward(ds, { current: x, affine: { scaleShift, plane: 1000 } }, p, dx)).toThrow(/affine plane 1000 with 3 channels does not divide the 15045 neurons/);
    expect(() => lifBackward(ds, { current: once, affine: { scaleShift, plane } }, p, once)).toThrow(/affine currents are per step/);
    for (const t of [x, scaleShift, current, ds, dx, once, wrong]) t.free();
  });

  it('backward without the parameters\' gradients (paramGrads false) gives the same dinput to the bit and zero sums', () => {
    const [steps, n] = [5, 8192 + 4099];
    for (const neuron of [DEFAULT_NEURON, STUDY_NEURON, { form: 'current', reset: 'zero', surrogate: 'straight-through' } as const])
      for (const once of [true, false]) {
        const p: LifParams = { steps, beta: 0.8, threshold: 0.6, initial: 0.1, ...neuron };
        const current = Tensor.from(randArray(once ? n : steps * n, 61, -0.3, 1.2), once ? [n] : [steps, n]);
        const rec = { ...record(steps, n), spikes: null };
        lifForward(current, rec, p);
        const ds = Tensor.from(randArray(steps * n, 62), [steps, n]);
        const [d1, d2] = [Tensor.empty(current.shape), Tensor.empty(current.shape)];
        const all = lifBackward(ds, { current }, p, d1);
        expect(all.dbeta !== 0 && all.dthreshold !== 0).toBe(true);
        expect(lifBackward(ds, { current }, p, d2, false)).toEqual({ dbeta: 0, dthreshold: 0, dinitial: 0 });
        expect(Array.from(d2.f32)).toEqual(Array.from(d1.f32));
        for (const t of [current, ds, d1, d2, rec.membrane, rec.out]) t.free();
      }
  });

  it('backward written over dspikes (in place) gives what a separate dinput gets', () => {
    const [steps, n] = [4, 8192 + 777];
    for (const neuron of [DEFAULT_NEURON, STUDY_NEURON, { form: 'legacy', reset: 'zero', surrogate: 'fast-sigmoid' } as const]) {
      const p: LifParams = { steps, beta: 0.9, threshold: 0.4, ...neuron };
      const input = Tensor.from(randArray(steps * n, 51, -0.2, 0.9), [steps, n]);
      const rec = { ...record(steps, n), spikes: null };
      lifForward(input, rec, p);
      const grads = randArray(steps * n, 52);
      const [ds, inPlace, apart] = [Tensor.from(grads, [steps, n]), Tensor.from(grads, [steps, n]), Tensor.empty([steps, n])];
      expect(lifBackward(inPlace, rec, p, inPlace)).toEqual(lifBackward(ds, rec, p, apart));
      expect(Array.from(inPlace.f32)).toEqual(Array.from(apart.f32));
      for (const t of [input, ds, inPlace, apart, rec.membrane, rec.out]) t.free();
    }
  });

  it('a training pass writes no spike bytes (spikes null) and its backward, which reads them off the membrane, is unchanged', () => {
    const [steps, n] = [4, 4099];
    for (const neuron of [DEFAULT_NEURON, STUDY_NEURON, { form: 'legacy', reset: 'zero', surrogate: 'fast-sigmoid' } as const]) {
      const p: LifParams = { steps, beta: 0.7, threshold: 0.5, ...neuron };
      const input = Tensor.from(randArray(steps * n, 31, -0.4, 1.1), [steps, n]);
      const full = record(steps, n);
      const bare = { ...record(steps, n), spikes: null };
      expect(lifForward(input, bare, p)).toBe(lifForward(input, full, p));
      expect(Array.from(bare.membrane.f32)).toEqual(Array.from(full.membrane.f32));
      expect(Array.from(bare.out.f32)).toEqual(Array.from(full.out.f32));
      const ds = Tensor.from(randArray(steps * n, 32), [steps, n]);
      const [d1, d2] = [Tensor.empty([steps, n]), Tensor.empty([steps, n])];
      // The output and spikes may be gone by backward: only the membrane is read.
      full.out.free();
      full.spikes!.free();
      expect(lifBackward(ds, bare, p, d1)).toEqual(lifBackward(ds, full, p, d2));
      expect(Array.from(d1.f32)).toEqual(Array.from(d2.f32));
      for (const t of [input, ds, d1, d2, full.membrane, bare.membrane, bare.out]) t.free();
    }
  });

  it('a forward pass keeping only the last membrane ([N]) gives the same spikes, and backward refuses its record', () => {
    const [steps, n] = [5, 4099]; // more than one tile of neurons, and a partial vector
    for (const neuron of [DEFAULT_NEURON, STUDY_NEURON, { form: 'current', reset: 'zero', surrogate: 'atan' } as const])
      for (const once of [true, false]) {
        const p: LifParams = { steps, beta: 0.8, threshold: 0.6, initial: 0.1, ...neuron };
        const xs = randArray(once ? n : steps * n, 21, -0.3, 0.9);
        const input = Tensor.from(xs, once ? [n] : [steps, n]);
        const full = record(steps, n);
        const last = { ...record(steps, n), membrane: Tensor.empty([n]) };
        const ref = refForward(xs, once, n, p);
        expect(lifForward(input, last, p)).toBe(ref.count);
        expect(lifForward(input, full, p)).toBe(ref.count);
        expect(Array.from(last.spikes!.data)).toEqual(Array.from(ref.spk));
        expect(Array.from(last.out.f32)).toEqual(Array.from(full.out.f32));
        expect(Array.from(last.membrane.f32)).toEqual(Array.from(full.membrane.f32.subarray((steps - 1) * n)));
        const ds = Tensor.zeros([steps, n]), dx = Tensor.zeros(input.shape);
        expect(() => lifBackward(ds, last, p, dx)).toThrow(/lifBackward: the forward pass kept only the last step's membrane, \[4099\]; backward needs every step's, \[5, 4099\]/);
        for (const t of [input, ds, dx]) t.free();
        [full, last].forEach(freeRecord);
      }
    const signed: LifParams = { steps, beta: 1, threshold: 1, ...DEFAULT_NEURON, signed: true };
    const rec = { ...record(steps, 3), membrane: Tensor.empty([3]) };
    expect(() => lifForward(Tensor.zeros([3]), rec, signed)).toThrow(/lifForward: signed neurons keep every step's membrane, \[5, 3\], got \[3\]/);
  });

  it('a negative threshold: neurons past the last whole vector are counted once, as the reference', () => {
    const [steps, n] = [3, 7];
    // Legacy form with reset to zero: at step 0 the reset of a zero membrane multiplies a zero, so
    // the kernel's "no spike before the first step" and the reference agree for any threshold.
    const p: LifParams = { steps, beta: 0.5, threshold: -0.25, form: 'legacy', reset: 'zero', surrogate: 'atan' };
    const xs = randArray(steps * n, 17, -1, 0.5);
    const input = Tensor.from(xs, [steps, n]);
    const rec = record(steps, n);
    const ref = refForward(xs, false, n, p);
    expect(lifForward(input, rec, p)).toBe(ref.count);
    expect(Array.from(rec.spikes!.data)).toEqual(Array.from(ref.spk));
    input.free();
    freeRecord(rec);
  });

  it('a membrane exactly at the threshold does not spike (strict >)', () => {
    const p: LifParams = { steps: 4, beta: 0, threshold: 0.75, ...STUDY_NEURON };
    const input = Tensor.from([0.75, 0.75000006, 0.5]);
    const rec = record(4, 3);
    expect(lifForward(input, rec, p)).toBe(4);
    expect(Array.from(rec.spikes!.data)).toEqual([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0]);
    input.free();
    freeRecord(rec);
  });

  it('beta outside [0, 1] is clamped, and its gradient is zero there', () => {
    const steps = 4;
    const n = 9;
    const xs = randArray(steps * n, 8, 0, 1);
    const input = Tensor.from(xs, [steps, n]);
    const ds = Tensor.from(randArray(steps * n, 9), [steps, n]);
    const dinput = Tensor.empty([steps, n]);
    const grads = [1.3, 1].map((beta) => {
      const rec = record(steps, n);
      const p: LifParams = { steps, beta, threshold: 1, ...DEFAULT_NEURON };
      lifForward(input, rec, p);
      const mem = Array.from(rec.membrane.f32);
      const g = lifBackward(ds, rec, p, dinput);
      freeRecord(rec);
      return { mem, ...g };
    });
    expect(grads[0].mem).toEqual(grads[1].mem);
    expect(grads[0].dbeta).toBe(0);
    expect(grads[1].dbeta).not.toBe(0);
    expect(grads[0].dthreshold).toBe(grads[1].dthreshold);
    for (const t of [input, ds, dinput]) t.free();
  });

  it('rejects bad shapes and options with clear messages', () => {
    const rec = record(3, 5);
    const p: LifParams = { steps: 3, beta: 0.9, threshold: 1, ...DEFAULT_NEURON };
    const bad = Tensor.zeros([4, 5]);
    const good = Tensor.zeros([3, 5]);
    expect(() => lifForward(bad, rec, p)).toThrow(/lifForward: input has shape \[4,5\], expected \[3,5\] or \[5\]/);
    expect(() => lifForward(good, rec, { ...p, steps: 4 })).toThrow(/lifForward: out has shape \[3,5\], expected \[4, N\]/);
    expect(() => lifForward(good, rec, { ...p, form: 'new' as LifForm })).toThrow(/lifForward: form must be one of current, legacy/);
    expect(() => lifForward(good, rec, { ...p, threshold: NaN })).toThrow(/threshold must be finite/);
    expect(() => lifBackward(good, rec, { ...p, surrogate: 'sigmoid' as SurrogateName }, bad)).toThrow(/lifBackward: dinput has shape/);
    expect(() => lifBackward(good, rec, { ...p, surrogate: 'sigmoid' as SurrogateName }, good)).toThrow(/surrogate must be one of atan/);
    expect(() => lifBackward(bad, rec, p, good)).toThrow(/lifBackward: dspikes has shape \[4,5\], expected \[3,5\]/);
    const none = record(3, 0);
    expect(lifForward(Tensor.zeros([0]), none, p)).toBe(0);
    expect(lifBackward(Tensor.zeros([3, 0]), none, p, Tensor.zeros([3, 0]))).toEqual({ dbeta: 0, dthreshold: 0, dinitial: 0 });
    freeRecord(none);
    expect(() => lifForward(good, { ...rec, membrane: good }, p)).toThrow(/lifForward: membrane overlaps input/);
    // dinput may be dspikes itself (in place), but not overlap it otherwise.
    const wide = Tensor.from(randArray(20, 5), [4, 5]);
    expect(() => lifBackward(rowsView(wide, 0, 3), rec, p, rowsView(wide, 1, 3))).toThrow(/lifBackward: dinput overlaps dspikes/);
    wide.free();
    for (const t of [bad, good]) t.free();
    freeRecord(rec);
  });

  it('subtract reset: after a spike the current form subtracts thr, the legacy form beta*thr (hand-computed)', () => {
    const x = Tensor.from([1.5, 1, 1, 1], [4, 1]);
    const rec = record(4, 1);
    lifForward(x, rec, { steps: 4, beta: 0.5, threshold: 1, form: 'current', reset: 'subtract', surrogate: 'atan' });
    expect(Array.from(rec.membrane.f32)).toEqual([1.5, 0.75, 1.375, 0.6875]);
    lifForward(x, rec, { steps: 4, beta: 0.5, threshold: 1, form: 'legacy', reset: 'subtract', surrogate: 'atan' });
    expect(Array.from(rec.membrane.f32)).toEqual([1.5, 1.25, 1.125, 1.0625]);
    lifForward(x, rec, { steps: 4, beta: 0.5, threshold: 1, form: 'current', reset: 'zero', surrogate: 'atan' });
    expect(Array.from(rec.membrane.f32)).toEqual([1.5, 0, 1, 1.5]);
    lifForward(x, rec, { steps: 4, beta: 0.5, threshold: 1, form: 'legacy', reset: 'zero', surrogate: 'atan' });
    expect(Array.from(rec.membrane.f32)).toEqual([1.5, 1, 1.5, 1]);
    x.free();
    freeRecord(rec);
  });
});
