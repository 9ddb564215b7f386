// Speech Commands v2 from its standard folder layout: one folder per word, the official validation and
// test lists, `_background_noise_` for optional augmentation. Clips are featurized once into an on-disk
// cache keyed by the feature settings and the file listing; later loads read the cache, and the full
// set (105,829 clips) is read row by row instead of being held in memory.
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { FeatureSettings } from '../audio/settings.js';
import { featureKey, featureShape } from '../audio/settings.js';
import type { ProgressFactory } from '../util/progress.js';
import { silentProgress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import type { Dataset, SkippedFile, Splits } from './dataset.js';
import { CacheError, FeatureFileWriter, openFeatureFile, type FeatureFile } from './feature-cache-node.js';
import { FeaturizePool, NoiseBank, localFeaturizer, type FeaturizeTask, type NoiseAugmentation } from './featurize-node.js';
import { WORDS } from './words.js';

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export const VALIDATION_LIST = 'validation_list.txt';
export const TESTING_LIST = 'testing_list.txt';
export const NOISE_FOLDER = '_background_noise_';

export type { NoiseAugmentation };

export interface SpeechCommandsOptions {
  /** Where feature caches live; default `<root>/.snn-voice-cache`. */
  cacheDir?: string;
  progress?: ProgressFactory;
  /** Mix `_background_noise_` recordings into training clips (validation and test stay clean). The
   *  noise is drawn once per clip and baked into the cache. */
  noise?: NoiseAugmentation;
  /** At most this many clips per word in each split (the first in sorted order), for quick runs. */
  limitPerClass?: number;
  /** Only these words (e.g. COMMAND_WORDS), as classes in WORDS order; default every word folder present. */
  words?: readonly string[];
  /** Cache files up to this size are held in memory; larger ones are read row by row. Default 256 MiB. */
  memoryLimitBytes?: number;
  /** Threads that featurize while a cache is built; default one per core (at most 4) for 1,000 clips or
   *  more, else 1 (this thread). */
  workers?: number;
}

/** A split read from the feature cache; close() releases its file. */
export interface CachedDataset extends Dataset {
  /** Each sample's clip, relative to the root (`bed/0a7c2a8d_nohash_0.wav`). */
  readonly files: readonly string[];
  close(): void;
}

export type SpeechCommandsSplits = { train: CachedDataset; validation: CachedDataset; test: CachedDataset } & Splits & {
  skipped: SkippedFile[];
  /** True when the features came from an existing cache. */
  fromCache: boolean;
  cacheDir: string;
};

/** Where `snn-voice synth` writes the built-in data set by default: `data/builtin` under the working directory. */
export function builtinDataDir(): string {
  return resolve('data', 'builtin');
}

const CACHE_VERSION = 1;

interface SplitListing {
  files: string[];
  labels: number[];
}

interface CacheIndex {
  version: number;
  key: string;
  featureKey: string;
  classes: string[];
  featureShape: number[];
  splits: Record<SplitName, SplitListing & { skipped: SkippedFile[] }>;
}

/** Loads the three official splits of a Speech Commands v2 folder as feature data sets. */
export async function loadSpeechCommands(root: string, settings: FeatureSettings, opts: SpeechCommandsOptions = {}): Promise<SpeechCommandsSplits> {
  if (opts.limitPerClass !== undefined && !(Number.isInteger(opts.limitPerClass) && opts.limitPerClass > 0))
    throw new RangeError(`loadSpeechCommands: limitPerClass must be a positive integer, got ${opts.limitPerClass}`);
  if (opts.noise) checkNoise(opts.noise);
  const listing = await listSpeechCommands(root, opts.words);
  const shape = featureShape(settings);
  const per = shape.reduce((a, b) => a * b, 1);
  const fKey = featureKey(settings);
  const key = createHash('sha256')
    .update(JSON.stringify({ v: CACHE_VERSION, root: resolve(root), fKey, noise: opts.noise ?? null, limit: opts.limitPerClass ?? null, classes: listing.classes, splits: listing.splits }))
    .digest('hex')
    .slice(0, 16);
  const cacheDir = join(opts.cacheDir ?? join(root, '.snn-voice-cache'), `${fKey.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}-${key}`);
  const indexPath = join(cacheDir, 'index.json');

  let fromCache = true;
  let opened = await openCache(indexPath, key, per, opts.memoryLimitBytes).catch((e) => {
    if (e instanceof CacheError) return null;
    throw e;
  });
  if (!opened) {
    fromCache = false;
    await clearForRebuild(cacheDir, indexPath);
    await buildCache(root, cacheDir, indexPath, key, settings, shape, listing, opts);
    opened = await openCache(indexPath, key, per, opts.memoryLimitBytes);
  }
  const { index, files } = opened;
  const make = (name: SplitName): CachedDataset => {
    const s = index.splits[name];
    const file = files[name];
    return {
      size: file.count,
      classes: index.classes,
      featureShape: index.featureShape,
      labels: Int32Array.from(s.labels),
      files: s.files,
      features: (i) => file.row(i),
      skipped: s.skipped,
      close: () => file.close(),
    };
  };
  const train = make('train'), validation = make('validation'), test = make('test');
  return { train, validation, test, skipped: [...train.skipped, ...validation.skipped, ...test.skipped], fromCache, cacheDir };
}

/** Readers must not take a half-rebuilt cache for a whole one, so the index goes first; the split files
 *  are replaced by rename. Temp files left by builds that died are removed, those of a build still
 *  running in another process (same cache, same moment) are left alone. */
async function clearForRebuild(cacheDir: string, indexPath: string): Promise<void> {
  await rm(indexPath, { force: true });
  const names = await readdir(cacheDir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = /\.(\d+)\.\d+\.tmp$/.exec(name)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) await rm(join(cacheDir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkNoise(n: NoiseAugmentation): void {
  if (!(n.probability >= 0 && n.probability <= 1)) throw new RangeError(`loadSpeechCommands: noise.probability must be in [0, 1], got ${n.probability}`);
  const [lo, hi] = n.snrDb ?? [];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo > hi) throw new RangeError(`loadSpeechCommands: noise.snrDb must be [low, high] in dB, got ${JSON.stringify(n.snrDb)}`);
}

interface Listing {
  classes: string[];
  splits: Record<SplitName, SplitListing>;
  /** Entries of the split lists with no file behind them. */
  missing: Record<SplitName, SkippedFile[]>;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

async function readList(root: string, name: string): Promise<Set<string>> {
  const path = join(root, name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new Error(`Speech Commands split list "${path}" not found: the folder needs ${VALIDATION_LIST} and ${TESTING_LIST} beside the word folders`);
  }
  return new Set(text.split(/\r?\n/).map((l) => l.trim().replace(/\\/g, '/').replace(/^\.\//, '')).filter((l) => l.length > 0));
}

/** The clips of each split, relative to root, with their class index; words in WORDS order. */
export async function listSpeechCommands(root: string, words?: readonly string[]): Promise<Listing> {
  if (!(await stat(root).then(() => true, () => false))) throw new Error(`Speech Commands folder "${root}" not found`);
  if (!(await isDir(root))) throw new Error(`Speech Commands folder "${root}" is not a folder`);
  const unknown = words?.find((w) => !WORDS.includes(w));
  if (unknown !== undefined) throw new RangeError(`"${unknown}" is not a Speech Commands word (${WORDS.join(', ')})`);
  const classes: string[] = [];
  for (const w of WORDS) {
    if (words && !words.includes(w)) continue;
    if (await isDir(join(root, w))) classes.push(w);
    else if (words) throw new Error(`no folder for the word "${w}" in "${root}"`);
  }
  if (classes.length === 0)
    throw new Error(`no word folders in "${root}": a Speech Commands v2 folder has one folder per word (${WORDS.slice(0, 5).join(', ')}, ...)`);
  const validation = await readList(root, VALIDATION_LIST);
  const test = await readList(root, TESTING_LIST);
  const splits: Record<SplitName, SplitListing> = { train: { files: [], labels: [] }, validation: { files: [], labels: [] }, test: { files: [], labels: [] } };
  const seen = new Set<string>();
  for (let c = 0; c < classes.length; c++) {
    const entries = await readdir(join(root, classes[c]), { withFileTypes: true });
    const names = entries.filter((e) => !e.isDirectory() && e.name.toLowerCase().endsWith('.wav')).map((e) => e.name).sort();
    for (const name of names) {
      const rel = `${classes[c]}/${name}`;
      seen.add(rel);
      const split: SplitName = validation.has(rel) ? 'validation' : test.has(rel) ? 'test' : 'train';
      splits[split].files.push(rel);
      splits[split].labels.push(c);
    }
  }
  const present = new Set(classes);
  const missingOf = (list: Set<string>, listName: string): SkippedFile[] =>
    [...list]
      .filter((rel) => present.has(rel.split('/')[0]) && !seen.has(rel))
      .map((rel) => ({ file: rel, reason: `listed in ${listName} but not found` }));
  return { classes, splits, missing: { train: [], validation: missingOf(validation, VALIDATION_LIST), test: missingOf(test, TESTING_LIST) } };
}

async function openCache(indexPath: string, key: string, per: number, memoryLimitBytes?: number): Promise<{ index: CacheIndex; files: Record<SplitName, FeatureFile> }> {
  let index: CacheIndex;
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8')) as CacheIndex;
  } catch (e) {
    throw new CacheError(`${indexPath}: ${(e as Error).message}`);
  }
  if (index.version !== CACHE_VERSION || index.key !== key || !index.splits) throw new CacheError(`${indexPath}: written for other settings`);
  const files: Partial<Record<SplitName, FeatureFile>> = {};
  try {
    for (const name of SPLIT_NAMES) {
      const s = index.splits[name];
      if (!s || !Array.isArray(s.labels) || !Array.isArray(s.files) || s.labels.length !== s.files.length) throw new CacheError(`${indexPath}: split ${name} is malformed`);
      files[name] = await openFeatureFile(join(indexPath, '..', `${name}.f32`), { count: s.labels.length, per }, { memoryLimitBytes });
    }
  } catch (e) {
    for (const f of Object.values(files)) f.close();
    throw e;
  }
  return { index, files: files as Record<SplitName, FeatureFile> };
}

async function buildCache(
  root: string, cacheDir: string, indexPath: string, key: string, settings: FeatureSettings,
  shape: number[], listing: Listing, opts: SpeechCommandsOptions,
): Promise<void> {
  const per = shape.reduce((a, b) => a * b, 1);
  const limit = opts.limitPerClass ?? Infinity;
  const wanted = (labels: number[]): number => {
    const perClass = new Map<number, number>();
    for (const l of labels) perClass.set(l, (perClass.get(l) ?? 0) + 1);
    return [...perClass.values()].reduce((n, c) => n + Math.min(c, limit), 0);
  };
  const total = SPLIT_NAMES.reduce((n, s) => n + wanted(listing.splits[s].labels), 0);
  const task: FeaturizeTask = { root, noiseDir: join(root, NOISE_FOLDER), settings, noise: opts.noise };
  // Worker threads pay a start-up cost (about a second each) that only a bigger build earns back.
  const workers = opts.workers ?? (total >= 1000 ? Math.min(4, availableParallelism()) : 1);
  const pool = workers > 1 ? new FeaturizePool(task, workers) : null;
  const noises = new NoiseBank(task.noiseDir);
  const bar = (opts.progress ?? silentProgress)(`featurizing ${total} clips`, total);
  const index: CacheIndex = {
    version: CACHE_VERSION, key, featureKey: featureKey(settings), classes: listing.classes, featureShape: shape,
    splits: {} as CacheIndex['splits'],
  };
  let done = 0;
  let skippedCount = 0;
  try {
    for (const split of SPLIT_NAMES) {
      const { files, labels } = listing.splits[split];
      const writer = await FeatureFileWriter.create(join(cacheDir, `${split}.f32`), per);
      const kept: SplitListing = { files: [], labels: [] };
      const skipped: SkippedFile[] = [...listing.missing[split]];
      // With a limit, the first `limit` readable clips of each class are kept.
      const keptPerClass = new Map<number, number>();
      const full = (k: number): boolean => (keptPerClass.get(labels[k]) ?? 0) >= limit;
      const featurizer = pool ? pool.featurizer(files, split === 'train', (k) => !full(k)) : localFeaturizer(task, files, split === 'train', noises);
      try {
        for (let k = 0; k < files.length; k++) {
          if (full(k)) continue;
          const row = await featurizer.get(k);
          if (row instanceof Error) {
            skipped.push({ file: files[k], reason: row.message });
            skippedCount++;
          } else {
            await writer.append(row);
            kept.files.push(files[k]);
            kept.labels.push(labels[k]);
            keptPerClass.set(labels[k], (keptPerClass.get(labels[k]) ?? 0) + 1);
          }
          bar.update(++done, { split, skipped: skippedCount });
        }
        await writer.finish();
      } catch (e) {
        await writer.abort();
        throw e;
      }
      index.splits[split] = { ...kept, skipped };
    }
    index.splits.train.skipped.push(...noises.skipped, ...(pool?.noiseSkipped ?? []));
    // The index is written last: its presence marks a complete cache.
    await writeFileAtomic(indexPath, JSON.stringify(index));
  } finally {
    bar.stop();
    await pool?.close();
  }
}
