// A 2d convolution layer (PyTorch's Conv2d): owns weight [Cout, Cin, KH, KW] and bias [Cout].
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { type Conv2dOptions, conv2dBackward, conv2dForward, conv2dOutputShape, samePadding } from '../kernels/conv.js';
import { packSpikes, spikeWords, unpackSpikes } from '../kernels/spike-bits.js';
import type { Param } from './layer.js';
import { type ForwardContext, freeAll, reuse } from './layer.js';
import { tapsReaching } from './synaptic-counter.js';
import { SynapticLayer, synapses } from './synaptic.js';

/** The largest spike count a convolution keeps as bits (a residual join of two spike maps gives 2). */
const MAX_COUNT = 2;

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
  /** What backward reads of the input when it is spikes in training: its planes of bits (x is then null). */
  private xBits: Tensor[] = [];
  private xShape: readonly number[] = [];

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
    this.x = x;
    this.xShape = x.shape;
    this.y = reuse(this.y, out);
    conv2dForward(x, this.weight.value, this.hasBias ? this.bias.value : null, this.y, this.options);
    if (ctx.count) {
      const [, C, KH, KW] = this.weight.value.shape;
      this.counter.add(x, ctx, out[1] * out[2] * out[3] * C * KH * KW, () => this.fanOut(x.shape));
    }
    this.keepAsBits(x, ctx);
    return this.y;
  }

  /**
   * Spikes for the weight gradient are kept 32 to a word, and x is left to its owner to free (see
   * keepsInput): a spiking network's convolutions read spike trains, or a residual join's counts of up
   * to MAX_COUNT (a plane of bits per count).
   */
  private keepAsBits(x: Tensor, ctx: ForwardContext): void {
    if (ctx.spikesIn && ctx.training && (ctx.backward ?? true)) {
      const words = [spikeWords(x.size)];
      this.xBits[0] = reuse(this.xBits[0] ?? null, words, 'i32');
      const top = packSpikes(x, this.xBits[0]);
      if (top >= 0 && top <= MAX_COUNT) {
        for (let level = 2; level <= top; level++) packSpikes(x, (this.xBits[level - 1] = reuse(this.xBits[level - 1] ?? null, words, 'i32')), level);
        freeAll(...this.xBits.splice(Math.max(1, top)));
        this.x = null;
        return;
      }
    }
    freeAll(...this.xBits);
    this.xBits = [];
  }

  keepsInput(): boolean {
    return this.x !== null;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (!this.x && this.xBits.length === 0) throw new Error(`${this.name}: backward before forward`);
    if (wantInputGrad) this.dx = reuse(this.dx, this.xShape);
    const x = this.x ?? Tensor.empty(this.xShape);
    try {
      if (!this.x) this.xBits.forEach((bits, k) => unpackSpikes(bits, x, k > 0));
      conv2dBackward(x, this.weight.value, dy, wantInputGrad ? this.dx : null, this.weight.grad, this.hasBias ? this.bias.grad : null, this.options);
    } finally {
      if (x !== this.x) x.free();
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

  override releaseSaved(): void {
    freeAll(...this.xBits);
    this.xBits = [];
    super.releaseSaved();
  }


  clone(): Conv2d {
    return new Conv2d(this.name, this.settings, this);
  }

  override dispose(): void {
    freeAll(...this.xBits);
    this.xBits = [];
    super.dispose();
  }

}
