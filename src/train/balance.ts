// Threshold balancing for CNN -> SNN weight transfer: data-based normalisation (Diehl et al. 2015,
// Rueckauer et al. 2017) done on the thresholds instead of the weights (Sengupta et al. 2019). Layer by
// layer, in order, each Leaky's threshold is set to a high percentile of the input currents it receives
// on a few batches, with the Leaky layers before it already balanced, so a neuron driven as hard as
// almost any seen fires about once per step. The percentile (not the maximum) keeps rare outliers from
// silencing the layer. Currents at or below zero never drive a spike and are left out.
import type { Dataset } from '../data/dataset.js';
import { ShapeError, fmtShape } from '../engine/errors.js';
import { Tensor } from '../engine/tensor.js';
import { Leaky } from '../layers/leaky.js';
import { Network } from '../models/network.js';
import type { Model } from '../models/types.js';

export interface BalanceOptions {
  /** Batches of 32 samples, spread evenly over the data set; default 4. */
  batches?: number;
  /** Default 99.9. */
  percentile?: number;
}

const BATCH = 32;
/** At most this many currents are kept per layer (evenly strided), so memory stays bounded. */
const MAX_SAMPLES = 1 << 21;

/** The p-th percentile (0..100) of the values, by the nearest-rank method; sorts them. */
export function percentileOf(values: Float32Array, p: number): number {
  values.sort();
  const rank = Math.ceil((p / 100) * values.length);
  return values[Math.min(values.length - 1, Math.max(0, rank - 1))];
}

/** Sets every Leaky's threshold from its input currents on `data` (see above). The model's mode is kept. */
export function balanceThresholds(snn: Model, data: Dataset, opts: BalanceOptions = {}): void {
  const { batches = 4, percentile = 99.9 } = opts;
  if (!(snn instanceof Network) || !snn.spiking) throw new TypeError('balanceThresholds: needs a spiking model built by createModel or toSpiking');
  if (!Number.isInteger(batches) || batches < 1) throw new RangeError(`balanceThresholds: batches must be a positive integer, got ${batches}`);
  if (!(percentile > 0 && percentile <= 100)) throw new RangeError(`balanceThresholds: percentile must be in (0, 100], got ${percentile}`);
  if (fmtShape(data.featureShape) !== fmtShape(snn.inputShape))
    throw new ShapeError(`balanceThresholds: samples have shape ${fmtShape(data.featureShape)}, the ${snn.name} model takes ${fmtShape(snn.inputShape)}`);
  if (data.size === 0) throw new RangeError('balanceThresholds: the data set is empty');

  const count = Math.min(data.size, batches * BATCH);
  const indices = Array.from({ length: count }, (_, k) => Math.floor((k * data.size) / count));
  const per = data.featureShape.reduce((a, b) => a * b, 1);
  const inputs: Tensor[] = [];
  for (let at = 0; at < count; at += BATCH) {
    const rows = indices.slice(at, at + BATCH);
    const x = Tensor.empty([rows.length, ...snn.inputShape]);
    const v = x.f32;
    rows.forEach((i, r) => v.set(data.features(i), r * per));
    inputs.push(x);
  }

  const wasTraining = snn.training;
  snn.eval();
  const leakies = snn.layers.filter((l): l is Leaky => l instanceof Leaky);
  try {
    for (const leaky of leakies) {
      const kept: Float32Array[] = [];
      let stride = 0;
      leaky.probe = (input) => {
        const v = input.f32;
        if (!stride) stride = Math.max(1, Math.ceil((v.length * inputs.length) / MAX_SAMPLES));
        const out = new Float32Array(Math.ceil(v.length / stride));
        let n = 0;
        for (let i = 0; i < v.length; i += stride) if (v[i] > 0) out[n++] = v[i];
        kept.push(out.subarray(0, n));
      };
      for (const x of inputs) snn.forward(x);
      leaky.probe = null;
      const all = new Float32Array(kept.reduce((n, k) => n + k.length, 0));
      kept.reduce((at, k) => (all.set(k, at), at + k.length), 0);
      // A layer that never receives a positive current keeps its threshold: there is nothing to scale.
      if (all.length > 0) leaky.threshold.value.f32[0] = percentileOf(all, percentile);
    }
  } finally {
    for (const leaky of leakies) leaky.probe = null;
    for (const x of inputs) x.free();
    snn.train(wasTraining);
    snn.resetActivity();
  }
}
