// A depthwise 2d convolution layer (PyTorch's Conv2d with groups = in = out channels): owns weight
// [C, 1, KH, KW] and bias [C]; channel c is filtered by its own kernel alone,
//   y[c] = b[c] + w[c, 0] ⋆ x[c]
// so a layer costs K multiply-adds per output instead of C·K: BC-ResNet's frequency and time filters.
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { type DepthwiseOptions, depthwiseBackwardInput, depthwiseBackwardWeight, depthwiseForward, depthwiseOutputShape } from '../kernels/depthwise.js';
import type { Param } from './layer.js';
import { type ForwardContext, reuse } from './layer.js';
import { tapsReaching } from './synaptic-counter.js';
import { SynapticLayer, synapses } from './synaptic.js';

export interface DepthwiseConv2dSettings {
  channels: number;
  kernel: [number, number];
  /** Default [1, 1]. */
  stride?: [number, number];
  /** Zeros on each side, or 'same' (keeps the size at stride 1); default [0, 0]. */
  padding?: [number, number] | 'same';
  /** Spacing of the taps; default [1, 1]. */
  dilation?: [number, number];
  /** Default true; false before a batch norm (see Conv2dSettings.bias). */
  bias?: boolean;
}

export class DepthwiseConv2d extends SynapticLayer {
  readonly weight: Param;
  readonly bias: Param;
  readonly options: Required<DepthwiseOptions>;

  /** `init`: a seed for PyTorch's default initialisation (fan-in KH·KW), or a layer whose weights to copy. */
  constructor(
    readonly name: string,
    readonly settings: DepthwiseConv2dSettings,
    init: number | DepthwiseConv2d,
  ) {
    super();
    const { channels: C, kernel: [KH, KW] } = settings;
    const dilation = settings.dilation ?? [1, 1];
    const same = (k: number, d: number): number => {
      if (k % 2 === 0) throw new ShapeError(`${name}: padding 'same' needs an odd kernel, got ${KH}x${KW}`);
      return ((k - 1) * d) / 2;
    };
    const padding = settings.padding === 'same' ? ([same(KH, dilation[0]), same(KW, dilation[1])] as [number, number]) : (settings.padding ?? [0, 0]);
    this.options = { stride: settings.stride ?? [1, 1], padding, dilation };
    // Validates the sizes once, with the layer's name in the message.
    depthwiseOutputShape([1, C, (KH - 1) * dilation[0] + 1, (KW - 1) * dilation[1] + 1], [C, 1, KH, KW], { dilation });
    ({ weight: this.weight, bias: this.bias } = synapses(name, [C, 1, KH, KW], KH * KW, this.hasBias, init));
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, H, W]`);
    return depthwiseOutputShape([1, ...input], this.weight.value.shape, this.options).slice(1);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const out = [x.shape[0], ...this.outputShape(x.shape.slice(1))];
    this.y = reuse(this.y, out);
    depthwiseForward(x, this.weight.value, this.hasBias ? this.bias.value : null, this.y, this.options);
    if (ctx.count) {
      const [, , KH, KW] = this.weight.value.shape;
      this.counter.add(x, ctx, out[1] * out[2] * out[3] * KH * KW, () => this.fanOut(x.shape));
    }
    this.keepInput(x, ctx);
    return this.y;
  }

  /** The output again from the spikes' bits: K multiply-adds a value (in BC-ResNet-3's SNN, about 4% of a training step). */
  recomputeOutput(): (() => Tensor) | null {
    if (!this.keptAsBits() || !this.y) return null;
    const shape = this.y.shape;
    return () => {
      const x = this.savedInput();
      try {
        const y = Tensor.empty(shape);
        depthwiseForward(x, this.weight.value, this.hasBias ? this.bias.value : null, y, this.options);
        return y;
      } finally {
        this.doneWith(x);
      }
    };
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const x = this.savedInput();
    try {
      depthwiseBackwardWeight(x, dy, this.weight.grad, this.hasBias ? this.bias.grad : null, this.options);
    } finally {
      this.doneWith(x);
    }
    if (!wantInputGrad) return null;
    this.dx = reuse(this.dx, this.xShape);
    depthwiseBackwardInput(this.weight.value, dy, this.dx, this.options);
    return this.dx;
  }

  /** How many taps each input position of a channel reaches, per (h, w). */
  private fanOut(xShape: readonly number[]): Int32Array {
    const [, , H, W] = xShape;
    const [, , KH, KW] = this.weight.value.shape;
    const { stride: [SH, SW], padding: [PH, PW], dilation: [DH, DW] } = this.options;
    const rh = tapsReaching(H, KH, SH, PH, DH);
    const rw = tapsReaching(W, KW, SW, PW, DW);
    const fan = new Int32Array(H * W);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) fan[h * W + w] = rh[h] * rw[w];
    return fan;
  }

  override get hasBias(): boolean {
    return this.settings.bias !== false;
  }

  clone(): DepthwiseConv2d {
    return new DepthwiseConv2d(this.name, this.settings, this);
  }
}
