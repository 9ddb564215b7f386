// Batch assembly: samples of a data set copied into reusable input and label tensors, augmented on the
// way when training asks for it (train/augment.ts).
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import type { Dataset } from '../data/dataset.js';
import { hashSeed, rngFor } from '../util/hash.js';
import { augmentInto, checkAugment, clipStats, epochSeed, type AugmentOptions } from './augment.js';

/** Batches in one pass over `size` samples; the last one may be short (PyTorch's drop_last=False). */
export function batchCount(size: number, batchSize: number, maxBatches = Infinity): number {
  return Math.min(Math.ceil(size / batchSize), maxBatches);
}

/** One batch's inputs and the buffers its loss needs. */
export interface Batch {
  /** [n, ...featureShape] */
  x: Tensor;
  /** i32 [n] */
  labels: Tensor;
  /** i32 [n]: each row's index in the data set. */
  samples: Tensor;
  /** [n, classes]: softmax of the logits, then the loss's gradient. */
  probs: Tensor;
  dlogits: Tensor;
  /** [n, classes], when the loader keeps each sample to the classes its source holds: 0 for those,
   *  ABSENT_CLASS for the others, added to the logits before the loss. */
  offsets?: Tensor;
}

/**
 * What a class a sample's source lacks adds to its logit: log 0 = -infinity in exact arithmetic, so the
 * softmax of z + offset is the softmax over the held classes alone,
 *   p_c = exp(z_c) / sum_(k held) exp(z_k),   loss = -log p_label,   dloss/dz_c = p_c - [c = label],
 * and a lacking class's p_c and gradient are 0. Finite so the loss's finiteness check still means
 * something: exp(-1e4) is 0 in f32 for any logit a trainable model reaches.
 */
export const ABSENT_CLASS = -1e4;

/**
 * Copies samples of a data set into input and label tensors. Tensors are kept per batch size (a full
 * size and the short last batch), so an epoch loop allocates nothing after its first pass.
 */
export class BatchLoader {
  private readonly cache = new Map<number, Batch>();
  private readonly per: number;
  /** Per sample and copy, what the shift and mask fills need (clipStats), computed on first use: a few
   *  hundred bytes per sample, so later epochs never read a whole sample twice. NaN: not yet. */
  private stats: Float32Array | null = null;

  constructor(
    readonly data: Dataset,
    readonly batchSize: number,
    /** Augmentation of training batches, seeded by the run's seed; none when absent. */
    readonly augment?: AugmentOptions & { seed: number },
    /** Keep each sample's softmax to the classes its source holds (Dataset.classesHeld): batches carry offsets. */
    readonly heldClassesOnly = false,
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (augment) checkAugment(augment);
    this.per = data.featureShape.reduce((a, b) => a * b, 1);
  }

  /** Batch `b` of the samples listed in `order` (the tensors are reused by the next call); augmented as
   *  the loader was told, with the draws of `epoch`. */
  load(order: ArrayLike<number>, b: number, epoch = 0): Batch {
    const start = b * this.batchSize;
    const n = Math.min(this.batchSize, order.length - start);
    if (n <= 0) throw new RangeError(`batch ${b} starts past the ${order.length} samples`);
    let batch = this.cache.get(n);
    if (!batch) {
      const classes = this.data.classes.length;
      batch = {
        x: Tensor.empty([n, ...this.data.featureShape]),
        labels: Tensor.empty([n], 'i32'),
        samples: Tensor.empty([n], 'i32'),
        probs: Tensor.empty([n, classes]),
        dlogits: Tensor.empty([n, classes]),
        ...(this.heldClassesOnly && this.data.classesHeld && { offsets: Tensor.empty([n, classes]) }),
      };
      this.cache.set(n, batch);
    }
    const x = batch.x.f32;
    const labels = batch.labels.data;
    const samples = batch.samples.data;
    const aug = this.augment;
    const copies = aug?.copies && this.data.copy ? (this.data.copies ?? 0) : 0;
    // As copyFor and specRng (train/augment.ts), with the epoch's part of the hash done once.
    const copySeed = copies > 0 ? epochSeed(aug!.seed, 'copy', epoch) : 0;
    const specSeed = aug?.spec ? epochSeed(aug.seed, 'spec', epoch) : 0;
    for (let i = 0; i < n; i++) {
      const index = order[start + i];
      const c = copies > 0 ? hashSeed(copySeed, index) % (copies + 1) : 0;
      const features = c > 0 ? this.data.copy!(index, c) : this.data.features(index);
      if (features.length !== this.per)
        throw new ShapeError(`sample ${index} has ${features.length} feature values, expected ${fmtShape(this.data.featureShape)}`);
      if (aug?.spec) {
        const dst = x.subarray(i * this.per, (i + 1) * this.per);
        const at = this.statsOf(features, index * (copies + 1) + c);
        augmentInto(dst, features, this.data.featureShape, aug.spec, rngFor(specSeed, index), this.stats ?? undefined, at);
      } else x.set(features, i * this.per);
      labels[i] = this.data.labels[index];
      samples[i] = index;
      if (batch.offsets) {
        const held = this.data.classesHeld!(index);
        const row = batch.offsets.f32.subarray(i * held.length, (i + 1) * held.length);
        for (let c = 0; c < held.length; c++) row[c] = held[c] ? 0 : ABSENT_CLASS;
      }
    }
    return batch;
  }

  /** Where sample-and-copy `slot`'s clipStats start in `stats`, computed on first use; -1 for waveforms. */
  private statsOf(features: Float32Array, slot: number): number {
    const shape = this.data.featureShape;
    if (shape.length !== 3) return -1; // the waveform's shift fills with zeros
    const width = shape[1] + 1;
    if (!this.stats) this.stats = new Float32Array(this.data.size * ((this.data.copies ?? 0) + 1) * width).fill(NaN);
    const at = slot * width;
    if (Number.isNaN(this.stats[at])) clipStats(features, shape[2], this.stats.subarray(at, at + width));
    return at;
  }

  dispose(): void {
    for (const batch of this.cache.values()) for (const t of Object.values(batch)) t.free();
    this.cache.clear();
  }
}
