// Polyak averaging of the weights (Polyak & Juditsky 1992; as an exponential moving average, the
// "shadow" weights of TensorFlow's ExponentialMovingAverage and timm's ModelEma): after every optimizer
// step
//
//   avg = d·avg + (1 − d)·w,   d = min(decay, (1 + steps) / (10 + steps))
//
// over every parameter and every buffer (batch norm's running statistics, which must describe the
// averaged weights' activations, not the last step's). The warm-up term keeps the average from
// remembering the initial weights over a run shorter than the decay's horizon, 1 / (1 − decay) steps.
// Validation and the kept model see the averaged weights; training steps see the live ones.
import { Tensor } from '../engine/tensor.js';
import { averageStep } from '../kernels/optim.js';
import type { Model } from '../models/types.js';
import type { NamedTensor } from '../layers/layer.js';

/** The decays taken, [low, high): below 0.5 the average is mostly the last step; 1 never moves. */
export const DECAY_RANGE = [0.5, 1] as const;

/** `decay` in DECAY_RANGE: 0.999 averages over about the last thousand steps. */
export function checkDecay(decay: number): number {
  const [low, high] = DECAY_RANGE;
  if (!(decay >= low && decay < high)) throw new RangeError(`train: average must be a decay in [${low}, ${high}), got ${decay}`);
  return decay;
}

export class WeightAverage {
  private readonly live: NamedTensor[];
  private readonly shadow: Tensor[];
  private scratch: Float32Array | null = null;

  constructor(
    model: Model,
    readonly decay: number,
  ) {
    checkDecay(decay);
    this.live = [...model.parameters().map((p) => ({ name: p.name, value: p.value })), ...model.buffers()];
    // A copy first: allocating the shadow may grow the memory, which detaches views taken before.
    this.shadow = this.live.map(({ value }) => Tensor.from(value.toArray(), value.shape));
  }

  /** After optimizer step number `steps` (from 1). */
  update(steps: number): void {
    const d = Math.min(this.decay, (1 + steps) / (10 + steps));
    this.live.forEach(({ value }, i) => averageStep(this.shadow[i], value, d));
  }

  /** Exchanges the live and the averaged values in place: the model then holds the other set. */
  swap(): void {
    const largest = Math.max(0, ...this.live.map(({ value }) => value.size));
    if (!this.scratch || this.scratch.length < largest) this.scratch = new Float32Array(largest);
    this.live.forEach(({ value }, i) => {
      const keep = this.scratch!.subarray(0, value.size);
      keep.set(value.f32);
      value.f32.set(this.shadow[i].f32);
      this.shadow[i].f32.set(keep);
    });
  }

  /** The averaged values by tensor name, for a checkpoint. */
  exportState(): Map<string, Float32Array> {
    return new Map(this.live.map(({ name }, i) => [name, this.shadow[i].toArray()]));
  }

  importState(state: Map<string, Float32Array>, source: string): void {
    this.live.forEach(({ name, value }, i) => {
      const values = state.get(name);
      if (!values) throw new Error(`${source}: has no averaged weights for "${name}"`);
      if (values.length !== value.size) throw new Error(`${source}: averaged "${name}" has ${values.length} values, the model's has ${value.size}`);
      this.shadow[i].f32.set(values);
    });
  }

  free(): void {
    for (const t of this.shadow) t.free();
  }
}
