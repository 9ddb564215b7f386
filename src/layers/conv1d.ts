// A 1d convolution layer (PyTorch's Conv1d): a Conv2d with H = KH = 1 over [R, C, 1, L] views, its
// weight [Cout, Cin, K] exposed in the 1d shape so names and shapes match PyTorch's.
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { samePadding } from '../kernels/conv.js';
import type { LayerActivity, NamedTensor, Param } from './layer.js';
import { Conv2d } from './conv2d.js';
import { type ForwardContext, type Layer, as1d, as2d } from './layer.js';

export interface Conv1dSettings {
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  /** Zeros on each side, or 'same'; default 0. */
  padding?: number | 'same';
}

export class Conv1d implements Layer {
  emitsSpikes(): boolean {
    return false;
  }

  private readonly conv: Conv2d;
  private readonly params: Param[];

  constructor(
    readonly name: string,
    readonly settings: Conv1dSettings,
    init: number | Conv1d,
  ) {
    const { inChannels, outChannels, kernel, stride = 1, padding = 0 } = settings;
    this.conv = new Conv2d(
      name,
      { inChannels, outChannels, kernel: [1, kernel], stride: [1, stride], padding: [0, padding === 'same' ? samePadding(kernel) : padding] },
      init instanceof Conv1d ? init.conv : init,
    );
    const w = this.conv.weight;
    this.params = [{ ...w, value: as1d(w.value), grad: as1d(w.grad) }, this.conv.bias];
  }

  get weight(): Param {
    return this.params[0];
  }

  get bias(): Param {
    return this.params[1];
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 2) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, L]`);
    const [C, , L] = this.conv.outputShape([input[0], 1, input[1]]);
    return [C, L];
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    if (x.shape.length !== 3) throw new ShapeError(`${this.name}: x has shape ${fmtShape(x.shape)}, expected [R, C, L]`);
    return as1d(this.conv.forward(as2d(x), ctx));
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const dx = this.conv.backward(as2d(dy), wantInputGrad);
    return dx && as1d(dx);
  }

  keepsInput(): boolean {
    return this.conv.keepsInput();
  }

  releaseOutput(): void {
    this.conv.releaseOutput();
  }

  releaseSaved(): void {
    this.conv.releaseSaved();
  }

  releaseGrad(keep: Tensor | null): boolean {
    return this.conv.releaseGrad(keep);
  }

  parameters(): Param[] {
    return this.params;
  }

  buffers(): NamedTensor[] {
    return [];
  }

  clone(): Conv1d {
    return new Conv1d(this.name, this.settings, this);
  }

  resetActivity(): void {
    this.conv.resetActivity();
  }

  activity(samples: number): LayerActivity {
    return this.conv.activity(samples);
  }

  dispose(): void {
    this.conv.dispose();
  }
}
