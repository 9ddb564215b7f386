// Speech Commands from its folder layouts (data/listing-node.ts): the official splits of the words, or of
// a task with `_unknown_` and `_silence_` (data/tasks.ts). Clips are featurized once into an on-disk
// cache keyed by the feature settings, the file listing and each clip's size and modification time
// (an edited clip rebuilds it); later loads read the cache, and the full
// set (105,829 clips) is read row by row instead of being held in memory. Waveform-augmented copies of
// the training clips (data/wave-augment.ts) are featurized into a file of their own beside it, so
// changing them never rebuilds the clean features. Where the cache lives: data/cache-dir-node.ts.
import { createHash } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { FeatureSettings } from '../audio/settings.js';
import { featureKey, featureShape } from '../audio/settings.js';
import type { ProgressFactory } from '../util/progress.js';
import { silentProgress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { cacheLocation, type CacheLocation } from './cache-dir-node.js';
import { concat, type Dataset, type SkippedFile, type Splits } from './dataset.js';
import { CacheError, FeatureFileWriter, openFeatureFile, type FeatureFile } from './feature-cache-node.js';
import { FeaturizePool, NoiseBank, localFeaturizer, type FeaturizeTask, type NoiseAugmentation, type SplitFeaturizer } from './featurize-node.js';
import { NOISE_FOLDER, SPLIT_NAMES, contentStamp, listFolders, type Listing, type SplitListing, type SplitName } from './listing-node.js';
import type { Task } from './tasks.js';
import { WAVE_AUGMENT_DEFAULTS, checkWaveAugment, type WaveAugmentSettings } from './wave-augment.js';

export { NOISE_FOLDER, SPLIT_NAMES, TESTING_LIST, VALIDATION_LIST, listSpeechCommands, type Listing, type SplitName } from './listing-node.js';
export type { NoiseAugmentation };

/** Waveform-augmented copies of every training clip, featurized into the cache. */
export interface WaveCopies {
  /** Copies per clip (K); 0 for none. */
  copies: number;
  /** Seeds every copy's draws (default 0). */
  seed?: number;
  /** Default WAVE_AUGMENT_DEFAULTS. */
  settings?: Partial<WaveAugmentSettings>;
}

export interface SpeechCommandsOptions {
  /** A folder for feature caches (each data folder gets its own subfolder). Default: SNN_VOICE_CACHE, else
   *  `<root>/.snn-voice-cache`, else (a read-only data folder) the user's cache folder. */
  cacheDir?: string;
  /** Whether a folder may be written (default: its permission bits and an access test); for tests. */
  cacheWritable?: (dir: string) => boolean | Promise<boolean>;
  progress?: ProgressFactory;
  /** Mix `_background_noise_` recordings into training clips (validation and test stay clean). The
   *  noise is drawn once per clip and baked into the cache. */
  noise?: NoiseAugmentation;
  /** At most this many clips per class in each split (the first in sorted order), for quick runs. */
  limitPerClass?: number;
  /** Only these words (e.g. COMMAND_WORDS), as classes in WORDS order; default every word folder present. */
  words?: readonly string[];
  /** The classes in order, with `_unknown_` and `_silence_` made as data/tasks.ts says (overrides words). */
  task?: Task;
  /** Waveform-augmented copies of the training clips (CachedDataset.copies, copy()). */
  augment?: WaveCopies;
  /** Cache files up to this size are held in memory; larger ones are read row by row. Default 256 MiB. */
  memoryLimitBytes?: number;
  /** Threads that featurize while a cache is built; default one per core (at most 4) for 1,000 clips or
   *  more, else 1 (this thread). */
  workers?: number;
}

/** A split read from the feature cache; close() releases its file. */
export interface CachedDataset extends Dataset {
  /** Each sample's clip, relative to the root (`bed/0a7c2a8d_nohash_0.wav`; a made silence clip by its
   *  recipe, `_silence_/white_noise.wav@0.512345x0.4321`). */
  readonly files: readonly string[];
  close(): void;
}

/** One data folder's part of a load: its own clips (relative to it), cache and listing. */
export type FolderSplits = { train: CachedDataset; validation: CachedDataset; test: CachedDataset } & Splits & {
  root: string;
  skipped: SkippedFile[];
  /** True when the features came from an existing cache (the augmented copies included). */
  fromCache: boolean;
  cacheDir: string;
  /** Where the caches of this data folder are, and why there. */
  cacheLocation: CacheLocation;
  /** The folder layout, how `_silence_` and `_unknown_` were filled, and task words with no folder. */
  listing: Pick<Listing, 'layout' | 'silence' | 'unknown' | 'missingWords'>;
  /** Seconds spent building caches in this load (0 when all came from the cache). */
  buildSeconds: { features: number; copies: number };
};

/** The splits of one data folder, or of several one after another (their clips then named with their
 *  folder: `data/builtin/bed/x.wav`). cacheDir, cacheLocation and the listing's layout are the first
 *  folder's; `folders` has each folder's own. */
export type SpeechCommandsSplits = Omit<FolderSplits, 'root'> & { folders: FolderSplits[] };

/** Where `snn-voice synth` writes the built-in data set by default: `data/builtin` under the working directory. */
export function builtinDataDir(): string {
  return resolve('data', 'builtin');
}

const CACHE_VERSION = 1;

interface CacheIndex {
  version: number;
  key: string;
  featureKey: string;
  classes: string[];
  featureShape: number[];
  splits: Record<SplitName, SplitListing & { skipped: SkippedFile[] }>;
}

const hash16 = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/**
 * Loads the three official splits of a Speech Commands folder as feature data sets; given several
 * folders, each keeps its own splits and feature cache and the task's classes are made across them
 * (data/listing-node.ts listFolders), then each split holds the folders' clips one after another.
 */
export async function loadSpeechCommands(root: string | readonly string[], settings: FeatureSettings, opts: SpeechCommandsOptions = {}): Promise<SpeechCommandsSplits> {
  if (opts.limitPerClass !== undefined && !(Number.isInteger(opts.limitPerClass) && opts.limitPerClass > 0))
    throw new RangeError(`loadSpeechCommands: limitPerClass must be a positive integer, got ${opts.limitPerClass}`);
  if (opts.noise) checkNoise(opts.noise);
  const wave = waveOf(opts.augment);
  const roots = typeof root === 'string' ? [root] : [...root];
  const listings = await listFolders(roots, { words: opts.words, task: opts.task, limitPerClass: opts.limitPerClass });
  const folders: FolderSplits[] = [];
  try {
    for (const [n, r] of roots.entries()) folders.push(await loadFolder(r, listings[n], settings, opts, wave));
  } catch (e) {
    for (const f of folders) for (const name of SPLIT_NAMES) f[name].close();
    throw e;
  }
  if (folders.length === 1) return { ...folders[0], folders };
  const merged = (name: SplitName): CachedDataset => {
    const parts = folders.map((f) => f[name]);
    return {
      ...concat(parts),
      files: folders.flatMap((f) => f[name].files.map((file) => join(f.root, file))),
      skipped: folders.flatMap((f) => f[name].skipped.map((s) => ({ ...s, file: join(f.root, s.file) }))),
      close: () => parts.forEach((p) => p.close()),
    };
  };
  const train = merged('train'), validation = merged('validation'), test = merged('test');
  const [first] = folders;
  // A made class is made the same way in every folder that makes it (listFolders).
  const silences = folders.map((f) => f.listing.silence);
  return {
    train, validation, test, skipped: [...train.skipped, ...validation.skipped, ...test.skipped],
    fromCache: folders.every((f) => f.fromCache), cacheDir: first.cacheDir, cacheLocation: first.cacheLocation,
    listing: {
      layout: first.listing.layout,
      silence: silences.find((v) => v === 'background' || v === 'digital') ?? silences[0],
      unknown: folders.some((f) => f.listing.unknown === 'sampled') ? 'sampled' : first.listing.unknown,
      missingWords: first.listing.missingWords,
    },
    buildSeconds: { features: folders.reduce((t, f) => t + f.buildSeconds.features, 0), copies: folders.reduce((t, f) => t + f.buildSeconds.copies, 0) },
    folders,
  };
}

type Wave = WaveAugmentSettings & { seed: number; copies: number };

/** One folder's splits from its listing: read from its feature cache, or featurized into it first. */
async function loadFolder(root: string, listing: Listing, settings: FeatureSettings, opts: SpeechCommandsOptions, wave: Wave | null): Promise<FolderSplits> {
  const shape = featureShape(settings);
  const per = shape.reduce((a, b) => a * b, 1);
  const fKey = featureKey(settings);
  const dirKey = hash16({ v: CACHE_VERSION, root: resolve(root), fKey, noise: opts.noise ?? null, limit: opts.limitPerClass ?? null, classes: listing.classes, splits: listing.splits });
  // The clips' sizes and modification times are in the index's key but not the folder's name: an edited
  // clip rebuilds the cache in place.
  const key = hash16({ dirKey, content: await contentStamp(root, listing) });
  const location = await cacheLocation(root, { cacheDir: opts.cacheDir, writable: opts.cacheWritable });
  const cacheDir = join(location.dir, `${fKey.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}-${dirKey}`);
  const indexPath = join(cacheDir, 'index.json');
  const task: FeaturizeTask = { root, noiseDir: join(root, NOISE_FOLDER), settings, noise: opts.noise, ...(wave && { wave }) };
  const buildSeconds = { features: 0, copies: 0 };

  let fromCache = true;
  let opened = await openCache(indexPath, key, per, opts.memoryLimitBytes).catch((e) => {
    if (e instanceof CacheError) return null;
    throw e;
  });
  if (!opened) {
    fromCache = false;
    const started = performance.now();
    await clearForRebuild(cacheDir, indexPath);
    await buildCache(task, cacheDir, indexPath, key, shape, listing, opts);
    opened = await openCache(indexPath, key, per, opts.memoryLimitBytes);
    buildSeconds.features = (performance.now() - started) / 1000;
  }
  const { index, files } = opened;
  let copies: FeatureFile | null = null;
  if (wave) {
    const trainFiles = index.splits.train.files;
    const path = join(cacheDir, `train-copies-${hash16({ key, wave })}.f32`);
    const expect = { count: trainFiles.length * wave.copies, per };
    copies = await openFeatureFile(path, expect, { memoryLimitBytes: opts.memoryLimitBytes }).catch((e) => {
      if (e instanceof CacheError) return null;
      throw e;
    });
    if (!copies) {
      fromCache = false;
      const started = performance.now();
      await clearForRebuild(cacheDir, null);
      await buildCopies(task, path, trainFiles, wave.copies, per, opts);
      copies = await openFeatureFile(path, expect, { memoryLimitBytes: opts.memoryLimitBytes });
      buildSeconds.copies = (performance.now() - started) / 1000;
    }
  }
  const make = (name: SplitName): CachedDataset => {
    const s = index.splits[name];
    const file = files[name];
    const k = name === 'train' && copies && wave ? wave.copies : 0;
    return {
      size: file.count,
      classes: index.classes,
      featureShape: index.featureShape,
      labels: Int32Array.from(s.labels),
      files: s.files,
      features: (i) => file.row(i),
      ...(k > 0 && {
        copies: k,
        copy: (i: number, c: number) => {
          if (!(Number.isInteger(c) && c >= 0 && c <= k)) throw new RangeError(`copy ${c} of sample ${i}: there are copies 0..${k}`);
          if (!(Number.isInteger(i) && i >= 0 && i < file.count)) throw new RangeError(`sample ${i} outside 0..${file.count - 1}`);
          return c === 0 ? file.row(i) : copies!.row(i * k + c - 1);
        },
      }),
      skipped: s.skipped,
      close: () => {
        file.close();
        if (name === 'train') copies?.close();
      },
    };
  };
  const train = make('train'), validation = make('validation'), test = make('test');
  const { layout, silence, unknown, missingWords } = listing;
  return {
    root, train, validation, test, skipped: [...train.skipped, ...validation.skipped, ...test.skipped], fromCache, cacheDir,
    cacheLocation: location, listing: { layout, silence, unknown, missingWords }, buildSeconds,
  };
}

function waveOf(augment: WaveCopies | undefined): Wave | null {
  if (!augment || augment.copies === 0) return null;
  if (!(Number.isInteger(augment.copies) && augment.copies > 0)) throw new RangeError(`loadSpeechCommands: augment.copies must be a non-negative integer, got ${augment.copies}`);
  const settings = { ...WAVE_AUGMENT_DEFAULTS, ...augment.settings };
  checkWaveAugment(settings);
  const seed = augment.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`loadSpeechCommands: augment.seed must be an integer, got ${seed}`);
  return { ...settings, seed, copies: augment.copies };
}

/** Readers must not take a half-rebuilt cache for a whole one, so the index goes first; the split files
 *  are replaced by rename. Temp files left by builds that died are removed, those of a build still
 *  running in another process (same cache, same moment) are left alone. */
async function clearForRebuild(cacheDir: string, indexPath: string | null): Promise<void> {
  if (indexPath) await rm(indexPath, { force: true });
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

/** Worker threads pay a start-up cost (about a second each) that only a bigger build earns back. */
function poolFor(task: FeaturizeTask, total: number, opts: SpeechCommandsOptions): FeaturizePool | null {
  const workers = opts.workers ?? (total >= 1000 ? Math.min(4, availableParallelism()) : 1);
  return workers > 1 ? new FeaturizePool(task, workers) : null;
}

async function buildCache(task: FeaturizeTask, cacheDir: string, indexPath: string, key: string, shape: number[], listing: Listing, opts: SpeechCommandsOptions): Promise<void> {
  const per = shape.reduce((a, b) => a * b, 1);
  const limit = opts.limitPerClass ?? Infinity;
  const wanted = (labels: number[]): number => {
    const perClass = new Map<number, number>();
    for (const l of labels) perClass.set(l, (perClass.get(l) ?? 0) + 1);
    return [...perClass.values()].reduce((n, c) => n + Math.min(c, limit), 0);
  };
  const total = SPLIT_NAMES.reduce((n, s) => n + wanted(listing.splits[s].labels), 0);
  const pool = poolFor(task, total, opts);
  const noises = new NoiseBank(task.noiseDir);
  const bar = (opts.progress ?? silentProgress)(`featurizing ${total} clips`, total);
  const index: CacheIndex = {
    version: CACHE_VERSION, key, featureKey: featureKey(task.settings), classes: listing.classes, featureShape: shape,
    splits: {} as CacheIndex['splits'],
  };
  let done = 0;
  let skippedCount = 0;
  try {
    for (const split of SPLIT_NAMES) {
      const { files, labels } = listing.splits[split];
      const kept: SplitListing = { files: [], labels: [] };
      const skipped: SkippedFile[] = [...listing.missing[split]];
      // With a limit, the first `limit` readable clips of each class are kept.
      const keptPerClass = new Map<number, number>();
      const full = (k: number): boolean => (keptPerClass.get(labels[k]) ?? 0) >= limit;
      const featurizer = pool ? pool.featurizer(files, split === 'train', (k) => !full(k)) : localFeaturizer(task, files, split === 'train', noises);
      await writeRows(join(cacheDir, `${split}.f32`), per, files.length, featurizer, full, (k, row) => {
        if (row instanceof Error) {
          skipped.push({ file: files[k], reason: row.message });
          skippedCount++;
        } else {
          kept.files.push(files[k]);
          kept.labels.push(labels[k]);
          keptPerClass.set(labels[k], (keptPerClass.get(labels[k]) ?? 0) + 1);
        }
        bar.update(++done, { split, skipped: skippedCount });
      });
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

/** Writes the rows of items 0..count-1 but those `skip` names, in order, into a new cache file at `path`;
 *  `each` sees every row (or the reason there is none) as it is written. */
async function writeRows(
  path: string, per: number, count: number, featurizer: SplitFeaturizer, skip: (k: number) => boolean,
  each: (k: number, row: Float32Array | Error) => void,
): Promise<void> {
  const writer = await FeatureFileWriter.create(path, per);
  try {
    for (let k = 0; k < count; k++) {
      if (skip(k)) continue;
      const row = await featurizer.get(k);
      if (!(row instanceof Error)) await writer.append(row);
      each(k, row);
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** The augmented copies 1..K of each training clip, row i*K + c-1 for copy c of clip i. A clip whose copy
 *  cannot be made (it was readable when the clean cache was built) is an error. */
async function buildCopies(task: FeaturizeTask, path: string, trainFiles: readonly string[], k: number, per: number, opts: SpeechCommandsOptions): Promise<void> {
  const total = trainFiles.length * k;
  const files = Array.from({ length: total }, (_, j) => trainFiles[Math.floor(j / k)]);
  const copies = Array.from({ length: total }, (_, j) => (j % k) + 1);
  const pool = poolFor(task, total, opts);
  const bar = (opts.progress ?? silentProgress)(`featurizing ${k} augmented copies of ${trainFiles.length} training clips`, total);
  let done = 0;
  try {
    const featurizer = pool ? pool.featurizer(files, true, () => true, copies) : localFeaturizer(task, files, true, new NoiseBank(task.noiseDir), copies);
    await writeRows(path, per, total, featurizer, () => false, (j, row) => {
      if (row instanceof Error) throw new Error(`augmented copy ${copies[j]} of ${files[j]}: ${row.message}`);
      bar.update(++done);
    });
  } finally {
    bar.stop();
    await pool?.close();
  }
}
