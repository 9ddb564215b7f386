// Small models and data sets for the trainer and evaluation tests: a softmax regression (one linear
// layer) that learns in a few epochs, a model whose logits are its input (for hand-checked scores),
// and Gaussian blobs as a learnable problem.
import { Tensor } from '../src/engine/tensor.js';
import { linearBackward, linearForward } from '../src/kernels/linear.js';
import { arrayDataset, type Dataset } from '../src/data/dataset.js';
import type { ActivityReport, Model, ModelConfig } from '../src/models/types.js';
import type { NamedTensor, Param } from '../src/layers/layer.js';
import { rng } from './helpers.js';

function config(classes: number, seed: number): ModelConfig {
  return {
    name: 'tcy', classes, spiking: false, steps: 1, encoder: 'repeat', beta: 0.5, threshold: 1,
    learnBeta: false, learnThreshold: false, surrogate: 'atan', form: 'current', reset: 'subtract', initial: 0, signed: false, seed,
    quantize: 0, converted: false, features: 'default', width: 1,
  };
}

abstract class TestModel implements Model {
  readonly name = 'tcy';
  readonly spiking = false;
  readonly steps = 1;
  readonly config: ModelConfig;
  training = true;
  countActivity = false;
  protected logits: Tensor | null = null;
  protected samples = 0;

  constructor(
    readonly classes: number,
    readonly inputShape: readonly number[],
    seed: number,
  ) {
    this.config = config(classes, seed);
  }

  abstract forward(x: Tensor): Tensor;
  abstract backward(dlogits: Tensor): void;
  abstract parameters(): Param[];
  protected abstract perSample(): ActivityReport;

  protected output(batch: number): Tensor {
    if (!this.logits || this.logits.shape[0] !== batch) {
      this.logits?.free();
      this.logits = Tensor.empty([batch, this.classes]);
    }
    if (this.countActivity) this.samples += batch;
    return this.logits;
  }

  train(mode = true): void {
    this.training = mode;
  }
  eval(): void {
    this.train(false);
  }
  buffers(): NamedTensor[] {
    return [];
  }
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }
  resetActivity(): void {
    this.samples = 0;
  }
  activity(): ActivityReport {
    return { ...this.perSample(), samples: this.samples };
  }
  dispose(): void {
    this.logits?.free();
    for (const p of this.parameters()) {
      p.value.free();
      p.grad.free();
    }
  }
}

/** logits = x·wᵀ + b over the flattened input. */
export class SoftmaxRegression extends TestModel {
  private readonly params: Param[];
  private x: Tensor | null = null;
  private readonly features: number;

  constructor(features: number, classes: number, seed = 1) {
    super(classes, [features], seed);
    this.features = features;
    const r = rng(seed);
    const bound = 1 / Math.sqrt(features);
    const w = Tensor.from(Array.from({ length: classes * features }, () => (2 * r() - 1) * bound), [classes, features]);
    const b = Tensor.from(Array.from({ length: classes }, () => (2 * r() - 1) * bound), [classes]);
    this.params = [
      { name: 'fc.weight', value: w, grad: Tensor.zeros(w.shape), weightDecay: true },
      { name: 'fc.bias', value: b, grad: Tensor.zeros(b.shape), weightDecay: false },
    ];
  }

  forward(x: Tensor): Tensor {
    this.x = x;
    const y = this.output(x.shape[0]);
    linearForward(x, this.params[0].value, this.params[1].value, y);
    return y;
  }

  backward(dlogits: Tensor): void {
    linearBackward(this.x!, this.params[0].value, dlogits, null, this.params[0].grad, this.params[1].grad);
  }

  parameters(): Param[] {
    return this.params;
  }

  protected perSample(): ActivityReport {
    const macs = this.features * this.classes;
    return { samples: 0, layers: [{ name: 'fc', denseMacs: macs, macs, acs: 0 }], denseMacs: macs, macs, acs: 0 };
  }
}

/** Its input is its logits: scores computed by hand from the data. Reports a fixed activity. */
export class FixedLogits extends TestModel {
  constructor(
    classes: number,
    private readonly report: Omit<ActivityReport, 'samples'>,
  ) {
    super(classes, [classes], 0);
  }

  forward(x: Tensor): Tensor {
    const y = this.output(x.shape[0]);
    y.f32.set(x.f32);
    return y;
  }

  backward(): void {}

  parameters(): Param[] {
    return [];
  }

  protected perSample(): ActivityReport {
    return { samples: 0, ...this.report };
  }
}

/** `classes` Gaussian blobs in `features` dimensions, n samples; same centres for every seed. */
export function blobs(n: number, features: number, classes: number, seed: number, spread = 0.6): Dataset {
  const centres = rng(1234);
  const c = Array.from({ length: classes * features }, () => 4 * centres() - 2);
  const r = rng(seed);
  const x = new Float32Array(n * features);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % classes;
    labels[i] = k;
    for (let f = 0; f < features; f++) {
      // Box–Muller normal noise around the centre.
      const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      x[i * features + f] = c[k * features + f] + spread * g;
    }
  }
  return arrayDataset(x, labels, Array.from({ length: classes }, (_, k) => `class${k}`), [features]);
}

/** [1, 60, 134] log-mel-like inputs: class k carries energy in its own band of rows, over noise. */
export function spectrograms(n: number, classes: number, seed: number): Dataset {
  const per = 60 * 134;
  const r = rng(seed);
  const x = new Float32Array(n * per);
  const labels = new Int32Array(n);
  const band = Math.floor(60 / classes);
  for (let i = 0; i < n; i++) {
    const k = i % classes;
    labels[i] = k;
    for (let row = 0; row < 60; row++)
      for (let t = 0; t < 134; t++) x[i * per + row * 134 + t] = r() - 0.5 + (Math.floor(row / band) === k ? 1 : 0);
  }
  return arrayDataset(x, labels, Array.from({ length: classes }, (_, k) => `class${k}`), [1, 60, 134]);
}

/** The same samples with other labels. */
export function relabel(d: Dataset, f: (label: number) => number): Dataset {
  const per = d.featureShape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(d.size * per);
  for (let i = 0; i < d.size; i++) x.set(d.features(i), i * per);
  return arrayDataset(x, Array.from(d.labels, f), d.classes, d.featureShape);
}

/** The bits of every parameter, for bit-for-bit comparisons of runs. */
export const weights = (m: Model): number[][] => m.parameters().map((p) => Array.from(new Uint32Array(p.value.toArray().buffer)));
