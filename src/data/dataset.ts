// The contract between data sources and the trainer: features by index, labels up front.
// Core file: no node: imports, so in-memory data sets work in a browser too.
import { ShapeError } from '../engine/errors.js';

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface Dataset {
  readonly size: number;
  readonly classes: readonly string[];
  /** Per sample, e.g. [1, 60, 134]. */
  readonly featureShape: readonly number[];
  readonly labels: Int32Array;
  /** Features of sample i, flattened, of length product(featureShape). */
  features(i: number): Float32Array;
  /** Files that could not be read and were left out, with the reason. */
  readonly skipped: readonly SkippedFile[];
  /** Waveform-augmented copies held per sample (K; absent or 0 for none). */
  readonly copies?: number;
  /** Copy c of sample i, c in 0..copies; copy 0 is features(i). */
  copy?(i: number, c: number): Float32Array;
}

export interface Splits {
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

/** A data set held in memory: rows of one flat array. */
export function arrayDataset(
  features: Float32Array,
  labels: Int32Array | number[],
  classes: readonly string[],
  featureShape: readonly number[],
): Dataset {
  const per = featureShape.reduce((a, b) => a * b, 1);
  const labelArray = labels instanceof Int32Array ? labels : Int32Array.from(labels);
  if (features.length !== per * labelArray.length)
    throw new ShapeError(`arrayDataset: ${features.length} feature values for ${labelArray.length} samples of shape [${featureShape.join(',')}]`);
  for (const l of labelArray)
    if (l < 0 || l >= classes.length) throw new RangeError(`arrayDataset: label ${l} outside 0..${classes.length - 1}`);
  return {
    size: labelArray.length,
    classes,
    featureShape,
    labels: labelArray,
    features: (i) => features.subarray(i * per, (i + 1) * per),
    skipped: [],
  };
}

/** The rows `indices` of a data set, in that order. */
export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const idx = Int32Array.from(indices as ArrayLike<number>);
  return {
    size: idx.length,
    classes: data.classes,
    featureShape: data.featureShape,
    labels: idx.map((i) => data.labels[i]),
    features: (i) => data.features(idx[i]),
    skipped: data.skipped,
    ...(data.copies && data.copy && { copies: data.copies, copy: (i: number, c: number) => data.copy!(idx[i], c) }),
  };
}
