// A residual block: two paths over the same input, joined by a sum,
//   y = main(x) + shortcut(x)
// with `shortcut` empty for the identity. In the CNN, main ends in its own ReLU, so the join adds two
// activations; toSpiking() turns every ReLU inside into a Leaky and the join then adds two spike maps,
// the ADD connection of SEW-ResNet (Fang et al. 2021): an identity shortcut passes spikes unchanged,
// so a deep spiking stack can still learn the identity. The sum of two spike maps counts 0, 1 or 2
// spikes per neuron: still spike counts, so the next synaptic layer's work is accumulates.
import { ShapeError, fmtShape } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { add } from '../kernels/elementwise.js';
import { type ForwardContext, type Layer, type LayerActivity, type NamedTensor, type Param, backwardThrough, forwardThrough, freeAll, releaseAll, releaseUnlessKept, reuse } from './layer.js';

export class Residual implements Layer {
  private y: Tensor | null = null;
  private dx: Tensor | null = null;
  private rows = 0;

  constructor(
    readonly name: string,
    readonly main: readonly Layer[],
    readonly shortcut: readonly Layer[] = [],
  ) {
    if (main.length === 0) throw new RangeError(`${name}: the main path has no layers`);
  }

  /** The same block with every inner layer replaced by `f(layer)` (toSpiking's way in). */
  map(f: (layer: Layer) => Layer): Residual {
    return new Residual(this.name, this.main.map(f), this.shortcut.map(f));
  }

  sublayers(): readonly Layer[] {
    return [...this.main, ...this.shortcut];
  }

  /** Spike counts when both paths end in spikes (each a Leaky, or the identity over spikes). */
  emitsSpikes(spikesIn: boolean): boolean {
    const through = (path: readonly Layer[]) => path.reduce((spikes, l) => l.emitsSpikes(spikes), spikesIn);
    return through(this.main) && through(this.shortcut);
  }

  outputShape(input: readonly number[]): number[] {
    const through = (path: readonly Layer[]) => path.reduce<number[]>((shape, l) => l.outputShape(shape), [...input]);
    const a = through(this.main);
    const b = through(this.shortcut);
    if (fmtShape(a) !== fmtShape(b))
      throw new ShapeError(`${this.name}: the main path gives ${fmtShape(a)}, the shortcut ${fmtShape(b)}; a sum needs one shape`);
    return a;
  }

  forward(x: Tensor, ctx: ForwardContext): Tensor {
    const spikesIn = ctx.spikesIn;
    const training = () => ctx.backward ?? true;
    const run = (path: readonly Layer[]): Tensor => {
      let spikes = spikesIn;
      return forwardThrough(path, x, ctx, (i) => {
        if (i > 0) spikes = path[i - 1].emitsSpikes(spikes);
        ctx.spikesIn = spikes;
      }, training);
    };
    const a = run(this.main);
    const b = run(this.shortcut);
    ctx.spikesIn = spikesIn;
    if (a.shape[0] !== b.shape[0])
      throw new ShapeError(`${this.name}: the main path gives ${a.shape[0]} rows, the shortcut ${b.shape[0]}; put the block after the first Leaky`);
    this.y = reuse(this.y, a.shape);
    add(a, b, this.y);
    // The join's backward reads dy alone: the paths' outputs are spent.
    if (training()) for (const path of [this.main, this.shortcut]) path.at(-1)?.releaseOutput?.();
    this.rows = x.shape[0];
    return this.y;
  }

  backward(dy: Tensor, wantInputGrad: boolean): Tensor | null {
    if (this.rows === 0) throw new Error(`${this.name}: backward before forward`);
    // Inside a path every layer but the first has a parameterised layer before it or is fed by one, so
    // it passes its gradient on; the first passes one on only when the block's input needs it.
    const run = (path: readonly Layer[]) => backwardThrough(path, dy, (i) => i > 0 || wantInputGrad);
    // The main path's input gradient stays held by its layers until the join has used it, so it
    // survives the shortcut's backward.
    const a = run(this.main);
    if (!wantInputGrad) {
      releaseAll(a.held);
      releaseAll(run(this.shortcut).held);
      return null;
    }
    if (this.shortcut.length === 0) {
      this.dx = reuse(this.dx, dy.shape);
      add(a.dx!, dy, this.dx);
      releaseAll(a.held);
      return this.dx;
    }
    const b = run(this.shortcut);
    this.dx = reuse(this.dx, b.dx!.shape);
    add(a.dx!, b.dx!, this.dx);
    releaseAll(a.held);
    releaseAll(b.held);
    return this.dx;
  }

  /** The block keeps its input while a path's first layer does (the join reads only dy); a path of
   *  convolutions over spikes keeps them as bits, so the input can go once the block has run. */
  keepsInput(): boolean {
    return [this.main, this.shortcut].some((path) => path.length > 0 && path[0].keepsInput?.() !== false);
  }

  releaseOutput(): void {
    freeAll(this.y);
    this.y = null;
  }

  releaseGrad(keep: Tensor | null): boolean {
    this.dx = releaseUnlessKept(this.dx, keep);
    return this.dx === null;
  }

  parameters(): Param[] {
    return this.sublayers().flatMap((l) => l.parameters());
  }

  buffers(): NamedTensor[] {
    return this.sublayers().flatMap((l) => l.buffers());
  }

  clone(): Residual {
    return this.map((l) => l.clone());
  }

  resetActivity(): void {
    for (const l of this.sublayers()) l.resetActivity();
  }

  /** The join itself does no synaptic work; the inner layers report theirs (see sublayers). */
  activity(): LayerActivity | null {
    return null;
  }

  dispose(): void {
    for (const l of this.sublayers()) l.dispose();
    freeAll(this.y, this.dx);
    this.y = this.dx = null;
  }
}
