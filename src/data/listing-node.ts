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
import { join, resolve } from 'node:path';
import type { SkippedFile } from './dataset.js';
import { DEFAULT_SHARE, DEFAULT_TASK_SEED, SILENCE, SPECIAL_CLASSES, UNKNOWN, checkTask, sampleIndices, silenceRecipes, specialCount, type Task } from './tasks.js';
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
  /** Words of the task with no folder in any folder read (a task allows them, a `words` list does not). */
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

/** One folder as found: which word folders and `_silence_` / `_unknown_` folders it has. */
interface Scan {
  root: string;
  folders: Record<string, boolean>;
  layout: Listing['layout'];
  present: Set<string>;
}

async function scanFolder(root: string): Promise<Scan> {
  if (!(await stat(root).then(() => true, () => false))) throw new Error(`Speech Commands folder "${root}" not found`);
  if (!(await isDir(root))) throw new Error(`Speech Commands folder "${root}" is not a folder`);
  const folders: Record<string, boolean> = { [SILENCE]: await isDir(join(root, SILENCE)), [UNKNOWN]: await isDir(join(root, UNKNOWN)) };
  const present = new Set<string>();
  for (const w of WORDS) if (await isDir(join(root, w))) present.add(w);
  return { root, folders, layout: folders[SILENCE] || folders[UNKNOWN] ? 'test-set' : 'standard', present };
}

const noWordFolders = (roots: readonly string[]): Error =>
  new Error(`no word folders in "${roots.join('", "')}": a Speech Commands v2 folder has one folder per word (${WORDS.slice(0, 5).join(', ')}, ...)`);

/** A folder's own clips of the task's classes, and what it offers the classes made across folders. */
interface Part {
  scan: Scan;
  splits: Record<SplitName, SplitListing>;
  seen: Set<string>;
  lists: { validation: Set<string>; test: Set<string> };
  /** The special classes this folder has no folder for (made from the other words and the noise). */
  made: string[];
  /** Its other words' clips per split, for a made `_unknown_`. */
  others: Record<SplitName, string[]>;
  noiseFiles: string[];
  /** Known-word clips per split (after the per-class limit): what the made classes are a share of. */
  known: Record<SplitName, number>;
}

async function gather(scan: Scan, classes: readonly string[], limit: number): Promise<Part> {
  const { root, folders, present } = scan;
  const optional = scan.layout === 'test-set';
  const validation = await readList(root, VALIDATION_LIST, optional);
  const test = await readList(root, TESTING_LIST, optional);
  const noLists = optional && validation.size === 0 && test.size === 0;
  const splitOf = (rel: string): SplitName => (noLists ? 'test' : validation.has(rel) ? 'validation' : test.has(rel) ? 'test' : 'train');
  const splits = emptySplits();
  const others: Record<SplitName, string[]> = { train: [], validation: [], test: [] };
  const seen = new Set<string>();
  // Known words and folder classes, in class order (special classes come first in any standard task).
  const made = classes.filter((c) => SPECIAL_CLASSES.includes(c) && !folders[c]);
  for (let c = 0; c < classes.length; c++) {
    const name = classes[c];
    if (made.includes(name) || (!SPECIAL_CLASSES.includes(name) && !present.has(name))) continue;
    for (const file of await wavsIn(join(root, name))) {
      const rel = `${name}/${file}`;
      seen.add(rel);
      splits[splitOf(rel)].files.push(rel);
      splits[splitOf(rel)].labels.push(c);
    }
  }
  if (made.includes(UNKNOWN))
    for (const w of WORDS) {
      if (classes.includes(w) || !present.has(w)) continue;
      for (const file of await wavsIn(join(root, w))) {
        const rel = `${w}/${file}`;
        seen.add(rel);
        others[splitOf(rel)].push(rel);
      }
    }
  const noiseFiles = made.includes(SILENCE) && (await isDir(join(root, NOISE_FOLDER))) ? await wavsIn(join(root, NOISE_FOLDER)) : [];
  const knownCount = (s: SplitName): number => {
    const perClass = new Map<number, number>();
    splits[s].labels.forEach((l) => {
      if (!SPECIAL_CLASSES.includes(classes[l])) perClass.set(l, (perClass.get(l) ?? 0) + 1);
    });
    return [...perClass.values()].reduce((n, k) => n + Math.min(k, limit), 0);
  };
  const known = { train: knownCount('train'), validation: knownCount('validation'), test: knownCount('test') };
  return { scan, splits, seen, lists: { validation, test }, made, others, noiseFiles, known };
}

/** The clips of each split, relative to root, with their class index. */
export async function listSpeechCommands(root: string, opts: ListOptions | readonly string[] = {}): Promise<Listing> {
  return (await listFolders([root], opts))[0];
}

/**
 * The listings of several Speech Commands folders read as one data set, one listing per folder (its
 * clips relative to it). Each folder keeps its own official splits. The classes are those of the task,
 * or the words any folder has; a made `_unknown_` is one seeded sample of the other words of every
 * folder that has no `_unknown_` folder, and a made `_silence_` one set of windows of the background
 * recordings of every such folder (digital silence when none has any), each sized as a share of those
 * folders' known-word clips together, split by split. With one folder this is the listing of that folder.
 */
export async function listFolders(roots: readonly string[], opts: ListOptions | readonly string[] = {}): Promise<Listing[]> {
  const o: ListOptions = Array.isArray(opts) ? { words: opts as readonly string[] } : (opts as ListOptions);
  if (roots.length === 0) throw new Error('no Speech Commands folder given');
  const twice = roots.find((r, i) => roots.findIndex((q) => resolve(q) === resolve(r)) !== i);
  if (twice !== undefined) throw new Error(`Speech Commands folder "${twice}" is given twice`);
  const scans: Scan[] = [];
  for (const root of roots) {
    const scan = await scanFolder(root);
    if (scan.present.size === 0 && scan.layout === 'standard') throw noWordFolders([root]);
    scans.push(scan);
  }
  const folders = (c: string): boolean => scans.some((s) => s.folders[c]);
  const present = (w: string): boolean => scans.some((s) => s.present.has(w));

  let classes: string[];
  if (o.task) {
    checkTask(o.task);
    classes = [...o.task.classes];
  } else if (o.words) {
    const unknown = o.words.find((w) => !WORDS.includes(w));
    if (unknown !== undefined) throw new RangeError(`"${unknown}" is not a Speech Commands word (${WORDS.join(', ')})`);
    classes = WORDS.filter((w) => o.words!.includes(w));
    const absent = classes.find((w) => !present(w));
    if (absent !== undefined) throw new Error(`no folder for the word "${absent}" in "${roots.join('" or "')}"`);
  } else {
    // Every word folder; in the test-set layout its `_silence_` and `_unknown_` folders too.
    classes = [...SPECIAL_CLASSES.filter(folders), ...WORDS.filter(present)];
  }
  if (!classes.some((c) => (SPECIAL_CLASSES.includes(c) ? folders(c) : present(c)))) throw noWordFolders(roots);

  const limit = o.limitPerClass ?? Infinity;
  const parts: Part[] = [];
  for (const scan of scans) parts.push(await gather(scan, classes, limit));

  // Made classes: their number per split is a share of the known-word clips of the folders that make them.
  const seed = o.task?.seed ?? DEFAULT_TASK_SEED;
  const makers = (c: string): Part[] => parts.filter((p) => p.made.includes(c));
  const knownOf = (ps: Part[], s: SplitName): number => ps.reduce((n, p) => n + p.known[s], 0);
  const push = (p: Part, s: SplitName, rel: string, label: number): void => {
    p.splits[s].files.push(rel);
    p.splits[s].labels.push(label);
  };
  if (classes.includes(UNKNOWN))
    for (const s of SPLIT_NAMES) {
      const ps = makers(UNKNOWN);
      const pool = ps.flatMap((p) => p.others[s].map((rel) => ({ p, rel })));
      const n = specialCount(knownOf(ps, s), o.task?.unknownShare ?? DEFAULT_SHARE);
      for (const i of sampleIndices(pool.map((x) => x.rel), n, seed)) push(pool[i].p, s, pool[i].rel, classes.indexOf(UNKNOWN));
    }
  const noise = makers(SILENCE).flatMap((p) => p.noiseFiles.map((name) => ({ p, name })));
  if (classes.includes(SILENCE))
    for (const s of SPLIT_NAMES) {
      const ps = makers(SILENCE);
      const n = specialCount(knownOf(ps, s), o.task?.silenceShare ?? DEFAULT_SHARE);
      // Digital silence reads no file: it is kept with the first folder that makes silence.
      for (const r of silenceRecipes(s, n, noise.map((x) => x.name), seed)) push(r.noise >= 0 ? noise[r.noise].p : ps[0], s, r.file, classes.indexOf(SILENCE));
    }

  const missingWords = classes.filter((c) => !SPECIAL_CLASSES.includes(c) && !present(c));
  return parts.map((p) => listingOf(p, classes, missingWords, noise.length > 0 ? 'background' : 'digital'));
}

function listingOf(p: Part, classes: string[], missingWords: string[], madeSilence: 'background' | 'digital'): Listing {
  const { folders, present, layout } = p.scan;
  // Keep each split in class order (then file order), whatever order the classes were gathered in.
  const splits = emptySplits();
  for (const s of SPLIT_NAMES) {
    const { files, labels } = p.splits[s];
    const idx = files.map((_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b);
    splits[s] = { files: idx.map((i) => files[i]), labels: idx.map((i) => labels[i]) };
  }
  const source = <T>(c: string, made: T): T | 'folder' | null => (!classes.includes(c) ? null : folders[c] ? 'folder' : made);
  const unknown = source(UNKNOWN, 'sampled' as const);
  const folderOf = (rel: string): string => rel.split('/')[0];
  const listedHere = new Set([...classes.filter((c) => folders[c] || present.has(c)), ...(unknown === 'sampled' ? WORDS.filter((w) => present.has(w)) : [])]);
  const missingOf = (list: Set<string>, listName: string): SkippedFile[] =>
    [...list]
      .filter((rel) => listedHere.has(folderOf(rel)) && !p.seen.has(rel))
      .map((rel) => ({ file: rel, reason: `listed in ${listName} but not found` }));
  return {
    classes, splits, layout, silence: source(SILENCE, madeSilence), unknown, missingWords,
    missing: { train: [], validation: missingOf(p.lists.validation, VALIDATION_LIST), test: missingOf(p.lists.test, TESTING_LIST) },
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
