// Which clips of a Speech Commands folder make up each split of a task: the word folders split by the
// official lists (validation_list.txt, testing_list.txt; every other clip is training), plus the
// `_unknown_` and `_silence_` classes of a task that has them (data/tasks.ts).
//
// Two layouts are read:
//   - the normal one (speech_commands_v0.02): one folder per word, the two lists, `_background_noise_`.
//     `_unknown_` is a seeded sample of the other words' clips, `_silence_` windows of the background
//     recordings (or, with no `_background_noise_`, digital silence with a little seeded noise).
//   - the official test set (speech_commands_test_set_v0.02): `_unknown_` and `_silence_` are folders of
//     WAV files, taken as those classes as they are; the lists are optional (without them every clip is
//     in the test split).
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SkippedFile } from './dataset.js';
import { DEFAULT_SHARE, DEFAULT_TASK_SEED, SILENCE, SPECIAL_CLASSES, UNKNOWN, checkTask, sampleFiles, silenceRecipes, specialCount, type Task } from './tasks.js';
import { WORDS } from './words.js';

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export const VALIDATION_LIST = 'validation_list.txt';
export const TESTING_LIST = 'testing_list.txt';
export const NOISE_FOLDER = '_background_noise_';

export interface SplitListing {
  files: string[];
  labels: number[];
}

export interface Listing {
  classes: string[];
  splits: Record<SplitName, SplitListing>;
  /** Entries of the split lists with no file behind them. */
  missing: Record<SplitName, SkippedFile[]>;
  /** Words of the task with no folder here (a task allows them, a `words` list does not). */
  missingWords: string[];
  /** 'test-set' when `_unknown_` or `_silence_` is a folder of clips. */
  layout: 'standard' | 'test-set';
  /** Where the `_silence_` clips come from, when the task has that class. */
  silence: 'folder' | 'background' | 'digital' | null;
  /** Where the `_unknown_` clips come from, when the task has that class. */
  unknown: 'folder' | 'sampled' | null;
}

export interface ListOptions {
  /** Only these words, as classes in WORDS order; each must have a folder. */
  words?: readonly string[];
  /** The classes and how to fill `_unknown_` and `_silence_`; missing word folders are allowed. */
  task?: Task;
  /** The shares of `_silence_` and `_unknown_` are taken of at most this many clips per word. */
  limitPerClass?: number;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function readList(root: string, name: string, optional: boolean): Promise<Set<string>> {
  const path = join(root, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    if (optional) return new Set();
    throw new Error(`Speech Commands split list "${path}" not found: the folder needs ${VALIDATION_LIST} and ${TESTING_LIST} beside the word folders`);
  }
  return new Set(text.split(/\r?\n/).map((l) => l.trim().replace(/\\/g, '/').replace(/^\.\//, '')).filter((l) => l.length > 0));
}

async function wavsIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => !e.isDirectory() && e.name.toLowerCase().endsWith('.wav')).map((e) => e.name).sort();
}

const emptySplits = (): Record<SplitName, SplitListing> => ({ train: { files: [], labels: [] }, validation: { files: [], labels: [] }, test: { files: [], labels: [] } });

/** The clips of each split, relative to root, with their class index. */
export async function listSpeechCommands(root: string, opts: ListOptions | readonly string[] = {}): Promise<Listing> {
  const o: ListOptions = Array.isArray(opts) ? { words: opts as readonly string[] } : (opts as ListOptions);
  if (!(await stat(root).then(() => true, () => false))) throw new Error(`Speech Commands folder "${root}" not found`);
  if (!(await isDir(root))) throw new Error(`Speech Commands folder "${root}" is not a folder`);
  const folders: Record<string, boolean> = { [SILENCE]: await isDir(join(root, SILENCE)), [UNKNOWN]: await isDir(join(root, UNKNOWN)) };
  const layout = folders[SILENCE] || folders[UNKNOWN] ? 'test-set' : 'standard';
  const present = new Set<string>();
  for (const w of WORDS) if (await isDir(join(root, w))) present.add(w);

  let classes: string[];
  const missingWords: string[] = [];
  if (o.task) {
    checkTask(o.task);
    classes = [...o.task.classes];
    for (const c of classes) if (!SPECIAL_CLASSES.includes(c) && !present.has(c)) missingWords.push(c);
  } else if (o.words) {
    const unknown = o.words.find((w) => !WORDS.includes(w));
    if (unknown !== undefined) throw new RangeError(`"${unknown}" is not a Speech Commands word (${WORDS.join(', ')})`);
    classes = WORDS.filter((w) => o.words!.includes(w));
    const absent = classes.find((w) => !present.has(w));
    if (absent !== undefined) throw new Error(`no folder for the word "${absent}" in "${root}"`);
  } else {
    // Every word folder; in the test-set layout its `_silence_` and `_unknown_` folders too.
    classes = [...SPECIAL_CLASSES.filter((c) => folders[c]), ...WORDS.filter((w) => present.has(w))];
  }
  const known = classes.filter((c) => !SPECIAL_CLASSES.includes(c) && present.has(c));
  if (known.length === 0 && !classes.some((c) => SPECIAL_CLASSES.includes(c) && folders[c]))
    throw new Error(`no word folders in "${root}": a Speech Commands v2 folder has one folder per word (${WORDS.slice(0, 5).join(', ')}, ...)`);

  const optional = layout === 'test-set';
  const validation = await readList(root, VALIDATION_LIST, optional);
  const test = await readList(root, TESTING_LIST, optional);
  const noLists = optional && validation.size === 0 && test.size === 0;
  const splitOf = (rel: string): SplitName => (noLists ? 'test' : validation.has(rel) ? 'validation' : test.has(rel) ? 'test' : 'train');
  const splits = emptySplits();
  const seen = new Set<string>();
  const add = (rel: string, label: number): void => {
    seen.add(rel);
    const s = splitOf(rel);
    splits[s].files.push(rel);
    splits[s].labels.push(label);
  };

  // Known words and folder classes, in class order (special classes come first in any standard task).
  const generated: string[] = [];
  for (let c = 0; c < classes.length; c++) {
    const name = classes[c];
    const isSpecial = SPECIAL_CLASSES.includes(name);
    if (isSpecial && !folders[name]) {
      generated.push(name);
      continue;
    }
    if (!isSpecial && !present.has(name)) continue;
    for (const file of await wavsIn(join(root, name))) add(`${name}/${file}`, c);
  }

  // Made classes: their number per split is a share of the split's known-word clips (after the limit).
  const seed = o.task?.seed ?? DEFAULT_TASK_SEED;
  const limit = o.limitPerClass ?? Infinity;
  const knownCount = (s: SplitName): number => {
    const perClass = new Map<number, number>();
    splits[s].labels.forEach((l) => {
      if (!SPECIAL_CLASSES.includes(classes[l])) perClass.set(l, (perClass.get(l) ?? 0) + 1);
    });
    return [...perClass.values()].reduce((n, k) => n + Math.min(k, limit), 0);
  };
  const counts = Object.fromEntries(SPLIT_NAMES.map((s) => [s, knownCount(s)])) as Record<SplitName, number>;
  let silence: Listing['silence'] = classes.includes(SILENCE) ? 'folder' : null;
  let unknownSource: Listing['unknown'] = classes.includes(UNKNOWN) ? 'folder' : null;
  if (generated.includes(UNKNOWN)) {
    unknownSource = 'sampled';
    const label = classes.indexOf(UNKNOWN);
    const pool = emptySplits();
    for (const w of WORDS) {
      if (classes.includes(w) || !present.has(w)) continue;
      for (const file of await wavsIn(join(root, w))) {
        const rel = `${w}/${file}`;
        seen.add(rel);
        pool[splitOf(rel)].files.push(rel);
      }
    }
    for (const s of SPLIT_NAMES)
      for (const rel of sampleFiles(pool[s].files, specialCount(counts[s], o.task?.unknownShare ?? DEFAULT_SHARE), seed)) {
        splits[s].files.push(rel);
        splits[s].labels.push(label);
      }
  }
  if (generated.includes(SILENCE)) {
    const label = classes.indexOf(SILENCE);
    const noiseFiles = (await isDir(join(root, NOISE_FOLDER))) ? await wavsIn(join(root, NOISE_FOLDER)) : [];
    silence = noiseFiles.length > 0 ? 'background' : 'digital';
    for (const s of SPLIT_NAMES)
      for (const rel of silenceRecipes(s, specialCount(counts[s], o.task?.silenceShare ?? DEFAULT_SHARE), noiseFiles, seed)) {
        splits[s].files.push(rel);
        splits[s].labels.push(label);
      }
  }
  // Keep each split in class order (then file order), whatever order the classes were gathered in.
  for (const s of SPLIT_NAMES) {
    const idx = splits[s].files.map((_, i) => i).sort((a, b) => splits[s].labels[a] - splits[s].labels[b] || a - b);
    splits[s] = { files: idx.map((i) => splits[s].files[i]), labels: idx.map((i) => splits[s].labels[i]) };
  }

  const folderOf = (rel: string): string => rel.split('/')[0];
  const listedHere = new Set([...classes.filter((c) => folders[c] || present.has(c)), ...(unknownSource === 'sampled' ? WORDS.filter((w) => present.has(w)) : [])]);
  const missingOf = (list: Set<string>, listName: string): SkippedFile[] =>
    [...list]
      .filter((rel) => listedHere.has(folderOf(rel)) && !seen.has(rel))
      .map((rel) => ({ file: rel, reason: `listed in ${listName} but not found` }));
  return {
    classes, splits, layout, silence, unknown: unknownSource, missingWords,
    missing: { train: [], validation: missingOf(validation, VALIDATION_LIST), test: missingOf(test, TESTING_LIST) },
  };
}

/**
 * A digest of the size and modification time of every file a listing reads (a made silence clip's
 * recording, and every background recording): folded into the feature cache's key, so an edited,
 * replaced or touched clip rebuilds the features instead of keeping the old ones. Costs one stat a file.
 */
export async function contentStamp(root: string, listing: Listing): Promise<string> {
  const paths = new Set<string>();
  for (const s of SPLIT_NAMES) for (const f of listing.splits[s].files) paths.add(f.split('@')[0]);
  if (await isDir(join(root, NOISE_FOLDER))) for (const f of await wavsIn(join(root, NOISE_FOLDER))) paths.add(`${NOISE_FOLDER}/${f}`);
  const list = [...paths].sort();
  const stamps = new Array<string>(list.length);
  const batch = 256;
  for (let i = 0; i < list.length; i += batch)
    await Promise.all(
      list.slice(i, i + batch).map(async (rel, k) => {
        const st = await stat(join(root, rel)).catch(() => null);
        stamps[i + k] = st ? `${rel}\0${st.size}\0${st.mtimeMs}` : `${rel}\0-`;
      }),
    );
  const hash = createHash('sha256');
  for (const s of stamps) hash.update(s + '\n');
  return hash.digest('hex').slice(0, 16);
}
