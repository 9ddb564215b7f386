// A trained CNN converted (train/convert.ts) by each method at each number of time steps T and scored on
// one split beside the CNN: the numbers of `snn-voice convert --sweep-steps` and of the sweep report's
// conversion section, measured here for both.
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../models/types.js';
import type { ProgressFactory } from '../util/progress.js';
import { type ConversionPoint, type ConversionSweep, conversionError, meanRate } from './conversion-report.js';
import { type ConversionMethod, type ConvertOptions, conversionScales, convert } from './convert.js';
import { evaluate } from './evaluate.js';

/** Steps x samples per batch when scoring an SNN: M5 at T = 32 and 64 samples would need over 4 GiB. */
export const ROWS_PER_BATCH = 256;

export interface ConversionSweepOptions {
  methods: readonly ConversionMethod[];
  steps: readonly number[];
  /** The training clips the scales are measured on, and convert()'s percentile and samples. */
  calibration: Pick<ConvertOptions, 'calibration' | 'percentile' | 'samples'>;
  /** Signed IF neurons (convert()'s `signed`). */
  signed?: boolean;
  /** The scored split's name, for the report. */
  splitName: string;
  /** Samples per batch, at most ROWS_PER_BATCH / T. */
  batchSize: number;
  progress?: ProgressFactory;
  /** Scales measured per method, filled as measured: sweeps of one CNN over several splits share them. */
  scales?: Map<ConversionMethod, ReturnType<typeof conversionScales>>;
  /** Points scored before (a resumed sweep): those asked for again are kept, not scored again. */
  previous?: readonly ConversionPoint[];
  /** Sees each point as it is scored (progress notes). */
  onPoint?: (point: ConversionPoint, cnnTop1: number) => void;
  command?: string;
}

/** The (method, T) pairs of a sweep, methods in the order given, T ascending. */
export function conversionPairs(methods: readonly ConversionMethod[], steps: readonly number[]): { method: ConversionMethod; steps: number }[] {
  const sorted = [...new Set(steps)].sort((a, b) => a - b);
  return methods.flatMap((method) => sorted.map((t) => ({ method, steps: t })));
}

/** Scores `cnn` and its conversion by every method at every T on `split`; `cnn` is left unchanged. */
export function conversionSweep(cnn: Model, split: Dataset, opts: ConversionSweepOptions): ConversionSweep {
  const classes = cnn.classes;
  // Each model's logits over the split, to measure the conversion error against the CNN's. A batch
  // holds T rows per sample: fewer samples per batch as T grows keeps memory bounded.
  const score = (m: Model, into: Float32Array) =>
    evaluate(m, split, {
      batchSize: Math.max(1, Math.min(opts.batchSize, Math.floor(ROWS_PER_BATCH / m.steps))),
      progress: opts.progress,
      label: `${m.spiking ? `T=${m.steps}` : 'CNN'} ${opts.splitName}`,
      onBatch: (logits, first) => into.set(logits.f32, first * classes),
    });
  const cnnLogits = new Float32Array(split.size * classes);
  const snnLogits = new Float32Array(split.size * classes);
  const base = score(cnn, cnnLogits);
  const sweep: ConversionSweep = {
    model: cnn.name,
    split: opts.splitName,
    samples: base.samples,
    cnn: { top1: base.top1, loss: base.loss, macs: base.activity.macs, energyPicojoules: base.energy.snnPicojoules },
    points: [],
    ...(opts.command !== undefined && { command: opts.command }),
  };
  const pairs = conversionPairs(opts.methods, opts.steps);
  const scales = opts.scales ?? new Map<ConversionMethod, ReturnType<typeof conversionScales>>();
  for (const { method, steps } of pairs) {
    const before = opts.previous?.find((p) => p.method === method && p.steps === steps);
    if (before) {
      sweep.points.push(before);
      continue;
    }
    // Measured once per method, converted at every T from them.
    if (!scales.has(method)) scales.set(method, conversionScales(cnn, { method, ...opts.calibration }));
    const snn = convert(cnn, { steps, method, scales: scales.get(method), signed: opts.signed });
    try {
      const started = performance.now();
      const r = score(snn, snnLogits);
      const point: ConversionPoint = {
        method, steps, top1: r.top1, loss: r.loss, ...conversionError(cnnLogits, snnLogits, classes), spikeRate: meanRate(r.activity),
        macs: r.activity.macs, acs: r.activity.acs, energyPicojoules: r.energy.snnPicojoules, seconds: (performance.now() - started) / 1000,
      };
      sweep.points.push(point);
      opts.onPoint?.(point, base.top1);
    } finally {
      snn.dispose();
    }
  }
  return sweep;
}
