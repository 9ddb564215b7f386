// GnuSpeech (the `@echogarden/gnuspeech-wasm` package: gnuspeech_sa, an articulatory synthesizer,
// compiled to WebAssembly with Emscripten, GPL-3.0) as a synchronous speak(utterance) -> samples
// function. An optional dependency, read only here and only when synthesizing.
//
// Why a third synthesizer: eSpeak NG and Flite make their vowels from formant tables and recorded
// diphones of a few voices; GnuSpeech makes them with a tube model of the vocal tract driven by a
// glottal pulse, so a speaker is a tract length, a glottis and a breathiness, drawn anew for every
// speaker rather than picked from a list.
//
// How it is driven: the package's own wrapper only picks one of five stock voices, so this file drives
// its Emscripten module directly: every utterance writes the control model (tempo, pitch offset, the
// speaker's voice by name) and the speaker's voice file into the module's virtual file system, then
// calls `_GnuSpeech_synthesizeToFile` and reads the WAV it wrote. Its random intonation would make an
// utterance depend on those spoken before in the same instance, so it is off: the prosody is drawn by
// the caller from the clip's seed (pitch offset, tempo, punctuation).
import { createRequire } from 'node:module';
import { decodeWav, type DecodedAudio } from '../audio/wav.js';
import type { TubeVoice } from './speakers.js';

export interface GnuSpeechUtterance {
  text: string;
  voice: TubeVoice;
  /** 1 is the model's own speed; 1.2 speaks 20% faster. */
  tempo: number;
  /** Semitones added to the voice's pitch for this utterance. */
  pitchOffset: number;
}

interface EmscriptenModule {
  FS: { writeFile(path: string, data: string | Uint8Array): void; readFile(path: string): Uint8Array; unlink(path: string): void };
  _GnuSpeech_synthesizeToFile(text: number, out: number, configDir: number, params: number, debug: number): void;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

const CONFIG_DIR = '/data/en';
const VOICE_NAME = 'speaker';
const OUT_FILE = '/tmp/utterance.wav';
const PARAMS_FILE = '/tmp/utterance-params.txt';
const utf8 = new TextEncoder();

/** The tube model's output: 22,050 Hz (its other rate, 44,100, costs twice the time for bands the data
 *  set's 16 kHz drops), and gnuspeech_sa's other settings as it ships them. */
const TRM = ['output_rate = 22050.0', 'volume = 60.0', 'channels = 1', 'balance = 0.0', 'waveform = 0', 'vocal_tract_length_offset = 0.0',
  'temperature = 32.0', 'loss_factor = 0.8', 'mouth_coefficient = 5000.0', 'nose_coefficient = 5000.0', 'throat_cutoff = 1500.0',
  'throat_volume = 6.0', 'noise_modulation = 1', 'mix_offset = 48.0', ''].join('\n');

/** The control model: gnuspeech_sa's defaults, with the tempo, pitch offset and voice of the utterance,
 *  and no random intonation (see the header). */
function controlModel(u: GnuSpeechUtterance): string {
  return [
    'control_rate = 250.0',
    `voice_name = ${VOICE_NAME}`,
    `tempo = ${u.tempo}`,
    `pitch_offset = ${u.pitchOffset}`,
    'drift_deviation = 0.5',
    'drift_lowpass_cutoff = 0.5',
    'micro_intonation = 1',
    'macro_intonation = 1',
    'intonation_drift = 0',
    'random_intonation = 0',
    'notional_pitch = 2.0',
    'pretonic_range = -2.0',
    'pretonic_lift = 4.0',
    'tonic_range = -8.0',
    'tonic_movement = 4.0',
    'dictionary_1_file = none',
    'dictionary_2_file = none',
    'dictionary_3_file = MainDictionary.txt',
    '',
  ].join('\n');
}

/** A voice file in gnuspeech_sa's format; the nose keeps the stock voices' radii. */
function voiceFile(v: TubeVoice): string {
  const radii = Array.from({ length: 8 }, (_, i) => `radius_${i + 1}_coef = 1.0`);
  return [
    `vocal_tract_length = ${v.tractLength}`,
    `glottal_pulse_tp = ${v.pulseRise}`,
    `glottal_pulse_tn_min = ${v.pulseFall}`,
    `glottal_pulse_tn_max = ${v.pulseFall}`,
    `reference_glottal_pitch = ${v.pitch}`,
    `breathiness = ${v.breathiness}`,
    'aperture_radius = 3.05',
    'nose_radius_1 = 1.35', 'nose_radius_2 = 1.96', 'nose_radius_3 = 1.91', 'nose_radius_4 = 1.3', 'nose_radius_5 = 0.73',
    'global_nose_radius_coef = 1.0',
    ...radii,
    `global_radius_coef = ${v.radius}`,
    '',
  ].join('\n');
}

export class GnuSpeech {
  private constructor(private readonly module: EmscriptenModule) {}

  /** Loads the `@echogarden/gnuspeech-wasm` package; a clear error tells how to install it when it is missing. */
  static async load(): Promise<GnuSpeech> {
    const specifier = '@echogarden/gnuspeech-wasm';
    let factory: () => Promise<EmscriptenModule>;
    try {
      const main = createRequire(import.meta.url).resolve(specifier);
      const wasmJs = new URL('../../wasm/gnuspeech.js', `file://${main}`).href;
      factory = ((await import(wasmJs)) as { default: () => Promise<EmscriptenModule> }).default;
    } catch (err) {
      throw new Error(
        `this data set asks for GnuSpeech voices, and GnuSpeech is not installed: run \`npm install ${specifier}\` ` +
          `(an optional dependency: \`npm install --omit=optional\` leaves it out) (${(err as Error).message})`,
      );
    }
    const module = await factory();
    module.FS.writeFile(`${CONFIG_DIR}/trm.txt`, TRM);
    return new GnuSpeech(module);
  }

  /** Speaks one utterance: mono samples at the model's output rate. */
  speak(u: GnuSpeechUtterance): DecodedAudio {
    const m = this.module;
    m.FS.writeFile(`${CONFIG_DIR}/trm_control_model.txt`, controlModel(u));
    m.FS.writeFile(`${CONFIG_DIR}/voice_${VOICE_NAME}.txt`, voiceFile(u.voice));
    const strings = [u.text, OUT_FILE, CONFIG_DIR, PARAMS_FILE].map((s) => {
      const bytes = utf8.encode(`${s}\0`);
      const ptr = m._malloc(bytes.length);
      m.HEAPU8.set(bytes, ptr);
      return ptr;
    });
    try {
      m._GnuSpeech_synthesizeToFile(strings[0], strings[1], strings[2], strings[3], 0);
      const wav = m.FS.readFile(OUT_FILE);
      m.FS.unlink(OUT_FILE);
      m.FS.unlink(PARAMS_FILE);
      return decodeWav(wav, `GnuSpeech "${u.text}"`);
    } finally {
      for (const p of strings) m._free(p);
    }
  }
}
