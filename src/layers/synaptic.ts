// What every synaptic layer (Linear, Conv2d, DepthwiseConv2d) shares: a weight and a bias under
// PyTorch's names, the input its weight gradient reads, its output and input gradient (freed as
// layers/layer.ts's contract says), and the count of its synaptic work for activity().
import { Tensor } from '../engine/tensor.js';
import { initSynapses } from './init.js';
import type { ForwardContext, Layer, LayerActivity, NamedTensor, Param } from './layer.js';
import { copyTensor, freeAll, param, releaseUnlessKept } from './layer.js';
import { SynapticCounter } from './synaptic-counter.js';

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

  releaseSaved(): void {
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
    freeAll(this.weight.value, this.weight.grad, this.bias.value, this.bias.grad, this.y, this.dx);
    this.x = this.y = this.dx = null;
  }
}
