// Learning new words from a few examples, as @tensorflow-models/speech-commands' createTransfer does it:
// the pretrained model's trunk (everything before its last Linear) is frozen and turns each recorded
// example into an embedding once; only a small new Linear head is trained on those embeddings.
// This file sits on the listen floor, below the trainer, so the head's loop is written with the kernels
// (linear, cross-entropy, Adam): a full Trainer would need a Dataset, a schedule and run records for
// what is a few hundred steps over a [N, 48] matrix, and apps that only listen need not bundle it.
import { extractFeatures } from '../audio/features.js';
import type { FeatureSettings } from '../audio/settings.js';
import { Tensor } from '../engine/tensor.js';
import { crossEntropyBackward, crossEntropyForward } from '../kernels/loss.js';
import { adamStep } from '../kernels/optim.js';
import type { ForwardContext, Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import { Network } from '../models/network.js';
import type { Model } from '../models/types.js';
import { decodeContainer, encodeContainer, type ContainerKind } from '../util/container.js';
import { crc32 } from '../util/crc32.js';
import { hashSeed } from '../util/hash.js';
import { Rng, shuffled } from '../util/rng.js';
import { softmax } from './recognizer.js';

/** What a transfer needs of a loaded model file: `loadPretrained(...)` and `deserializeModel(...)` give it. */
export interface TransferBase {
  model: Model;
  meta: { features: FeatureSettings };
}

export interface TransferTrainOptions {
  /** Passes over the examples. Default 100. */
  epochs?: number;
  /** Adam's learning rate. Default 0.01. */
  lr?: number;
  /** Examples per step. Default 16. */
  batchSize?: number;
  /** Seeds the head's initial weights and the order of examples. Default 0. */
  seed?: number;
}

export interface TransferHistory {
  /** Mean cross-entropy per epoch; accuracy on the examples after the last one. */
  loss: number[];
  accuracy: number;
}

/** The base model a head was trained on: its architecture and a checksum of every weight. */
interface BaseIdentity {
  name: string;
  spiking: boolean;
  steps: number;
  fingerprint: number;
}

interface Header {
  words: string[];
  base: BaseIdentity;
  embedding: number;
}

export class TransferError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'TransferError';
  }
}

const KIND: ContainerKind = {
  magic: 0x544e4e53, // "SNNT"
  version: 1,
  description: 'an snn-voice transfer head',
  error: (source, problem) => new TransferError(source, problem),
};

function identityOf(model: Model): BaseIdentity {
  const parts: (string | number)[] = [];
  for (const t of [...model.parameters(), ...model.buffers()]) {
    const a = t.value.f32;
    parts.push(t.name, crc32(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  }
  return { name: model.name, spiking: model.spiking, steps: model.steps, fingerprint: hashSeed(...parts) };
}

export class Transfer {
  readonly words: readonly string[];
  private readonly model: Network;
  private readonly trunk: readonly Layer[];
  private readonly spikesIn: boolean[];
  private readonly features: FeatureSettings;
  private readonly identity: BaseIdentity;
  private readonly input: Tensor;
  private readonly size: number;
  private readonly examples: { label: number; embedding: Float32Array }[] = [];
  /** Per-feature mean and 1/std of the training embeddings: Adam then needs no per-base learning rate
   *  (an SNN's embedding is summed over steps, so its scale grows with T). */
  private readonly mean: Float32Array;
  private readonly invStd: Float32Array;
  private head: Linear | null = null;
  private one: Tensor | null = null;
  private disposed = false;

  /** The base model stays the caller's: dispose() frees only what the transfer allocated. */
  constructor(base: TransferBase, words: readonly string[]) {
    const { model } = base;
    if (!(model instanceof Network)) throw new TypeError('createTransfer: the base model must be a Network (a loaded model file)');
    const last = model.layers[model.layers.length - 1];
    if (!(last instanceof Linear)) throw new TypeError(`createTransfer: ${model.name} does not end in a Linear layer`);
    if (words.length < 2) throw new RangeError(`createTransfer: at least two words are needed, got ${words.length}`);
    if (new Set(words).size !== words.length || words.some((w) => typeof w !== 'string' || !w))
      throw new RangeError(`createTransfer: words must be distinct non-empty strings, got ${JSON.stringify(words)}`);
    this.words = [...words];
    this.model = model;
    this.trunk = model.layers.slice(0, -1);
    // As Network.forward: whether each layer's input is spikes decides how its activity is counted.
    let spikes = false;
    this.spikesIn = this.trunk.map((l) => {
      const s = spikes;
      spikes = l.emitsSpikes(spikes);
      return s;
    });
    this.features = base.meta.features;
    this.identity = identityOf(model);
    this.size = last.inFeatures;
    this.mean = new Float32Array(this.size);
    this.invStd = new Float32Array(this.size).fill(1);
    model.eval();
    this.input = Tensor.empty([1, ...model.inputShape]);
  }

  /** Records one example of `word`: only its embedding is kept, never the audio. */
  collectExample(word: string, samples: Float32Array, sampleRate: number): void {
    this.check();
    const label = this.words.indexOf(word);
    if (label < 0) throw new RangeError(`collectExample: "${word}" is not one of ${this.words.join(', ')}`);
    this.examples.push({ label, embedding: this.embed(samples, sampleRate, new Float32Array(this.size)) });
  }

  /** Examples collected so far, per word (every word is listed, 0 if none). */
  countExamples(): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(this.words.map((w) => [w, 0]));
    for (const e of this.examples) counts[this.words[e.label]]++;
    return counts;
  }

  /** Forgets the examples (a trained head stays usable). */
  clearExamples(): void {
    this.examples.length = 0;
  }

  /** Trains a fresh head on the examples: every word needs at least one. */
  train(options: TransferTrainOptions = {}): TransferHistory {
    this.check();
    const { epochs = 100, lr = 0.01, batchSize = 16, seed = 0 } = options;
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new RangeError(`train: epochs must be a positive integer, got ${epochs}`);
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`train: batchSize must be a positive integer, got ${batchSize}`);
    if (!(lr > 0 && Number.isFinite(lr))) throw new RangeError(`train: lr must be finite and > 0, got ${lr}`);
    const missing = Object.entries(this.countExamples()).filter(([, n]) => n === 0).map(([w]) => w);
    if (missing.length) throw new RangeError(`train: no examples of ${missing.join(', ')}`);
    const n = this.examples.length;
    const F = this.size;
    this.standardize();
    const x = new Float32Array(n * F);
    this.examples.forEach((e, i) => this.normalize(e.embedding, x.subarray(i * F, (i + 1) * F)));
    this.head?.dispose();
    this.head = new Linear('head', F, this.words.length, hashSeed(seed, 'head'));
    const params = this.head.parameters();
    const moments = params.map((p) => [Tensor.zeros(p.value.shape), Tensor.zeros(p.value.shape)]);
    const ctx: ForwardContext = { batch: 0, steps: 1, training: true, count: false, spikesIn: false };
    const rng = new Rng(hashSeed(seed, 'order'));
    const loss: number[] = [];
    const batches = new Map<number, { xs: Tensor; labels: Tensor; probs: Tensor; dlogits: Tensor }>();
    const batchOf = (size: number) => {
      let b = batches.get(size);
      if (!b) {
        b = { xs: Tensor.empty([size, F]), labels: Tensor.empty([size], 'i32'), probs: Tensor.empty([size, this.words.length]), dlogits: Tensor.empty([size, this.words.length]) };
        batches.set(size, b);
      }
      return b;
    };
    let step = 0;
    try {
      for (let epoch = 0; epoch < epochs; epoch++) {
        const order = shuffled(n, rng);
        let sum = 0;
        for (let start = 0; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          const b = batchOf(size);
          const xs = b.xs.f32, labels = b.labels.data;
          for (let i = 0; i < size; i++) {
            const k = order[start + i];
            xs.set(x.subarray(k * F, (k + 1) * F), i * F);
            labels[i] = this.examples[k].label;
          }
          ctx.batch = size;
          const logits = this.head.forward(b.xs, ctx);
          sum += crossEntropyForward(logits, b.labels, b.probs) * size;
          crossEntropyBackward(b.probs, b.labels, b.dlogits);
          this.head.backward(b.dlogits, false);
          step++;
          params.forEach((p, i) => adamStep(p.value, p.grad, moments[i][0], moments[i][1], { lr, step }));
        }
        loss.push(sum / n);
      }
    } finally {
      for (const m of moments) for (const t of m) t.free();
      for (const b of batches.values()) for (const t of Object.values(b)) t.free();
    }
    const correct = this.examples.filter((e) => argmax(this.scores(e.embedding)) === e.label).length;
    return { loss, accuracy: correct / n };
  }

  /** Probabilities of the words for one clip (any length and rate), as plain numbers in `words` order. */
  classify(samples: Float32Array, sampleRate: number): number[] {
    this.check();
    if (!this.head) throw new Error('Transfer.classify: train() or loadTransfer() first');
    return this.scores(this.embed(samples, sampleRate, new Float32Array(this.size)));
  }

  /** The head, its words and the base model's identity, in the project's container: for a file or IndexedDB. */
  serialize(): Uint8Array {
    this.check();
    if (!this.head) throw new Error('Transfer.serialize: nothing to save before train()');
    const header: Header = { words: [...this.words], base: this.identity, embedding: this.size };
    return encodeContainer(KIND, header, [this.mean, this.invStd, this.head.weight.value.f32, this.head.bias.value.f32]);
  }

  /** Reads a head saved by serialize(); the base must be the very model it was trained on. */
  load(bytes: Uint8Array, source: string): void {
    const reader = decodeContainer(KIND, bytes, source);
    const h = reader.header as Header;
    if (JSON.stringify(h.words) !== JSON.stringify(this.words)) throw new TransferError(source, `holds the words ${JSON.stringify(h.words)}`);
    const b = h.base;
    if (!b || b.name !== this.identity.name || b.spiking !== this.identity.spiking || b.steps !== this.identity.steps || b.fingerprint !== this.identity.fingerprint)
      throw new TransferError(source, `was trained on another base model (${b?.name}, ${b?.spiking ? `spiking, T = ${b.steps}` : 'CNN'}, weights ${b?.fingerprint}); this one is ${this.identity.name} with weights ${this.identity.fingerprint}`);
    if (h.embedding !== this.size) throw new TransferError(source, `has a ${h.embedding}-wide embedding, the base gives ${this.size}`);
    const head = new Linear('head', this.size, this.words.length, 0);
    try {
      reader.next(this.size, 'the embedding mean', this.mean);
      reader.next(this.size, 'the embedding scale', this.invStd);
      reader.next(head.weight.value.size, 'the head weights', head.weight.value.f32);
      reader.next(head.bias.value.size, 'the head bias', head.bias.value.f32);
      reader.end('head');
    } catch (e) {
      head.dispose();
      throw e;
    }
    this.head?.dispose();
    this.head = head;
  }

  /** Frees the transfer's own tensors; the base model belongs to the caller. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.input.free();
    this.one?.free();
    this.head?.dispose();
    this.head = this.one = null;
  }

  /** The trunk's output for one clip (summed over steps for an SNN) into `out`. */
  private embed(samples: Float32Array, sampleRate: number, out: Float32Array): Float32Array {
    // Features first: with an engine, their spectra may grow its memory, detaching a view taken before.
    const features = extractFeatures(samples, sampleRate, this.features);
    this.input.f32.set(features);
    const ctx: ForwardContext = { batch: 1, steps: this.model.steps, training: false, count: false, spikesIn: false };
    let h = this.input;
    this.trunk.forEach((layer, i) => {
      ctx.spikesIn = this.spikesIn[i];
      h = layer.forward(h, ctx);
    });
    const rows = h.shape[0];
    const a = h.f32;
    out.fill(0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < this.size; j++) out[j] += a[r * this.size + j];
    return out;
  }

  private standardize(): void {
    const n = this.examples.length;
    this.mean.fill(0);
    for (const e of this.examples) for (let j = 0; j < this.size; j++) this.mean[j] += e.embedding[j] / n;
    for (let j = 0; j < this.size; j++) {
      let v = 0;
      for (const e of this.examples) v += (e.embedding[j] - this.mean[j]) ** 2 / n;
      // A feature that never varies (a silent channel) must not be blown up into noise.
      this.invStd[j] = 1 / Math.sqrt(v + 1e-6);
    }
  }

  private normalize(embedding: Float32Array, out: Float32Array): void {
    for (let j = 0; j < this.size; j++) out[j] = (embedding[j] - this.mean[j]) * this.invStd[j];
  }

  /** Softmax of the head on one embedding; the batch-of-one input is allocated once. */
  private scores(embedding: Float32Array): number[] {
    const head = this.head as Linear;
    this.one ??= Tensor.empty([1, this.size]);
    this.normalize(embedding, this.one.f32);
    return softmax(head.forward(this.one, { batch: 1, steps: 1, training: false, count: false, spikesIn: false }).f32);
  }

  private check(): void {
    if (this.disposed) throw new Error('Transfer: used after dispose()');
  }
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

/** A new head for `words` over the frozen trunk of `base`. */
export function createTransfer(base: TransferBase, words: readonly string[]): Transfer {
  return new Transfer(base, words);
}

/** A head saved by `serialize()`, on the base model it was trained on (bytes from a file or IndexedDB). */
export function loadTransfer(base: TransferBase, bytes: Uint8Array | ArrayBuffer, source = 'transfer head'): Transfer {
  const header = decodeContainer(KIND, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), source).header as Header;
  if (!header || !Array.isArray(header.words)) throw new TransferError(source, 'has no word list');
  const t = new Transfer(base, header.words);
  try {
    t.load(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), source);
  } catch (e) {
    t.dispose();
    throw e;
  }
  return t;
}
