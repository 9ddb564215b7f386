// One training run, as `train`, `sweep` and `demo` do it: build (or migrate) the model, train it with a
// checkpoint and a JSON-lines log in its folder, score it on the test split, save model.snn and
// result.json. A fresh engine per run makes its memory figure that run's own peak.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type FeatureSettings, featureShape } from '../audio/settings.js';
import { initEngine } from '../engine/engine.js';
import { type ConversionMethod, convert, defaultMethod } from '../train/convert.js';
import { DEFAULT_CONFIG, MODEL_SETTINGS } from '../models/config.js';
import { loadModel, saveModel } from '../models/file-node.js';
import { type ModelMeta, exportState, importMatching } from '../models/serialize.js';
import type { Model, ModelConfig, ModelName } from '../models/types.js';
import { DEFAULT_NEURON, STUDY_NEURON } from '../kernels/lif.js';
import { NEURON_SETTINGS } from '../layers/leaky.js';
import { createModel } from '../models/zoo.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { pickSettings } from '../util/schema.js';
import { FileCheckpointStore } from '../train/checkpoint-node.js';
import { meanRate } from '../train/conversion-report.js';
import type { ListeningTeacher } from '../train/distill.js';
import { evaluate, type EvalResult } from '../train/evaluate.js';
import { epochLogger } from '../train/log-node.js';
import type { RunResult } from '../train/report.js';
import type { KeepEpoch, LabelSpace } from '../train/run.js';
import { type TrainResult, train } from '../train/trainer.js';
import type { Dataset } from '../data/dataset.js';
import { type LoadedSplits, checkTrainable } from './data.js';
import { type CliIo, note } from './io.js';
import { InterruptedError, interrupt } from './interrupt.js';
import { UsageError } from './options.js';
import { STUDY_EPOCHS, recipeFor } from './recipe.js';

/** `--neuron`: the study's neuron (snntorch 0.5.3) or the current snntorch one, as form, reset and surrogate. */
export const NEURON_PRESETS = { study: STUDY_NEURON, current: DEFAULT_NEURON } as const;
export type NeuronPreset = keyof typeof NEURON_PRESETS;

/**
 * The model settings a run sets (models/settings.ts declares them): all but the name (RunSpec.model),
 * the classes (the data's words) and the neuron's form, reset and surrogate (RunSpec.neuron).
 */
export type RunModelSettings = Omit<ModelConfig, 'name' | 'classes' | 'form' | 'reset' | 'surrogate'>;

export interface RunSpec extends RunModelSettings {
  model: ModelName;
  /** Default: the preset's (straight-through for the study neuron, atan for the current one). */
  surrogate?: ModelConfig['surrogate'];
  neuron: NeuronPreset;
  epochs: number;
  batchSize: number;
  /** Peak learning rate and warm-up fraction of the one-cycle schedule. */
  lr: number;
  pctStart: number;
  /** L2 weight decay on the weights (the trainer's default, 1e-4, when absent). */
  weightDecay?: number;
  /** Epochs without a better validation loss before the run stops (Infinity: never); the recipe's when absent. */
  patience?: number;
  /** A trained CNN model file to convert (train/convert.ts) and fine-tune. */
  fromCnn?: string;
  /** A model file of the same architecture and features whose matching tensors start the run (a warm start). */
  initFrom?: string;
  /** How --from-cnn converts: default qcfs for a QCFS-trained CNN, else ecc. */
  conversion?: ConversionMethod;
  /** Trained model files whose soft targets the run learns from as well (train/distill.ts). */
  teachers?: string[];
  /** Weight and temperature of the teachers' term (the trainer's defaults when absent). */
  distillAlpha?: number;
  distillTemperature?: number;
  /** Validate and keep the weights' moving average with this decay (train/average.ts). */
  average?: number;
  /** Take each step's gradient at the weights this radius uphill (train/sam.ts). */
  sam?: number;
  /** The classes each training sample's softmax runs over (train/run.ts LABEL_SPACES); default 'all'. */
  labelSpace?: LabelSpace;
  /** Which epoch's weights the run keeps (train/run.ts KEEP_EPOCHS); default 'best'. */
  keep?: KeepEpoch;
}

/** A run's model settings where no flag sets them: the declared defaults. */
export const RUN_MODEL_DEFAULTS: RunModelSettings = (({ classes: _c, form: _f, reset: _r, surrogate: _s, ...run }) => run)(DEFAULT_CONFIG);

export const RUN_DEFAULTS = {
  neuron: 'current' as NeuronPreset,
  epochs: STUDY_EPOCHS,
  batchSize: 32,
};

/** The neuron settings of a spec: the preset's form and reset, and its surrogate unless the spec names one. */
function neuronConfig(spec: RunSpec): Pick<ModelConfig, 'form' | 'reset' | 'surrogate'> {
  const preset = NEURON_PRESETS[spec.neuron];
  return { form: preset.form, reset: preset.reset, surrogate: spec.surrogate ?? preset.surrogate };
}

/**
 * The model settings of a spec, read off MODEL_SETTINGS so that a new one reaches the model (--width
 * once did not reach CNNs): an SNN takes every one the spec holds and the neuron's; a CNN, which has no
 * neuron and no input encoder, keeps their defaults.
 */
function modelOptions(spec: RunSpec): Partial<ModelConfig> {
  const given = pickSettings(MODEL_SETTINGS, spec);
  if (spec.spiking) return { ...given, ...neuronConfig(spec) };
  return Object.fromEntries(Object.entries(given).filter(([key]) => !spikingOnly(key)));
}

/** The settings only an SNN has: its neuron's and its input encoder. */
function spikingOnly(key: string): boolean {
  return key === 'encoder' || key in NEURON_SETTINGS;
}

/** The CNN twin of a run: the same run as a CNN, its SNN-only settings back at their defaults, as
 *  `train` without --spiking would make it. */
export function cnnTwin(spec: RunSpec): RunSpec {
  const { surrogate: _surrogate, ...run } = spec;
  const defaults = Object.entries(RUN_MODEL_DEFAULTS).filter(([key]) => spikingOnly(key));
  return { ...run, ...Object.fromEntries(defaults), spiking: false };
}

/** A model file a run starts from must be of the run's architecture and features. */
function expectSameInput(flag: string, file: string, from: Model, meta: ModelMeta, model: ModelName, features: FeatureSettings): void {
  if (from.name !== model) throw new UsageError(`${flag}: "${file}" is a ${from.name} model, but --model is ${model}`);
  if (JSON.stringify(meta.features) !== JSON.stringify(features))
    throw new UsageError(`${flag}: "${file}" was trained on other features than ${model} uses here (give the same --features)`);
}

/**
 * Starts `model` from the tensors of a model file of the same architecture and features (say, a CNN
 * trained on the built-in set's 35 words, before training on real speech): every tensor whose name and
 * size match; the rest, such as a classifier over other words, keep their fresh values.
 */
async function warmStart(io: CliIo, model: Model, file: string, features: FeatureSettings): Promise<void> {
  const { model: from, meta } = await loadModel(file);
  try {
    expectSameInput('--init-from', file, from, meta, model.name, features);
    const { copied, kept } = importMatching(model, exportState(from), file);
    note(io, `started from ${file}: ${copied.length} of ${copied.length + kept.length} tensors${kept.length ? `; fresh: ${kept.join(', ')}` : ''}`);
  } finally {
    from.dispose();
  }
}

async function buildModel(io: CliIo, spec: RunSpec, data: LoadedSplits, features: FeatureSettings): Promise<Model> {
  const classes = data.train.classes.length;
  if (!spec.fromCnn) {
    const model = createModel(spec.model, { classes, ...modelOptions(spec) });
    if (!spec.initFrom) return model;
    try {
      await warmStart(io, model, spec.initFrom, features);
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }
  if (!spec.spiking) throw new UsageError('--from-cnn turns a CNN into an SNN: add --spiking');
  const { model: cnn, meta } = await loadModel(spec.fromCnn);
  try {
    if (cnn.spiking) throw new UsageError(`--from-cnn: "${spec.fromCnn}" is already a spiking model`);
    expectSameInput('--from-cnn', spec.fromCnn, cnn, meta, spec.model, features);
    if (meta.classNames.join(',') !== data.train.classes.join(','))
      throw new UsageError(`--from-cnn: "${spec.fromCnn}" has classes ${meta.classNames.join(',')}, the data has ${data.train.classes.join(',')}`);
    // The converted SNN (train/convert.ts) keeps the CNN's accuracy where T allows; fine-tuning by
    // BPTT through its IF neurons starts from there. The preset's form, reset and beta do not apply:
    // a converted neuron is integrate-and-fire, reset by subtraction.
    const method = spec.conversion ?? defaultMethod(cnn);
    const surrogate = spec.surrogate ?? NEURON_PRESETS[spec.neuron].surrogate;
    const snn = convert(cnn, { steps: spec.steps, method, calibration: data.train, signed: spec.signed, neuron: { surrogate, learnThreshold: spec.learnThreshold } });
    note(io, `converted ${spec.fromCnn} to an SNN with T=${spec.steps} (${method}: batch norm folded, IF neurons, weights scaled to the thresholds)`);
    return snn;
  } finally {
    cnn.dispose();
  }
}

/** The teachers of a distilled run: model files on the run's classes, any architecture. One on other
 *  features than the run's listens: it gets the training split in its own features. */
async function loadTeachers(io: CliIo, files: readonly string[], data: LoadedSplits, features: FeatureSettings): Promise<{ teachers: Model[]; listeners: ListeningTeacher[] }> {
  const loaded: Model[] = [];
  const teachers: Model[] = [];
  const listeners: ListeningTeacher[] = [];
  try {
    for (const file of files) {
      const { model, meta } = await loadModel(file);
      loaded.push(model);
      if (meta.classNames.join(',') !== data.train.classes.join(','))
        throw new UsageError(`--teacher: "${file}" has classes ${meta.classNames.join(',')}, the data has ${data.train.classes.join(',')}`);
      if (JSON.stringify(meta.features) === JSON.stringify(features)) teachers.push(model);
      else {
        listeners.push({ model, train: (await data.inFeatures(meta.features)).train });
        note(io, `--teacher ${file} takes ${meta.features.kind} [${featureShape(meta.features).join(', ')}]: it hears each training clip so, as recorded`);
      }
    }
    return { teachers, listeners };
  } catch (e) {
    for (const t of loaded) t.dispose();
    throw e;
  }
}

export interface RunOutcome {
  result: RunResult;
  test: EvalResult;
}

const UNTRAINED: TrainResult = { history: [], best: null, kept: null, stoppedEarly: false, aborted: false, resumedFrom: 0 };

/**
 * How a run treats its folder: 'fresh' needs one that holds no run, 'resume' one that holds an
 * unfinished run's checkpoint, 'overwrite' replaces whatever run is there. Nothing is deleted or left
 * to shadow the new run without one of the last two being asked for.
 */
export type RunStart = 'fresh' | 'resume' | 'overwrite';

const RUN_FILES = ['checkpoint.snnc', 'log.jsonl', 'result.json', 'model.snn'] as const;

/** Checks the folder against `start`, and clears what a resumed or overwritten run replaces. */
export async function claimRunFolder(out: string, start: RunStart): Promise<void> {
  const has = (file: string) => existsSync(join(out, file));
  if (start === 'resume' && !has('checkpoint.snnc'))
    throw new UsageError(`${out} holds no checkpoint to resume; start the run without --resume`);
  // A finished run keeps its checkpoint: its result says it is finished.
  if (start === 'fresh' && (has('result.json') || has('model.snn')))
    throw new UsageError(`${out} holds a finished run: choose another --out, or add --overwrite to replace it`);
  if (start === 'fresh' && has('checkpoint.snnc'))
    throw new UsageError(`${out} holds an unfinished run (checkpoint.snnc): add --resume to continue it, or --overwrite to start afresh`);
  // A resumed run's folder must not keep an older finished run's result beside the new checkpoint:
  // the sweep would take the folder for finished.
  const stale = start === 'overwrite' ? RUN_FILES : start === 'resume' ? (['result.json', 'model.snn'] as const) : [];
  await Promise.all(stale.map((f) => rm(join(out, f), { force: true })));
}

/**
 * Trains one run into `out` (created if needed): checkpoint.snnc, log.jsonl, model.snn, result.json,
 * and scores it on the test split, and on `realSpeech` (recordings of real people, same classes) when
 * given. `start` says what may happen to a run already in the folder.
 */
export async function trainRun(
  io: CliIo, id: string, spec: RunSpec, data: LoadedSplits, features: FeatureSettings, out: string, start: RunStart, realSpeech?: Dataset,
): Promise<RunOutcome> {
  checkTrainable(data);
  await initEngine();
  await mkdir(out, { recursive: true });
  const logPath = join(out, 'log.jsonl');
  const checkpointPath = join(out, 'checkpoint.snnc');
  await claimRunFolder(out, start);
  const resume = start === 'resume';
  const model = await buildModel(io, spec, data, features);
  let teachers: Model[] = [];
  let listeners: ListeningTeacher[] = [];
  try {
    ({ teachers, listeners } = await loadTeachers(io, spec.teachers ?? [], data, features));
    // No epochs: the model is scored and saved as built, as a converted SNN that keeps its QCFS CNN's accuracy.
    const trained: TrainResult = spec.epochs === 0 ? UNTRAINED : await interrupt.during((signal) =>
      train(
        model,
        { train: data.train, validation: data.validation },
        {
          epochs: spec.epochs,
          batchSize: spec.batchSize,
          lr: spec.lr,
          pctStart: spec.pctStart,
          weightDecay: spec.weightDecay,
          patience: spec.patience ?? recipeFor(spec.model).patience,
          seed: spec.seed,
          progress: io.progress,
          checkpoint: new FileCheckpointStore(checkpointPath),
          resume,
          onEpoch: epochLogger(logPath),
          signal,
          augment: data.augment,
          ...(teachers.length + listeners.length > 0 && { distill: { teachers, listeners, alpha: spec.distillAlpha, temperature: spec.distillTemperature } }),
          ...(spec.average !== undefined && { average: spec.average }),
          ...(spec.sam !== undefined && { sam: spec.sam }),
          ...(spec.labelSpace && { labelSpace: spec.labelSpace }),
          ...(spec.keep && { keep: spec.keep }),
        },
      ),
    );
    if (trained.aborted)
      throw new InterruptedError(`${id}: stopped by Ctrl-C; ${trained.history.length} epochs are in the checkpoint in ${out} (\`train --resume\` and \`sweep\` continue from it)`);
    if (trained.resumedFrom > 0) note(io, `${id}: resumed after epoch ${trained.resumedFrom}`);
    const test = evaluate(model, data.test, { batchSize: spec.batchSize, progress: io.progress, label: `${id}: test` });
    const real = realSpeech && evaluate(model, realSpeech, { batchSize: spec.batchSize, progress: io.progress, label: `${id}: real speech` });
    const history = trained.history;
    const result: RunResult = {
      id,
      model: spec.model,
      spiking: spec.spiking,
      steps: spec.spiking ? spec.steps : 1,
      learnBeta: spec.spiking && spec.learnBeta,
      ...(!spec.spiking && spec.quantize > 0 && { quantize: spec.quantize }),
      classes: data.train.classes.length,
      epochs: history.map((e) => ({
        epoch: e.epoch,
        trainLoss: e.train.loss,
        trainTop1: e.train.top1,
        valLoss: e.validation?.loss,
        valTop1: e.validation?.top1,
        seconds: e.seconds,
      })),
      bestEpoch: trained.kept ?? undefined,
      test: { top1: test.top1, top5: test.top5, loss: test.loss, samples: test.samples },
      ...(real && { realSpeech: { top1: real.top1, samples: real.samples } }),
      secondsPerEpoch: history.reduce((s, e) => s + e.seconds, 0) / Math.max(1, history.length),
      memoryBytes: Math.max(0, ...history.map((e) => e.memoryBytes)),
      parameters: model.parameterCount(),
      spikeRate: meanRate(test.activity),
      synapticOps: { macs: test.activity.macs, acs: test.activity.acs, denseMacs: test.activity.denseMacs },
      energyPicojoules: test.energy.snnPicojoules,
    };
    await saveModel(join(out, 'model.snn'), model, {
      classNames: [...data.train.classes],
      features,
      extra: { run: id, spec: { ...spec }, best: trained.best, test: result.test },
    });
    await writeFileAtomic(join(out, 'result.json'), JSON.stringify({ ...result, spec, data: { folders: data.roots, ...data.source } }, null, 2) + '\n');
    return { result, test };
  } finally {
    for (const t of [...teachers, ...listeners.map((l) => l.model)]) t.dispose();
    model.dispose();
  }
}
