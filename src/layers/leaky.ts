// The leaky integrate-and-fire layer (snntorch's Leaky): runs `steps` steps over its input, membranes
// starting at zero for every sample, and emits binary spikes, time-major [steps * batch, ...shape].
// An input kept once ([batch, ...], repeat encoding) is broadcast over the steps; its gradient is the
// sum over them. beta and threshold are scalars per layer: learned parameters when asked, else buffers
// (saved with the model, so balanced thresholds survive a file round trip).
import { ShapeError } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { type LifParams, type LifRecord, lifBackward, lifForward } from '../kernels/lif.js';
import type { LayerActivity, NamedTensor, Param } from './layer.js';
import type { LifForm, ResetMode, SurrogateName } from '../kernels/lif.js';
import { type ForwardContext, type Layer, freeAll, param, reuse } from './layer.js';

export interface LeakySettings {
  steps: number;
  beta: number;
  threshold: number;
  learnBeta: boolean;
  learnThreshold: boolean;
  surrogate: SurrogateName;
  form: LifForm;
  reset: ResetMode;
}

export class Leaky implements Layer {
  emitsSpikes(): boolean {
    return true;
  }

  readonly beta: Param;
  readonly threshold: Param;
  /** Sees every input current before the neurons do (threshold balancing). */
  probe: ((input: Tensor) => void) | null = null;
  private record: LifRecord | null = null;
  private input: Tensor | null = null;
  private xShape: readonly number[] = [];
  private dinput: Tensor | null = null;
  private spikes = 0;
  private neuronSteps = 0;
  private neurons = 0;

  constructor(
    readonly name: string,
    readonly settings: LeakySettings,
  ) {
    const { steps, beta, threshold } = settings;
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`${name}: steps must be a positive integer, got ${steps}`);
    if (!(beta >= 0 && beta <= 1)) throw new RangeError(`${name}: beta must be in [0, 1], got ${beta}`);
    if (!(threshold > 0 && Number.isFinite(threshold))) throw new RangeError(`${name}: threshold must be positive and finite, got ${threshold}`);
    this.beta = param(`${name}.beta`, Tensor.from([beta]), false);
    this.threshold = param(`${name}.threshold`, Tensor.from([threshold]), false);
  }

  get steps(): number {
    return this.settings.steps;
  }

  /** The kernel's parameters with the current values of beta and threshold. */
  lifParams(): LifParams {
    const { steps, surrogate, form, reset } = this.settings;
    return { steps, beta: this.beta.value.f32[0], threshold: this.threshold.value.f32[0], surrogate, form, reset };
  }

  outputShape(input: readonly number[]): number[] {
    return [...input];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const steps = this.steps;
    const groups = x.shape[0] / ctx.batch;
    if (groups !== 1 && groups !== steps)
      throw new ShapeError(`${this.name}: ${x.shape[0]} rows are neither one batch of ${ctx.batch} nor ${steps} steps of it`);
    const n = x.size / groups;
    this.xShape = x.shape;
    this.input = x.reshape(groups === 1 ? [n] : [steps, n]);
    this.probe?.(this.input);
    const r = this.record;
    this.record = {
      membrane: reuse(r?.membrane ?? null, [steps, n]),
      spikes: reuse(r?.spikes ?? null, [steps, n], 'u8'),
      out: reuse(r?.out ?? null, [steps, n]),
    };
    const fired = lifForward(this.input, this.record, this.lifParams());
    if (ctx.count) {
      this.spikes += fired;
      this.neuronSteps += steps * n;
      this.neurons = n / ctx.batch;
    }
    return this.record.out.reshape([steps * ctx.batch, ...x.shape.slice(1)]);
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const { record, input } = this;
    if (!record || !input) throw new Error(`${this.name}: backward before forward`);
    this.dinput = reuse(this.dinput, input.shape);
    const { dbeta, dthreshold } = lifBackward(dy.reshape(record.out.shape), record, this.lifParams(), this.dinput);
    this.beta.grad.f32[0] = dbeta;
    this.threshold.grad.f32[0] = dthreshold;
    return wantInputGrad ? this.dinput.reshape(this.xShape) : null;
  }

  parameters(): Param[] {
    const { learnBeta, learnThreshold } = this.settings;
    return [...(learnBeta ? [this.beta] : []), ...(learnThreshold ? [this.threshold] : [])];
  }

  buffers(): NamedTensor[] {
    const { learnBeta, learnThreshold } = this.settings;
    return [...(learnBeta ? [] : [this.beta]), ...(learnThreshold ? [] : [this.threshold])].map(({ name, value }) => ({ name, value }));
  }

  clone(): Leaky {
    return new Leaky(this.name, { ...this.settings, beta: this.beta.value.f32[0], threshold: this.threshold.value.f32[0] });
  }

  resetActivity(): void {
    this.spikes = this.neuronSteps = 0;
  }

  activity(): LayerActivity {
    return {
      name: this.name,
      neurons: this.neurons,
      spikeRate: this.neuronSteps > 0 ? this.spikes / this.neuronSteps : 0,
    };
  }

  dispose(): void {
    const r = this.record;
    freeAll(this.beta.value, this.beta.grad, this.threshold.value, this.threshold.grad, r?.membrane, r?.spikes, r?.out, this.dinput);
    this.record = null;
    this.input = this.dinput = null;
  }
}
