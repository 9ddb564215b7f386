// Optimizers over a model's Param list. Each keeps per-parameter state tensors ("slots": Adam's m and
// v, SGD's velocity) in WASM memory and calls one kernel per parameter per step. The schedule hands
// in the learning rate and momentum (Adam's beta1) at every step, as PyTorch's OneCycleLR sets them
// on the parameter groups.
import { Tensor } from '../engine/tensor.js';
import { adamStep, sgdStep } from '../kernels/optim.js';
import type { Param } from '../layers/layer.js';

export type OptimizerName = 'adam' | 'sgd';

/** Everything needed to continue an optimizer exactly: its step count and every slot, by name. */
export interface OptimizerState {
  kind: OptimizerName;
  steps: number;
  slots: Map<string, Float32Array>;
}

export interface OptimizerOptions {
  /** L2 penalty added to the gradient (PyTorch's weight_decay), only on params with weightDecay true. */
  weightDecay?: number;
}

export abstract class Optimizer {
  abstract readonly kind: OptimizerName;
  /** Steps taken so far. */
  steps = 0;
  protected readonly slots: Tensor[][];
  readonly weightDecay: number;

  constructor(
    readonly params: Param[],
    private readonly slotNames: readonly string[],
    opts: OptimizerOptions,
  ) {
    this.weightDecay = opts.weightDecay ?? 0;
    if (!(this.weightDecay >= 0)) throw new RangeError(`weightDecay must be >= 0, got ${opts.weightDecay}`);
    const names = new Set<string>();
    for (const p of params) {
      if (names.has(p.name)) throw new Error(`optimizer: two parameters are named "${p.name}"`);
      names.add(p.name);
    }
    this.slots = params.map((p) => slotNames.map(() => Tensor.zeros(p.value.shape)));
  }

  /** One update of every parameter from its grad. */
  step(lr: number, momentum: number): void {
    this.steps++;
    this.params.forEach((p, i) => this.update(p, this.slots[i], lr, momentum, p.weightDecay ? this.weightDecay : 0));
  }

  protected abstract update(param: Param, slots: Tensor[], lr: number, momentum: number, weightDecay: number): void;

  exportState(): OptimizerState {
    const slots = new Map<string, Float32Array>();
    this.params.forEach((p, i) => this.slotNames.forEach((s, k) => slots.set(`${s}/${p.name}`, this.slots[i][k].toArray())));
    return { kind: this.kind, steps: this.steps, slots };
  }

  importState(state: OptimizerState, source = 'optimizer state'): void {
    if (state.kind !== this.kind) throw new Error(`${source}: holds ${state.kind} state, the optimizer is ${this.kind}`);
    this.params.forEach((p, i) =>
      this.slotNames.forEach((s, k) => {
        const values = state.slots.get(`${s}/${p.name}`);
        if (!values) throw new Error(`${source}: has no "${s}" slot for parameter "${p.name}"`);
        if (values.length !== p.value.size)
          throw new Error(`${source}: "${s}/${p.name}" has ${values.length} values, the parameter has ${p.value.size}`);
        this.slots[i][k].f32.set(values);
      }),
    );
    this.steps = state.steps;
  }

  dispose(): void {
    for (const slots of this.slots) for (const t of slots) t.free();
  }
}

export interface AdamOptions extends OptimizerOptions {
  beta2?: number;
  eps?: number;
}

/** Adam with PyTorch's defaults (beta2 0.999, eps 1e-8) and bias correction by the step count. */
export class Adam extends Optimizer {
  readonly kind = 'adam';
  readonly beta2: number;
  readonly eps: number;

  constructor(params: Param[], opts: AdamOptions = {}) {
    super(params, ['m', 'v'], opts);
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  protected update(param: Param, [m, v]: Tensor[], lr: number, beta1: number, weightDecay: number): void {
    adamStep(param.value, param.grad, m, v, { lr, beta1, beta2: this.beta2, eps: this.eps, weightDecay, step: this.steps });
  }
}

/** SGD with momentum (a velocity buffer, PyTorch's form without dampening or Nesterov). */
export class Sgd extends Optimizer {
  readonly kind = 'sgd';

  constructor(params: Param[], opts: OptimizerOptions = {}) {
    super(params, ['velocity'], opts);
  }

  protected update(param: Param, [velocity]: Tensor[], lr: number, momentum: number, weightDecay: number): void {
    sgdStep(param.value, param.grad, velocity, { lr, momentum, weightDecay });
  }
}

export function createOptimizer(kind: OptimizerName, params: Param[], opts: OptimizerOptions = {}): Optimizer {
  if (kind === 'adam') return new Adam(params, opts);
  if (kind === 'sgd') return new Sgd(params, opts);
  throw new RangeError(`optimizer must be 'adam' or 'sgd', got '${String(kind)}'`);
}
