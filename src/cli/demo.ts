// `snn-voice demo` (`npm start`): the whole story in a few minutes. Builds the built-in data set if it
// is missing, trains TC-ResNet8 as a CNN, fine-tunes it to quantised activations and converts that to an
// SNN without loss, prints the comparison and writes a small report.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { initEngine } from '../engine/engine.js';
import type { FeatureSettings } from '../audio/settings.js';
import { LINEAR_ARCHITECTURES, featuresFor } from '../models/zoo.js';
import { MODEL_NAMES, MODEL_SETTINGS } from '../models/config.js';
import type { ModelConfig, ModelName } from '../models/types.js';
import { builtinDataDir, synthesizeSpeechCommands } from '../data/synth-node.js';
import type { Dataset } from '../data/dataset.js';
import { COMMAND_WORDS } from '../data/words.js';
import { loadModel } from '../models/file-node.js';
import type { ConversionSweep } from '../train/conversion-report.js';
import { conversionSweep } from '../train/conversion-sweep.js';
import { DISTILL_DEFAULTS } from '../train/distill.js';
import { pct } from '../train/format.js';
import { packageFile } from '../util/package-root-node.js';
import type { RunResult } from '../train/report.js';
import { KEEP_EPOCHS, type KeepEpoch } from '../train/run.js';
import { type DataOptions, dataOptions, loadData, scoringOptions, wordsRead } from './data.js';
import { type CliContext, emit, note } from './io.js';
import { choice, nonNegativeInt, positiveInt, settingOption, withJson } from './options.js';
import { type Teaching, builtinChoices, builtinHelp, recipeFor, teachingChoices, teachingHelp } from './recipe.js';
import { bornAgain, generationFolder, generationLines, trainGenerations } from './generations.js';
import { RUN_DEFAULTS, RUN_MODEL_DEFAULTS, type RunSpec } from './run.js';
import { resultTable } from './summary.js';
import { writeReport } from './sweep.js';
import { addTrainingOptions, checkTeacherWidth, generationsOption, teacherWidthOption, threadsOption } from './train.js';

/**
 * Chosen so the runs finish in under five minutes on two cores and give a keyword spotter for real
 * people: TC-ResNet8 (the zoo's modern architecture: 64k parameters on MFCC at width 1, 99,900 at 1.25) on
 * the ten command words, the CNN trained to convergence with its recipe (cli/recipe.ts). The SNN at T = 8:
 * the CNN fine-tuned 20 epochs with QCFS activations of 8 levels (Bu et al. 2022) at 0.3 of the rate,
 * then converted with signed neurons (train/convert.ts), which at T = L keeps the QCFS CNN's accuracy.
 * Over seeds 0-4 that SNN scored 96.4% on the built-in test split, 81.1% on real people and 78.1% on
 * gsc-v1-subset's 2,789 clips of five commands (before Pico's voices), where the CNN converted by ECC and fine-tuned 16 epochs
 * by BPTT (the demo before, a minute longer) scored 95.2%, 80.1% and 74.9%; BPTT after the QCFS
 * conversion lowered it (docs/accuracy.md). An SNN trained from scratch needs as many epochs as the CNN
 * at 3 times the cost per epoch.
 * On the built-in set each model trains by its recipe (cli/recipe.ts), as `train` does: for TC-ResNet8 the
 * inputs are 20 MFCC and the training clips' waveform copies are heard through random microphones with
 * their formants moved: over three seeds that took
 * real people from 72.5% to 75.8% (CNN) and 69.0% to 71.8% (SNN) and the 2,789 real clips of
 * gsc-v1-subset from 72.9% to 74.2% and 70.1% to 72.1%, for 1 to 2.6 points less on the synthetic test
 * split (docs/accuracy.md). Since the built-in set
 * has GnuSpeech and Pico voices (data/speakers.ts), and each run keeps its last epoch, over seeds 0-9
 * the CNN gives the synthetic test split 97.4%, real people 83.5% and the 2,789 clips 81.1%, the SNN
 * 97.2%, 83.4% and 80.8%. Taught in the recipe's three generations (a width-1.25 CNN taught by a
 * width-1 CNN born again from that one), its QCFS fine-tuning taught by generation 2, on two threads
 * (`threads` below), the CNN gives 97.80% and 85.73% and the SNN 97.67% and 85.19%, in 199-267 s
 * on two cores (docs/cli.md#the-demo); two generations on one thread gave 97.75% and 84.81%, 97.72%
 * and 84.43%, in 236 s.
 */
export const DEMO_DEFAULTS = {
  model: 'tcresnet8',
  epochs: recipeFor('tcresnet8').epochs,
  batchSize: 32,
  lr: recipeFor('tcresnet8').lr,
  steps: 8,
  /** The QCFS fine-tuning before conversion, at --quantize levels (default --steps, so that the
   *  conversion keeps the QCFS CNN's accuracy): its epochs and peak rate. */
  quantizeEpochs: 20,
  quantizeLr: 0.003,
  /** BPTT epochs after conversion: none after QCFS, this many after ECC (--quantize 0). */
  fineTuneEpochs: { qcfs: 0, ecc: 16 },
  fineTuneLr: 0.001,
  /** The CNN also converted without training at this T and scored beside: at T = 32 such SNNs keep
   *  their CNN's accuracy, on real people too (docs/accuracy.md), where the T = 8 SNN loses a few points. */
  convertedSteps: 32,
  words: COMMAND_WORDS,
  /** Every run ends with its last epoch's weights: its schedule has annealed there, where the lowest
   *  validation loss fell on earlier epochs by noise (docs/accuracy.md). */
  keep: 'last',
  /** Both cores of a two-core machine share each large kernel call (docs/threads.md): the recipe's three
   *  generations of TC-ResNet8 then fit the five minutes. */
  threads: Math.min(2, availableParallelism()),
} as const;

/** Width and generations where no flag says: on the built-in set its model's recipe (for TC-ResNet8
 *  three generations, the last at width 1.25), else one generation at width 1. */
export function demoTeaching(flags: Pick<DemoFlags, 'model' | 'data' | 'width' | 'generations' | 'teacherWidth'>): Teaching {
  const { width, generations, teacherWidth } = flags;
  return teachingChoices({ width, generations, teacherWidth }, flags.data === undefined ? recipeFor(flags.model).builtin?.teaching : undefined);
}

/** What the demo trains on where no flag says: on the built-in set its model's recipe (cli/recipe.ts), as `train`'s. */
export function demoData(flags: DemoFlags): { features: ModelConfig['features']; augment?: DataOptions['augment']; augmentColour?: number; augmentWarp?: number } {
  const { features, augment, augmentColour, augmentWarp, augmentCopies } = flags;
  const chosen = flags.data === undefined ? builtinChoices(flags.model, { features, augment, augmentColour, augmentWarp, augmentCopies }) : { features, augment, augmentColour, augmentWarp };
  return { features: chosen.features ?? 'default', augment: chosen.augment, augmentColour: chosen.augmentColour, augmentWarp: chosen.augmentWarp };
}

/** Real recordings shipped with the repository (samples/real-speech: the ten command words, CC BY 4.0),
 *  when this is a clone; an installed package has none. */
function realSpeechDir(): string | null {
  return packageFile(join('samples', 'real-speech'), 'testing_list.txt');
}

export interface DemoFlags extends DataOptions {
  model: ModelName;
  features?: ModelConfig['features'];
  steps: number;
  epochs: number;
  quantize?: number;
  quantizeEpochs: number;
  fineTuneEpochs?: number;
  convertedSteps: number;
  batchSize: number;
  lr: number;
  pctStart?: number;
  seed: number;
  keep: KeepEpoch;
  width?: number;
  generations?: number;
  teacherWidth?: number;
  threads: number;
  out: string;
  json?: boolean;
}

export function demoCommand(ctx: CliContext): Command {
  const cmd = new Command('demo')
    .description('train TC-ResNet8 as a CNN on the built-in set, convert it to an SNN, score both on real speech, compare them and write a report (npm start)')
    // hjh-scnn is Hjh's CNN behind one Leaky: it has no CNN of its own to compare with.
    .addOption(settingOption(MODEL_SETTINGS.name, { values: MODEL_NAMES.filter((m) => m !== 'hjh-scnn'), default: DEMO_DEFAULTS.model }))
    .addOption(settingOption(MODEL_SETTINGS.steps, { default: DEMO_DEFAULTS.steps }))
    .addOption(settingOption(MODEL_SETTINGS.width, { defaultNote: teachingHelp('width', String(MODEL_SETTINGS.width.default)) }))
    .addOption(settingOption(MODEL_SETTINGS.features, { default: undefined, defaultNote: `${builtinHelp('features', MODEL_SETTINGS.features.default)} on the built-in set; ${MODEL_SETTINGS.features.default} with --data` }));
  addTrainingOptions(cmd, DEMO_DEFAULTS)
    .option('--quantize <L>', `before conversion, fine-tune the CNN with QCFS activations of L levels (default: --steps; 0 for tcy, which has no activations); 0: convert the CNN itself by ECC`, nonNegativeInt('--quantize'))
    .option('--quantize-epochs <n>', `epochs of that fine-tuning, at peak lr ${DEMO_DEFAULTS.quantizeLr}`, positiveInt('--quantize-epochs'), DEMO_DEFAULTS.quantizeEpochs)
    .option('--fine-tune-epochs <n>', `epochs of the converted SNN's fine-tuning by BPTT, at peak lr ${DEMO_DEFAULTS.fineTuneLr} (default: ${DEMO_DEFAULTS.fineTuneEpochs.qcfs} after QCFS, ${DEMO_DEFAULTS.fineTuneEpochs.ecc} after ECC)`, nonNegativeInt('--fine-tune-epochs'))
    .option('--converted-steps <n>', 'T of an SNN converted from the CNN without training (ECC), scored beside the runs; 0 for none', nonNegativeInt('--converted-steps'), DEMO_DEFAULTS.convertedSteps)
    .option('--keep <epoch>', "which epoch's weights each run keeps: best (the lowest validation loss) or last", choice('--keep', KEEP_EPOCHS), DEMO_DEFAULTS.keep)
    .addOption(generationsOption(teachingHelp('generations', '1')))
    .addOption(teacherWidthOption(teachingHelp('teacherWidth', '--width')))
    .addOption(threadsOption(DEMO_DEFAULTS.threads))
    .option('--out <dir>', 'output folder', 'runs/demo');
  withJson(cmd);
  return cmd.action(async (given: DemoFlags) => {
    const { io } = ctx;
    const started = performance.now();
    // Before anything makes tensors: they belong to the engine that made them.
    await initEngine({ threads: given.threads });
    const flags = { ...given, ...demoTeaching(given) };
    checkTeacherWidth(given.teacherWidth, flags.generations);
    if (flags.data === undefined) {
      // The default set, current version: instant when it is already there, rebuilt when it is older
      // or was made with other options.
      if (!existsSync(builtinDataDir())) note(io, `building the built-in data set in ${builtinDataDir()} (once)`);
      // Only the words this run reads (the ten commands by default): the others are made when asked for.
      const synth = await synthesizeSpeechCommands({ out: builtinDataDir(), words: wordsRead(flags), progress: io.progress });
      if (!synth.cached) note(io, `built-in data set: ${synth.clips} clips in ${synth.seconds.toFixed(0)} s`);
    }
    const { features: featureChoice, ...augmentation } = demoData(flags);
    const features = featuresFor(flags.model, featureChoice);
    const data = await loadData(io, { ...dataOptions(flags), ...augmentation }, features);
    // Real people, scored beside the synthetic test split when the classes are the ten command words.
    const realDir = realSpeechDir();
    const tenWords = data.train.classes.length === COMMAND_WORDS.length && data.train.classes.every((c) => COMMAND_WORDS.includes(c));
    const real = realDir && tenWords ? (await loadData(io, { data: realDir, words: COMMAND_WORDS, augment: 'none' }, features)).test : undefined;
    if (real) note(io, `real speech: ${real.size} recordings of real people (samples/real-speech), scored beside the test split`);
    note(io, `data: ${data.train.size} training, ${data.validation.size} validation, ${data.test.size} test clips of ${data.train.classes.length} words`);
    const base = {
      model: flags.model,
      ...RUN_MODEL_DEFAULTS,
      width: flags.width,
      features: featureChoice,
      neuron: RUN_DEFAULTS.neuron,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      lr: flags.lr,
      pctStart: flags.pctStart ?? recipeFor(flags.model).pctStart,
      seed: flags.seed,
      ...(flags.keep !== 'best' && { keep: flags.keep }),
    };
    const runs = demoRuns(flags, base);
    const results: RunResult[] = [];
    const teachers: RunResult[] = [];
    for (const { id, spec, doing, generations } of runs) {
      note(io, doing);
      const { result, earlier } = await trainGenerations(io, id, bornAgain(spec, generations, flags.teacherWidth), data, features, join(flags.out, id), 'overwrite', real);
      results.push(result);
      teachers.push(...earlier);
    }
    const cnnId = runs[0].id;
    const conversions = flags.convertedSteps > 0 ? await convertedBeside(io, join(flags.out, cnnId, 'model.snn'), flags, features, real) : [];
    const seconds = (performance.now() - started) / 1000;
    await writeReport(
      flags.out,
      `snn-voice demo: ${flags.model} as CNN and as SNN`,
      {
        data: flags.data === undefined ? 'built-in synthesized set' : [flags.data].flat().join(', '),
        words: data.train.classes.join(', '),
        'train / validation / test clips': `${data.train.size} / ${data.validation.size} / ${data.test.size}`,
        epochs: `${flags.epochs} (SNN: ${runs.slice(1).map((r) => r.doing).join(', then ')})`,
        'CNN': runs[0].doing,
        ...(teachers.length > 0 && { teachers: generationLines(teachers).join('; ') }),
        width: flags.teacherWidth === undefined ? flags.width : `${flags.width} (generations before the last: ${flags.teacherWidth})`,
        'batch size': flags.batchSize,
        'peak lr': flags.lr,
        'SNN time steps': flags.steps,
        features: featureChoice === 'default' ? features.kind : featureChoice,
        augmentation: [augmentation.augment ?? 'none', augmentation.augmentColour ? `colour ${augmentation.augmentColour}` : '', augmentation.augmentWarp ? `warp ${augmentation.augmentWarp}` : ''].filter(Boolean).join(', '),
        'wall time, s': seconds.toFixed(0),
      },
      results,
      conversions,
    );
    emit(io, flags.json, { out: flags.out, seconds, results, ...(teachers.length > 0 && { earlierGenerations: teachers }), conversions }, () =>
      [resultTable(results), ...generationLines(teachers), ...conversions.map(convertedLine), '', `chance is ${(100 / data.train.classes.length).toFixed(1)}%; report in ${join(flags.out, 'report.md')} (${seconds.toFixed(0)} s in all)`].join('\n'),
    );
  });
}

/**
 * The demo's runs: the CNN; with QCFS levels (--quantize, default --steps), the CNN fine-tuned from its
 * weights with QCFS activations; the SNN converted from the last CNN (signed neurons after QCFS: they
 * take back the spikes fired ahead of the quantised activation) and fine-tuned by BPTT if epochs are asked.
 */
export function demoRuns(flags: DemoFlags, base: Omit<RunSpec, 'spiking' | 'steps'>): Array<{ id: string; spec: RunSpec; doing: string; generations: number }> {
  const cnnId = `${flags.model}-cnn`;
  const generations = flags.generations ?? 1;
  const bornAgain = generations > 1 ? ` in ${generations} generations, each after the first taught by the one before` : '';
  const cnn = { id: cnnId, spec: { ...base, spiking: false, steps: 1 }, doing: `training ${cnnId} for ${flags.epochs} epochs${bornAgain}`, generations };
  const levels = flags.quantize ?? (LINEAR_ARCHITECTURES.includes(flags.model) ? 0 : flags.steps);
  const qcfsId = `${cnnId}-q${levels}`;
  // The CNN's teacher teaches its QCFS fine-tuning as well, which untaught gives back most of what it taught (docs/accuracy.md).
  const teacher = generations > 1 && join(generationFolder(join(flags.out, cnnId), generations - 1, generations), 'model.snn');
  const qcfs = levels > 0 && {
    id: qcfsId,
    spec: {
      ...base, spiking: false, steps: 1, quantize: levels, initFrom: join(flags.out, cnnId, 'model.snn'), epochs: flags.quantizeEpochs, lr: DEMO_DEFAULTS.quantizeLr,
      ...(teacher && { teachers: [teacher], distillAlpha: DISTILL_DEFAULTS.alpha, distillTemperature: DISTILL_DEFAULTS.temperature }),
    },
    doing: `fine-tuning ${cnnId} with QCFS activations of ${levels} levels for ${flags.quantizeEpochs} epochs${teacher ? `, taught by its generation ${generations - 1}` : ''}`,
    generations: 1,
  };
  const from = qcfs ? qcfsId : cnnId;
  const method = qcfs ? 'qcfs' : 'ecc';
  const fineTune = flags.fineTuneEpochs ?? DEMO_DEFAULTS.fineTuneEpochs[method];
  const snnId = `${flags.model}-snn-t${flags.steps}`;
  const snn = {
    id: snnId,
    spec: { ...base, spiking: true, steps: flags.steps, fromCnn: join(flags.out, from, 'model.snn'), signed: !!qcfs, epochs: fineTune, lr: DEMO_DEFAULTS.fineTuneLr },
    doing: `converting ${from} to ${snnId} (${method}${qcfs ? ', signed neurons' : ''})${fineTune > 0 ? ` and fine-tuning it for ${fineTune} epochs at peak lr ${DEMO_DEFAULTS.fineTuneLr}` : ' without training'}`,
    generations: 1,
  };
  return qcfs ? [cnn, qcfs, snn] : [cnn, snn];
}

/**
 * The CNN converted to an SNN by ECC at --converted-steps without training, scored on the test split and
 * on real speech: calibration reads the training clips as they are, without augmentation.
 */
async function convertedBeside(io: CliContext['io'], cnnFile: string, flags: DemoFlags, features: FeatureSettings, real: Dataset | undefined): Promise<ConversionSweep[]> {
  note(io, `converting the CNN at T=${flags.convertedSteps} without training and scoring it`);
  const plain = await loadData(io, scoringOptions(flags), features);
  const { model: cnn } = await loadModel(cnnFile);
  try {
    // One calibration for both splits: the scales are the CNN's, whatever split the SNN is scored on.
    const opts = { methods: ['ecc'] as const, steps: [flags.convertedSteps], calibration: { calibration: plain.train }, scales: new Map(), batchSize: flags.batchSize, progress: io.progress };
    const splits: [string, Dataset][] = [['test', plain.test], ...(real ? [['real people', real] as [string, Dataset]] : [])];
    return splits.map(([splitName, split]) => conversionSweep(cnn, split, { ...opts, splitName }));
  } finally {
    cnn.dispose();
  }
}

/** One line per conversion: the SNN's top-1 against its CNN's on that split. */
function convertedLine(sweep: ConversionSweep): string {
  const p = sweep.points[0];
  return `${sweep.model} SNN T=${p.steps} converted without training (${p.method}), ${sweep.split}: ${pct(p.top1)} (CNN ${pct(sweep.cnn.top1)})`;
}
