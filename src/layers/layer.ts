// The contract every layer keeps. A layer sees rows: x is [R, ...shape] with R = groups * batch, where
// groups is `steps` for time-major spiking activations and 1 for a tensor kept once (a CNN, or a
// repeat-encoded input before the first Leaky). Stateless layers treat all rows alike; batch norm
// normalises each group with its own statistics; a Leaky turns groups = 1 into groups = steps.
import { fmtShape } from '../engine/errors.js';
import { Tensor, type DType, sizeOf } from '../engine/tensor.js';
import type { Engine } from '../engine/engine.js';
import type { AffineCurrents } from '../kernels/lif.js';

export interface Param {
  name: string;
  value: Tensor;
  grad: Tensor;
  /** Biases, batch-norm affine parameters, beta and threshold are exempt from weight decay. */
  weightDecay: boolean;
}

export interface NamedTensor {
  name: string;
  value: Tensor;
}

/** One layer's share of the work per sample, counted since the last resetActivity(). */
export interface LayerActivity {
  name: string;
  /** Leaky layers: neurons per sample per step and the fraction that fired per step. */
  neurons?: number;
  spikeRate?: number;
  /** Synaptic layers (conv, linear): multiply-accumulates of the dense (CNN) computation, per sample
   *  over all steps, and the operations actually needed: accumulates triggered by input spikes when
   *  the input is binary, else multiply-accumulates. */
  denseMacs?: number;
  macs?: number;
  acs?: number;
}

export interface ForwardContext {
  /** Samples in the batch; the group count of an input is its rows / batch. */
  batch: number;
  /** The model's time steps (1 for a CNN): how many passes one sample stands for. */
  steps: number;
  training: boolean;
  /** Count spikes and synaptic operations during this pass (see activity()). */
  count: boolean;
  /** The input holds spike counts (binary spikes, or a residual join's sum of them), so a synaptic
   *  layer's work is accumulates, one per spike and weight reached, not multiply-accumulates. */
  spikesIn: boolean;
  /**
   * Whether this layer's backward may follow the pass (default true). False lets a layer skip what only
   * its backward reads: a LIF then keeps only the last step's membrane. A network says false in eval
   * mode and for the layers before its first parameter, which backward never reaches.
   */
  backward?: boolean;
  /**
   * The tensor that holds x, handed over by the layer before for this pass (see adopts()): the layer
   * writes its output over it and owns it from then on.
   */
  adopted?: Tensor | null;
  /**
   * In training, asks the layer before for its affineOutput(): x as an affine map of a tensor kept
   * until that layer's backward, from which this layer may recompute x in its own backward. A function,
   * so that only a layer that uses the map has it computed.
   */
  affineInput?: (() => AffineOutput | null) | null;
  /**
   * In training, the recomputeOutput() of the layer before (or of the one a view before looks into),
   * when it offers one: this layer may then keep no reference to x and compute it again, in x's shape,
   * in its own backward.
   */
  inputRecompute?: (() => Tensor) | null;
}

/** y = x·scale + shift per group of rows (a time step) and channel: AffineCurrents over the tensor x. */
export interface AffineOutput extends AffineCurrents {
  x: Tensor;
}

export interface Layer {
  /** Prefix of the layer's parameter and buffer names, e.g. `conv1` -> `conv1.weight`. */
  readonly name: string;
  /** Whether the output is binary spikes, given whether the input is: true for Leaky and the rate and
   *  latency encoders; passed through by max pool, flatten and dropout (in eval). */
  emitsSpikes(spikesIn: boolean): boolean;
  /** The output shape of one row for the input shape of one row; throws a ShapeError if it does not fit. */
  outputShape(input: readonly number[]): number[];
  /** x: [R, ...shape]. The output is owned by the layer and valid until its next forward. */
  forward(x: Tensor, ctx: ForwardContext): Tensor;
  /** dy has the last output's shape. Overwrites this layer's parameter gradients; returns dx (owned by
   *  the layer) when `wantInputGrad`, else null. */
  backward(dy: Tensor, wantInputGrad: boolean, dyHolder?: Tensor | null): Tensor | null;
  /**
   * Frees the input gradient the last backward returned, unless `keep` (the gradient being passed on
   * now) lies in it; true once the layer holds none. backwardThrough() calls it as soon as the layer
   * before has used that gradient, so two neighbouring layers' gradients are held at a time rather than
   * every layer's; the next backward allocates afresh. Layers whose gradient is a view of dy have none.
   */
  releaseGrad?(keep: Tensor | null): boolean;
  /**
   * False when, once forward has returned, neither the output nor the backward of this layer reads its
   * input tensor: the layer before may then free its output at once (a Leaky reads its membrane, a max
   * pool its argmax). Absent means true, as for views (flatten) and layers whose backward reads x.
   */
  keepsInput?(): boolean;
  /**
   * True when the output is a view of the input's memory (reshape, flatten): the layer owns nothing, so
   * when the layer after it lets go of its input, the output to free is the one this view looks into.
   */
  viewsInput?(): boolean;
  /**
   * Whether this pass would write its output over x, reading each value of x before writing the same
   * place, if the layer before handed x's memory over (ctx.adopted). A Leaky over per-step currents
   * does, in training: the currents are needed by nothing once it has run.
   */
  adopts?(x: Tensor, ctx: ForwardContext): boolean;
  /** Hands the output of the last forward to the layer after it, which then owns it; null if it cannot. */
  giveOutput?(): Tensor | null;
  /**
   * After a training forward: its output as an affine map, per group of rows and channel, of a tensor
   * this layer keeps for its own backward anyway (valid until then); null if it has none. A batch
   * norm's is its normalisation of x, so the Leaky after it recomputes its currents rather than keep
   * its membrane.
   */
  affineOutput?(): AffineOutput | null;
  /**
   * After a training forward: a function that computes that forward's output again, into a fresh tensor
   * the caller frees, from what this layer keeps for its own backward anyway (valid until then); null
   * when it keeps nothing that makes this cheap. A depthwise convolution over spikes keeps them as bits,
   * and its output costs a few multiply-adds a value, so the batch norm after it keeps no input.
   */
  recomputeOutput?(): (() => Tensor) | null;
  /**
   * Whether backward would write its input gradient over dy, reading each value first, if the layer
   * after handed dy's memory over (backward's `dyHolder`, then owned by this layer as its gradient).
   */
  adoptsGrad?(dy: Tensor): boolean;
  /** Hands the input gradient of the last backward to the layer before, which then owns it; null if it cannot. */
  giveGrad?(): Tensor | null;
  /**
   * Frees the output of the last forward; the next forward allocates afresh. Called in training when
   * nothing reads that output any more: the layer after it does not keep its input, or its backward
   * has run. Only layers whose own backward never reads their output offer it, and never for a view.
   */
  releaseOutput?(): void;
  /**
   * After this layer's backward: frees what forward kept for it alone (a Leaky's membrane, a pool's
   * argmax) and drops its references to its input, so the activations of a training step live from
   * their forward to their backward, as in PyTorch's autograd, not until the next step.
   */
  releaseSaved?(): void;
  parameters(): Param[];
  buffers(): NamedTensor[];
  /** An independent copy: same settings, its own copies of the weights and buffers. */
  clone(): Layer;
  resetActivity(): void;
  /** Its share of the work per sample over `samples` counted samples, or null for layers that do none. */
  activity(samples: number): LayerActivity | null;
  /** A block's inner layers (a residual block's two paths), for reports that go layer by layer. */
  sublayers?(): readonly Layer[];
  dispose(): void;
}

/** Every layer of a list, blocks opened up, in order. */
export function allLayers(layers: readonly Layer[]): Layer[] {
  return layers.flatMap((l) => [l, ...allLayers(l.sublayers?.() ?? [])]);
}

/**
 * The tensor to write into: `current` when it already has this shape and dtype, else a fresh one (the
 * old one freed). Activation buffers are allocated on the first forward of a batch size and reused.
 */
export function reuse(current: Tensor | null, shape: readonly number[], dtype: DType = 'f32'): Tensor {
  if (current && !current.isFreed && current.dtype === dtype && fmtShape(current.shape) === fmtShape(shape)) return current;
  current?.free();
  return Tensor.empty(shape, dtype);
}

/** `t` freed (null) unless `keep` lies in its memory: a layer's releaseGrad() over its gradient buffer. */
export function releaseUnlessKept(t: Tensor | null, keep: Tensor | null): Tensor | null {
  if (!t) return null;
  const bytes = t.size * (t.dtype === 'u8' ? 1 : 4);
  if (keep && keep.ptr >= t.ptr && keep.ptr < t.ptr + bytes) return t;
  if (t.owner) t.free();
  return null;
}

/**
 * Backward through layers[stop .. end) from the last, while a gradient flows; layer i is asked for its
 * input gradient when want(i). Each layer's gradient is let go once the layer before has used it (and
 * nothing passed on lies in it). Returns the gradient out of layers[stop] and the layers still holding
 * one, which the caller releases when it is done with that gradient.
 */
export function backwardThrough(layers: readonly Layer[], dy: Tensor, want: (i: number) => boolean, stop = 0): { dx: Tensor | null; held: Layer[] } {
  let d: Tensor | null = dy;
  let held: Layer[] = [];
  for (let i = layers.length - 1; i >= stop && d; i--) {
    // A gradient made by the layer after is read by this layer alone: it may be written over.
    const holder = i < layers.length - 1 && layers[i].adoptsGrad?.(d) ? (layers[i + 1].giveGrad?.() ?? null) : null;
    d = layers[i].backward(d, want(i), holder);
    // Layer i's backward was the last reader of its saved state and of the output before it.
    layers[i].releaseSaved?.();
    if (i > 0) layers[i - 1].releaseOutput?.();
    const passed = d;
    held = held.filter((l) => l.releaseGrad !== undefined && !l.releaseGrad(passed));
    held.push(layers[i]);
  }
  return { dx: d, held };
}

/**
 * Forward through `layers` from x. When `training(i)` (a backward through layer i may follow), the
 * output of the layer before it, whose only reader it is, is handed over to be written over if layer
 * i adopts it, and otherwise freed as soon as layer i has run unless it keeps it (eval passes keep
 * their buffers for the next call). Through views (viewsInput) the output freed is the one they look
 * into: a batch norm's output reshaped into the block after it goes when that block has run.
 */
export function forwardThrough(layers: readonly Layer[], x: Tensor, ctx: ForwardContext, before: (i: number) => void, training: (i: number) => boolean): Tensor {
  let h = x;
  // The layer whose output h is, or looks into; -1 for the caller's x, which is not ours to free.
  let owner = -1;
  layers.forEach((layer, i) => {
    before(i);
    ctx.adopted = i > 0 && training(i) && layer.adopts?.(h, ctx) ? (layers[i - 1].giveOutput?.() ?? null) : null;
    const previous = layers[i - 1];
    ctx.affineInput = i > 0 && training(i) && previous.affineOutput ? () => previous.affineOutput!() : null;
    ctx.inputRecompute = owner >= 0 && training(i) ? (layers[owner].recomputeOutput?.() ?? null) : null;
    h = layer.forward(h, ctx);
    ctx.adopted = ctx.affineInput = ctx.inputRecompute = null;
    if (owner >= 0 && training(i) && layer.keepsInput?.() === false) layers[owner].releaseOutput?.();
    if (!layer.viewsInput?.()) owner = i;
  });
  return h;
}

/** Lets every layer in `held` free its gradient (nothing of theirs is passed on any more). */
export function releaseAll(held: readonly Layer[]): void {
  for (const l of held) l.releaseGrad?.(null);
}

/** A copy of a tensor in fresh memory. */
export function copyTensor(t: Tensor): Tensor {
  // Allocate before taking the source's view: the allocation may grow memory and detach older views.
  const copy = Tensor.empty(t.shape, t.dtype);
  copy.data.set(t.data);
  return copy;
}

/** A trainable tensor with its gradient. */
export function param(name: string, value: Tensor, weightDecay: boolean): Param {
  return { name, value, grad: Tensor.zeros(value.shape), weightDecay };
}

export function freeAll(...tensors: (Tensor | null | undefined)[]): void {
  for (const t of tensors) if (t && t.owner) t.free();
}

/** The rank-4 view [R, C, 1, L] of a rank-3 [R, C, L] tensor: 1d layers run the 2d kernels with H = 1. */
export const as2d = (t: Tensor): Tensor => t.reshape([t.shape[0], t.shape[1], 1, t.shape[2]]);
/** The rank-3 view [R, C, L] of a rank-4 [R, C, 1, L] tensor. */
export const as1d = (t: Tensor): Tensor => t.reshape([t.shape[0], t.shape[1], t.shape[3]]);

// Tensor offers no sub-range view, and its constructor is private; batch norm needs one group's rows.
// This reaches the constructor the same way reshape() does (a non-owning view of the same memory).
type TensorConstructor = new (engine: Engine, ptr: number, shape: readonly number[], dtype: DType, owner: boolean) => Tensor;

/** A non-owning view of `count` rows starting at row `start` of an f32 tensor [R, ...]. */
export function rowsView(t: Tensor, start: number, count: number): Tensor {
  const row = sizeOf(t.shape.slice(1));
  if (t.dtype !== 'f32' || start < 0 || start + count > t.shape[0])
    throw new RangeError(`rowsView: rows ${start}..${start + count} of ${fmtShape(t.shape)} (${t.dtype})`);
  return new (Tensor as unknown as TensorConstructor)(t.engine, t.ptr + start * row * 4, [count, ...t.shape.slice(1)], 'f32', false);
}

/** Defaults for a layer without parameters or synaptic work. */
export abstract class StatelessLayer implements Layer {
  abstract readonly name: string;
  abstract emitsSpikes(spikesIn: boolean): boolean;
  abstract outputShape(input: readonly number[]): number[];
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;
  abstract backward(dy: Tensor, wantInputGrad: boolean): Tensor | null;
  abstract clone(): Layer;
  abstract dispose(): void;

  parameters(): Param[] {
    return [];
  }

  buffers(): NamedTensor[] {
    return [];
  }

  resetActivity(): void {}

  activity(): LayerActivity | null {
    return null;
  }
}
