// Finding and loading the data a command runs on: Speech Commands copies given with --data (repeated for
// several folders, read as one data set), or the built-in synthesized set; as a task (--task
// gsc12|gsc35|all|<words>, --words its older alias), with
// the feature cache where --cache-dir, SNN_VOICE_CACHE or the folder's writability put it, and with the
// training augmentation (--augment, --augment-copies). Loaded splits are kept per (folders, features,
// task, limit, cache, copies), so a sweep that trains several models on the same features reads and
// featurizes the clips once.
import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { FeatureSettings } from '../audio/settings.js';
import { featureKey } from '../audio/settings.js';
import type { Splits, SkippedFile } from '../data/dataset.js';
import { builtinDataDir, loadSpeechCommands, type SpeechCommandsOptions } from '../data/speech-commands-node.js';
import { synthesizedWords } from '../data/synth-node.js';
import { WORDS } from '../data/words.js';
import { DEFAULT_SHARE, SILENCE, SPECIAL_CLASSES, TASK_NAMES, UNKNOWN, taskClasses, type TaskName } from '../data/tasks.js';
import { DEFAULT_SHIFT_SECONDS, specAugmentFor, type AugmentOptions } from '../train/augment.js';
import type { CliIo } from './io.js';
import { note } from './io.js';
import { UsageError, type TaskChoice, type WordChoice, choice, existingDir, nonNegativeInt, numberIn, taskChoice } from './options.js';

export const AUGMENT_MODES = ['none', 'spec', 'wave', 'full'] as const;
/** none; spec: time shift and SpecAugment masks as batches load; wave: the waveform-augmented copies;
 *  full: both. */
export type AugmentMode = (typeof AUGMENT_MODES)[number];
/** Waveform-augmented copies per training clip under --augment wave|full (measured in docs/cli.md). */
export const DEFAULT_AUGMENT_COPIES = 2;

export interface DataOptions {
  /** Speech Commands folders, read as one data set; the built-in set when absent. */
  data?: string | readonly string[];
  limitPerClass?: number;
  /** What to tell apart; every word folder when 'all' or absent. */
  task?: TaskChoice;
  /** --task's older name (--task wins when both are set). */
  words?: WordChoice;
  /** Exactly these classes in this order, missing word folders allowed (eval: the model's classes). */
  classes?: readonly string[];
  cacheDir?: string;
  /** `_unknown_` clips per split as a share of the known words' clips, when the task has `_unknown_` (default 0.1). */
  unknownShare?: number;
  /** Default: the model's recipe on the built-in set (train and demo pass it), else full there; none on a --data folder. */
  augment?: AugmentMode;
  augmentCopies?: number;
  /** Share of the waveform-augmented copies given a microphone's colouring (default 0). */
  augmentColour?: number;
  /** Largest vocal-tract warp of the copies' mel banks: factors 1 ± this (default 0). */
  augmentWarp?: number;
  /** The time shift's largest reach either way, in ms (default 100). */
  augmentShift?: number;
}

/** How a command's help states the defaults its model's recipe takes on the built-in set (cli/recipe.ts). */
export interface BuiltinDefaults {
  augment: string;
  augmentColour: string;
  augmentWarp: string;
}

/** `--data <dir>`, repeatable: every folder given, in order. A comma is part of a folder's name. */
export function dataOption(): Option {
  return new Option('--data <dir>', 'a Speech Commands v2 folder; repeat it to read several folders as one data set, each with its own splits (default: the built-in synthesized set)')
    .argParser((dir: string, previous?: readonly string[]) => [...(previous ?? []), dir]);
}

/** The data set's flags: --task, --cache-dir, --augment, --augment-copies (--data, --limit-per-class and
 *  --words are added by each command). */
export function addDataOptions(cmd: Command, opts: { augment?: boolean; builtin?: BuiltinDefaults } = { augment: true }): Command {
  const onBuiltin = (key: keyof BuiltinDefaults, plain: string): string => `${opts.builtin?.[key] ?? plain} on the built-in set`;
  cmd
    .option('--task <task>', 'what to tell apart: gsc12 (_silence_, _unknown_ and the ten commands), gsc35 (the 35 words), all (every word folder), commands, or a comma-separated list of words that may include _silence_ and _unknown_; overrides --words', taskChoice('--task'))
    .option('--unknown-share <f>', `_unknown_ clips per split as a share of the known words' clips, drawn from the other words, when the task has _unknown_ (default ${DEFAULT_SHARE}, TensorFlow's)`, numberIn('--unknown-share', 0, 100))
    .option('--cache-dir <dir>', 'where the feature cache goes (default: $SNN_VOICE_CACHE, else <data>/.snn-voice-cache, else, for a read-only data folder, the user cache folder)');
  if (opts.augment)
    cmd
      .option('--augment <mode>', `training augmentation: none, spec (time shift and SpecAugment masks), wave (waveform-augmented copies), full (both) (default: ${onBuiltin('augment', 'full')}; none with --data)`, choice('--augment', AUGMENT_MODES))
      .option('--augment-copies <k>', `waveform-augmented copies of each training clip under --augment wave or full (default ${DEFAULT_AUGMENT_COPIES})`, nonNegativeInt('--augment-copies'))
      .option('--augment-colour <share>', `share of the waveform-augmented copies heard through a random microphone (tilt, high- and low-pass corners, two peaks or notches of up to 10 dB), 0 to 1 (default: ${onBuiltin('augmentColour', '0')}; 0 with --data)`, numberIn('--augment-colour', 0, 1))
      .option('--augment-warp <max>', `vocal-tract length perturbation of the waveform-augmented copies: each one's mel bank warped by a factor drawn from 1 - max to 1 + max (formants move, pitch and tempo stay), 0 to 0.3 (default: ${onBuiltin('augmentWarp', '0')}; 0 with --data)`, numberIn('--augment-warp', 0, 0.3))
      .option('--augment-shift <ms>', `the time shift's largest reach either way under --augment spec or full, 0 to 500 ms (default ${DEFAULT_SHIFT_SECONDS * 1000})`, numberIn('--augment-shift', 0, 500));
  return cmd;
}

/** The data options among a command's parsed flags. */
export function dataOptions(flags: DataOptions): DataOptions {
  const { data, limitPerClass, task, words, cacheDir, unknownShare, augment, augmentCopies, augmentColour, augmentWarp, augmentShift } = flags;
  return { data, limitPerClass, task, words, cacheDir, unknownShare, augment, augmentCopies, augmentColour, augmentWarp, augmentShift };
}

/** The same data options for scoring: no augmentation, and so none of the copies' colour and warp
 *  (given without copies, loadData refuses them). */
export function scoringOptions(flags: DataOptions): DataOptions {
  return { ...dataOptions(flags), augment: 'none', augmentCopies: undefined, augmentColour: undefined, augmentWarp: undefined, augmentShift: undefined };
}

/** The data folder could not be read as Speech Commands: printed as one line, like a bad option. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** How a run's data was read, where flags and recipes leave it to defaults: written with its folders
 *  (roots) into its result.json, so that the run can be told apart and repeated from it. */
export interface DataSource {
  augment: AugmentMode;
  /** Waveform-augmented copies of each training clip, the share of them coloured, their largest warp. */
  copies: number;
  colour: number;
  warp: number;
  /** The time shift's largest reach in ms, when the spec augmentation is on. */
  shift?: number;
  limitPerClass?: number;
}

export type LoadedSplits = Splits & {
  source: DataSource;
  skipped: readonly SkippedFile[];
  roots: readonly string[];
  /** Words of the task with no folder in the data (their classes are empty; noted when loaded). */
  missingWords?: readonly string[];
  /** How training batches are augmented (passed to train()); undefined for none. */
  augment?: AugmentOptions;
  /** The same clips in other features, not augmented: what a teacher on other features hears. */
  inFeatures(features: FeatureSettings): Promise<LoadedSplits>;
};

/**
 * Refuses data a model cannot learn from: fewer than two classes, or a class with no usable clip in the
 * training split (every clip unreadable, or a task word with no clips there). A word of a task with no
 * folder at all (gsc12 on a partial copy) stays allowed: loading noted it.
 */
export function checkTrainable(data: Pick<LoadedSplits, 'train' | 'missingWords'>): void {
  const { classes, labels, skipped } = data.train;
  if (classes.length < 2)
    throw new DataError(`a model needs at least 2 classes to tell apart, the task has ${classes.length} (${classes.join(', ') || 'none'}): add words to --task or --words`);
  const counts = new Array<number>(classes.length).fill(0);
  for (const l of labels) counts[l]++;
  const empty = classes.filter((name, c) => counts[c] === 0 && !data.missingWords?.includes(name));
  if (empty.length)
    throw new DataError(
      `no usable clips of ${empty.map((c) => `"${c}"`).join(', ')} in the train split${skipped.length ? ` (${skipped.length} files skipped as unreadable, e.g. ${skipped[0].file}: ${skipped[0].reason})` : ''}: every class needs training clips`,
    );
}

/** The data folders to use; a clear error when the built-in set has not been synthesized yet. */
export function dataRoots(opts: DataOptions): string[] {
  if (opts.data !== undefined) return (typeof opts.data === 'string' ? [opts.data] : [...opts.data]).map((dir) => existingDir('--data', dir));
  const root = builtinDataDir();
  if (!existsSync(root))
    throw new UsageError(`the built-in data set is not built yet (expected in "${root}"): run \`snn-voice synth\` first, or pass --data <Speech Commands folder>`);
  const made = synthesizedWords(root);
  const lacking = made && wordsRead(opts).filter((w) => !made.includes(w));
  if (lacking?.length)
    throw new UsageError(
      `the built-in data set in "${root}" holds ${made!.length} of the 35 words (npm start makes the ten commands it trains on), and this needs ${lacking.length} more (${lacking.join(', ')}): run \`snn-voice synth\` to add them`,
    );
  return [root];
}

/** The Speech Commands words a load with these options reads: a task with _unknown_ draws on every word. */
export function wordsRead(opts: DataOptions): readonly string[] {
  const choice = opts.task ?? opts.words ?? 'all';
  if (choice === 'all' || (TASK_NAMES as readonly string[]).includes(choice as string)) return WORDS;
  const list = choice as readonly string[];
  return list.includes(UNKNOWN) ? WORDS : list.filter((w) => WORDS.includes(w));
}

/** The loader's words or task for the options. */
function classesFor(opts: DataOptions): Pick<SpeechCommandsOptions, 'words' | 'task'> {
  const choice = opts.task ?? opts.words ?? 'all';
  const list = choice === 'all' || typeof choice === 'string' ? [] : choice;
  // A standard task, or a list with _silence_ or _unknown_, is a task; a plain list keeps the older --words rules.
  const classes =
    opts.classes ??
    ((TASK_NAMES as readonly string[]).includes(choice as string) ? taskClasses(choice as TaskName)
    : list.some((c) => SPECIAL_CLASSES.includes(c)) ? [...SPECIAL_CLASSES.filter((c) => list.includes(c)), ...list.filter((c) => !SPECIAL_CLASSES.includes(c))]
    : undefined);
  if (opts.unknownShare !== undefined && !classes?.includes(UNKNOWN))
    throw new UsageError(`--unknown-share applies to a task with ${UNKNOWN} (e.g. --task gsc12); the classes are ${classes?.join(', ') ?? (choice === 'all' ? 'every word folder' : list.join(', '))}`);
  if (classes) return { task: { classes, ...(opts.unknownShare !== undefined && { unknownShare: opts.unknownShare }) } };
  return choice === 'all' ? {} : { words: list };
}

const loaded = new Map<string, Promise<LoadedSplits>>();

export function loadData(io: CliIo, opts: DataOptions, features: FeatureSettings): Promise<LoadedSplits> {
  const roots = dataRoots(opts);
  const where = roots.join(' + ');
  const mode: AugmentMode = opts.augment ?? (opts.data === undefined ? 'full' : 'none');
  const copies = mode === 'wave' || mode === 'full' ? (opts.augmentCopies ?? DEFAULT_AUGMENT_COPIES) : 0;
  const spec = mode === 'spec' || mode === 'full';
  if (opts.augmentShift !== undefined && !spec) throw new UsageError(`--augment-shift moves the clips under --augment spec or full, and this is --augment ${mode}`);
  const shift = opts.augmentShift ?? DEFAULT_SHIFT_SECONDS * 1000;
  const augment: AugmentOptions | undefined =
    mode === 'none' ? undefined : { spec: spec ? specAugmentFor(features, shift / 1000) : null, copies: copies > 0 };
  const classes = classesFor(opts);
  const colour = opts.augmentColour ?? 0;
  const warp = opts.augmentWarp ?? 0;
  const none = `--augment ${mode}${mode === 'wave' || mode === 'full' ? ' --augment-copies 0' : ''} makes none: use --augment wave or full`;
  if (colour > 0 && copies === 0) throw new UsageError(`--augment-colour colours the waveform-augmented copies, and ${none}`);
  if (warp > 0 && copies === 0) throw new UsageError(`--augment-warp warps the waveform-augmented copies' mel banks, and ${none}`);
  if (warp > 0 && features.kind === 'waveform') throw new UsageError('--augment-warp warps a mel bank, and this model takes the waveform');
  const key = JSON.stringify([roots, featureKey(features), opts.limitPerClass ?? null, classes, opts.cacheDir ?? null, copies, colour, warp]);
  const source: DataSource = { augment: mode, copies, colour, warp, ...(spec && { shift }), ...(opts.limitPerClass !== undefined && { limitPerClass: opts.limitPerClass }) };
  let splits = loaded.get(key);
  if (!splits) {
    splits = loadSpeechCommands(roots, features, {
      progress: io.progress,
      limitPerClass: opts.limitPerClass,
      ...classes,
      cacheDir: opts.cacheDir,
      ...(copies > 0 && {
        augment: { copies, settings: { ...(colour > 0 && { colourProbability: colour }), ...(warp > 0 && { warp: [1 - warp, 1 + warp] as [number, number] }) } },
      }),
    }).then(
      (s): LoadedSplits => {
        if (s.skipped.length) note(io, `skipped ${s.skipped.length} unreadable files, e.g. ${s.skipped[0].file}: ${s.skipped[0].reason}`);
        for (const f of s.folders) if (f.cacheLocation.source === 'user-cache') note(io, `${f.root} is read-only: its feature cache is in ${f.cacheLocation.dir}`);
        if (s.listing.missingWords.length) note(io, `no clips of ${s.listing.missingWords.join(', ')} in ${where}: those classes are empty`);
        if (s.folders.length > 1) for (const f of s.folders) note(io, `${f.root}: ${f.train.size} / ${f.validation.size} / ${f.test.size} (train / validation / test) clips`);
        const count = (name: string): string => {
          const c = s.train.classes.indexOf(name);
          return (['train', 'validation', 'test'] as const).map((split) => s[split].labels.filter((l) => l === c).length).join(' / ');
        };
        if (s.listing.silence === 'digital')
          note(io, `${SILENCE}: ${count(SILENCE)} (train / validation / test) clips of digital silence with a little seeded noise, as ${where} ${roots.length > 1 ? 'have' : 'has'} no _background_noise_`);
        if (s.listing.unknown === 'sampled') note(io, `${UNKNOWN}: ${count(UNKNOWN)} (train / validation / test) clips drawn from the other words`);
        const built = [
          ...(s.buildSeconds.features > 0 ? [`features in ${s.buildSeconds.features.toFixed(1)} s`] : []),
          ...(s.buildSeconds.copies > 0 ? [`${copies} augmented copies of each training clip in ${s.buildSeconds.copies.toFixed(1)} s`] : []),
        ];
        if (built.length) note(io, `feature cache built: ${built.join(', ')}`);
        return { ...s, roots, augment, source, missingWords: s.listing.missingWords, inFeatures: (f: FeatureSettings) => loadData(io, scoringOptions(opts), f) };
      },
      (e: Error) => {
        // A folder that is not a Speech Commands copy (no word folders, no split lists) is the user's to fix.
        throw new DataError(e.message);
      },
    );
    splits.catch(() => loaded.delete(key));
    loaded.set(key, splits);
  }
  // One cache entry serves every augmentation mode with the same copies: the mode is this call's.
  return splits.then((s) => ({ ...s, augment, source }));
}

/** Forgets loaded splits (tests rewrite their data folders between runs). */
export function clearLoadedData(): void {
  loaded.clear();
}
