// The standard keyword-spotting tasks on Speech Commands, as class lists, and how the two classes that
// are not words are made (Warden 2018; TensorFlow's speech_commands input_data.py):
//   gsc12: `_silence_`, `_unknown_`, then yes, no, up, down, left, right, on, off, stop, go (TensorFlow's
//          order). `_unknown_` is a seeded sample of the other words' clips and `_silence_` are one-second
//          windows of the `_background_noise_` recordings, each about 10% of a split's known-word clips.
//   gsc35: the 35 words, in WORDS order.
// Core file (no node: imports): the listing (data/listing-node.ts) asks it which clips to take.
import { hashSeed, rngFor } from '../util/hash.js';
import { COMMAND_WORDS, WORDS } from './words.js';

export const SILENCE = '_silence_';
export const UNKNOWN = '_unknown_';
export const SPECIAL_CLASSES: readonly string[] = Object.freeze([SILENCE, UNKNOWN]);

export const TASK_NAMES = ['gsc12', 'gsc35'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** gsc12's classes, TensorFlow's order: silence, unknown, then the ten commands as listed. */
export const GSC12_CLASSES: readonly string[] = Object.freeze([SILENCE, UNKNOWN, ...COMMAND_WORDS]);

/** TensorFlow's silence_percentage and unknown_percentage (10%). */
export const DEFAULT_SHARE = 0.1;
/** TensorFlow's RANDOM_SEED, as the default seed of the unknown sample and the silence windows. */
export const DEFAULT_TASK_SEED = 59185;

/** What a data set is loaded as: its classes in order (the model's outputs) and how the classes that are
 *  not words are filled. */
export interface Task {
  /** Words of WORDS and `_silence_` / `_unknown_`, in output order. */
  classes: readonly string[];
  /** `_silence_` clips per split, as a share of the split's known-word clips (default 0.1). */
  silenceShare?: number;
  /** `_unknown_` clips per split, as a share of the split's known-word clips (default 0.1). */
  unknownShare?: number;
  /** Seeds which other-word clips are `_unknown_` and where the silence windows are cut. */
  seed?: number;
}

/** The classes of a standard task. */
export function taskClasses(name: TaskName): string[] {
  if (name === 'gsc12') return [...GSC12_CLASSES];
  if (name === 'gsc35') return [...WORDS];
  throw new RangeError(`unknown task "${String(name)}": expected ${TASK_NAMES.join(', ')} or a list of words`);
}

/** The standard task with exactly these classes, if any (for reports: "gsc12" rather than 12 names). */
export function taskNameOf(classes: readonly string[]): TaskName | null {
  for (const name of TASK_NAMES) if (taskClasses(name).join(',') === classes.join(',')) return name;
  return null;
}

/**
 * The classes of a list of words and special classes: `_silence_` and `_unknown_` first (in that order)
 * when named, then the words in WORDS order. Checks every name.
 */
export function classesOf(names: readonly string[]): string[] {
  for (const n of names)
    if (!WORDS.includes(n) && !SPECIAL_CLASSES.includes(n))
      throw new RangeError(`"${n}" is not a Speech Commands word (${WORDS.join(', ')}) nor ${SILENCE} or ${UNKNOWN}`);
  return [...SPECIAL_CLASSES.filter((c) => names.includes(c)), ...WORDS.filter((w) => names.includes(w))];
}

/** Checks a task's classes and shares; returns the words among them (the known words). */
export function checkTask(task: Task): string[] {
  const seen = new Set<string>();
  for (const c of task.classes) {
    if (!WORDS.includes(c) && !SPECIAL_CLASSES.includes(c))
      throw new RangeError(`task: "${c}" is not a Speech Commands word (${WORDS.join(', ')}) nor ${SILENCE} or ${UNKNOWN}`);
    if (seen.has(c)) throw new RangeError(`task: the class "${c}" is listed twice`);
    seen.add(c);
  }
  if (task.classes.length === 0) throw new RangeError('task: no classes');
  for (const key of ['silenceShare', 'unknownShare'] as const) {
    const v = task[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new RangeError(`task: ${key} must be a non-negative number, got ${v}`);
  }
  if (task.seed !== undefined && !Number.isInteger(task.seed)) throw new RangeError(`task: seed must be an integer, got ${task.seed}`);
  return task.classes.filter((c) => !SPECIAL_CLASSES.includes(c));
}

/** How many `_silence_` or `_unknown_` clips a split gets for `known` known-word clips: TensorFlow's
 *  ceil(known * share). */
export function specialCount(known: number, share: number): number {
  return Math.max(0, Math.ceil(known * share - 1e-9));
}

/**
 * A seeded deterministic sample of `n` of `names`: those with the lowest hash of (seed, name), as indices
 * in name order (equal names, from different folders, by index). Adding or removing other names never
 * changes whether a given one is picked, other than by moving the cut.
 */
export function sampleIndices(names: readonly string[], n: number, seed: number): number[] {
  const byName = (a: number, b: number): number => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : a - b);
  const all = names.map((_, i) => i);
  if (n >= names.length) return all.sort(byName);
  const h = names.map((f) => hashSeed(seed, 'unknown', f));
  return all.sort((a, b) => h[a] - h[b] || byName(a, b)).slice(0, n).sort(byName);
}

// A `_silence_` clip made rather than read is named by its recipe, so the listing (and the cache key)
// says exactly what it is: `_silence_/<noise file>@<position>x<gain>` cuts one second from a
// `_background_noise_` recording, starting at <position> (0..1) of the room the recording leaves, scaled by
// <gain>; `_silence_/digital@<split>-<n>x<level>` is digital silence with white noise of RMS <level> seeded by the
// name (for folders with no background recordings).
const RECIPE = /^_silence_\/(.+)@([^x@/]+)x([0-9.eE+-]+)$/;
export const DIGITAL_SILENCE = 'digital';

export interface SilenceRecipe {
  /** A file in `_background_noise_`, or DIGITAL_SILENCE. */
  source: string;
  /** Where the window starts, as a fraction of (recording length - window). */
  position: number;
  /** Gain of the window, or the RMS of the noise in digital silence. */
  gain: number;
}

/** The silence clips of one split: `count` recipes seeded by (seed, split, n), each with the index of
 *  its recording in `noiseFiles` (-1 for digital silence). TensorFlow draws the gain of a silence clip
 *  uniformly from [0, 1); digital silence gets noise of RMS 1e-4 to 1e-3 (-80 to -60 dBFS, log-uniform). */
export function silenceRecipes(split: string, count: number, noiseFiles: readonly string[], seed: number): { file: string; noise: number }[] {
  const out: { file: string; noise: number }[] = [];
  for (let n = 0; n < count; n++) {
    const rng = rngFor(seed, 'silence', split, n);
    if (noiseFiles.length > 0) {
      const noise = Math.floor(rng.next() * noiseFiles.length);
      out.push({ file: `${SILENCE}/${noiseFiles[noise]}@${rng.next().toFixed(6)}x${rng.next().toFixed(4)}`, noise });
    } else {
      out.push({ file: `${SILENCE}/${DIGITAL_SILENCE}@${split}-${n}x${(1e-4 * Math.pow(10, rng.next())).toExponential(3)}`, noise: -1 });
    }
  }
  return out;
}

/** The recipe of a made silence clip, or null for a real file. */
export function parseSilence(file: string): SilenceRecipe | null {
  const m = RECIPE.exec(file);
  if (!m) return null;
  return { source: m[1], position: m[1] === DIGITAL_SILENCE ? 0 : Number(m[2]), gain: Number(m[3]) };
}
