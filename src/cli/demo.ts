// `snn-voice demo` (`npm start`): the whole story in a few minutes. Builds the built-in data set if it
// is missing, trains TC-ResNet8 as a CNN, converts it to an SNN and fine-tunes that, prints the comparison
// and writes a small report.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { featuresFor } from '../models/zoo.js';
import { MODEL_NAMES, MODEL_SETTINGS } from '../models/config.js';
import type { ModelConfig, ModelName } from '../models/types.js';
import { builtinDataDir, synthesizeSpeechCommands } from '../data/synth-node.js';
import { COMMAND_WORDS } from '../data/words.js';
import type { RunResult } from '../train/report.js';
import { type DataOptions, dataOptions, loadData } from './data.js';
import { type CliContext, emit, note } from './io.js';
import { positiveInt, settingOption, withJson } from './options.js';
import { RUN_DEFAULTS, RUN_MODEL_DEFAULTS, type RunSpec, recipeFor, trainRun } from './run.js';
import { resultTable } from './summary.js';
import { writeReport } from './sweep.js';
import { addTrainingOptions } from './train.js';

/**
 * Chosen so both runs finish in under five minutes on two cores and give a real keyword spotter:
 * TC-ResNet8 (the zoo's modern architecture: 66k parameters, about 4 s per CNN epoch) on the ten command
 * words, time shift and SpecAugment masks as batches load (the waveform copies cost two more minutes of
 * featurizing and did not measurably help on real speech), the CNN trained to convergence with its
 * recipe (cli/run.ts), the SNN converted from it (train/convert.ts) and fine-tuned a few epochs at a
 * tenth of the rate: an SNN trained from scratch needs as many epochs as the CNN at 3 times the cost
 * per epoch, which five minutes do not hold. T = 8: fine-tuned from the same CNN (built-in test
 * 98.0%), the SNN scored 95.5% at T = 5 and 97.8% at T = 8, for 12 s per fine-tune epoch instead of 8.
 */
export const DEMO_DEFAULTS = {
  model: 'tcresnet8',
  epochs: recipeFor('tcresnet8').epochs,
  batchSize: 32,
  lr: recipeFor('tcresnet8').lr,
  steps: 8,
  fineTuneEpochs: 8,
  fineTuneLr: 0.001,
  words: COMMAND_WORDS,
  augment: 'spec',
} as const;

/** Real recordings shipped with the repository (samples/real-speech: the ten command words, CC BY 4.0),
 *  when this is a clone; an installed package has none. */
function realSpeechDir(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)), up = 0; up < 5; dir = dirname(dir), up++) {
    const path = join(dir, 'samples', 'real-speech');
    if (existsSync(join(path, 'testing_list.txt'))) return path;
  }
  return null;
}

interface DemoFlags extends DataOptions {
  model: ModelName;
  features: ModelConfig['features'];
  steps: number;
  epochs: number;
  fineTuneEpochs: number;
  batchSize: number;
  lr: number;
  pctStart?: number;
  seed: number;
  out: string;
  json?: boolean;
}

export function demoCommand(ctx: CliContext): Command {
  const cmd = new Command('demo')
    .description('train TC-ResNet8 as a CNN on the built-in set, convert it to an SNN and fine-tune that, score both on real speech, compare them and write a report (npm start)')
    // hjh-scnn is Hjh's CNN behind one Leaky: it has no CNN of its own to compare with.
    .addOption(settingOption(MODEL_SETTINGS.name, { values: MODEL_NAMES.filter((m) => m !== 'hjh-scnn'), default: DEMO_DEFAULTS.model }))
    .addOption(settingOption(MODEL_SETTINGS.steps, { default: DEMO_DEFAULTS.steps }))
    .addOption(settingOption(MODEL_SETTINGS.features));
  addTrainingOptions(cmd, DEMO_DEFAULTS)
    .option('--fine-tune-epochs <n>', `epochs of the converted SNN's fine-tuning, at peak lr ${DEMO_DEFAULTS.fineTuneLr}`, positiveInt('--fine-tune-epochs'), DEMO_DEFAULTS.fineTuneEpochs)
    .option('--out <dir>', 'output folder', 'runs/demo');
  withJson(cmd);
  return cmd.action(async (flags: DemoFlags) => {
    const { io } = ctx;
    const started = performance.now();
    if (flags.data === undefined) {
      // The default set, current version: instant when it is already there, rebuilt when it is older
      // or was made with other options.
      if (!existsSync(builtinDataDir())) note(io, `building the built-in data set in ${builtinDataDir()} (once)`);
      const synth = await synthesizeSpeechCommands({ out: builtinDataDir(), progress: io.progress });
      if (!synth.cached) note(io, `built-in data set: ${synth.clips} clips in ${synth.seconds.toFixed(0)} s`);
    }
    const features = featuresFor(flags.model, flags.features);
    const data = await loadData(io, { ...dataOptions(flags), augment: flags.augment ?? (flags.data === undefined ? DEMO_DEFAULTS.augment : undefined) }, features);
    // Real people, scored beside the synthetic test split when the classes are the ten command words.
    const realDir = realSpeechDir();
    const tenWords = data.train.classes.length === COMMAND_WORDS.length && data.train.classes.every((c) => COMMAND_WORDS.includes(c));
    const real = realDir && tenWords ? (await loadData(io, { data: realDir, words: COMMAND_WORDS, augment: 'none' }, features)).test : undefined;
    if (real) note(io, `real speech: ${real.size} recordings of real people (samples/real-speech), scored beside the test split`);
    note(io, `data: ${data.train.size} training, ${data.validation.size} validation, ${data.test.size} test clips of ${data.train.classes.length} words`);
    const base = {
      model: flags.model,
      ...RUN_MODEL_DEFAULTS,
      features: flags.features,
      neuron: RUN_DEFAULTS.neuron,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      lr: flags.lr,
      pctStart: flags.pctStart ?? recipeFor(flags.model).pctStart,
      seed: flags.seed,
    };
    const cnnId = `${flags.model}-cnn`;
    const runs: Array<{ id: string; spec: RunSpec }> = [
      { id: cnnId, spec: { ...base, spiking: false, steps: 1 } },
      {
        id: `${flags.model}-snn-t${flags.steps}`,
        spec: { ...base, spiking: true, steps: flags.steps, fromCnn: join(flags.out, cnnId, 'model.snn'), epochs: flags.fineTuneEpochs, lr: DEMO_DEFAULTS.fineTuneLr },
      },
    ];
    const results: RunResult[] = [];
    for (const { id, spec } of runs) {
      note(io, `${spec.fromCnn ? `converting ${cnnId} and fine-tuning ${id}` : `training ${id}`} for ${spec.epochs} epochs`);
      results.push((await trainRun(io, id, spec, data, features, join(flags.out, id), 'overwrite', real)).result);
    }
    const seconds = (performance.now() - started) / 1000;
    await writeReport(
      flags.out,
      `snn-voice demo: ${flags.model} as CNN and as SNN`,
      {
        data: flags.data === undefined ? 'built-in synthesized set' : [flags.data].flat().join(', '),
        words: data.train.classes.join(', '),
        'train / validation / test clips': `${data.train.size} / ${data.validation.size} / ${data.test.size}`,
        epochs: `${flags.epochs} (SNN: converted from the CNN, fine-tuned ${flags.fineTuneEpochs} at peak lr ${DEMO_DEFAULTS.fineTuneLr})`,
        'batch size': flags.batchSize,
        'peak lr': flags.lr,
        'SNN time steps': flags.steps,
        'wall time, s': seconds.toFixed(0),
      },
      results,
    );
    emit(io, flags.json, { out: flags.out, seconds, results }, () =>
      [resultTable(results), '', `chance is ${(100 / data.train.classes.length).toFixed(1)}%; report in ${join(flags.out, 'report.md')} (${seconds.toFixed(0)} s in all)`].join('\n'),
    );
  });
}
