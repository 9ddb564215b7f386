// A model is an ordered list of layers. A spiking model starts with its encoder and sums its output
// logits over the steps; backward runs through the unrolled steps (BPTT) in reverse layer order.
import { ShapeError, expectShape, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { firstNonFinite } from '../kernels/elementwise.js';
import { sumOverSteps, sumOverStepsBackward } from '../kernels/loss.js';
import { type ForwardContext, type Layer, allLayers, backwardThrough, forwardThrough, freeAll, releaseAll, reuse } from '../layers/layer.js';
import { Residual } from '../layers/residual.js';
import { sizeOf } from '../engine/tensor.js';
import type { ActivityReport, Model, ModelConfig, ModelName } from './types.js';
import type { NamedTensor, Param } from '../layers/layer.js';

export class Network implements Model {
  countActivity = false;
  private mode = true;
  /** Per layer: its input holds binary spikes. */
  private readonly spikesIn: boolean[];
  /** Per layer: some layer before it has parameters, so its input gradient is needed. */
  private readonly wantsInputGrad: boolean[];
  private readonly firstWithParams: number;
  private logits: Tensor | null = null;
  private dout: Tensor | null = null;
  private batch = 0;
  private samples = 0;

  constructor(
    readonly config: ModelConfig,
    readonly inputShape: readonly number[],
    readonly layers: readonly Layer[],
  ) {
    let shape = [...inputShape];
    let spikes = false;
    this.spikesIn = [];
    for (const layer of layers) {
      this.spikesIn.push(spikes);
      shape = layer.outputShape(shape);
      spikes = layer.emitsSpikes(spikes);
    }
    if (shape.length !== 1 || shape[0] !== config.classes)
      throw new ShapeError(`${config.name}: the layers end in ${fmtShape(shape)} per sample, expected [${config.classes}] (the classes)`);
    this.firstWithParams = layers.findIndex((l) => l.parameters().length > 0);
    this.wantsInputGrad = layers.map((_, i) => this.firstWithParams >= 0 && i > this.firstWithParams);
    const names = [...this.parameters(), ...this.buffers()].map((t) => t.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice) throw new Error(`${config.name}: two tensors are named "${twice}"`);
  }

  /**
   * Floats of the outputs one row (a sample at one step) leaves in the layers, residual paths included:
   * what a forward in eval mode keeps for the next call, so a caller can bound its batch.
   */
  activationFloats(): number {
    const walk = (layers: readonly Layer[], input: readonly number[]): { floats: number; shape: readonly number[] } => {
      let floats = 0;
      let shape = input;
      for (const l of layers) {
        if (l instanceof Residual) floats += walk(l.main, shape).floats + walk(l.shortcut, shape).floats;
        shape = l.outputShape(shape);
        floats += sizeOf(shape);
      }
      return { floats, shape };
    };
    return walk(this.layers, this.inputShape).floats;
  }

  get name(): ModelName {
    return this.config.name;
  }

  get spiking(): boolean {
    return this.config.spiking;
  }

  get steps(): number {
    return this.config.steps;
  }

  get classes(): number {
    return this.config.classes;
  }

  get training(): boolean {
    return this.mode;
  }

  train(mode = true): void {
    this.mode = mode;
  }

  eval(): void {
    this.mode = false;
  }

  /** x must stay valid until backward(): the first layers keep it (not a copy) for their gradients. */
  forward(x: Tensor): Tensor {
    const batch = x.shape[0];
    if (!(batch > 0)) throw new ShapeError(`${this.name}: input has shape ${fmtShape(x.shape)}, expected [batch, ${this.inputShape.join(', ')}]`);
    expectShape(this.name, 'input', x.shape, [batch, ...this.inputShape]);
    // A NaN would pass the first Leaky as no spikes and come out as the logits of silence.
    const bad = firstNonFinite(x);
    if (bad >= 0) throw new RangeError(`${this.name}: input value ${bad} (sample ${Math.floor(bad / (x.size / batch))}) is ${x.f32[bad]}`);
    const count = this.countActivity;
    const ctx: ForwardContext = { batch, steps: this.steps, training: this.mode, count, spikesIn: false };
    const training = (i: number) => this.mode && i >= this.firstWithParams;
    const before = (i: number) => {
      ctx.spikesIn = this.spikesIn[i];
      ctx.backward = training(i);
    };
    const h = forwardThrough(this.layers, x, ctx, before, training);
    this.batch = batch;
    if (count) this.samples += batch;
    if (!this.spiking) return h;
    if (h.shape[0] !== this.steps * batch)
      throw new ShapeError(`${this.name}: the last layer gives ${h.shape[0]} rows, expected ${this.steps} steps of ${batch}`);
    this.logits = reuse(this.logits, [batch, this.classes]);
    sumOverSteps(h, this.logits, this.steps);
    return this.logits;
  }

  backward(dlogits: Tensor): void {
    if (this.batch === 0) throw new Error(`${this.name}: backward before forward`);
    expectShape(`${this.name} backward`, 'dlogits', dlogits.shape, [this.batch, this.classes]);
    let d = dlogits;
    if (this.spiking) {
      this.dout = reuse(this.dout, [this.steps * this.batch, this.classes]);
      sumOverStepsBackward(dlogits, this.dout, this.steps);
      d = this.dout;
    }
    // Each layer's input gradient is let go once the layer before has used it, and the last at the end.
    releaseAll(backwardThrough(this.layers, d, (i) => this.wantsInputGrad[i], Math.max(this.firstWithParams, 0)).held);
  }

  parameters(): Param[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  buffers(): NamedTensor[] {
    return this.layers.flatMap((l) => l.buffers());
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  resetActivity(): void {
    this.samples = 0;
    for (const l of this.layers) l.resetActivity();
  }

  activity(): ActivityReport {
    const layers = allLayers(this.layers).flatMap((l) => l.activity(this.samples) ?? []);
    const sum = (k: 'denseMacs' | 'macs' | 'acs') => layers.reduce((s, l) => s + (l[k] ?? 0), 0);
    return { samples: this.samples, layers, denseMacs: sum('denseMacs'), macs: sum('macs'), acs: sum('acs') };
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
    freeAll(this.logits, this.dout);
    this.logits = this.dout = null;
  }
}
