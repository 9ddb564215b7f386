import './setup.js';
import { Tensor } from '../src/engine/tensor.js';
import { DEFAULT_NEURON, type LifParams, type LifRecord, lifBackward, lifForward } from '../src/kernels/lif.js';
import type { BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

// Bytes moved per neuron-step of a training pass: forward reads the input (4) and writes membrane and
// output (4 + 4); backward reads dL/dout and membrane (the spikes are read off it) and writes dinput
// (4 + 4 + 4).
const BYTES_PER_NEURON_STEP = 12;
const STEPS = 5;

/** The same neuron (current form, subtract reset, ATan) in plain JavaScript, time-major. */
function jsForward(input: Float32Array, mem: Float32Array, out: Float32Array, n: number, beta: number, thr: number): number {
  let count = 0;
  for (let t = 0; t < STEPS; t++) {
    const row = t * n;
    for (let i = 0; i < n; i++) {
      const prev = t > 0 ? mem[row - n + i] : 0;
      const m = beta * prev + input[row + i] - (prev > thr ? thr : 0);
      const s = m > thr ? 1 : 0;
      mem[row + i] = m;
      out[row + i] = s;
      count += s;
    }
  }
  return count;
}

function jsBackward(ds: Float32Array, mem: Float32Array, dinput: Float32Array, carry: Float32Array, n: number, beta: number, thr: number): number {
  const k = (Math.PI / 2) * 2;
  let dthr = 0;
  let dbeta = 0;
  carry.fill(0);
  for (let t = STEPS - 1; t >= 0; t--) {
    const row = t * n;
    for (let i = 0; i < n; i++) {
      const x = k * (mem[row + i] - thr);
      const viaSpike = ds[row + i] / (1 + x * x);
      const d = viaSpike + carry[i];
      dinput[row + i] = d;
      if (t > 0) dbeta += d * mem[row - n + i];
      dthr -= viaSpike + (t > 0 && mem[row - n + i] > thr ? d : 0);
      carry[i] = d * beta;
    }
  }
  return dthr + dbeta;
}

export const suite: BenchSuite = {
  name: `LIF step (memory-bound, T=${STEPS})`,
  async run(all) {
    const options = all.quick ? { ...all, time: Math.min(all.time, 150) } : all;
    const rows = [];
    const cases = [
      // Hjh's two spiking layers: 16 samples of [8,60,134] and of [16,30,67] per step.
      ['16x8x60x134', 16 * 8 * 60 * 134],
      ['16x16x30x67', 16 * 16 * 30 * 67],
      ['2M', 1 << 21],
    ] as const;
    for (const [label, n] of options.quick ? cases.slice(0, 2) : cases) {
      const p: LifParams = { steps: STEPS, beta: 0.9, threshold: 1, ...DEFAULT_NEURON };
      const xs = new Float32Array(STEPS * n);
      for (let i = 0; i < xs.length; i++) xs[i] = ((i * 2654435761) >>> 0) / 2 ** 32 * 1.2;
      const bytes = BYTES_PER_NEURON_STEP * STEPS * n;
      const fwd: Record<string, number> = {};
      const bwd: Record<string, number> = {};
      // Backward from a batch norm's input instead of a stored membrane (Leaky after BatchNorm in
      // training): the currents recomputed as x·scale + shift per step and channel (8 channels), then
      // the membrane from them; ms per call beside the stored membrane's.
      const recomputed: Record<string, number> = {};
      const stored: Record<string, number> = {};
      for (const flavor of ['relaxed', 'simd'] as const) {
        await engineFor(flavor);
        const input = Tensor.from(xs, [STEPS, n]);
        const rec: LifRecord = { membrane: Tensor.empty([STEPS, n]), spikes: null, out: Tensor.empty([STEPS, n]) };
        const ds = Tensor.from(xs, [STEPS, n]);
        const dinput = Tensor.empty([STEPS, n]);
        fwd[flavor] = bytes / (await secondsPerCall(() => lifForward(input, rec, p), options)) / 1e9;
        const storedSeconds = await secondsPerCall(() => lifBackward(ds, rec, p, dinput), options);
        bwd[flavor] = bytes / storedSeconds / 1e9;
        stored[flavor] = storedSeconds * 1e3;
        const scaleShift = Tensor.from(Array.from({ length: STEPS * 16 }, (_, i) => (i % 16 < 8 ? 1.5 : -0.25)), [STEPS, 2, 8]);
        const affine = { scaleShift, plane: n / 16 / 8 };
        recomputed[flavor] = (await secondsPerCall(() => lifBackward(ds, { current: input, affine }, p, dinput), options)) * 1e3;
        for (const t of [input, rec.membrane, rec.out, ds, dinput, scaleShift]) t.free();
      }
      const mem = new Float32Array(STEPS * n);
      const out = new Float32Array(STEPS * n);
      const dinput = new Float32Array(STEPS * n);
      const carry = new Float32Array(n);
      fwd.js = bytes / (await secondsPerCall(() => jsForward(xs, mem, out, n, p.beta, p.threshold), options)) / 1e9;
      bwd.js = bytes / (await secondsPerCall(() => jsBackward(xs, mem, dinput, carry, n, p.beta, p.threshold), options)) / 1e9;
      const ms = (v: number) => `relaxed ${((bytes / v / 1e9) * 1e3).toFixed(2)} ms per call`;
      rows.push({ case: `lif forward N=${label} T=${STEPS}`, unit: 'GB/s', values: fwd, note: ms(fwd.relaxed) });
      rows.push({ case: `lif backward N=${label} T=${STEPS}`, unit: 'GB/s', values: bwd, note: `ATan; dinput, dbeta, dthreshold; ${ms(bwd.relaxed)}` });
      rows.push({
        case: `lif backward from a batch norm's input N=${label} T=${STEPS}`, unit: 'ms', values: recomputed,
        note: `currents and membrane recomputed, none kept; from a stored membrane in this run: relaxed ${stored.relaxed.toFixed(2)} ms, simd ${stored.simd.toFixed(2)} ms`,
      });
    }
    return rows;
  },
};
