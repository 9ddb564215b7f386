// `snn-voice eval <model file>`: scores a saved model on one split (or on all three, for a folder the
// model never heard): top-k accuracy, spike rates per layer, synaptic operations and the energy
// estimate; the confusion matrix on request.
import { Command } from 'commander';
import { initEngine } from '../engine/engine.js';
import { loadModel } from '../models/file-node.js';
import { concat } from '../data/dataset.js';
import { evaluateAsync } from '../train/evaluate.js';
import { pct, sci } from '../train/format.js';
import { dataOption, loadData } from './data.js';
import { type CliContext, emit } from './io.js';
import { InterruptedError, interrupt } from './interrupt.js';
import { MODEL_HELP, UsageError, choice, modelFile, positiveInt, withJson } from './options.js';
import { formatTable } from './table.js';

const SPLITS = ['train', 'validation', 'test', 'all'] as const;
type Split = (typeof SPLITS)[number];

interface EvalFlags {
  split: Split;
  data?: string[];
  limitPerClass?: number;
  cacheDir?: string;
  batchSize: number;
  confusion?: boolean;
  json?: boolean;
}


export function evalCommand(ctx: CliContext): Command {
  const cmd = new Command('eval')
    .description('score a model file on a data split: accuracy, spike rates, synaptic operations, energy')
    .argument('<model>', MODEL_HELP, modelFile('model'))
    .option('--split <name>', 'train, validation, test, or all (the three together: a folder none of whose speakers the model heard)', choice('--split', SPLITS), 'test' as Split)
    .addOption(dataOption())
    .option('--limit-per-class <n>', 'use at most n clips per word', positiveInt('--limit-per-class'))
    .option('--cache-dir <dir>', 'where the feature cache goes (default: $SNN_VOICE_CACHE, else <data>/.snn-voice-cache, else, for a read-only data folder, the user cache folder)')
    .option('--batch-size <n>', 'samples per batch', positiveInt('--batch-size'), 64)
    .option('--confusion', 'also print the confusion matrix (rows: true word, columns: predicted)');
  withJson(cmd);
  return cmd.action(async (file: string, flags: EvalFlags) => {
    const { io } = ctx;
    await initEngine();
    const { model, meta } = await loadModel(file);
    try {
      // The model's own classes, in its order: a model trained on a subset is scored on that subset, and
      // a gsc12 model sees the other words of a folder as _unknown_ (data/tasks.ts).
      const splits = await loadData(io, { data: flags.data, limitPerClass: flags.limitPerClass, classes: meta.classNames, cacheDir: flags.cacheDir, augment: 'none' }, meta.features);
      const data = flags.split === 'all' ? concat([splits.train, splits.validation, splits.test]) : splits[flags.split];
      const where = flags.split === 'all' ? 'all three splits' : `the ${flags.split} split`;
      if (meta.classNames.join(',') !== data.classes.join(','))
        throw new UsageError(`${file} knows the words ${meta.classNames.join(', ')}, but the data has ${data.classes.join(', ')}`);
      // Ctrl-C stops the evaluation after its current batch.
      const r = await interrupt.during((signal) => evaluateAsync(model, data, { batchSize: flags.batchSize, progress: io.progress, label: `${flags.split}`, signal }), 'stopping the evaluation after this batch');
      if (!r) throw new InterruptedError(`eval: stopped by Ctrl-C before the end of ${where}; no result`);
      const kind = model.spiking ? `SNN T=${model.steps}` : 'CNN';
      emit(io, flags.json, { model: file, name: model.name, spiking: model.spiking, steps: model.steps, split: flags.split, classes: meta.classNames, ...r, skipped: data.skipped }, () => {
        const lines = [
          `${model.name} ${kind} on ${where} (${r.samples} samples, ${data.classes.length} words)`,
          '',
          formatTable(
            ['metric', 'value'],
            [
              ['loss', r.loss.toFixed(4)],
              ['top-1', pct(r.top1)],
              ['top-2', pct(r.top2)],
              ['top-5', pct(r.top5)],
              ['dense MACs / sample', sci(r.activity.denseMacs)],
              ['MACs / sample', sci(r.activity.macs)],
              ['ACs / sample', sci(r.activity.acs)],
              ['energy pJ / sample', sci(r.energy.snnPicojoules)],
              ['dense CNN energy pJ / sample', sci(r.energy.cnnPicojoules)],
              ['energy ratio (dense / actual)', r.energy.ratio.toFixed(2)],
            ],
          ),
          '',
          formatTable(
            ['layer', 'neurons', 'spike rate', 'dense MACs', 'MACs', 'ACs'],
            r.activity.layers.map((l) => [l.name, l.neurons ?? null, l.spikeRate === undefined ? '-' : l.spikeRate.toFixed(4), sci(l.denseMacs), sci(l.macs), sci(l.acs)]),
          ),
        ];
        if (flags.confusion)
          lines.push('', formatTable(['true \\ predicted', ...meta.classNames], r.confusion.map((row, i) => [meta.classNames[i], ...row])));
        return lines.join('\n');
      });
    } finally {
      model.dispose();
    }
  });
}
