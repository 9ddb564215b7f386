// The built-in data set: the 35 Speech Commands keywords spoken by many synthetic "speakers" (drawn in
// speakers.ts), each rendered by eSpeak NG (accent, voice variant), by Flite (base voice), by GnuSpeech
// (a tube model of its own) or, for the training speakers added to them, by SVOX Pico (one of its two
// English voices, or one of four others saying the command words with an accent, accents.ts), with its
// own pitch, rate, vocal-tract scaling, room and microphone colouring, placed at random in a 1-second
// window over background noise (render-node.ts), written in the Speech Commands v2 layout. This file
// builds the set: options, the manifest that tells one set from another, resumption and growth by
// words, worker threads, split lists.
//
// Determinism: every random choice comes from a generator seeded by (seed, speaker, word), and each
// speaker is rendered on a fresh eSpeak session (whose output depends on what it spoke before; Flite
// starts afresh on every utterance), so the same options give byte-identical files, and a run resumed
// after an interruption gives the same files as an uninterrupted one. A speaker is the unit of work and
// of resumption.
import { readFileSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../audio/wav.js';
import { NOISE_COLORS, type NoiseColor } from '../audio/noise.js';
import type { ProgressFactory } from '../util/progress.js';
import { silentProgress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { backgroundNoises, loadSynthesizers, renderSpeaker, type RenderSetup } from './render-node.js';
import { wordsSaidBy } from './accents.js';
import { DEFAULT_ACCENTED_VOICES, DEFAULT_FLITE_SHARE, DEFAULT_GNUSPEECH_SHARE, DEFAULT_PICO_VOICES, SAMPLE_RATE, clipPath, speakersFor, splitSpeakers, type Speaker, type SynthesizerName } from './speakers.js';
import { NOISE_FOLDER, TESTING_LIST, VALIDATION_LIST } from './speech-commands-node.js';
import { WorkerPool } from './worker-node.js';
import { WORDS } from './words.js';

export { builtinDataDir } from './speech-commands-node.js';

/** Bumped whenever the rendering changes, so an old built-in set is regenerated rather than reused. */
export const SYNTH_VERSION = 3;
/** About two minutes on a 2-core machine: 35 × 400 = 14,000 clips from 400 voices (320 train, 40 validation, 40 test). */
export const DEFAULT_CLIPS_PER_WORD = 400;
const MANIFEST = 'synth.json';
const COMPLETE = 'synth-complete.json';

export interface SynthOptions {
  out: string;
  seed?: number;
  /** Clips per word; each comes from a different voice. Default DEFAULT_CLIPS_PER_WORD. */
  clipsPerWord?: number;
  /** A subset of WORDS (default all 35). */
  words?: readonly string[];
  progress?: ProgressFactory;
  /** Parallel synthesizers (worker threads). Default: one per core, at most 4 (1 for under 16 voices to do). */
  workers?: number;
  /** The share of speakers (0..1) rendered by Flite rather than eSpeak NG. Default DEFAULT_FLITE_SHARE. */
  fliteShare?: number;
  /** The share of speakers (0..1, with Flite's at most 1) rendered by GnuSpeech. Default DEFAULT_GNUSPEECH_SHARE. */
  gnuspeechShare?: number;
  /** Training speakers rendered by SVOX Pico beyond the clipsPerWord speakers, each adding a clip of every word. Default DEFAULT_PICO_VOICES. */
  picoVoices?: number;
  /** Training speakers rendered by Pico's voices of other languages after those, each adding a clip of the words it says (accents.ts). Default DEFAULT_ACCENTED_VOICES. */
  accentedVoices?: number;
}

export interface SynthSummary {
  clips: number;
  words: number;
  /** Clips per word from the set's own speakers (Pico's add one each). */
  clipsPerWord: number;
  seed: number;
  /** Voices per split: validation and test voices are never heard in training. */
  voices: { train: number; validation: number; test: number };
  /** Voices per synthesizer. */
  synthesizers: Partial<Record<SynthesizerName, number>>;
  /** Clips per split. */
  splits: { train: number; validation: number; test: number };
  /** Seconds the synthesis took (of the original run when `cached`). */
  seconds: number;
  /** True when an existing complete set with the same options was reused. */
  cached: boolean;
}

interface Manifest {
  generator: 'snn-voice synth';
  version: number;
  seed: number;
  clipsPerWord: number;
  words: string[];
  fliteShare: number;
  /** Present only when above 0, so a set made before GnuSpeech joined keeps its manifest. */
  gnuspeechShare?: number;
  /** Present only when above 0, so a set made before Pico joined keeps its manifest. */
  picoVoices?: number;
  /** Present only when above 0, as picoVoices. */
  accentedVoices?: number;
  /** Those the speakers use, loaded before anything is written. */
  synthesizers: SynthesizerName[];
}

const NOISE_FILES: Record<NoiseColor, string> = { white: 'white_noise.wav', pink: 'pink_noise.wav', brown: 'brown_noise.wav', hum: 'hum.wav' };

function checkOptions(opts: SynthOptions): Manifest {
  const seed = opts.seed ?? 1;
  const clipsPerWord = opts.clipsPerWord ?? DEFAULT_CLIPS_PER_WORD;
  const fliteShare = opts.fliteShare ?? DEFAULT_FLITE_SHARE;
  const gnuspeechShare = opts.gnuspeechShare ?? DEFAULT_GNUSPEECH_SHARE;
  const picoVoices = opts.picoVoices ?? DEFAULT_PICO_VOICES;
  const accentedVoices = opts.accentedVoices ?? DEFAULT_ACCENTED_VOICES;
  if (!(fliteShare >= 0 && fliteShare <= 1)) throw new RangeError(`synthesizeSpeechCommands: fliteShare must be in [0, 1], got ${fliteShare}`);
  if (!(gnuspeechShare >= 0 && fliteShare + gnuspeechShare <= 1))
    throw new RangeError(`synthesizeSpeechCommands: gnuspeechShare must be at least 0 and, with fliteShare (${fliteShare}), at most 1, got ${gnuspeechShare}`);
  for (const [name, n] of [['picoVoices', picoVoices], ['accentedVoices', accentedVoices]] as const)
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`synthesizeSpeechCommands: ${name} must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`synthesizeSpeechCommands: seed must be a non-negative integer, got ${seed}`);
  if (!Number.isInteger(clipsPerWord) || clipsPerWord <= 0) throw new RangeError(`synthesizeSpeechCommands: clipsPerWord must be a positive integer, got ${clipsPerWord}`);
  const words = opts.words ? [...opts.words] : [...WORDS];
  if (words.length === 0) throw new RangeError('synthesizeSpeechCommands: words is empty');
  for (const w of words) if (!WORDS.includes(w)) throw new RangeError(`synthesizeSpeechCommands: "${w}" is not a Speech Commands word (${WORDS.join(', ')})`);
  const used = new Set(speakersFor(seed, clipsPerWord, fliteShare, gnuspeechShare, picoVoices, accentedVoices).map((s) => s.synthesizer));
  return {
    generator: 'snn-voice synth',
    version: SYNTH_VERSION,
    seed,
    clipsPerWord,
    // WORDS order, no duplicates: the same set of words always means the same run.
    words: WORDS.filter((w) => words.includes(w)),
    fliteShare,
    ...(gnuspeechShare > 0 ? { gnuspeechShare } : {}),
    ...(picoVoices > 0 ? { picoVoices } : {}),
    ...(accentedVoices > 0 ? { accentedVoices } : {}),
    synthesizers: (['espeak-ng', 'flite', 'gnuspeech', 'pico'] as const).filter((n) => used.has(n)),
  };
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The words a set made by synthesizeSpeechCommands in `dir` holds (or is being made with), or null
 *  for a folder it did not make. */
export function synthesizedWords(dir: string): string[] | null {
  try {
    return (JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Manifest).words;
  } catch {
    return null;
  }
}

/** Removes what an earlier synthesis wrote (only its own files and folders), before writing another. */
async function clearPrevious(out: string): Promise<void> {
  await rm(join(out, COMPLETE), { force: true });
  for (const name of [...WORDS, NOISE_FOLDER, VALIDATION_LIST, TESTING_LIST, '.snn-voice-cache'])
    await rm(join(out, name), { recursive: true, force: true });
  await rm(join(out, MANIFEST), { force: true });
}

/** Writes the built-in data set to `opts.out` (a no-op when a complete set with the same options is there). */
export async function synthesizeSpeechCommands(opts: SynthOptions): Promise<SynthSummary> {
  const manifest = checkOptions(opts);
  const { out } = opts;
  const started = Date.now();
  const existing = await readJson<Manifest>(join(out, MANIFEST));
  // The same speakers, with the words asked for among those made or a set to grow by them.
  const sameSpeakers = existing !== null && JSON.stringify({ ...existing, words: [] }) === JSON.stringify({ ...manifest, words: [] });
  if (sameSpeakers && manifest.words.every((w) => existing.words.includes(w))) {
    const done = await readJson<SynthSummary>(join(out, COMPLETE));
    if (done) return { ...done, cached: true };
    // Unfinished: finish the words it was making.
    manifest.words = existing.words;
  } else if (sameSpeakers) {
    // A set of some words holds the clips a set of all has (renderSpeaker), so it grows by the new words.
    manifest.words = WORDS.filter((w) => existing.words.includes(w) || manifest.words.includes(w));
    await rm(join(out, COMPLETE), { force: true });
  } else if (existing !== null) {
    await clearPrevious(out);
  } else {
    const entries = await readdir(out).catch(() => [] as string[]);
    if (entries.length > 0)
      throw new Error(`synthesizeSpeechCommands: "${out}" is not empty and holds no ${MANIFEST}; choose an empty or new folder`);
  }
  // Load the synthesizers before writing anything, so a missing package leaves no half-made folder behind.
  const synths = await loadSynthesizers(manifest.synthesizers);
  await writeFileAtomic(join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');

  // A manifest without a GnuSpeech share or Pico voices is a set without their speakers, not one with the defaults.
  const { seed, clipsPerWord, words, fliteShare, gnuspeechShare = 0, picoVoices = 0, accentedVoices = 0 } = manifest;
  const noises = backgroundNoises(seed);
  for (let c = 0; c < NOISE_COLORS.length; c++) {
    // Stored at 0.1 RMS so the white noise's peaks stay inside 16-bit range.
    const scaled = noises[c].map((v) => Math.max(-1, Math.min(1, 0.1 * v)));
    await writeFileAtomic(join(out, NOISE_FOLDER, NOISE_FILES[NOISE_COLORS[c]]), encodeWav(scaled, SAMPLE_RATE, 16));
  }

  const speakers = speakersFor(seed, clipsPerWord, fliteShare, gnuspeechShare, picoVoices, accentedVoices);
  const ids = new Set(speakers.map((s) => s.id));
  if (ids.size !== speakers.length) throw new Error(`synthesizeSpeechCommands: voice id collision for seed ${seed}; choose another seed`);
  // Resume: a speaker whose every file exists is done (files are written by rename, so they are whole).
  const present = new Map<string, Set<string>>();
  for (const w of words) {
    const names = await readdir(join(out, w)).catch(() => [] as string[]);
    // Temp files of writes cut short by the interruption.
    for (const n of names) if (n.endsWith('.tmp')) await rm(join(out, w, n), { force: true });
    present.set(w, new Set(names));
  }
  const said = new Map(speakers.map((s) => [s, wordsSaidBy(s.voice, words)]));
  const todo = speakers.filter((s) => !said.get(s)!.every((w) => present.get(w)!.has(clipPath(w, s).split('/')[1])));

  const clips = (group: readonly Speaker[]): number => group.reduce((n, s) => n + said.get(s)!.length, 0);
  const bar = (opts.progress ?? silentProgress)('synthesizing clips', clips(speakers));
  const pending = new Set(todo);
  const done = new Set(speakers.filter((s) => !pending.has(s)));
  let finished = clips([...done]);
  bar.update(finished, { voices: done.size });
  try {
    // A worker costs about a second to start: worth it only for more than a few voices.
    const workers = Math.min(opts.workers ?? (todo.length >= 16 ? Math.min(4, availableParallelism()) : 1), todo.length);
    const onDone = (s: Speaker): void => {
      done.add(s);
      finished += said.get(s)!.length;
      bar.update(finished, { voices: done.size });
    };
    if (workers <= 1) {
      for (const s of todo) {
        await renderSpeaker(synths, out, seed, s, words, noises);
        onDone(s);
      }
    } else {
      await renderInWorkers(workers, { out, seed, words, synthesizers: manifest.synthesizers }, todo, onDone);
    }
  } finally {
    bar.stop();
  }

  const split = splitSpeakers(seed, clipsPerWord);
  const list = (indices: number[]): string => {
    const lines = indices.flatMap((i) => words.map((w) => clipPath(w, speakers[i]))).sort();
    return lines.length ? lines.join('\n') + '\n' : '';
  };
  await writeFileAtomic(join(out, VALIDATION_LIST), list(split.validation));
  await writeFileAtomic(join(out, TESTING_LIST), list(split.test));
  const training = speakers.filter((s) => s.split === 'train');
  const summary: SynthSummary = {
    clips: clips(speakers),
    words: words.length,
    clipsPerWord,
    seed,
    voices: { train: training.length, validation: split.validation.length, test: split.test.length },
    synthesizers: Object.fromEntries(manifest.synthesizers.map((n) => [n, speakers.filter((s) => s.synthesizer === n).length])),
    splits: { train: clips(training), validation: split.validation.length * words.length, test: split.test.length * words.length },
    seconds: Math.round((Date.now() - started) / 100) / 10,
    cached: false,
  };
  // Written last: its presence marks a complete set.
  await writeFileAtomic(join(out, COMPLETE), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** Renders speakers on `count` worker threads, each taking the next speaker when it is free. */
async function renderInWorkers(count: number, setup: RenderSetup, todo: readonly Speaker[], onDone: (s: Speaker) => void): Promise<void> {
  const pool = new WorkerPool<Speaker, void>(import.meta.url, 'synth-worker-node', setup, count);
  try {
    await Promise.all(todo.map((s) => pool.run(s).then(() => onDone(s))));
  } finally {
    // After a failure this also stops the other workers rather than let them run on for nothing.
    await pool.close();
  }
}
