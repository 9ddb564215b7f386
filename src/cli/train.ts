// `snn-voice train`: one model, CNN or SNN, on a Speech Commands copy or the built-in set.
import { Command, Option } from 'commander';
import { initEngine } from '../engine/engine.js';
import { featuresFor } from '../models/zoo.js';
import { MODEL_SETTINGS } from '../models/config.js';
import { loadModel } from '../models/file-node.js';
import type { ModelConfig, ModelName } from '../models/types.js';
import type { ModelSettingKey } from '../models/settings.js';
import { CONVERSION_METHODS, type ConversionMethod } from '../train/convert.js';
import { DECAY_RANGE } from '../train/average.js';
import { RHO_MAX } from '../train/sam.js';
import { DISTILL_DEFAULTS } from '../train/distill.js';
import { KEEP_EPOCHS, LABEL_SPACES, type KeepEpoch, type LabelSpace } from '../train/run.js';
import { runLabel } from '../train/report.js';
import { addDataOptions, dataOption, dataOptions, loadData } from './data.js';
import { type CliContext, emit, note } from './io.js';
import {
  UsageError, choice, flagName, modelFile, numberIn, positiveInt, settingOption, settingParser, settingsFromFlags, type WordChoice, withJson, wordList,
} from './options.js';
import { type Teaching, builtinChoices, builtinHelp, recipeFor, recipeHelp, teacherHelp, teachingChoices, teachingHelp } from './recipe.js';
import { MAX_GENERATIONS, bornAgain, generationLines, taughtByTwin, trainGenerations } from './generations.js';
import { NEURON_PRESETS, RUN_DEFAULTS, RUN_MODEL_DEFAULTS, type NeuronPreset, type RunSpec } from './run.js';
import { resultTable } from './summary.js';

export const NEURONS = Object.keys(NEURON_PRESETS) as NeuronPreset[];

/** Options every training command shares (train, sweep, demo take subsets). */
export function addTrainingOptions(
  cmd: Command,
  defaults: { epochs?: number; batchSize: number; lr?: number; pctStart?: number; limitPerClass?: number; words?: WordChoice },
  recipe = true,
): Command {
  cmd
    .option('--epochs <n>', `training epochs${defaults.epochs === undefined ? ` (default: ${recipeHelp('epochs')})` : ''}`, positiveInt('--epochs'), defaults.epochs)
    .option('--batch-size <n>', 'samples per batch', positiveInt('--batch-size'), defaults.batchSize)
    .option('--lr <rate>', `peak learning rate of the one-cycle schedule (default: ${recipeHelp('lr')})`, numberIn('--lr', 0, 10, true), defaults.lr)
    .option('--pct-start <f>', `share of the schedule spent warming up (default: ${recipeHelp('pctStart')})`, numberIn('--pct-start', 0, 0.5, true), defaults.pctStart)
    .addOption(settingOption(MODEL_SETTINGS.seed))
    .addOption(dataOption())
    .option('--limit-per-class <n>', 'use at most n clips per word and split (quick runs)', positiveInt('--limit-per-class'), defaults.limitPerClass)
    .option('--words <list>', 'the words to tell apart: all, commands (yes,no,up,down,left,right,on,off,stop,go) or a comma-separated list', wordList('--words'), defaults.words);
  // The help states the recipes' defaults where the command takes them (train, demo; not sweep).
  const builtin = { augment: builtinHelp('augment', 'full'), augmentColour: builtinHelp('augmentColour', '0'), augmentWarp: builtinHelp('augmentWarp', '0') };
  return addDataOptions(cmd, { augment: true, ...(recipe && { builtin }) });
}

/** `--patience`: a positive integer, or `never` (Infinity) for a run that goes to its last epoch. */
function patienceParser(raw: string): number {
  return raw.trim() === 'never' ? Infinity : positiveInt('--patience')(raw);
}

/** `--generations <n>` (cli/generations.ts): 1 to MAX_GENERATIONS; 1 by default, or what `defaultNote`
 *  says where the command resolves it itself (demo). */
export function generationsOption(defaultNote?: string): Option {
  const option = new Option(
    '--generations <n>',
    `born-again training: the model trained n times, each generation after the first afresh and taught by the one before (as --teacher); the last is the run's model, the others stay in <out>/generation-<g>${defaultNote ? ` (default: ${defaultNote})` : ''}`,
  ).argParser((raw) => {
    const n = positiveInt('--generations')(raw);
    if (n > MAX_GENERATIONS) throw new UsageError(`--generations must be at most ${MAX_GENERATIONS}, got ${n}`);
    return n;
  });
  return defaultNote ? option : option.default(1);
}

/** `--teacher-width <k>`: the width of the generations before the last (train, demo). */
export function teacherWidthOption(defaultNote = '--width'): Option {
  return new Option('--teacher-width <k>', `with --generations: the width of the generations before the last (default: ${defaultNote})`).argParser(settingParser('--teacher-width', MODEL_SETTINGS.width));
}

/** A width for the generations before the last needs generations before the last. */
export function checkTeacherWidth(teacherWidth: number | undefined, generations: number): void {
  if (teacherWidth !== undefined && generations === 1) throw new UsageError('--teacher-width is the width of the generations before the last: add --generations');
}

/** `--threads <n>` (train, demo): the engine's threads, started before anything makes tensors. */
export function threadsOption(threads = 1): Option {
  return new Option('--threads <n>', 'threads sharing the large kernel calls, over one shared memory (docs/threads.md); two train TC-ResNet8 1.7 times as fast on two cores, each step within rounding of one thread\'s, so a run\'s weights are a draw of their own').argParser(positiveInt('--threads')).default(threads);
}

/** `--neuron`: the preset that sets the neuron's form and reset, and its surrogate unless --surrogate does. */
export function neuronOption(): Option {
  return new Option('--neuron <preset>', 'study: snntorch 0.5.3 (legacy form, straight-through); current: snntorch >= 0.8 (atan)')
    .argParser(choice('--neuron', NEURONS))
    .default(RUN_DEFAULTS.neuron);
}

/**
 * The model settings train takes as flags: every declared one that has a flag, in the declared order,
 * but the seed (a training option: it seeds the shuffling too). The surrogate's default is the preset's.
 */
export function addModelOptions(cmd: Command): Command {
  for (const key of Object.keys(MODEL_SETTINGS) as ModelSettingKey[]) {
    const setting = MODEL_SETTINGS[key];
    if (!('flag' in setting) || key === 'seed') continue;
    if (key === 'surrogate') cmd.addOption(settingOption(MODEL_SETTINGS.surrogate, { defaultNote: 'by --neuron' }));
    else if (key === 'features') cmd.addOption(settingOption(MODEL_SETTINGS.features, { default: MODEL_SETTINGS.features.default, defaultNote: `${builtinHelp('features', MODEL_SETTINGS.features.default)} on the built-in set; ${MODEL_SETTINGS.features.default} with --data` }));
    else if (key === 'width') cmd.addOption(settingOption(MODEL_SETTINGS.width, { defaultNote: teachingHelp('width', String(MODEL_SETTINGS.width.default)) }));
    else cmd.addOption(settingOption(setting));
  }
  return cmd.addOption(neuronOption());
}

/** The flags that are not model settings (those come from MODEL_SETTINGS). */
interface TrainFlags {
  neuron: NeuronPreset;
  epochs?: number;
  batchSize: number;
  lr?: number;
  pctStart?: number;
  weightDecay?: number;
  patience?: number;
  data?: string[];
  limitPerClass?: number;
  words?: WordChoice;
  out?: string;
  resume?: boolean;
  overwrite?: boolean;
  fromCnn?: string;
  initFrom?: string;
  conversion?: ConversionMethod;
  teacher?: string[];
  distillAlpha: number;
  distillTemperature: number;
  average?: number;
  sam?: number;
  labelSpace: LabelSpace;
  keep?: KeepEpoch;
  generations?: number;
  teacherWidth?: number;
  threads: number;
  json?: boolean;
}

/** What decides whether a run takes its recipe's generations and widths. */
export interface TeachingRun {
  builtin: boolean;
  spiking: boolean;
  quantize?: number;
  /** The model file it starts from (--from-cnn, --init-from). */
  origin?: string;
  teachers?: string[];
}

/** A run on the built-in set from scratch and untaught: where the recipes' teaching was measured. */
function fromScratch(run: TeachingRun): boolean {
  return run.builtin && !run.quantize && !run.origin && !run.teachers;
}

/** A run's generations and widths: each one given, else its recipe's (cli/recipe.ts) for a CNN trained
 *  on the built-in set from scratch and untaught, where they were measured; any other run trains once. */
export function trainTeaching(model: ModelName, run: TeachingRun, given: Partial<Teaching>): Teaching {
  return teachingChoices(given, fromScratch(run) && !run.spiking ? recipeFor(model).builtin?.teaching : undefined);
}

/** The CNN generations that teach an SNN where its recipe says so (cli/recipe.ts), and the SNN's width:
 *  on the built-in set, an SNN trained from scratch and untaught, for which no --generations is given. */
export function snnTeaching(model: ModelName, run: TeachingRun, generations: number | undefined): { cnn: Teaching; width: number } | undefined {
  const recipe = recipeFor(model).builtin;
  const fresh = fromScratch(run) && run.spiking && generations === undefined;
  return fresh && recipe?.taughtSnn ? { cnn: teachingChoices({}, recipe.teaching), width: recipe.taughtSnn.width } : undefined;
}

/** The architecture, features and width of a model file. */
async function fileChoices(path: string): Promise<Pick<ModelConfig, 'name' | 'features' | 'width'>> {
  const { model } = await loadModel(path);
  model.dispose();
  return { name: model.config.name, features: model.config.features, width: model.config.width };
}

export function trainCommand(ctx: CliContext): Command {
  const cmd = new Command('train').description(
    'train one model (CNN, or SNN with --spiking) and write model.snn, a checkpoint, log.jsonl and result.json',
  );
  addModelOptions(cmd);
  addTrainingOptions(cmd, { batchSize: RUN_DEFAULTS.batchSize })
    .option('--out <dir>', 'output folder (default runs/<model>-<cnn|snn-tT>)')
    .option('--weight-decay <f>', 'L2 weight decay added to the gradient of every weight (not biases, batch-norm or neuron parameters)', numberIn('--weight-decay', 0, 1), 1e-4)
    .option('--patience <n>', `stop after n epochs without a better validation loss, or never (default: ${recipeHelp('patience')}; the best epoch is kept either way, unless --keep last)`, patienceParser)
    .option('--keep <epoch>', `which epoch's weights the run writes and scores: best (the lowest validation loss) or last (the end of the schedule, where the rate has annealed) (default: ${builtinHelp('keep', 'best')} on the built-in set; best with --data)`, choice('--keep', KEEP_EPOCHS))
    .addOption(generationsOption(teachingHelp('generations', '1')))
    .addOption(teacherWidthOption(teachingHelp('teacherWidth', '--width')))
    .option('--resume', 'continue from the checkpoint in --out')
    .option('--overwrite', 'replace a run already in --out (finished or not) instead of refusing')
    .option('--from-cnn <file>', "start the SNN from a trained CNN's model file (or kws-cnn, the CNN shipped in the package), converted (docs/conversion.md), then fine-tune; implies --spiking, and the CNN's --model, --features and --width unless given", modelFile('--from-cnn'))
    .option('--init-from <file>', 'start from the weights of a trained model file of the same architecture and features (or kws-cnn): every tensor whose name and size match; the rest (a classifier over other words) start fresh. E.g. a CNN trained on the built-in set, before real speech', modelFile('--init-from'))
    .option('--conversion <method>', `how --from-cnn converts: ${CONVERSION_METHODS.join(', ')} (default: qcfs for a CNN trained with --quantize, else ecc)`, choice('--conversion', CONVERSION_METHODS))
    .option('--teacher <file>', `learn from a trained model's soft targets as well as from the labels (knowledge distillation): a model file on the run's words, any architecture, or kws-cnn; repeat it for several, whose softmax outputs are averaged. One on other features (M5 on the waveform for an MFCC student) hears each training clip as recorded, once (default: ${teacherHelp()})`, (raw: string, previous?: string[]) => [...(previous ?? []), modelFile('--teacher')(raw)])
    .option('--distill-alpha <f>', "weight of the teachers' term in the loss (the labels' cross-entropy takes the rest)", numberIn('--distill-alpha', 0, 1), DISTILL_DEFAULTS.alpha)
    .option('--distill-temperature <t>', "softmax temperature of teachers and student in the teachers' term", numberIn('--distill-temperature', 0, 100, true), DISTILL_DEFAULTS.temperature)
    .option('--average <decay>', "validate and keep a moving average of the weights (and batch norm's statistics) updated after every step with this decay, e.g. 0.999 (Polyak averaging)", numberIn('--average', ...DECAY_RANGE, false, true))
    .option('--sam <rho>', "sharpness-aware minimization: take each step's gradient at the weights a radius rho uphill of them (e.g. 0.05), so training settles in flat minima; each step runs forward and backward twice", numberIn('--sam', 0, RHO_MAX, true))
    .option('--label-space <classes>', "the classes each training clip's softmax runs over: all (every class of the task) or folder (those of the clip's own --data folder, so a folder that lacks some words does not teach that its voices never say them)", choice('--label-space', LABEL_SPACES), 'all')
    .addOption(threadsOption());
  withJson(cmd);
  return cmd.action(async (flags: TrainFlags) => {
    const { io } = ctx;
    // Before anything makes tensors: they belong to the engine that made them.
    await initEngine({ threads: flags.threads });
    if (flags.fromCnn && flags.initFrom) throw new UsageError('--from-cnn and --init-from both give the weights to start from: give one');
    const givenHere = (flag: string): boolean => cmd.getOptionValueSource(new Option(flag).attributeName()) === 'cli';
    const weighing = ['--distill-alpha', '--distill-temperature'].find(givenHere);
    if (weighing && !flags.teacher) throw new UsageError(`${weighing} weighs the teachers' soft targets: add --teacher`);
    if (flags.labelSpace === 'folder' && flags.teacher) throw new UsageError("--label-space folder and --teacher: a teacher's soft targets cover every class, where a clip's softmax may not reach: give one");
    // The model file of --from-cnn or --init-from names its architecture, features and width: the run's, unless given.
    const origin = flags.fromCnn ?? flags.initFrom;
    const chosen = origin ? await fileChoices(origin) : undefined;
    const unset = (flag: string): boolean => [undefined, 'default'].includes(cmd.getOptionValueSource(new Option(flag).attributeName()));
    const flagged = settingsFromFlags(MODEL_SETTINGS, flags);
    if (chosen && unset(MODEL_SETTINGS.name.flag)) flagged.name = chosen.name;
    if (chosen?.features && unset(MODEL_SETTINGS.features.flag)) flagged.features = chosen.features;
    if (chosen && unset(MODEL_SETTINGS.width.flag)) flagged.width = chosen.width;
    const { name: model = MODEL_SETTINGS.name.default, ...settings } = flagged;
    // On the built-in set, what no flag (nor the model file) gives comes from the model's recipe.
    const given = dataOptions(flags);
    const { features: recipeFeatures, keep, ...augmentation } = given.data === undefined ? builtinChoices(model, { ...given, keep: flags.keep }) : { ...given, keep: flags.keep };
    if (recipeFeatures && unset(MODEL_SETTINGS.features.flag) && !chosen?.features) settings.features = recipeFeatures;
    // A migrated CNN is an SNN: --from-cnn implies --spiking.
    const spiking = !!settings.spiking || !!flags.fromCnn;
    const run = { builtin: given.data === undefined, spiking, quantize: settings.quantize, origin, teachers: flags.teacher };
    const twin = snnTeaching(model, run, flags.generations);
    const { generations, width, teacherWidth } = trainTeaching(model, run, { generations: flags.generations, width: settings.width ?? twin?.width, teacherWidth: flags.teacherWidth });
    settings.width = width;
    if (generations > 1 && flags.teacher) throw new UsageError('--generations and --teacher: each generation after the first is taught by the one before; give one');
    checkTeacherWidth(flags.teacherWidth, generations);
    // The recipe's generations take several runs' time: say so, and how to train once.
    if (flags.generations === undefined && generations > 1) {
      note(io, `${model}'s recipe on the built-in set: ${generations} generations, each after the first taught by the one before, the last at width ${width}${teacherWidth === undefined ? '' : ` and those before at ${teacherWidth}`} (--generations 1 trains once)`);
    }
    if (twin) {
      note(io, `${model}'s SNN recipe on the built-in set: its CNN first, as train --model ${model} trains it (${twin.cnn.generations} generation${twin.cnn.generations > 1 ? 's' : ''}), then the SNN at width ${width} taught by it (--generations 1 trains the SNN alone)`);
    }
    const learned = (['learnBeta', 'learnThreshold'] as const).find((key) => settings[key]);
    if (!spiking && learned) throw new UsageError(`${flagName(MODEL_SETTINGS[learned])} applies to SNNs: add ${flagName(MODEL_SETTINGS.spiking)}`);
    const spec: RunSpec = {
      model,
      ...RUN_MODEL_DEFAULTS,
      ...settings,
      spiking,
      neuron: flags.neuron,
      epochs: flags.epochs ?? recipeFor(model).epochs,
      batchSize: flags.batchSize,
      lr: flags.lr ?? recipeFor(model).lr,
      pctStart: flags.pctStart ?? recipeFor(model).pctStart,
      weightDecay: flags.weightDecay,
      patience: flags.patience,
      fromCnn: flags.fromCnn,
      initFrom: flags.initFrom,
      conversion: flags.conversion,
      average: flags.average,
      ...(flags.sam !== undefined && { sam: flags.sam }),
      ...(flags.labelSpace !== 'all' && { labelSpace: flags.labelSpace }),
      ...(keep === 'last' && { keep }),
      ...(flags.teacher && { teachers: flags.teacher, distillAlpha: flags.distillAlpha, distillTemperature: flags.distillTemperature }),
    };
    const id = spiking ? `${model}-snn-t${spec.steps}${spec.learnBeta ? '-learned-beta' : ''}` : `${model}-cnn${spec.quantize ? `-q${spec.quantize}` : ''}`;
    const out = flags.out ?? `runs/${id}`;
    if (flags.resume && flags.overwrite) throw new UsageError('--resume continues the run in --out and --overwrite replaces it: give one');
    const features = featuresFor(model, spec.features);
    const data = await loadData(io, { ...given, ...augmentation }, features);
    const specs = twin ? taughtByTwin(spec, twin.cnn) : bornAgain(spec, generations, teacherWidth);
    const { result, earlier } = await trainGenerations(io, id, specs, data, features, out, flags.resume ? 'resume' : flags.overwrite ? 'overwrite' : 'fresh');
    emit(io, flags.json, { out, ...result, skipped: data.skipped, ...(earlier.length > 0 && { earlierGenerations: earlier }) }, () =>
      [`${runLabel(result)} -> ${out}`, '', resultTable([result]), ...generationLines(earlier)].join('\n'),
    );
  });
}
