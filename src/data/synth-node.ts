// The built-in data set: the 35 Speech Commands keywords spoken by many synthetic "speakers", each
// rendered by eSpeak NG (accent, voice variant) or by Flite (base voice), with its own pitch, rate,
// vocal-tract scaling, room and microphone colouring, placed at random in a 1-second window over
// background noise, written in the Speech Commands v2 layout.
//
// Determinism: every random choice comes from a generator seeded by (seed, speaker, word), and each
// speaker is rendered on a fresh eSpeak session (whose output depends on what it spoke before; Flite
// starts afresh on every utterance), so the same options give byte-identical files, and a run resumed
// after an interruption gives the same files as an uninterrupted one. A speaker is the unit of work and
// of resumption.
import { readFile, readdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { encodeWav, type DecodedAudio } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { Rng, shuffled } from '../util/rng.js';
import type { ProgressFactory } from '../util/progress.js';
import { silentProgress } from '../util/progress.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { Espeak, SESSION_LIMIT, type Session, type Utterance } from './espeak-node.js';
import { Flite } from './flite-node.js';
import { NOISE_COLORS, addBackgroundNoise, synthNoise, type NoiseColor } from '../audio/noise.js';
import { hashSeed, rngFor } from '../util/hash.js';
import { NOISE_FOLDER, TESTING_LIST, VALIDATION_LIST } from './speech-commands-node.js';
import { startWorker } from './worker-node.js';
import { WORDS } from './words.js';

export { builtinDataDir } from './speech-commands-node.js';

/** Bumped whenever the rendering changes, so an old built-in set is regenerated rather than reused. */
export const SYNTH_VERSION = 3;
/** About two minutes on a 2-core machine: 35 × 400 = 14,000 clips from 400 voices (320 train, 40 validation, 40 test). */
export const DEFAULT_CLIPS_PER_WORD = 400;
/** The share of speakers Flite renders: its four voices add timbres eSpeak lacks, and eSpeak's many
 *  variants keep the variety within each split. */
export const DEFAULT_FLITE_SHARE = 0.25;
export const SAMPLE_RATE = 16000;
const MANIFEST = 'synth.json';
const COMPLETE = 'synth-complete.json';

/** eSpeak NG's English accents (the build has no MBROLA voices). */
export const ACCENTS: readonly string[] = [
  'en', 'en-us', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc',
];
/** Voice variants that work in this build (those needing the Klatt synthesizer are left out, as are
 *  robotic and novelty ones that no microphone would record). */
export const VARIANTS: readonly string[] = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'f1', 'f2', 'f3', 'f4', 'f5', 'croak', 'whisper', 'whisperf',
  'Alex', 'Alicia', 'Andrea', 'Andy', 'Annie', 'AnxiousAndy', 'Denis', 'Diogo', 'Gene', 'Gene2', 'Henrique',
  'Hugo', 'Jacky', 'Lee', 'Marco', 'Mario', 'Michael', 'Mike', 'Nguyen', 'RicishayMax', 'RicishayMax2',
  'RicishayMax3', 'Storm', 'Tweaky', 'anika', 'antonio', 'aunty', 'belinda', 'boris', 'ed', 'grandma',
  'grandpa', 'gustave', 'ian', 'iven', 'iven2', 'iven3', 'iven4', 'john', 'kaukovalta', 'linda', 'marcelo',
  'max', 'michel', 'miguel', 'norbert', 'pablo', 'paul', 'pedro', 'quincy', 'rob', 'robert', 'sandro',
  'shelby', 'steph', 'steph2', 'steph3', 'travis', 'victor', 'zac',
];

/** Flite's base voices by split, fixed rather than drawn, as there are only four speakers: kal (US male,
 *  as `kal` at 8 kHz and `kal16` at 16 kHz: one speaker), slt (US female), awb (Scottish male), rms (US
 *  male). Training keeps the one female voice; `awb_time`, a cut-down awb that cannot say most words, is
 *  left out. */
export const FLITE_POOLS: Record<SplitName, readonly string[]> = { train: ['kal', 'kal16', 'slt'], validation: ['awb'], test: ['rms'] };

/** The mean pitch (Hz) each Flite voice speaks at when left alone (measured), which a speaker's pitch
 *  scales; rms ignores pitch targets (its units keep their recorded pitch), so it has none. */
const FLITE_F0: Record<string, number | undefined> = { kal: 96, kal16: 96, slt: 188, awb: 130 };

export type SynthesizerName = 'espeak-ng' | 'flite';
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
}

export interface SynthSummary {
  clips: number;
  words: number;
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
  /** Those the speakers use, loaded before anything is written. */
  synthesizers: SynthesizerName[];
}

/** One synthetic speaker: fixed traits, and a split. */
export interface Speaker {
  index: number;
  split: SplitName;
  id: string;
  synthesizer: SynthesizerName;
  /** An eSpeak voice with its variant (`en-us+m3`) or a Flite voice (`slt`). */
  voice: string;
  /** The voice's traits in eSpeak's units (see Utterance); Flite's voices take them relative to their own. */
  pitch: number;
  rate: number;
  amplitude: number;
  /** Playback-rate factor applied when resampling: scales pitch and formants like a longer or shorter vocal tract. */
  tract: number;
  highpassHz: number;
  lowpassHz: number;
  /** The room: reverberation time in seconds (0 for a dry room) and the reverberant share of the sound. */
  rt60: number;
  wet: number;
}

export type SplitName = 'train' | 'validation' | 'test';

/** Speaker indices of each split, chosen by voice: about 10% validation, 10% test. */
export function splitSpeakers(seed: number, count: number): Record<SplitName, number[]> {
  const order = Array.from(shuffled(count, new Rng(hashSeed(seed, 'split'))));
  const held = Math.max(1, Math.round(count * 0.1));
  const nVal = count >= 2 ? held : 0;
  const nTest = count >= 3 ? held : 0;
  const sort = (a: number[]): number[] => a.sort((x, y) => x - y);
  return { validation: sort(order.slice(0, nVal)), test: sort(order.slice(nVal, nVal + nTest)), train: sort(order.slice(nVal + nTest)) };
}

/** The voice variants (timbres) each split draws from, disjoint: a held-out speaker's timbre is never
 *  heard in training, whatever its accent, pitch or rate. */
export function variantPools(seed: number): Record<SplitName, string[]> {
  const order = Array.from(shuffled(VARIANTS.length, new Rng(hashSeed(seed, 'variants'))), (i) => VARIANTS[i]);
  const held = Math.round(VARIANTS.length * 0.1);
  return { validation: order.slice(0, held), test: order.slice(held, 2 * held), train: order.slice(2 * held) };
}

/** Every speaker of a run: the synthesizer and traits drawn per speaker, the eSpeak variant or the Flite
 *  voice from its split's pool. */
export function speakersFor(seed: number, count: number, fliteShare = DEFAULT_FLITE_SHARE): Speaker[] {
  const splits = splitSpeakers(seed, count);
  const pools = variantPools(seed);
  const splitOf = new Map<number, SplitName>();
  for (const name of ['train', 'validation', 'test'] as const) for (const i of splits[name]) splitOf.set(i, name);
  return Array.from({ length: count }, (_, index) => {
    const split = splitOf.get(index)!;
    const rng = rngFor(seed, 'speaker', index);
    // The synthesizer and voice are drawn apart from the traits, so the share changes which speakers
    // use Flite and nothing else.
    const voiceRng = rngFor(seed, 'voice', index);
    const synthesizer: SynthesizerName = voiceRng.next() < fliteShare ? 'flite' : 'espeak-ng';
    return {
      index,
      split,
      id: hashSeed(seed, 'speaker-id', index).toString(16).padStart(8, '0'),
      synthesizer,
      voice: synthesizer === 'flite' ? voiceRng.pick(FLITE_POOLS[split]) : `${voiceRng.pick(ACCENTS)}+${voiceRng.pick(pools[split])}`,
      pitch: rng.uniform(15, 85),
      rate: rng.uniform(125, 215),
      amplitude: rng.uniform(70, 150),
      tract: rng.uniform(0.9, 1.1),
      highpassHz: rng.uniform(40, 300),
      lowpassHz: rng.next() < 0.3 ? SAMPLE_RATE / 2 : rng.uniform(3000, 7500),
      ...(rng.next() < 0.35 ? { rt60: rng.uniform(0.2, 0.9), wet: rng.uniform(0.1, 0.5) } : { rt60: 0, wet: 0 }),
    };
  });
}

export const clipPath = (word: string, speaker: Speaker): string => `${word}/${speaker.id}_nohash_0.wav`;

/** One-pole high-pass then low-pass in place: a cheap, varied "microphone". */
function colour(x: Float32Array, highpassHz: number, lowpassHz: number): void {
  const hp = Math.exp((-2 * Math.PI * highpassHz) / SAMPLE_RATE);
  let prevIn = 0, prevOut = 0;
  for (let i = 0; i < x.length; i++) {
    const y = hp * (prevOut + x[i] - prevIn);
    prevIn = x[i];
    x[i] = prevOut = y;
  }
  if (lowpassHz >= SAMPLE_RATE / 2) return;
  const a = 1 - Math.exp((-2 * Math.PI * lowpassHz) / SAMPLE_RATE);
  let s = 0;
  for (let i = 0; i < x.length; i++) x[i] = s += a * (x[i] - s);
}

/** A Schroeder reverberator in place: four parallel feedback combs (mutually prime delays, gains set for
 *  the reverberation time) into two all-passes, mixed with the dry sound. Linear in the clip length. */
function reverberate(x: Float32Array, rt60: number, wet: number): void {
  const n = x.length;
  const late = new Float32Array(n);
  for (const ms of [29.7, 37.1, 41.1, 43.7]) {
    const d = Math.round((ms / 1000) * SAMPLE_RATE);
    const g = Math.pow(10, (-3 * ms) / 1000 / rt60);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) y[i] = x[i] + (i >= d ? g * y[i - d] : 0);
    for (let i = 0; i < n; i++) late[i] += y[i] / 4;
  }
  for (const ms of [5, 1.7]) {
    const d = Math.round((ms / 1000) * SAMPLE_RATE);
    const g = 0.7;
    const src = late.slice();
    for (let i = 0; i < n; i++) late[i] = -g * src[i] + (i >= d ? src[i - d] + g * late[i - d] : 0);
  }
  for (let i = 0; i < n; i++) x[i] = (1 - wet) * x[i] + wet * late[i];
}

/** The stretch between the first and last sample above 2% of the peak. */
function trimSilence(x: Float32Array): Float32Array {
  let peak = 0;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]));
  if (peak === 0) return x.subarray(0, 0);
  const floor = 0.02 * peak;
  let a = 0, b = x.length - 1;
  while (a < b && Math.abs(x[a]) < floor) a++;
  while (b > a && Math.abs(x[b]) < floor) b--;
  return x.subarray(a, b + 1);
}

/** Punctuation after the word: statement, question, exclamation and list intonation. */
const INTONATIONS: readonly string[] = ['', '.', '.', '?', '!', ','];

/** A speaker's voice: speaks one utterance (in eSpeak's units), mono samples at the synthesizer's rate. */
export type Speak = (u: Utterance) => DecodedAudio;

/** eSpeak on a fresh session for every SESSION_LIMIT utterances: fixed boundaries keep a speaker's output
 *  independent of where a run started. */
function espeakVoice(espeak: Espeak): Speak {
  let session: Session | null = null;
  let spoken = 0;
  return (u) => {
    if (!session || spoken === SESSION_LIMIT) {
      session = espeak.session();
      spoken = 0;
    }
    spoken++;
    return session.speak(u);
  };
}

/** eSpeak's default rate (words per minute), taken as each Flite voice's own speed. */
const ESPEAK_DEFAULT_RATE = 175;

/** Flite with eSpeak's units translated: rate as a duration stretch, pitch 0..99 as ±half an octave
 *  around the voice's own, amplitude as a gain that, like eSpeak's, clips when loud. */
function fliteVoice(flite: Flite): Speak {
  return (u) => {
    const own = FLITE_F0[u.voice];
    const spoken = flite.speak({
      text: u.text,
      voice: u.voice,
      stretch: ESPEAK_DEFAULT_RATE / u.rate,
      f0: own === undefined ? undefined : own * Math.pow(2, (u.pitch - 50) / 99),
    });
    const gain = u.amplitude / 100;
    const samples = spoken.samples.map((v) => Math.max(-1, Math.min(1, gain * v)));
    return { samples, sampleRate: spoken.sampleRate };
  };
}

/** The synthesizers a run uses, loaded. */
export interface Synthesizers {
  espeak?: Espeak;
  flite?: Flite;
}

/** Loads the synthesizers named (each a development dependency, with a clear error when missing). */
export async function loadSynthesizers(names: readonly SynthesizerName[]): Promise<Synthesizers> {
  return {
    espeak: names.includes('espeak-ng') ? await Espeak.load() : undefined,
    flite: names.includes('flite') ? await Flite.load() : undefined,
  };
}

function voiceFor(synths: Synthesizers, speaker: Speaker): Speak {
  const missing = (): never => {
    throw new Error(`synthesizeSpeechCommands: speaker ${speaker.id} needs ${speaker.synthesizer}, which was not loaded`);
  };
  return speaker.synthesizer === 'flite' ? fliteVoice(synths.flite ?? missing()) : espeakVoice(synths.espeak ?? missing());
}

/** Renders one clip: speak, scale the vocal tract, place in one second, add the room and the microphone,
 *  add noise, set the level. */
export function renderClip(speak: Speak, seed: number, speaker: Speaker, word: string, noises: readonly Float32Array[]): Uint8Array {
  const rng = rngFor(seed, 'clip', speaker.index, word);
  const spoken = speak({
    text: word + rng.pick(INTONATIONS),
    voice: speaker.voice,
    rate: speaker.rate * rng.uniform(0.85, 1.15),
    pitch: Math.min(99, Math.max(0, speaker.pitch + rng.uniform(-10, 10))),
    amplitude: speaker.amplitude,
  });
  const voiced = trimSilence(spoken.samples);
  // Resampling to a rate other than the one written scales time, pitch and formants together. Rates on a
  // 50 Hz grid share a factor of 50 with eSpeak's 22,050 Hz (and Flite's 8 and 16 kHz), which keeps the
  // resampler's filter tables small.
  let speech = resample(voiced, spoken.sampleRate, 50 * Math.round((SAMPLE_RATE * speaker.tract) / 50));
  if (speech.length > SAMPLE_RATE) speech = speech.subarray(0, SAMPLE_RATE);
  const clip = new Float32Array(SAMPLE_RATE);
  clip.set(speech, Math.floor(rng.next() * (SAMPLE_RATE - speech.length + 1)));
  if (speaker.rt60 > 0) reverberate(clip, speaker.rt60, speaker.wet);
  colour(clip, speaker.highpassHz, speaker.lowpassHz);
  if (rng.next() < 0.85) addBackgroundNoise(clip, noises, [5, 35], rng);
  let peak = 0;
  for (let i = 0; i < clip.length; i++) peak = Math.max(peak, Math.abs(clip[i]));
  // Levels spread over ~25 dB, like recordings from near and far microphones.
  const gain = peak > 0 ? Math.exp(rng.uniform(Math.log(0.05), Math.log(0.9))) / peak : 0;
  for (let i = 0; i < clip.length; i++) clip[i] = Math.max(-1, Math.min(1, clip[i] * gain));
  return encodeWav(clip, SAMPLE_RATE, 16);
}

const NOISE_FILES: Record<NoiseColor, string> = { white: 'white_noise.wav', pink: 'pink_noise.wav', brown: 'brown_noise.wav', hum: 'hum.wav' };
const NOISE_SECONDS = 20;

/** The background recordings (unit RMS), the same for a seed wherever they are made. */
export function backgroundNoises(seed: number): Float32Array[] {
  return NOISE_COLORS.map((c) => synthNoise(c, NOISE_SECONDS * SAMPLE_RATE, SAMPLE_RATE, rngFor(seed, 'noise', c)));
}

/** Renders every word of one speaker, from a fresh start of its synthesizer, and writes the files. */
export async function renderSpeaker(synths: Synthesizers, out: string, seed: number, speaker: Speaker, words: readonly string[], noises: readonly Float32Array[]): Promise<void> {
  const speak = voiceFor(synths, speaker);
  for (const word of words) await writeFileAtomic(join(out, clipPath(word, speaker)), renderClip(speak, seed, speaker, word, noises));
}

function checkOptions(opts: SynthOptions): Manifest {
  const seed = opts.seed ?? 1;
  const clipsPerWord = opts.clipsPerWord ?? DEFAULT_CLIPS_PER_WORD;
  const fliteShare = opts.fliteShare ?? DEFAULT_FLITE_SHARE;
  if (!(fliteShare >= 0 && fliteShare <= 1)) throw new RangeError(`synthesizeSpeechCommands: fliteShare must be in [0, 1], got ${fliteShare}`);
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`synthesizeSpeechCommands: seed must be a non-negative integer, got ${seed}`);
  if (!Number.isInteger(clipsPerWord) || clipsPerWord <= 0) throw new RangeError(`synthesizeSpeechCommands: clipsPerWord must be a positive integer, got ${clipsPerWord}`);
  const words = opts.words ? [...opts.words] : [...WORDS];
  if (words.length === 0) throw new RangeError('synthesizeSpeechCommands: words is empty');
  for (const w of words) if (!WORDS.includes(w)) throw new RangeError(`synthesizeSpeechCommands: "${w}" is not a Speech Commands word (${WORDS.join(', ')})`);
  const used = new Set(speakersFor(seed, clipsPerWord, fliteShare).map((s) => s.synthesizer));
  return {
    generator: 'snn-voice synth',
    version: SYNTH_VERSION,
    seed,
    clipsPerWord,
    // WORDS order, no duplicates: the same set of words always means the same run.
    words: WORDS.filter((w) => words.includes(w)),
    fliteShare,
    synthesizers: (['espeak-ng', 'flite'] as const).filter((n) => used.has(n)),
  };
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
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
  const same = existing !== null && JSON.stringify(existing) === JSON.stringify(manifest);
  if (same) {
    const done = await readJson<SynthSummary>(join(out, COMPLETE));
    if (done) return { ...done, cached: true };
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

  const { seed, clipsPerWord, words, fliteShare } = manifest;
  const noises = backgroundNoises(seed);
  for (let c = 0; c < NOISE_COLORS.length; c++) {
    // Stored at 0.1 RMS so the white noise's peaks stay inside 16-bit range.
    const scaled = noises[c].map((v) => Math.max(-1, Math.min(1, 0.1 * v)));
    await writeFileAtomic(join(out, NOISE_FOLDER, NOISE_FILES[NOISE_COLORS[c]]), encodeWav(scaled, SAMPLE_RATE, 16));
  }

  const speakers = speakersFor(seed, clipsPerWord, fliteShare);
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
  const todo = speakers.filter((s) => !words.every((w) => present.get(w)!.has(clipPath(w, s).split('/')[1])));

  const bar = (opts.progress ?? silentProgress)('synthesizing clips', clipsPerWord * words.length);
  let finished = speakers.length - todo.length;
  bar.update(finished * words.length, { voices: finished });
  try {
    // A worker costs about a second to start: worth it only for more than a few voices.
    const workers = Math.min(opts.workers ?? (todo.length >= 16 ? Math.min(4, availableParallelism()) : 1), todo.length);
    const onDone = (): void => {
      finished++;
      bar.update(finished * words.length, { voices: finished });
    };
    if (workers <= 1) {
      for (const s of todo) {
        await renderSpeaker(synths, out, seed, s, words, noises);
        onDone();
      }
    } else {
      await renderInWorkers(workers, { out, seed, clipsPerWord, words, fliteShare, synthesizers: manifest.synthesizers }, todo, onDone);
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
  const summary: SynthSummary = {
    clips: clipsPerWord * words.length,
    words: words.length,
    clipsPerWord,
    seed,
    voices: { train: split.train.length, validation: split.validation.length, test: split.test.length },
    synthesizers: Object.fromEntries(manifest.synthesizers.map((n) => [n, speakers.filter((s) => s.synthesizer === n).length])),
    splits: { train: split.train.length * words.length, validation: split.validation.length * words.length, test: split.test.length * words.length },
    seconds: Math.round((Date.now() - started) / 100) / 10,
    cached: false,
  };
  // Written last: its presence marks a complete set.
  await writeFileAtomic(join(out, COMPLETE), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

/** What a synthesis worker is told at start; it then asks for one speaker index at a time. */
export interface WorkerTask {
  out: string;
  seed: number;
  clipsPerWord: number;
  words: string[];
  fliteShare: number;
  synthesizers: SynthesizerName[];
}

/** Messages from a worker: ready for a speaker (first, and after each `done`), or failed. */
export type WorkerMessage = { ready: true } | { done: number } | { error: string };

/** Renders speakers on `count` worker threads, each taking the next speaker when it is free. */
async function renderInWorkers(count: number, task: WorkerTask, todo: Speaker[], onDone: () => void): Promise<void> {
  let next = 0;
  const threads: Worker[] = [];
  const runs = Array.from({ length: count }, () => new Promise<void>((resolveRun, rejectRun) => {
    const worker = startWorker(import.meta.url, 'synth-worker-node', task);
    threads.push(worker);
    worker.on('message', (m: WorkerMessage) => {
      if ('error' in m) return rejectRun(new Error(m.error));
      if ('done' in m) onDone();
      // null tells the worker there is nothing left; it then exits.
      worker.postMessage(next < todo.length ? todo[next++].index : null);
    });
    worker.on('error', rejectRun);
    worker.on('exit', (code) => (code === 0 ? resolveRun() : rejectRun(new Error(`synthesis worker exited with code ${code}`))));
  }));
  try {
    await Promise.all(runs);
  } catch (e) {
    // One failed: stop the others rather than let them run on for nothing.
    await Promise.allSettled(threads.map((t) => t.terminate()));
    throw e;
  }
}
