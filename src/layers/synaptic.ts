// What every synaptic layer (Linear, Conv2d, DepthwiseConv2d) shares: a weight and a bias under
// PyTorch's names, the input its weight gradient reads (spikes as bits), its output and input gradient
// (freed as layers/layer.ts's contract says), and the count of its synaptic work for activity().
import { Tensor } from '../engine/tensor.js';
import { packSpikes, spikeWords, unpackSpikes } from '../kernels/spike-bits.js';
import { initSynapses } from './init.js';
import type { ForwardContext, Layer, LayerActivity, NamedTensor, Param } from './layer.js';
import { copyTensor, freeAll, param, releaseUnlessKept, reuse } from './layer.js';
import { SynapticCounter } from './synaptic-counter.js';

/** The largest spike count kept as bits (a residual join of two spike maps gives 2). */
const MAX_COUNT = 2;

/**
 * A synaptic layer's weight and bias (`<name>.weight`, `<name>.bias`): copies of `init`'s, or drawn from
 * the seed `init` as PyTorch's default does over `fanIn` inputs. A layer without a trained bias keeps
 * it at zero (see SynapticLayer.hasBias).
 */
export function synapses(name: string, weightShape: readonly number[], fanIn: number, hasBias: boolean, init: number | SynapticLayer): { weight: Param; bias: Param } {
  if (typeof init !== 'number')
    return { weight: param(`${name}.weight`, copyTensor(init.weight.value), true), bias: param(`${name}.bias`, copyTensor(init.bias.value), false) };
  const weight = param(`${name}.weight`, Tensor.empty(weightShape), true);
  const bias = param(`${name}.bias`, Tensor.zeros([weightShape[0]]), false);
  initSynapses(weight.value, hasBias ? bias.value : null, fanIn, init);
  return { weight, bias };
}

export abstract class SynapticLayer implements Layer {
  abstract readonly name: string;
  abstract readonly weight: Param;
  abstract readonly bias: Param;
  protected x: Tensor | null = null;
  protected y: Tensor | null = null;
  protected dx: Tensor | null = null;
  protected readonly counter = new SynapticCounter();
  /** What backward reads of the input when it is spikes in training: its planes of bits (x is then null). */
  private xBits: Tensor[] = [];
  /** The shape of the input that forward saw. */
  protected xShape: readonly number[] = [];

  abstract outputShape(input: readonly number[]): number[];
  abstract forward(x: Tensor, ctx: ForwardContext): Tensor;
  abstract backward(dy: Tensor, wantInputGrad: boolean): Tensor | null;
  abstract clone(): Layer;

  emitsSpikes(): boolean {
    return false;
  }

  /** Whether the bias is trained and saved; without, it stays at zero (a layer before a batch norm). */
  get hasBias(): boolean {
    return true;
  }

  parameters(): Param[] {
    return this.hasBias ? [this.weight, this.bias] : [this.weight];
  }

  buffers(): NamedTensor[] {
    return [];
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  /**
   * Saves x for the weight gradient. Spikes in training (a spiking network's trains, or a residual
   * join's counts of up to MAX_COUNT) are kept 32 to a word, a plane of bits per count, and x is left
   * to its owner to free (see keepsInput): 1/32 of the memory until backward.
   */
  protected keepInput(x: Tensor, ctx: ForwardContext): void {
    this.x = x;
    this.xShape = x.shape;
    if (ctx.spikesIn && ctx.training && (ctx.backward ?? true)) {
      const words = [spikeWords(x.size)];
      for (let k = 0; k < MAX_COUNT; k++) this.xBits[k] = reuse(this.xBits[k] ?? null, words, 'i32');
      const top = packSpikes(x, this.xBits);
      if (top >= 0) {
        freeAll(...this.xBits.splice(Math.max(1, top)));
        this.x = null;
        return;
      }
    }
    freeAll(...this.xBits);
    this.xBits = [];
  }

  /** The input forward saved: x itself, or a fresh tensor unpacked from its bits (give it to doneWith). */
  protected savedInput(): Tensor {
    if (this.x) return this.x;
    if (this.xBits.length === 0) throw new Error(`${this.name}: backward before forward`);
    const x = Tensor.empty(this.xShape);
    this.xBits.forEach((bits, k) => unpackSpikes(bits, x, k > 0));
    return x;
  }

  /** Whether backward reads the input from its bits alone (spikes in training), not from x. */
  protected keptAsBits(): boolean {
    return this.x === null && this.xBits.length > 0;
  }

  protected doneWith(x: Tensor): void {
    if (x !== this.x) x.free();
  }

  keepsInput(): boolean {
    return this.x !== null;
  }

  releaseSaved(): void {
    freeAll(...this.xBits);
    this.xBits = [];
    this.x = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }

  resetActivity(): void {
    this.counter.reset();
  }

  activity(samples: number): LayerActivity {
    return this.counter.report(this.name, samples);
  }

  dispose(): void {
    freeAll(this.weight.value, this.weight.grad, this.bias.value, this.bias.grad, this.y, this.dx, ...this.xBits);
    this.xBits = [];
    this.x = this.y = this.dx = null;
  }
}
