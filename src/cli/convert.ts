// `snn-voice convert`: a trained CNN model file to a converted SNN model file (train/convert.ts), scored
// later with `snn-voice eval`; or, with --sweep-steps, the converted SNN of every method at every T
// scored on a split, written as a table and plots beside the CNN's accuracy.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { initEngine } from '../engine/engine.js';
import { loadModel, saveModel } from '../models/file-node.js';
import type { Model } from '../models/types.js';
import {
  type ConversionPoint, type ConversionSweep, conversionCharts, conversionError, conversionMarkdown, conversionTable, meanRate,
} from '../train/conversion-report.js';
import { CONVERSION_METHODS, type ConversionMethod, conversionScales, convert, defaultMethod } from '../train/convert.js';
import { evaluate } from '../train/evaluate.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { loadData } from './data.js';
import { type CliContext, emit, note } from './io.js';
import { UsageError, choice, existingFile, listOf, numberIn, positiveInt, withJson } from './options.js';
import { formatTable } from './table.js';

type Split = 'train' | 'validation' | 'test';

interface ConvertFlags {
  model: string;
  steps: number;
  method?: ConversionMethod[];
  percentile: number;
  samples: number;
  out?: string;
  sweepSteps?: number[];
  split: Split;
  data?: string;
  limitPerClass?: number;
  batchSize: number;
  json?: boolean;
}

export const DEFAULT_SWEEP_STEPS = [1, 2, 4, 8, 16, 32, 64, 128];
/** Steps x samples per batch when scoring a sweep: M5 at T = 32 and 64 samples would need over 4 GiB. */
const ROWS_PER_BATCH = 256;

export function convertCommand(ctx: CliContext): Command {
  const cmd = new Command('convert')
    .description('convert a trained CNN model file to an SNN that keeps its accuracy (docs/conversion.md); --sweep-steps scores every method at every T')
    .requiredOption('--model <file>', 'a CNN model file written by train (model.snn)')
    .option('--steps <n>', 'SNN time steps T', positiveInt('--steps'), 32)
    .option('--method <list>', `${CONVERSION_METHODS.join(', ')} (default: qcfs for a CNN trained with --quantize, else ecc; a list with --sweep-steps, default all that apply)`,
      listOf('--method', choice('--method', CONVERSION_METHODS)))
    .option('--percentile <p>', 'calibration: this percentile of the positive activations is a neuron firing every step', numberIn('--percentile', 0, 100, true), 99.99)
    .option('--samples <n>', 'calibration samples from the training split', positiveInt('--samples'), 512)
    .option('--out <path>', 'the SNN model file (default <model folder>/snn-<method>-t<T>.snn); with --sweep-steps, the report folder (default <model folder>/conversion)')
    .option('--sweep-steps <list>', `score the converted SNN at each T (e.g. ${DEFAULT_SWEEP_STEPS.join(',')}) instead of writing one`, listOf('--sweep-steps', positiveInt('--sweep-steps')))
    .option('--split <name>', 'with --sweep-steps: the split to score', choice('--split', ['train', 'validation', 'test'] as const), 'test' as Split)
    .option('--data <dir>', 'a Speech Commands v2 folder (default: the built-in synthesized set)')
    .option('--limit-per-class <n>', 'use at most n clips per word', positiveInt('--limit-per-class'))
    .option('--batch-size <n>', `samples per batch when scoring (at most ${ROWS_PER_BATCH} / T)`, positiveInt('--batch-size'), 64);
  withJson(cmd);
  return cmd.action(async (flags: ConvertFlags) => {
    const { io } = ctx;
    existingFile('--model', flags.model);
    await initEngine();
    const { model: cnn, meta } = await loadModel(flags.model);
    try {
      if (cnn.spiking) throw new UsageError(`--model: "${flags.model}" is already spiking; convert takes a CNN`);
      const methods = flags.method ?? (flags.sweepSteps ? applicable(cnn) : [defaultMethod(cnn)]);
      if (!flags.sweepSteps && methods.length > 1) throw new UsageError('--method takes one method without --sweep-steps');
      // The model's own classes, unaugmented: calibration reads the training clips as they are.
      const loadOptions = { data: flags.data, limitPerClass: flags.limitPerClass, words: meta.classNames, augment: 'none' } as Parameters<typeof loadData>[1];
      const data = await loadData(io, loadOptions, meta.features);
      const calibration = { calibration: data.train, percentile: flags.percentile, samples: flags.samples };
      if (!flags.sweepSteps) {
        const method = methods[0];
        const snn = convert(cnn, { steps: flags.steps, method, ...calibration });
        try {
          const out = flags.out ?? join(flags.model, '..', `snn-${method}-t${flags.steps}.snn`);
          const conversion = { from: flags.model, method, steps: flags.steps, ...(method === 'qcfs' ? {} : { percentile: flags.percentile, samples: flags.samples }) };
          await saveModel(out, snn, { classNames: meta.classNames, features: meta.features, extra: { ...meta.extra, conversion } });
          emit(io, flags.json, { out, ...conversion }, () => `${cnn.name} CNN -> SNN (${method}, T=${flags.steps}) -> ${out}\nscore it with: snn-voice eval ${out}`);
        } finally {
          snn.dispose();
        }
        return;
      }
      const split = data[flags.split];
      const classes = cnn.classes;
      // Each model's logits over the split, to measure the conversion error against the CNN's.
      // A batch holds T rows per sample: fewer samples per batch as T grows keeps memory bounded.
      const score = (m: Model, into: Float32Array) =>
        evaluate(m, split, {
          batchSize: Math.max(1, Math.min(flags.batchSize, Math.floor(ROWS_PER_BATCH / m.steps))),
          progress: io.progress, label: `${m.spiking ? `T=${m.steps}` : 'CNN'} ${flags.split}`,
          onBatch: (logits, first) => into.set(logits.f32, first * classes),
        });
      const cnnLogits = new Float32Array(split.size * classes);
      const snnLogits = new Float32Array(split.size * classes);
      const base = score(cnn, cnnLogits);
      const sweep: ConversionSweep = {
        model: cnn.name,
        split: flags.split,
        samples: base.samples,
        cnn: { top1: base.top1, loss: base.loss, macs: base.activity.macs, energyPicojoules: base.energy.snnPicojoules },
        points: [],
        command: `snn-voice convert --model ${flags.model} --sweep-steps ${flags.sweepSteps.join(',')} --method ${methods.join(',')} --percentile ${flags.percentile} --samples ${flags.samples}`,
      };
      for (const method of methods) {
        const scales = conversionScales(cnn, { method, ...calibration });
        for (const steps of [...flags.sweepSteps].sort((a, b) => a - b)) {
          const snn = convert(cnn, { steps, method, scales });
          try {
            const started = performance.now();
            const r = score(snn, snnLogits);
            const point: ConversionPoint = {
              method, steps, top1: r.top1, loss: r.loss, ...conversionError(cnnLogits, snnLogits, classes), spikeRate: meanRate(r.activity),
              macs: r.activity.macs, acs: r.activity.acs, energyPicojoules: r.energy.snnPicojoules, seconds: (performance.now() - started) / 1000,
            };
            sweep.points.push(point);
            note(io, `${method} T=${steps}: top-1 ${(r.top1 * 100).toFixed(1)}% (CNN ${(base.top1 * 100).toFixed(1)}%)`);
          } finally {
            snn.dispose();
          }
        }
      }
      const out = flags.out ?? join(flags.model, '..', 'conversion');
      await mkdir(out, { recursive: true });
      const charts = conversionCharts(sweep);
      await writeFileAtomic(join(out, 'conversion.json'), JSON.stringify(sweep, null, 2) + '\n');
      await writeFileAtomic(join(out, 'conversion.md'), conversionMarkdown(sweep));
      await writeFileAtomic(join(out, 'accuracy.svg'), charts.accuracy);
      await writeFileAtomic(join(out, 'energy.svg'), charts.energy);
      emit(io, flags.json, { out, ...sweep }, () => {
        const { header, rows } = conversionTable(sweep);
        return `${formatTable(header, rows)}\n\n-> ${out}/conversion.md, accuracy.svg, energy.svg`;
      });
    } finally {
      cnn.dispose();
    }
  });
}

/** The methods that apply to a CNN: QCFS's for a QCFS-trained one, the data-based ones for every CNN. */
function applicable(cnn: Model): ConversionMethod[] {
  return cnn.config.quantize > 0 ? ['qcfs', 'ecc'] : ['layer', 'channel', 'ecc'];
}
