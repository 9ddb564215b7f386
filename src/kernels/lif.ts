import { getEngine } from '../engine/engine.js';
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { expectDisjoint } from '../engine/checks.js';
import { partsFor, ranges, streamMicros } from '../engine/split.js';
import type { Engine } from '../engine/engine.js';

/** The LIF vocabulary, as values (the model settings' lists) and as the types derived from them. */
export const LIF_FORMS = ['current', 'legacy'] as const;
export const RESET_MODES = ['subtract', 'zero'] as const;
export const SURROGATE_NAMES = ['atan', 'fast-sigmoid', 'straight-through'] as const;

/** 'current': snntorch >= 0.8; 'legacy': snntorch 0.5.3 (the study's). */
export type LifForm = (typeof LIF_FORMS)[number];
/** 'subtract': the threshold is taken off the membrane after a spike; 'zero': the membrane is cleared. */
export type ResetMode = (typeof RESET_MODES)[number];
export type SurrogateName = (typeof SURROGATE_NAMES)[number];

/** One leaky integrate-and-fire population: `steps` steps of scalar beta and threshold. */
export interface LifParams {
  steps: number;
  /** Membrane decay per step; the kernel uses clamp(beta, 0, 1), snntorch's rule. */
  beta: number;
  threshold: number;
  /** 'current': snntorch >= 0.8; 'legacy': snntorch 0.5.3 (the study's). */
  form: LifForm;
  reset: ResetMode;
  surrogate: SurrogateName;
  /** ATan surrogate sharpness, default 2. */
  alpha?: number;
  /** Fast-sigmoid slope, default 25. */
  slope?: number;
  /** The membrane before the first step, U[-1]; default 0 (snntorch). No spike precedes the first step. */
  initial?: number;
  /**
   * Signed integrate-and-fire with memory (converted SNNs): also fires −1 when the membrane falls below
   * 0 while the neuron's net spike count is positive, and fires +1 at U >= threshold (not >). Needs
   * form 'current', reset 'subtract' and a positive threshold. Default false.
   */
  signed?: boolean;
}

/** What lifForward writes and lifBackward reads: all [steps, N], but see membrane. */
export interface LifRecord {
  /**
   * f32 membrane potential after each step (after the reset of that step, before the next), [steps, N];
   * or [N], only the last step's, for a pass that no backward follows (lifBackward refuses it), which
   * spares writing 4 bytes a neuron-step. Signed neurons always keep every step.
   */
  membrane: Tensor;
  /**
   * u8 spikes, 0 or 1 (whether the neuron fired, of either sign), for displays; or null, and none are
   * written: backward reads a LIF's spikes off its membrane. Signed neurons need them.
   */
  spikes: Tensor | null;
  /** f32 spikes, 0 or 1 (−1, 0 or 1 for signed neurons): the layer's output. */
  out: Tensor;
}

/**
 * What backward may read instead of a record: the forward's input current ([N] given once, or
 * [steps, N]), from which it recomputes the membrane tile by tile. For an input given once that is
 * 1/steps of the membrane's memory, and the recomputation costs less than reading a stored membrane.
 * Not for signed neurons.
 */
export interface LifCurrent {
  current: Tensor;
  /** The currents as an affine map of `current`, which then holds the map's input ([steps, N] only). */
  affine?: AffineCurrents;
}

/**
 * Per-step currents that a batch norm wrote, I[t] = x[t]·scale[t][c] + shift[t][c] per channel c, given
 * as its input x (kept for its own backward) and these: backward recomputes them with the batch norm's
 * own arithmetic, so nothing the size of the membrane is kept or allocated.
 */
export interface AffineCurrents {
  /** f32 [steps, 2, C]: each step's scales, then its shifts. */
  scaleShift: Tensor;
  /** Neurons of one channel in a sample (H·W); a step's N neurons run through the channels plane by plane. */
  plane: number;
}

export type NeuronPreset = Pick<LifParams, 'form' | 'reset' | 'surrogate'>;

/** The study's neuron (snntorch 0.5.3): legacy form, subtract reset, straight-through gradient. */
export const STUDY_NEURON: Readonly<NeuronPreset> = Object.freeze({ form: 'legacy', reset: 'subtract', surrogate: 'straight-through' });
/** snntorch >= 0.8's default neuron: current form, subtract reset, ATan surrogate. */
export const DEFAULT_NEURON: Readonly<NeuronPreset> = Object.freeze({ form: 'current', reset: 'subtract', surrogate: 'atan' });

const FORMS: Record<LifForm, number> = { current: 0, legacy: 1 };
const RESETS: Record<ResetMode, number> = { subtract: 0, zero: 1 };
const SURROGATES: Record<SurrogateName, number> = { atan: 0, 'fast-sigmoid': 1, 'straight-through': 2 };

function option<T extends string>(op: string, name: string, value: T, table: Record<T, number>): number {
  const code = Object.hasOwn(table, value) ? table[value] : undefined;
  if (code === undefined) throw new RangeError(`${op}: ${name} must be one of ${Object.keys(table).join(', ')}, got ${JSON.stringify(value)}`);
  return code;
}

/**
 * Checks params and the record's tensors; returns N (neurons per step). A `forward` pass may keep only
 * the last step's membrane. A LIF's backward reads the membrane alone, so by then the rest may be freed.
 */
function checkRecord(op: string, record: LifRecord, p: LifParams, forward: boolean): number {
  checkParams(op, p);
  const { steps } = p;
  const { membrane, spikes, out } = record;
  const readsOut = forward || p.signed;
  if (!readsOut && membrane.shape.length === 1)
    throw new ShapeError(`${op}: the forward pass kept only the last step's membrane, [${membrane.shape[0]}]; backward needs every step's, [${steps}, ${membrane.shape[0]}]`);
  const [name, ref] = readsOut ? ['out', out] : ['membrane', membrane];
  if (ref.shape.length !== 2 || ref.shape[0] !== steps)
    throw new ShapeError(`${op}: ${name} has shape ${fmtShape(ref.shape)}, expected [${steps}, N] for ${steps} steps`);
  const n = ref.shape[1];
  if (membrane.dtype !== 'f32') throw new TypeError(`${op}: membrane must be f32, got ${membrane.dtype}`);
  if (readsOut && out.dtype !== 'f32') throw new TypeError(`${op}: out must be f32, got ${out.dtype}`);
  if (spikes) {
    if (spikes.dtype !== 'u8') throw new TypeError(`${op}: spikes must be u8, got ${spikes.dtype}`);
    expectShape(op, 'spikes', spikes.shape, ref.shape);
  } else if (p.signed) throw new TypeError(`${op}: signed neurons need the u8 spikes tensor, got null`);
  const lastOnly = membrane.shape.length === 1 && membrane.shape[0] === n;
  if (!lastOnly) expectShape(op, 'membrane', membrane.shape, ref.shape);
  else if (p.signed) throw new ShapeError(`${op}: signed neurons keep every step's membrane, [${steps}, ${n}], got [${n}]`);
  if (steps * n >= 2 ** 31) throw new ShapeError(`${op}: steps * N = ${steps * n} is too large (limit 2^31)`);
  return n;
}

function checkParams(op: string, p: LifParams): void {
  const { steps, beta, threshold } = p;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`${op}: steps must be a positive integer, got ${steps}`);
  if (!Number.isFinite(beta)) throw new RangeError(`${op}: beta must be finite, got ${beta}`);
  if (!Number.isFinite(threshold)) throw new RangeError(`${op}: threshold must be finite, got ${threshold}`);
  if (!Number.isFinite(p.initial ?? 0)) throw new RangeError(`${op}: initial must be finite, got ${p.initial}`);
  if (p.signed && (p.form !== 'current' || p.reset !== 'subtract' || !(threshold > 0)))
    throw new RangeError(`${op}: signed neurons need form current, reset subtract and a positive threshold, got ${p.form}, ${p.reset}, ${threshold}`);
}

function checkAffine(op: string, affine: AffineCurrents, steps: number, n: number, once: boolean): void {
  const { scaleShift, plane } = affine;
  if (once) throw new ShapeError(`${op}: affine currents are per step; dinput is [${n}], an input given once`);
  if (scaleShift.dtype !== 'f32') throw new TypeError(`${op}: affine scaleShift must be f32, got ${scaleShift.dtype}`);
  const channels = scaleShift.shape[2];
  if (scaleShift.shape.length !== 3 || scaleShift.shape[0] !== steps || scaleShift.shape[1] !== 2 || !(channels > 0))
    throw new ShapeError(`${op}: affine scaleShift has shape ${fmtShape(scaleShift.shape)}, expected [${steps}, 2, C]`);
  if (!Number.isInteger(plane) || plane < 1 || n % (channels * plane) !== 0)
    throw new ShapeError(`${op}: affine plane ${plane} with ${channels} channels does not divide the ${n} neurons of a step into samples`);
}

/** Whether a current tensor of this shape is given once ([N]) rather than per step ([steps, N]). */
function isOnce(op: string, operand: string, t: Tensor, steps: number, n: number): boolean {
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${operand} must be f32, got ${t.dtype}`);
  if (t.shape.length === 1 && t.shape[0] === n) return true;
  if (t.shape.length === 2 && t.shape[0] === steps && t.shape[1] === n) return false;
  throw new ShapeError(`${op}: ${operand} has shape ${fmtShape(t.shape)}, expected [${steps},${n}] or [${n}] (the same at every step)`);
}

/**
 * Runs the neurons over `steps` steps from the initial membrane (default 0). input is [steps, N], or [N] applied at
 * every step. Fills record.membrane (every step's, or only the last one's when it is [N]), record.spikes
 * and record.out; returns the number of spikes (of either sign for signed neurons).
 */
export function lifForward(input: Tensor, record: LifRecord, params: LifParams): number {
  const op = 'lifForward';
  const n = checkRecord(op, record, params, true);
  const once = isOnce(op, 'input', input, params.steps, n);
  const form = option(op, 'form', params.form, FORMS);
  const reset = option(op, 'reset', params.reset, RESETS);
  option(op, 'surrogate', params.surrogate, SURROGATES);
  const { membrane, spikes, out } = record;
  expectDisjoint(op, ['membrane', membrane], ['input', input], ['spikes', spikes], ['out', out]);
  // out may be the input itself (a Leaky that adopted its input's memory): each value of a step is
  // read just before the output is written in its place.
  const inPlace = out.ptr === input.ptr && out.size === input.size;
  expectDisjoint(op, ['out', out], ['input', inPlace ? null : input], ['spikes', spikes]);
  if (spikes) expectDisjoint(op, ['spikes', spikes], ['input', input]);
  const engine = getEngine();
  const kernels = engine.kernels;
  if (params.signed) return kernels.signedIfForward(input.ptr, once ? 0 : n, membrane.ptr, spikes!.ptr, out.ptr, n, params.steps, params.beta, params.threshold, params.initial ?? 0);
  const every = membrane.shape.length === 2;
  // Neurons are independent: each thread runs a band of them (8-13 bytes a neuron-step) through every step.
  const counts = engine.parallel(
    neuronBands(engine, n, ((every ? 12 : 8) + (spikes ? 1 : 0)) * n * params.steps).map(([lo, hi]) => [
      ['lifForward', input.ptr + 4 * lo, once ? 0 : n, membrane.ptr + 4 * lo, every ? n : 0, spikes ? spikes.ptr + lo : 0, out.ptr + 4 * lo, hi - lo, params.steps, params.beta, params.threshold, form, reset, params.initial ?? 0, n],
    ]),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Bands of whole kernel tiles of neurons, one per thread when the call moves enough bytes: a tile is
 * computed and summed as on one thread, and only the sums of the tiles' gradients for beta, threshold
 * and the initial membrane (f64) are added in another grouping.
 */
function neuronBands(engine: Engine, n: number, bytes: number): Array<[number, number]> {
  // The backward's work area is 64 bytes of results and then one f32 carry per neuron of a tile.
  const tile = (engine.kernels.lifBackwardBytes(0) - 64) / 4;
  return ranges(n, partsFor(engine.threads, streamMicros(bytes), Math.ceil(n / tile)), tile);
}

/**
 * Backpropagation through time with the surrogate gradient; the reset carries none (nor, for signed
 * neurons, the gate on the net count: dS/dU = σ'(U − θ) + [count > 0]·σ'(U)). dspikes is
 * [steps, N]; dinput is [steps, N], or [N] (the sum over steps) for an input given once. `saved` is
 * the forward's record, or its input current to recompute the membrane from (LifCurrent). Returns
 * the gradients of the summed loss for beta (zero outside [0, 1], the clamp), threshold and the
 * initial membrane (summed over the neurons, which share it); all three 0 without `paramGrads`, which
 * a layer that learns neither beta nor the threshold leaves false (the sums are a fifth of the work).
 */
export function lifBackward(
  dspikes: Tensor, saved: LifRecord | LifCurrent, params: LifParams, dinput: Tensor, paramGrads = true,
): { dbeta: number; dthreshold: number; dinitial: number } {
  const op = 'lifBackward';
  const current = 'current' in saved ? saved.current : null;
  if (current && params.signed) throw new TypeError(`${op}: signed neurons read their stored record; got an input current to recompute from`);
  if (current) checkParams(op, params);
  const n = current ? current.shape[current.shape.length - 1] : checkRecord(op, saved as LifRecord, params, false);
  if (dspikes.dtype !== 'f32') throw new TypeError(`${op}: dspikes must be f32, got ${dspikes.dtype}`);
  expectShape(op, 'dspikes', dspikes.shape, [params.steps, n]);
  const once = isOnce(op, 'dinput', dinput, params.steps, n);
  if (current && isOnce(op, 'current', current, params.steps, n) !== once)
    throw new ShapeError(`${op}: current has shape ${fmtShape(current.shape)} and dinput ${fmtShape(dinput.shape)}; the gradient of an input has its shape`);
  const form = option(op, 'form', params.form, FORMS);
  const reset = option(op, 'reset', params.reset, RESETS);
  const surrogate = option(op, 'surrogate', params.surrogate, SURROGATES);
  const k = params.surrogate === 'atan' ? (params.alpha ?? 2) : params.surrogate === 'fast-sigmoid' ? (params.slope ?? 25) : 0;
  if (!(k >= 0 && Number.isFinite(k)))
    throw new RangeError(`${op}: ${params.surrogate === 'atan' ? 'alpha' : 'slope'} must be finite and >= 0, got ${k}`);
  const affine = current ? (saved as LifCurrent).affine ?? null : null;
  if (affine) checkAffine(op, affine, params.steps, n, once);
  const record = current ? null : (saved as LifRecord);
  // dinput may be dspikes itself (a Leaky that adopted its gradient's memory): a LIF reads each
  // neuron-step's dL/dout just before writing its dL/dcurrent there.
  const inPlace = !params.signed && dinput.ptr === dspikes.ptr && dinput.size === dspikes.size;
  expectDisjoint(op, ['dinput', dinput], ['dspikes', inPlace ? null : dspikes], ['current', current], ['membrane', record?.membrane ?? null], ['out', params.signed ? record!.out : null], ['affine', affine?.scaleShift ?? null]);
  const engine = getEngine();
  if (record && params.signed) {
    const grads = engine.scratch(24);
    engine.kernels.signedIfBackward(
      dspikes.ptr, record.membrane.ptr, record.out.ptr, dinput.ptr, once ? 0 : n, n, params.steps, params.beta, params.threshold, surrogate, k, params.initial ?? 0, grads,
    );
    const [dbeta, dthreshold, dinitial] = paramGrads ? new Float64Array(engine.memory.buffer, grads, 3) : [0, 0, 0];
    return { dbeta, dthreshold, dinitial };
  }
  // Reads dspikes and the membrane (stored, or recomputed in cache), writes dinput: 12-16 bytes a neuron-step.
  const bands = neuronBands(engine, n, (current ? 12 : 16) * n * params.steps);
  const work = engine.kernels.lifBackwardBytes(current ? params.steps : 0);
  const areas = bands.map((_, t) => engine.scratch(work, t));
  engine.parallel(
    bands.map(([lo, hi], t) => [
      ['lifBackward', dspikes.ptr + 4 * lo, record ? record.membrane.ptr + 4 * lo : 0, current ? current.ptr + 4 * lo : 0,
        dinput.ptr + 4 * lo, once ? 0 : n,
        hi - lo, params.steps, params.beta, params.threshold, form, reset, surrogate, k, params.initial ?? 0, areas[t], n, paramGrads ? 1 : 0,
        affine ? affine.scaleShift.ptr : 0, affine ? affine.scaleShift.shape[2] : 0, affine?.plane ?? 0, lo],
    ]),
  );
  const sums = [0, 0, 0];
  for (const at of areas) new Float64Array(engine.memory.buffer, at, 3).forEach((v, i) => (sums[i] += v));
  return { dbeta: sums[0], dthreshold: sums[1], dinitial: sums[2] };
}
