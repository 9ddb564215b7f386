// Rendering a speaker's clips: the speaker's voice (eSpeak NG, Flite, GnuSpeech or Pico, driven in
// eSpeak's units), then for each word the utterance, its vocal tract, its place in a 1-second window,
// the room, the microphone, the background noise and the level, every random choice of a clip from a generator
// seeded by (seed, speaker, word).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav, type DecodedAudio } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { NOISE_COLORS, addBackgroundNoise, synthNoise } from '../audio/noise.js';
import { rngFor } from '../util/hash.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { Espeak, SESSION_LIMIT, type Session, type Utterance } from './espeak-node.js';
import { Flite } from './flite-node.js';
import { GnuSpeech } from './gnuspeech-node.js';
import { ACCENTED_WORDS, isAccentedVoice, wordsSaidBy } from './accents.js';
import { WORDS } from './words.js';
import { Pico } from './pico-node.js';
import { SAMPLE_RATE, clipPath, type PicoVoice, type Speaker, type SynthesizerName, type TubeVoice } from './speakers.js';

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
type Speak = (u: Utterance) => DecodedAudio;

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

/** The mean pitch (Hz) each Flite voice speaks at when left alone (measured), which a speaker's pitch
 *  scales; rms ignores pitch targets (its units keep their recorded pitch), so it has none. */
const FLITE_F0: Record<string, number | undefined> = { kal: 96, kal16: 96, slt: 188, awb: 130 };

/** eSpeak's default rate (words per minute), taken as each Flite voice's own speed. */
const ESPEAK_DEFAULT_RATE = 175;

/** eSpeak's amplitude (100 = as spoken) applied to another synthesizer's output: clipped when loud, as eSpeak's is. */
function atAmplitude(spoken: DecodedAudio, amplitude: number): DecodedAudio {
  const gain = amplitude / 100;
  return { samples: spoken.samples.map((v) => Math.max(-1, Math.min(1, gain * v))), sampleRate: spoken.sampleRate };
}

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
    return atAmplitude(spoken, u.amplitude);
  };
}

/** GnuSpeech with eSpeak's units translated: rate as tempo, pitch 0..99 as ±3 semitones around the
 *  speaker's tube, amplitude as a gain that clips when loud. */
function gnuspeechVoice(gnuspeech: GnuSpeech, tube: TubeVoice): Speak {
  return (u) => {
    const spoken = gnuspeech.speak({ text: u.text, voice: tube, tempo: u.rate / ESPEAK_DEFAULT_RATE, pitchOffset: ((u.pitch - 50) / 99) * 6 });
    return atAmplitude(spoken, u.amplitude);
  };
}

/** Pico with eSpeak's units translated: pitch 0..99 as ±a quarter octave around the speaker's own (a
 *  percentage of the voice's), rate as speed, sped up by the speaker's tract, which slows the speech as
 *  it lowers the formants (renderClip); amplitude as a gain that clips when loud. */
function picoVoice(pico: Pico, pitch: number, tract: number): Speak {
  return (u) => {
    const spoken = pico.speak({
      text: u.text,
      voice: u.voice as PicoVoice,
      pitch: Math.min(200, Math.max(50, pitch * Math.pow(2, (u.pitch - 50) / 198))),
      speed: (100 * tract * u.rate) / ESPEAK_DEFAULT_RATE,
    });
    return atAmplitude(spoken, u.amplitude);
  };
}

/** The synthesizers a run uses, loaded. */
export interface Synthesizers {
  espeak?: Espeak;
  flite?: Flite;
  gnuspeech?: GnuSpeech;
  pico?: Pico;
}

/** Loads the synthesizers named (each a development dependency, with a clear error when missing). */
export async function loadSynthesizers(names: readonly SynthesizerName[]): Promise<Synthesizers> {
  return {
    espeak: names.includes('espeak-ng') ? await Espeak.load() : undefined,
    flite: names.includes('flite') ? await Flite.load() : undefined,
    gnuspeech: names.includes('gnuspeech') ? await GnuSpeech.load() : undefined,
    pico: names.includes('pico') ? await Pico.load() : undefined,
  };
}

function voiceFor(synths: Synthesizers, speaker: Speaker): Speak {
  const missing = (): never => {
    throw new Error(`synthesizeSpeechCommands: speaker ${speaker.id} needs ${speaker.synthesizer}, which was not loaded`);
  };
  if (speaker.synthesizer === 'flite') return fliteVoice(synths.flite ?? missing());
  if (speaker.synthesizer === 'gnuspeech') return gnuspeechVoice(synths.gnuspeech ?? missing(), speaker.tube ?? missing());
  if (speaker.synthesizer === 'pico') return picoVoice(synths.pico ?? missing(), speaker.picoPitch ?? missing(), speaker.tract);
  return espeakVoice(synths.espeak ?? missing());
}

/** Renders one clip: speak, scale the vocal tract, place in one second, add the room and the microphone,
 *  add noise, set the level. */
function renderClip(speak: Speak, seed: number, speaker: Speaker, word: string, noises: readonly Float32Array[]): Uint8Array {
  const rng = rngFor(seed, 'clip', speaker.index, word);
  // Drawn for every speaker so the clip's later draws stay where they were. An accented voice says the
  // spelling its listeners passed, as they heard it: without the punctuation, which made some a different word.
  const intonation = rng.pick(INTONATIONS);
  const spoken = speak({
    text: isAccentedVoice(speaker.voice) ? ACCENTED_WORDS[speaker.voice][word] : word + intonation,
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

const NOISE_SECONDS = 20;

/** The background recordings (unit RMS), the same for a seed wherever they are made. */
export function backgroundNoises(seed: number): Float32Array[] {
  return NOISE_COLORS.map((c) => synthNoise(c, NOISE_SECONDS * SAMPLE_RATE, SAMPLE_RATE, rngFor(seed, 'noise', c)));
}

/**
 * Renders the words of `words` the speaker says (accents.ts), from a fresh start of its synthesizer, and
 * writes those not yet there. An eSpeak speaker says all 35 words in order whatever `words` holds, as each of
 * its clips depends on the words said before it (eSpeak keeps state): a set of some words then holds the
 * clips a set of all 35 has, and can grow into it; the other synthesizers start afresh on every word.
 */
export async function renderSpeaker(synths: Synthesizers, out: string, seed: number, speaker: Speaker, words: readonly string[], noises: readonly Float32Array[]): Promise<void> {
  // Pico opens a voice when its first speaker comes: a set of English voices alone never loads the others.
  if (speaker.synthesizer === 'pico') await synths.pico?.open([speaker.voice as PicoVoice]);
  const speak = voiceFor(synths, speaker);
  const said = wordsSaidBy(speaker.voice, speaker.synthesizer === 'espeak-ng' ? WORDS : words);
  for (const word of said) {
    const clip = renderClip(speak, seed, speaker, word, noises);
    const file = join(out, clipPath(word, speaker));
    if (words.includes(word) && !existsSync(file)) await writeFileAtomic(file, clip);
  }
}

/** What a synthesis worker renders with, besides the speakers it is sent: plain data, so a worker can be given it. */
export interface RenderSetup {
  out: string;
  seed: number;
  words: string[];
  synthesizers: SynthesizerName[];
}
