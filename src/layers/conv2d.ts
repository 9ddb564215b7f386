// A 2d convolution layer (PyTorch's Conv2d): owns weight [Cout, Cin, KH, KW] and bias [Cout].
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { type Conv2dOptions, conv2dBackward, conv2dForward, conv2dOutputShape, samePadding } from '../kernels/conv.js';
import type { Param } from './layer.js';
import { type ForwardContext, reuse } from './layer.js';
import { tapsReaching } from './synaptic-counter.js';
import { SynapticLayer, synapses } from './synaptic.js';

export interface Conv2dSettings {
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  /** Default [1, 1]. */
  stride?: [number, number];
  /** Zeros on each side, or 'same' (stride 1, odd kernels); default [0, 0]. */
  padding?: [number, number] | 'same';
  /**
   * Default true. False before a batch norm, which cancels a bias anyway (PyTorch's bias=False): a
   * channel that never receives input then stays exactly 0, where a trained bias would sit on it and a
   * running mean that lags it would be blown up by a near-zero running variance in eval. The bias
   * tensor stays, at zero, so a conversion can fold a batch norm into it.
   */
  bias?: boolean;
}

export class Conv2d extends SynapticLayer {
  readonly weight: Param;
  readonly bias: Param;
  readonly options: Required<Conv2dOptions>;

  /** `init`: a seed for PyTorch's default initialisation, or a layer whose weights to copy. */
  constructor(
    readonly name: string,
    readonly settings: Conv2dSettings,
    init: number | Conv2d,
  ) {
    super();
    const { inChannels: C, outChannels: CO, kernel: [KH, KW] } = settings;
    const padding = settings.padding === 'same' ? ([samePadding(KH), samePadding(KW)] as [number, number]) : (settings.padding ?? [0, 0]);
    this.options = { stride: settings.stride ?? [1, 1], padding };
    // Validates the sizes once, with the layer's name in the message.
    conv2dOutputShape([1, C, KH + 2 * padding[0], KW + 2 * padding[1]], [CO, C, KH, KW], this.options);
    ({ weight: this.weight, bias: this.bias } = synapses(name, [CO, C, KH, KW], C * KH * KW, this.hasBias, init));
  }

  outputShape(input: readonly number[]): number[] {
    if (input.length !== 3) throw new ShapeError(`${this.name}: input has shape ${fmtShape(input)} per row, expected [C, H, W]`);
    return conv2dOutputShape([1, ...input], this.weight.value.shape, this.options).slice(1);
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const out = [x.shape[0], ...this.outputShape(x.shape.slice(1))];
    this.y = reuse(this.y, out);
    conv2dForward(x, this.weight.value, this.hasBias ? this.bias.value : null, this.y, this.options);
    if (ctx.count) {
      const [, C, KH, KW] = this.weight.value.shape;
      this.counter.add(x, ctx, out[1] * out[2] * out[3] * C * KH * KW, () => this.fanOut(x.shape));
    }
    this.keepInput(x, ctx);
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    const x = this.savedInput();
    if (wantInputGrad) this.dx = reuse(this.dx, this.xShape);
    try {
      conv2dBackward(x, this.weight.value, dy, wantInputGrad ? this.dx : null, this.weight.grad, this.hasBias ? this.bias.grad : null, this.options);
    } finally {
      this.doneWith(x);
    }
    return wantInputGrad ? this.dx : null;
  }

  /** How many weights each input position of one channel reaches: per (h, w), flattened. */
  private fanOut(xShape: readonly number[]): Int32Array {
    const [, , H, W] = xShape;
    const [CO, , KH, KW] = this.weight.value.shape;
    const [SH, SW] = this.options.stride;
    const [PH, PW] = this.options.padding;
    const rh = tapsReaching(H, KH, SH, PH);
    const rw = tapsReaching(W, KW, SW, PW);
    const fan = new Int32Array(H * W);
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) fan[h * W + w] = rh[h] * rw[w] * CO;
    return fan;
  }

  override get hasBias(): boolean {
    return this.settings.bias !== false;
  }

  clone(): Conv2d {
    return new Conv2d(this.name, this.settings, this);
  }
}
