// An independent plain-TypeScript f64 forward of a Network, layer by layer with naive loops, as a
// per-step PyTorch loop would compute it (repeat encoding unrolled over the steps, batch norm per step).
// `record` keeps every piecewise choice of a run (ReLU masks, max-pool winners, spikes and membranes);
// `replay` freezes them and lets each spike move linearly with its membrane at the slope of the
// surrogate, so central differences of a replayed run are the gradient that BPTT with that surrogate
// computes: an end-to-end check of the model's backward.
import { AdaptiveAvgPool2d } from '../src/layers/adaptive-avg-pool.js';
import { BatchNorm } from '../src/layers/batchnorm.js';
import { Conv1d } from '../src/layers/conv1d.js';
import { Conv2d } from '../src/layers/conv2d.js';
import { Dropout } from '../src/layers/dropout.js';
import { Encoder } from '../src/layers/encoder.js';
import { Flatten } from '../src/layers/flatten.js';
import { Leaky } from '../src/layers/leaky.js';
import { Linear } from '../src/layers/linear.js';
import { MaxPool2d } from '../src/layers/maxpool.js';
import { ReLU } from '../src/layers/relu.js';
import type { Network } from '../src/models/network.js';
import type { SurrogateName } from '../src/kernels/lif.js';

export type Weights = Map<string, Float64Array>;

/** Every parameter and buffer of the model, as f64 copies (perturb these for finite differences). */
export function weightsOf(model: Network): Weights {
  return new Map([...model.parameters(), ...model.buffers()].map((t) => [t.name, Float64Array.from(t.value.f32)]));
}

/** The derivative the surrogate gives for u = membrane - threshold (snntorch's definitions; the
 *  straight-through one is snntorch 0.5.3's default Heaviside: the gradient passes where the neuron fired). */
export function surrogateSlope(name: SurrogateName, u: number): number {
  if (name === 'straight-through') return u > 0 ? 1 : 0;
  if (name === 'atan') return 1 / (1 + ((Math.PI / 2) * 2 * u) ** 2); // alpha = 2: (alpha/2) / (1 + (pi/2 alpha u)^2)
  return 1 / (1 + 25 * Math.abs(u)) ** 2; // fast sigmoid, slope 25
}

interface Act {
  v: Float64Array;
  rows: number;
  /** Per row, 1d shapes kept as [C, L]. */
  shape: number[];
}

export type Trace = Map<number, { mask?: Uint8Array; arg?: Int32Array; u0?: Float64Array; h0?: Uint8Array }>;

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);
/** [C, H, W] view of a per-row shape ([C, L] -> [C, 1, L]). */
const as3 = (s: number[]): [number, number, number] => (s.length === 2 ? [s[0], 1, s[1]] : [s[0], s[1], s[2]]);

function conv(a: Act, w: Float64Array, b: Float64Array, co: number, k: [number, number], st: [number, number], pd: [number, number], oneD: boolean): Act {
  const [C, H, W] = as3(a.shape);
  const OH = Math.floor((H + 2 * pd[0] - k[0]) / st[0]) + 1;
  const OW = Math.floor((W + 2 * pd[1] - k[1]) / st[1]) + 1;
  const out = new Float64Array(a.rows * co * OH * OW);
  for (let r = 0; r < a.rows; r++) for (let o = 0; o < co; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = b[o];
    for (let c = 0; c < C; c++) for (let i = 0; i < k[0]; i++) for (let j = 0; j < k[1]; j++) {
      const h = oh * st[0] - pd[0] + i;
      const x = ow * st[1] - pd[1] + j;
      if (h >= 0 && h < H && x >= 0 && x < W) s += w[((o * C + c) * k[0] + i) * k[1] + j] * a.v[((r * C + c) * H + h) * W + x];
    }
    out[((r * co + o) * OH + oh) * OW + ow] = s;
  }
  return { v: out, rows: a.rows, shape: oneD ? [co, OW] : [co, OH, OW] };
}

/** Runs the reference over x [batch, ...inputShape] and returns the logits [batch, classes] (summed over steps). */
export function referenceForward(model: Network, weights: Weights, x: Float64Array, batch: number, trace: Trace, mode: 'record' | 'replay'): Float64Array {
  const steps = model.steps;
  let a: Act = { v: x, rows: batch, shape: [...model.inputShape] };
  model.layers.forEach((layer, li) => {
    const w = (n: string) => weights.get(`${layer.name}.${n}`)!;
    const rec = mode === 'record' ? (trace.set(li, {}), trace.get(li)!) : trace.get(li)!;
    if (layer instanceof Encoder) {
      if (layer.kind !== 'repeat') throw new Error('reference: only repeat encoding');
      const v = new Float64Array(a.v.length * steps);
      for (let t = 0; t < steps; t++) v.set(a.v, t * a.v.length);
      a = { v, rows: a.rows * steps, shape: a.shape };
    } else if (layer instanceof Conv1d) {
      const s = layer.settings;
      const pad = s.padding === 'same' ? (s.kernel - 1) / 2 : (s.padding ?? 0);
      a = conv(a, w('weight'), w('bias'), s.outChannels, [1, s.kernel], [1, s.stride ?? 1], [0, pad], true);
    } else if (layer instanceof Conv2d) {
      const [co, , kh, kw] = layer.weight.value.shape;
      a = conv(a, w('weight'), w('bias'), co, [kh, kw], layer.options.stride, layer.options.padding, false);
    } else if (layer instanceof BatchNorm) {
      const C = a.shape[0];
      const per = prod(a.shape) / C;
      const groups = a.rows / batch;
      const g = w('weight');
      const bb = w('bias');
      const out = new Float64Array(a.v.length);
      for (let gr = 0; gr < groups; gr++) for (let c = 0; c < C; c++) {
        let sum = 0;
        let sq = 0;
        const at = (r: number, i: number) => ((gr * batch + r) * C + c) * per + i;
        for (let r = 0; r < batch; r++) for (let i = 0; i < per; i++) sum += a.v[at(r, i)];
        const mean = sum / (batch * per);
        for (let r = 0; r < batch; r++) for (let i = 0; i < per; i++) sq += (a.v[at(r, i)] - mean) ** 2;
        const inv = 1 / Math.sqrt(sq / (batch * per) + 1e-5);
        for (let r = 0; r < batch; r++) for (let i = 0; i < per; i++) out[at(r, i)] = g[c] * (a.v[at(r, i)] - mean) * inv + bb[c];
      }
      a = { ...a, v: out };
    } else if (layer instanceof ReLU) {
      if (mode === 'record') rec.mask = Uint8Array.from(a.v, (v) => +(v > 0));
      a = { ...a, v: a.v.map((v, i) => (rec.mask![i] ? v : 0)) };
    } else if (layer instanceof MaxPool2d) {
      const [C, H, W] = as3(a.shape);
      const { kernel: [kh, kw], stride } = layer.options;
      const [sh, sw] = stride ?? [kh, kw];
      const OH = Math.floor((H - kh) / sh) + 1;
      const OW = Math.floor((W - kw) / sw) + 1;
      const out = new Float64Array(a.rows * C * OH * OW);
      if (mode === 'record') rec.arg = new Int32Array(out.length);
      for (let o = 0; o < out.length; o++) {
        const ow = o % OW;
        const oh = Math.floor(o / OW) % OH;
        const rc = Math.floor(o / (OW * OH));
        if (mode === 'record') {
          let best = -Infinity;
          for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
            const idx = (rc * H + oh * sh + i) * W + ow * sw + j;
            if (a.v[idx] > best) [best, rec.arg![o]] = [a.v[idx], idx]; // first maximum wins ties
          }
        }
        out[o] = a.v[rec.arg![o]];
      }
      a = { v: out, rows: a.rows, shape: a.shape.length === 2 ? [C, OW] : [C, OH, OW] };
    } else if (layer instanceof AdaptiveAvgPool2d) {
      const [C, H, W] = as3(a.shape);
      const [OH, OW] = layer.size;
      const out = new Float64Array(a.rows * C * OH * OW);
      for (let rc = 0; rc < a.rows * C; rc++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
        const h0 = Math.floor((oh * H) / OH), h1 = Math.ceil(((oh + 1) * H) / OH);
        const w0 = Math.floor((ow * W) / OW), w1 = Math.ceil(((ow + 1) * W) / OW);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let x = w0; x < w1; x++) s += a.v[(rc * H + h) * W + x];
        out[(rc * OH + oh) * OW + ow] = s / ((h1 - h0) * (w1 - w0));
      }
      a = { v: out, rows: a.rows, shape: a.shape.length === 2 ? [C, OW] : [C, OH, OW] };
    } else if (layer instanceof Flatten) {
      a = { ...a, shape: [prod(a.shape)] };
    } else if (layer instanceof Dropout) {
      if (model.training && layer.p > 0) throw new Error('reference: dropout only in eval');
    } else if (layer instanceof Linear) {
      const [O, I] = [layer.outFeatures, layer.inFeatures];
      const ww = w('weight');
      const b = w('bias');
      const out = new Float64Array(a.rows * O);
      for (let r = 0; r < a.rows; r++) for (let o = 0; o < O; o++) {
        let s = b[o];
        for (let i = 0; i < I; i++) s += ww[o * I + i] * a.v[r * I + i];
        out[r * O + o] = s;
      }
      a = { v: out, rows: a.rows, shape: [O] };
    } else if (layer instanceof Leaky) {
      const { form, reset, surrogate } = layer.settings;
      const beta = Math.min(1, Math.max(0, w('beta')[0]));
      const thr = w('threshold')[0];
      const groups = a.rows / batch;
      const n = a.v.length / groups;
      const out = new Float64Array(n * steps);
      if (mode === 'record') {
        rec.u0 = new Float64Array(n * steps);
        rec.h0 = new Uint8Array(n * steps);
      }
      for (let j = 0; j < n; j++) {
        let mem = 0;
        let fired = 0;
        for (let t = 0; t < steps; t++) {
          const input = a.v[(groups === 1 ? 0 : t * n) + j];
          const r = fired;
          if (form === 'current') mem = reset === 'subtract' ? beta * mem + input - r * thr : (1 - r) * (beta * mem + input);
          else mem = reset === 'subtract' ? beta * (mem - r * thr) + input : beta * (1 - r) * mem + input;
          const u = mem - thr;
          const k = t * n + j;
          if (mode === 'record') {
            rec.u0![k] = u;
            rec.h0![k] = +(u > 0);
          }
          out[k] = rec.h0![k] + (mode === 'replay' ? surrogateSlope(surrogate, rec.u0![k]) * (u - rec.u0![k]) : 0);
          fired = rec.h0![k];
        }
      }
      a = { v: out, rows: batch * steps, shape: a.shape };
    } else {
      throw new Error(`reference: no reference for layer ${layer.name}`);
    }
  });
  const C = model.classes;
  const logits = new Float64Array(batch * C);
  for (let r = 0; r < a.rows; r++) for (let c = 0; c < C; c++) logits[(r % batch) * C + c] += a.v[r * C + c];
  return logits;
}

/** The smallest distance of any membrane from its threshold in a recorded run (spikes flip below it). */
export function closestToThreshold(trace: Trace): number {
  let m = Infinity;
  for (const rec of trace.values()) if (rec.u0) for (const u of rec.u0) m = Math.min(m, Math.abs(u));
  return m;
}
