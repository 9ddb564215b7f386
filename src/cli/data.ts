// Finding and loading the data a command runs on: a Speech Commands v2 copy given with --data, or the
// built-in synthesized set. Loaded splits are kept per (folder, features, limit), so a sweep that trains
// several models on the same features reads and featurizes the clips once.
import { existsSync } from 'node:fs';
import type { FeatureSettings } from '../audio/settings.js';
import { featureKey } from '../audio/settings.js';
import type { Splits, SkippedFile } from '../data/dataset.js';
import { builtinDataDir, loadSpeechCommands } from '../data/speech-commands-node.js';
import type { CliIo } from './io.js';
import { note } from './io.js';
import { UsageError, type WordChoice, existingDir } from './options.js';

export interface DataOptions {
  /** A Speech Commands v2 folder; the built-in set when absent. */
  data?: string;
  limitPerClass?: number;
  /** Only these words; every word folder when 'all' or absent. */
  words?: WordChoice;
}

/** The data folder could not be read as Speech Commands: printed as one line, like a bad option. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export type LoadedSplits = Splits & { skipped: readonly SkippedFile[]; root: string };

/** The data folder to use; a clear error when the built-in set has not been synthesized yet. */
export function dataRoot(opts: DataOptions): string {
  if (opts.data !== undefined) return existingDir('--data', opts.data);
  const root = builtinDataDir();
  if (!existsSync(root))
    throw new UsageError(`the built-in data set is not built yet (expected in "${root}"): run \`snn-voice synth\` first, or pass --data <Speech Commands folder>`);
  return root;
}

const loaded = new Map<string, Promise<LoadedSplits>>();

export function loadData(io: CliIo, opts: DataOptions, features: FeatureSettings): Promise<LoadedSplits> {
  const root = dataRoot(opts);
  const words = opts.words === 'all' ? undefined : opts.words;
  const key = JSON.stringify([root, featureKey(features), opts.limitPerClass ?? null, words ?? null]);
  let splits = loaded.get(key);
  if (!splits) {
    splits = loadSpeechCommands(root, features, {
      progress: io.progress,
      limitPerClass: opts.limitPerClass,
      words,
    }).then(
      (s): LoadedSplits => {
        if (s.skipped.length) note(io, `skipped ${s.skipped.length} unreadable files, e.g. ${s.skipped[0].file}: ${s.skipped[0].reason}`);
        return { ...s, root };
      },
      (e: Error) => {
        // A folder that is not a Speech Commands copy (no word folders, no split lists) is the user's to fix.
        throw new DataError(e.message);
      },
    );
    splits.catch(() => loaded.delete(key));
    loaded.set(key, splits);
  }
  return splits;
}

/** Forgets loaded splits (tests rewrite their data folders between runs). */
export function clearLoadedData(): void {
  loaded.clear();
}
