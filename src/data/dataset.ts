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
  /**
   * Per sample, 1 for each class that its source holds: the classes of its folder's samples, when
   * several folders are read as one data set (concat). Absent when every sample comes from a source
   * that holds every class.
   */
  classesHeld?(i: number): Uint8Array;
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
    ...(data.classesHeld && { classesHeld: (i: number) => data.classesHeld!(idx[i]) }),
    ...(data.copies && data.copy && { copies: data.copies, copy: (i: number, c: number) => data.copy!(idx[i], c) }),
  };
}

/** The samples of several data sets with the same classes, feature shape and copies, one after another;
 *  each part is the source of its samples (classesHeld), holding the classes of its labels. */
export function concat(parts: readonly Dataset[]): Dataset {
  if (parts.length === 0) throw new RangeError('concat: no data sets');
  const [first] = parts;
  const k = first.copies ?? 0;
  for (const [n, p] of parts.entries()) {
    if (p.classes.join('\n') !== first.classes.join('\n')) throw new RangeError(`concat: data set ${n} has the classes ${p.classes.join(', ')}, data set 0 ${first.classes.join(', ')}`);
    if (p.featureShape.join(',') !== first.featureShape.join(',')) throw new ShapeError(`concat: data set ${n} has features [${p.featureShape.join(',')}], data set 0 [${first.featureShape.join(',')}]`);
    if ((p.copies ?? 0) !== k) throw new RangeError(`concat: data set ${n} holds ${p.copies ?? 0} copies per sample, data set 0 ${k}`);
  }
  // starts[p] is the index of part p's first sample; a sample's part is found by binary search.
  const starts = [0];
  for (const p of parts) starts.push(starts[starts.length - 1] + p.size);
  const size = starts[parts.length];
  const locate = (i: number): [number, number] => {
    if (!(Number.isInteger(i) && i >= 0 && i < size)) throw new RangeError(`sample ${i} outside 0..${size - 1}`);
    let lo = 0, hi = parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return [lo, i - starts[lo]];
  };
  const labels = new Int32Array(size);
  parts.forEach((p, n) => labels.set(p.labels, starts[n]));
  const held = parts.map((p) => {
    const mask = new Uint8Array(first.classes.length);
    for (const l of p.labels) mask[l] = 1;
    return mask;
  });
  const partial = held.some((mask) => mask.includes(0));
  return {
    size,
    classes: first.classes,
    featureShape: first.featureShape,
    labels,
    features: (i) => {
      const [p, j] = locate(i);
      return parts[p].features(j);
    },
    skipped: parts.flatMap((p) => p.skipped),
    ...(partial && { classesHeld: (i: number) => held[locate(i)[0]] }),
    ...(k > 0 && {
      copies: k,
      copy: (i: number, c: number) => {
        const [p, j] = locate(i);
        return parts[p].copy!(j, c);
      },
    }),
  };
}
