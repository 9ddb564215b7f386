// Batch assembly: samples of a data set copied into reusable input and label tensors.
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import type { Dataset } from '../data/dataset.js';

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
  /** [n, classes]: softmax of the logits, then the loss's gradient. */
  probs: Tensor;
  dlogits: Tensor;
}

/**
 * Copies samples of a data set into input and label tensors. Tensors are kept per batch size (a full
 * size and the short last batch), so an epoch loop allocates nothing after its first pass.
 */
export class BatchLoader {
  private readonly cache = new Map<number, Batch>();
  private readonly per: number;

  constructor(
    readonly data: Dataset,
    readonly batchSize: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    this.per = data.featureShape.reduce((a, b) => a * b, 1);
  }

  /** Batch `b` of the samples listed in `order` (the tensors are reused by the next call). */
  load(order: ArrayLike<number>, b: number): Batch {
    const start = b * this.batchSize;
    const n = Math.min(this.batchSize, order.length - start);
    if (n <= 0) throw new RangeError(`batch ${b} starts past the ${order.length} samples`);
    let batch = this.cache.get(n);
    if (!batch) {
      const classes = this.data.classes.length;
      batch = {
        x: Tensor.empty([n, ...this.data.featureShape]),
        labels: Tensor.empty([n], 'i32'),
        probs: Tensor.empty([n, classes]),
        dlogits: Tensor.empty([n, classes]),
      };
      this.cache.set(n, batch);
    }
    const x = batch.x.f32;
    const labels = batch.labels.data;
    for (let i = 0; i < n; i++) {
      const index = order[start + i];
      const features = this.data.features(index);
      if (features.length !== this.per)
        throw new ShapeError(`sample ${index} has ${features.length} feature values, expected ${fmtShape(this.data.featureShape)}`);
      x.set(features, i * this.per);
      labels[i] = this.data.labels[index];
    }
    return batch;
  }

  dispose(): void {
    for (const batch of this.cache.values()) for (const t of Object.values(batch)) t.free();
    this.cache.clear();
  }
}
