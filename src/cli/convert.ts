// `snn-voice convert`: a trained CNN model file to a converted SNN model file (train/convert.ts), scored
// later with `snn-voice eval`; or, with --sweep-steps, the converted SNN of every method at every T
// scored on a split, written as a table and plots beside the CNN's accuracy.
import { join } from 'node:path';
import { Command } from 'commander';
import { initEngine } from '../engine/engine.js';
import { loadModel, saveModel } from '../models/file-node.js';
import type { Model } from '../models/types.js';
import { type ConversionSweep, conversionCharts, conversionMarkdown, conversionTable } from '../train/conversion-report.js';
import { ROWS_PER_BATCH, conversionSweep } from '../train/conversion-sweep.js';
import { CONVERSION_METHODS, type ConversionMethod, convert, defaultMethod } from '../train/convert.js';
import { pct } from '../train/format.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { loadData } from './data.js';
import { type CliContext, emit, note } from './io.js';
import { NEURON_SETTINGS } from '../layers/leaky.js';
import { UsageError, choice, listOf, modelFile, numberIn, positiveInt, settingOption, withJson } from './options.js';
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
  signed?: boolean;
  json?: boolean;
}

export const DEFAULT_SWEEP_STEPS = [1, 2, 4, 8, 16, 32, 64, 128];

export function convertCommand(ctx: CliContext): Command {
  const cmd = new Command('convert')
    .description('convert a trained CNN model file to an SNN that keeps its accuracy (docs/conversion.md); --sweep-steps scores every method at every T')
    .requiredOption('--model <file>', 'a CNN model file written by train (model.snn), or the name of the CNN shipped in the package (kws-cnn)', modelFile('--model'))
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
    .option('--batch-size <n>', `samples per batch when scoring (at most ${ROWS_PER_BATCH} / T)`, positiveInt('--batch-size'), 64)
    .addOption(settingOption(NEURON_SETTINGS.signed));
  withJson(cmd);
  return cmd.action(async (flags: ConvertFlags) => {
    const { io } = ctx;
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
        const snn = convert(cnn, { steps: flags.steps, method, signed: flags.signed, ...calibration });
        try {
          const out = flags.out ?? join(flags.model, '..', `snn-${method}-t${flags.steps}.snn`);
          const conversion = { from: flags.model, method, steps: flags.steps, signed: flags.signed ?? false, ...(method === 'qcfs' ? {} : { percentile: flags.percentile, samples: flags.samples }) };
          await saveModel(out, snn, { classNames: meta.classNames, features: meta.features, extra: { ...meta.extra, conversion } });
          emit(io, flags.json, { out, ...conversion }, () => `${cnn.name} CNN -> SNN (${method}, T=${flags.steps}) -> ${out}\nscore it with: snn-voice eval ${out}`);
        } finally {
          snn.dispose();
        }
        return;
      }
      const sweep = conversionSweep(cnn, data[flags.split], {
        methods, steps: flags.sweepSteps, calibration, signed: flags.signed, splitName: flags.split, batchSize: flags.batchSize, progress: io.progress,
        onPoint: (p, cnnTop1) => note(io, `${p.method} T=${p.steps}: top-1 ${pct(p.top1)} (CNN ${pct(cnnTop1)})`),
        command: `snn-voice convert --model ${flags.model} --sweep-steps ${flags.sweepSteps.join(',')} --method ${methods.join(',')} --percentile ${flags.percentile} --samples ${flags.samples}${flags.signed ? ' --signed' : ''}`,
      });
      const out = flags.out ?? join(flags.model, '..', 'conversion');
      await writeConversionFiles(out, sweep);
      emit(io, flags.json, { out, ...sweep }, () => {
        const { header, rows } = conversionTable(sweep);
        return `${formatTable(header, rows)}\n\n-> ${out}/conversion.md, accuracy.svg, energy.svg`;
      });
    } finally {
      cnn.dispose();
    }
  });
}

/** A conversion sweep's files in `out`: conversion.json (its numbers), conversion.md, accuracy.svg, energy.svg. */
export async function writeConversionFiles(out: string, sweep: ConversionSweep): Promise<void> {
  const charts = conversionCharts(sweep);
  await writeFileAtomic(join(out, 'conversion.json'), JSON.stringify(sweep, null, 2) + '\n');
  await writeFileAtomic(join(out, 'conversion.md'), conversionMarkdown(sweep));
  await writeFileAtomic(join(out, 'accuracy.svg'), charts.accuracy);
  await writeFileAtomic(join(out, 'energy.svg'), charts.energy);
}

/** The methods that apply to a CNN: QCFS's for a QCFS-trained one, the data-based ones for every CNN. */
function applicable(cnn: Model): ConversionMethod[] {
  return cnn.config.quantize > 0 ? ['qcfs', 'ecc'] : ['layer', 'channel', 'ecc'];
}
