// Data-based normalisation for CNN -> SNN conversion (Diehl et al. 2015; Rueckauer et al. 2017): how
// large each activation of the CNN gets on real inputs. Per activation layer (ReLU or QCFS), the p-th
// percentile of its positive outputs over calibration samples, for the whole layer or per channel
// (Kim et al. 2020's channel-wise normalisation: a channel that never gets large keeps its resolution
// instead of sharing the layer's maximum). The maximum (p = 100) is exact; below it the values come
// from an even stride through the outputs, at most MAX_KEPT per layer, so memory stays bounded. A
// robust percentile (99.99) lets rare outliers saturate their neurons rather than shrink every rate.
import type { Dataset } from '../data/dataset.js';
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { allLayers } from '../layers/layer.js';
import { QCFS } from '../layers/qcfs.js';
import { ReLU } from '../layers/relu.js';
import type { Network } from '../models/network.js';
import { percentileOf } from './balance.js';

export interface CalibrationOptions {
  /** One scale per channel (true) or per layer. */
  channelWise: boolean;
  /** Of the positive outputs, in (0, 100]; default 99.99. */
  percentile?: number;
  /** Calibration samples, spread evenly over the data set; default 512. */
  samples?: number;
}

/** Per activation layer name: its scale per channel ([C]), or for the whole layer ([1]). */
export type ActivationScales = Map<string, Float32Array>;

const BATCH = 64;
const MAX_KEPT = 1 << 22;

/** Collects one activation layer's positive outputs, per channel (dimension 1 of [B, C, ...]). */
class Collector {
  private kept: Float32Array[] = [];
  private counts: Int32Array = new Int32Array(0);
  private max: Float32Array = new Float32Array(0);
  private stride = 0;
  private phase = 0;

  constructor(private readonly batches: number) {}

  add(y: Tensor): void {
    const [B, C] = y.shape;
    const S = y.size / (B * C);
    const v = y.f32;
    if (this.stride === 0) {
      const perChannel = B * S * this.batches;
      this.stride = Math.max(1, Math.ceil(perChannel / Math.max(1024, Math.floor(MAX_KEPT / C))));
      this.kept = Array.from({ length: C }, () => new Float32Array(Math.ceil(perChannel / this.stride) + 1));
      this.counts = new Int32Array(C);
      this.max = new Float32Array(C);
    }
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        const base = (b * C + c) * S;
        const kept = this.kept[c];
        let n = this.counts[c];
        let max = this.max[c];
        for (let s = 0; s < S; s++) {
          const x = v[base + s];
          if (x > max) max = x;
          // The stride runs on across channels and batches, so it samples every position alike.
          if (++this.phase >= this.stride) {
            this.phase = 0;
            if (x > 0 && n < kept.length) kept[n++] = x;
          }
        }
        this.counts[c] = n;
        this.max[c] = max;
      }
  }

  /** The percentile per channel, or of the whole layer; a channel never positive takes the layer's. */
  scales(channelWise: boolean, p: number): Float32Array {
    const C = this.counts.length;
    const layerMax = this.max.reduce((m, x) => Math.max(m, x), 0);
    const all = new Float32Array(this.counts.reduce((n, k) => n + k, 0));
    this.kept.reduce((at, k, c) => (all.set(k.subarray(0, this.counts[c]), at), at + this.counts[c]), 0);
    const layer = p >= 100 || all.length === 0 ? layerMax : percentileOf(all, p);
    // A layer that never fired in the CNN: any positive scale will do (it stays silent).
    const fallback = layer > 0 ? layer : 1;
    if (!channelWise) return Float32Array.of(fallback);
    return Float32Array.from({ length: C }, (_, c) => {
      const n = this.counts[c];
      const s = p >= 100 || n === 0 ? this.max[c] : percentileOf(this.kept[c].subarray(0, n), p);
      return s > 0 ? s : fallback;
    });
  }
}

/** The activation layers of a CNN (inside residual blocks too), in order. */
export function activationLayers(cnn: Network): (ReLU | QCFS)[] {
  return allLayers(cnn.layers).filter((l): l is ReLU | QCFS => l instanceof ReLU || l instanceof QCFS);
}

/** Runs the CNN in eval mode over calibration samples and returns every activation layer's scales. */
export function activationScales(cnn: Network, data: Dataset, opts: CalibrationOptions): ActivationScales {
  const { percentile = 99.99, samples = 512, channelWise } = opts;
  if (!(percentile > 0 && percentile <= 100)) throw new RangeError(`calibration: percentile must be in (0, 100], got ${percentile}`);
  if (!Number.isInteger(samples) || samples < 1) throw new RangeError(`calibration: samples must be a positive integer, got ${samples}`);
  if (fmtShape(data.featureShape) !== fmtShape(cnn.inputShape))
    throw new ShapeError(`calibration: samples have shape ${fmtShape(data.featureShape)}, the ${cnn.name} model takes ${fmtShape(cnn.inputShape)}`);
  if (data.size === 0) throw new RangeError('calibration: the data set is empty');
  const count = Math.min(data.size, samples);
  const indices = Array.from({ length: count }, (_, k) => Math.floor((k * data.size) / count));
  const per = data.featureShape.reduce((a, b) => a * b, 1);
  const batches = Math.ceil(count / BATCH);
  const layers = activationLayers(cnn);
  const collectors = layers.map(() => new Collector(batches));
  const wasTraining = cnn.training;
  cnn.eval();
  layers.forEach((l, i) => (l.probe = (y) => collectors[i].add(y)));
  try {
    for (let at = 0; at < count; at += BATCH) {
      const rows = indices.slice(at, at + BATCH);
      const x = Tensor.empty([rows.length, ...cnn.inputShape]);
      const v = x.f32;
      rows.forEach((i, r) => v.set(data.features(i), r * per));
      cnn.forward(x);
      x.free();
    }
  } finally {
    for (const l of layers) l.probe = null;
    cnn.train(wasTraining);
  }
  return new Map(layers.map((l, i) => [l.name, collectors[i].scales(channelWise, percentile)]));
}
