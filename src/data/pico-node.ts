// SVOX Pico (the `@echogarden/svoxpico-wasm` package: Android's Pico synthesizer compiled to WebAssembly
// with Emscripten, Apache-2.0) as a synchronous speak(utterance) -> samples function. An optional
// dependency, read only here and only when synthesizing.
//
// Why a fourth synthesizer: eSpeak NG builds vowels from formant tables, Flite joins diphones of a few
// speakers and GnuSpeech models a tube; Pico is a statistical parametric (HMM) synthesizer whose models
// were trained on recordings of two real speakers (en-US and en-GB), so its voices are learned from
// people rather than made by rules.
//
// The package ships no voices: its lingware (a text-analysis file and a signal-generation file per
// language) is in assets/svox-pico/, taken from Debian's libttspico-data (see the README there).
//
// How it is driven: Pico's C API (picoapi.h) through the module's exports: initialize a system in a
// block of the module's memory, load the two resources of a voice, define the voice, open an engine,
// then per utterance put the text (with Pico's pitch and speed markup) and pull 16-bit samples at
// 16 kHz until the engine is idle. A system holds one engine, so each voice has a module instance of its
// own, whose memory is restored before every utterance, so each is independent of those spoken before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodedAudio } from '../audio/wav.js';
import { packageFile } from '../util/package-root-node.js';
import type { PicoVoice } from './speakers.js';

export interface PicoUtterance {
  text: string;
  voice: PicoVoice;
  /** Pitch as a percentage of the voice's own (Pico accepts 50-200). */
  pitch: number;
  /** Speed as a percentage of the voice's own (Pico accepts 20-500). */
  speed: number;
}

/** The signal-generation file of each voice; the text-analysis file is `<voice>_ta.bin`. */
const SIGNAL_FILES: Record<PicoVoice, string> = {
  'en-US': 'en-US_lh0_sg.bin',
  'en-GB': 'en-GB_kh0_sg.bin',
  'de-DE': 'de-DE_gl0_sg.bin',
  'es-ES': 'es-ES_zl0_sg.bin',
  'fr-FR': 'fr-FR_nk0_sg.bin',
  'it-IT': 'it-IT_cm0_sg.bin',
};
const OUTPUT_RATE = 16000;
/** What pico2wave gives a system: enough for one voice's resources and its engine. */
const SYSTEM_BYTES = 2_500_000;
/** PICO_MAX_RESOURCE_NAME_SIZE. */
const PICO_NAME_BYTES = 32;
const STEP_BUSY = 201;
/** Bytes pulled per getData call (Pico's own examples use 128-256). */
const CHUNK_BYTES = 256;

interface PicoModule {
  FS: { writeFile(path: string, data: Uint8Array): void };
  HEAPU8: Uint8Array;
  HEAP16: Int16Array;
  HEAP32: Int32Array;
  _malloc(n: number): number;
  _free(p: number): void;
  _pico_initialize(memory: number, size: number, outSystem: number): number;
  _pico_loadResource(system: number, fileName: number, outResource: number): number;
  _pico_getResourceName(system: number, resource: number, outName: number): number;
  _pico_createVoiceDefinition(system: number, voiceName: number): number;
  _pico_addResourceToVoiceDefinition(system: number, voiceName: number, resourceName: number): number;
  _pico_newEngine(system: number, voiceName: number, outEngine: number): number;
  _pico_putTextUtf8(engine: number, text: number, size: number, outBytesPut: number): number;
  _pico_getData(engine: number, buffer: number, size: number, outBytes: number, outType: number): number;
}

const utf8 = new TextEncoder();

/** The folder of Pico's lingware in this installation. */
function lingwareDir(): string {
  const dir = packageFile(join('assets', 'svox-pico'));
  if (dir === null) throw new Error('the SVOX Pico voices (assets/svox-pico/) are missing from this installation of snn-voice');
  return dir;
}

/** One voice on a module instance of its own: a Pico system holds a single engine. */
class VoiceEngine {
  /** Three words for out-parameters, then the output chunk. */
  private readonly scratch: number;
  private readonly engine: number;
  /** The module's memory right after the engine opened: see speak(). */
  private readonly fresh: Uint8Array;

  constructor(private readonly module: PicoModule, voice: PicoVoice) {
    const m = module;
    this.scratch = m._malloc(16 + CHUNK_BYTES);
    const check = (status: number, what: string): void => {
      if (status !== 0) throw new Error(`SVOX Pico: ${what} for voice ${voice} failed (status ${status})`);
    };
    check(m._pico_initialize(m._malloc(SYSTEM_BYTES), SYSTEM_BYTES, this.scratch), 'initialization');
    const system = m.HEAP32[this.scratch >> 2];
    const name = this.cString(voice);
    check(m._pico_createVoiceDefinition(system, name), 'defining the voice');
    const dir = lingwareDir();
    const resourceName = m._malloc(PICO_NAME_BYTES);
    for (const file of [`${voice}_ta.bin`, SIGNAL_FILES[voice]]) {
      m.FS.writeFile(`/${file}`, readFileSync(join(dir, file)));
      const path = this.cString(`/${file}`);
      check(m._pico_loadResource(system, path, this.scratch), `loading ${file}`);
      check(m._pico_getResourceName(system, m.HEAP32[this.scratch >> 2], resourceName), `naming ${file}`);
      check(m._pico_addResourceToVoiceDefinition(system, name, resourceName), `adding ${file}`);
      m._free(path);
    }
    m._free(resourceName);
    check(m._pico_newEngine(system, name, this.scratch), 'opening an engine');
    m._free(name);
    this.engine = m.HEAP32[this.scratch >> 2];
    this.fresh = m.HEAPU8.slice();
  }

  private cString(s: string): number {
    return this.copyIn(utf8.encode(`${s}\0`));
  }

  private copyIn(bytes: Uint8Array): number {
    const p = this.module._malloc(bytes.length);
    this.module.HEAPU8.set(bytes, p);
    return p;
  }

  /** Speaks Pico markup: 16-bit samples at 16 kHz. */
  speak(markup: string, what: string): Float32Array {
    const m = this.module;
    // Resetting the engine leaves state that reaches the samples (they differ by up to some 30 steps of
    // 16 bits on a second utterance of the same text), so the memory itself is restored: each utterance
    // then starts from the same bytes, wherever a run started or resumed.
    m.HEAPU8.set(this.fresh);
    const bytes = utf8.encode(`${markup}\0`);
    const text = this.copyIn(bytes);
    const [put, got, type, chunk] = [this.scratch, this.scratch + 4, this.scratch + 8, this.scratch + 16];
    const pieces: Int16Array[] = [];
    try {
      for (let sent = 0; sent < bytes.length; ) {
        const status = m._pico_putTextUtf8(this.engine, text + sent, Math.min(bytes.length - sent, 32767), put);
        if (status !== 0) throw new Error(`SVOX Pico: could not take the text "${what}" (status ${status})`);
        sent += m.HEAP16[put >> 1];
        let step: number;
        do {
          step = m._pico_getData(this.engine, chunk, CHUNK_BYTES, got, type);
          const n = m.HEAP16[got >> 1] >> 1;
          if (n > 0) pieces.push(m.HEAP16.slice(chunk >> 1, (chunk >> 1) + n));
        } while (step === STEP_BUSY);
      }
    } finally {
      m._free(text);
    }
    const samples = new Float32Array(pieces.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of pieces) for (let i = 0; i < p.length; i++) samples[at++] = p[i] / 32768;
    return samples;
  }
}

export class Pico {
  private readonly engines = new Map<PicoVoice, VoiceEngine>();

  private constructor(private readonly factory: () => Promise<PicoModule>) {}

  /** Loads the `@echogarden/svoxpico-wasm` package; a clear error tells how to install it when it is missing. */
  static async load(): Promise<Pico> {
    const specifier = '@echogarden/svoxpico-wasm';
    let factory: () => Promise<PicoModule>;
    try {
      factory = ((await import(specifier)) as { default: () => Promise<PicoModule> }).default;
    } catch (err) {
      throw new Error(
        `this data set asks for SVOX Pico voices, and Pico is not installed: run \`npm install ${specifier}\` ` +
          `(an optional dependency: \`npm install --omit=optional\` leaves it out) (${(err as Error).message})`,
      );
    }
    return new Pico(factory);
  }

  /** Opens `voices` (each on a module instance of its own, some 10 MB), before speak() asks for them. */
  async open(voices: readonly PicoVoice[]): Promise<void> {
    for (const voice of voices) {
      if (!(voice in SIGNAL_FILES)) throw new RangeError(`SVOX Pico: no voice "${voice}" (${Object.keys(SIGNAL_FILES).join(', ')})`);
      if (!this.engines.has(voice)) this.engines.set(voice, new VoiceEngine(await this.factory(), voice));
    }
  }

  /** Speaks one utterance in a voice open() opened: mono samples at 16 kHz. */
  speak(u: PicoUtterance): DecodedAudio {
    const engine = this.engines.get(u.voice);
    if (!engine) throw new RangeError(`SVOX Pico: the voice "${u.voice}" is not open (open: ${[...this.engines.keys()].join(', ') || 'none'})`);
    const markup = `<pitch level="${Math.round(u.pitch)}"><speed level="${Math.round(u.speed)}">${u.text}</speed></pitch>`;
    return { samples: engine.speak(markup, u.text), sampleRate: OUTPUT_RATE };
  }
}
