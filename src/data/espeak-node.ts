// eSpeak NG (the `espeak-ng` package: the espeak-ng command line program compiled to WebAssembly) as a
// synchronous speak(text) -> samples function. The package is GPL-3.0 and a development dependency,
// so it is imported only here, dynamically, and only when synthesizing.
//
// How the package is driven: it exports an Emscripten module factory whose main() is the espeak-ng CLI.
// main() is called repeatedly on one instance, with argv written onto the WASM stack (~20 ms per word).
// Quirks that shape this:
// - getopt's `optind` is a global that main() never resets, so each call pads argv with as many dummy
//   arguments as the previous call consumed options;
// - each call leaks memory (the instance traps after ~120 calls), and the output depends on the calls
//   before (internal random state), so callers open a Session for each fixed, short sequence of
//   utterances. A Session starts from a copy of the instance's memory taken before its first call:
//   restoring it (~5 ms) undoes the leak and the state, and gives the same bytes as a new instance (~0.2 s);
// - eSpeak seeds its random numbers from the clock, so the instance gets a frozen clock.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeWav } from '../audio/wav.js';

/** 2020-01-01T00:00:00Z, what eSpeak's clock reads. */
const FROZEN_CLOCK_MS = 1577836800000;

/** Utterances a Session may speak before its memory runs out; kept well below the observed ~120. */
export const SESSION_LIMIT = 48;

export interface Utterance {
  text: string;
  /** eSpeak voice with optional variant, e.g. `en-gb-scotland+m3`. */
  voice: string;
  /** Words per minute (80..450). */
  rate: number;
  /** Base pitch 0..99. */
  pitch: number;
  /** Amplitude 0..200 (100 is normal). */
  amplitude: number;
}

interface EmscriptenFS {
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
  lookupPath(path: string, opts?: Record<string, unknown>): unknown;
}
interface EmscriptenModule {
  _main(argc: number, argv: number): number;
  HEAPU8: Uint8Array;
  FS: EmscriptenFS;
}

/** Where the package's embedded data lives in its virtual file system (read-only for eSpeak). */
const DATA_DIR = '/usr/local/share/espeak-ng-data/';

/** eSpeak lists every voice file (~800 path lookups, a third of its time) on each call; the data files
 *  never change, so their lookups, including failed ones, are remembered. */
function memoizeDataLookups(fs: EmscriptenFS): void {
  const lookup = fs.lookupPath.bind(fs);
  const known = new Map<string, { value: unknown } | { error: unknown }>();
  fs.lookupPath = (path, opts) => {
    if (!path.startsWith(DATA_DIR)) return lookup(path, opts);
    const key = `${path}\0${JSON.stringify(opts ?? {})}`;
    let hit = known.get(key);
    if (!hit) {
      try {
        hit = { value: lookup(path, opts) };
      } catch (error) {
        hit = { error };
      }
      known.set(key, hit);
    }
    if ('error' in hit) throw hit.error;
    return hit.value;
  };
}
interface WasmExports {
  stackSave(): number;
  stackRestore(sp: number): void;
  stackAlloc(bytes: number): number;
}
type Factory = (module: Record<string, unknown>) => Promise<EmscriptenModule>;

/** A loaded eSpeak NG instance; open a Session to speak. */
export class Espeak {
  private generation = 0;

  private constructor(
    private readonly module: EmscriptenModule,
    private readonly exports: WasmExports,
    private readonly pristine: Uint8Array,
    private readonly errors: string[],
  ) {}

  /** Loads the `espeak-ng` package; a clear error tells how to install it when it is missing. */
  static async load(): Promise<Espeak> {
    // A variable specifier keeps bundlers and the type checker from pulling the GPL package into builds.
    const specifier = 'espeak-ng';
    let factory: Factory;
    let wasmPath: string;
    try {
      factory = ((await import(specifier)) as { default: Factory }).default;
      wasmPath = join(dirname(createRequire(import.meta.url).resolve(specifier)), 'espeak-ng.wasm');
    } catch (e) {
      throw new Error(
        `the built-in data set is synthesized with eSpeak NG, which is not installed: run \`npm install espeak-ng\` ` +
        `(GPL-3.0; used only to generate data) and try again (${(e as Error).message})`,
      );
    }
    const wasm = await WebAssembly.compile(await readFile(wasmPath));
    let exports: WasmExports | undefined;
    const errors: string[] = [];
    const module = await factory({
      noInitialRun: true,
      arguments: [],
      print: () => {},
      printErr: (line: string) => errors.push(line),
      instantiateWasm: (imports: WebAssembly.Imports, done: (instance: WebAssembly.Instance) => void) => {
        const env = { ...(imports.env as Record<string, unknown>), emscripten_date_now: () => FROZEN_CLOCK_MS, emscripten_get_now: () => 0 };
        WebAssembly.instantiate(wasm, { ...imports, env } as WebAssembly.Imports).then((instance) => {
          exports = instance.exports as unknown as WasmExports;
          done(instance);
        });
        return {};
      },
    });
    if (!exports) throw new Error('espeak-ng: the WebAssembly instance did not start');
    memoizeDataLookups(module.FS);
    return new Espeak(module, exports, module.HEAPU8.slice(), errors);
  }

  /** A fresh start: the output of a session depends only on the utterances spoken in it. Opening a
   *  session ends the previous one. */
  session(): Session {
    this.module.HEAPU8.set(this.pristine);
    const generation = ++this.generation;
    return new Session(this.module, this.exports, this.errors, () => generation === this.generation);
  }
}

export class Session {
  private optind = 1;
  private spoken = 0;

  constructor(
    private readonly module: EmscriptenModule,
    private readonly exports: WasmExports,
    private readonly errors: string[],
    private readonly current: () => boolean,
  ) {}

  /** Speaks one utterance; mono samples at eSpeak's rate (22,050 Hz). */
  speak(u: Utterance): { samples: Float32Array; sampleRate: number } {
    if (!this.current()) throw new Error('espeak-ng: this session was ended by opening another');
    if (this.spoken >= SESSION_LIMIT) throw new Error(`espeak-ng: a session speaks at most ${SESSION_LIMIT} utterances; open a new one`);
    if (!/^[A-Za-z0-9+_-]+$/.test(u.voice)) throw new Error(`espeak-ng: bad voice name "${u.voice}"`);
    const out = 'utterance.wav';
    const args = [
      'espeak-ng', ...Array<string>(this.optind - 1).fill('-q'),
      '-v', u.voice, '-s', String(Math.round(u.rate)), '-p', String(Math.round(u.pitch)),
      '-a', String(Math.round(u.amplitude)), '-w', out, u.text,
    ];
    const { module, exports } = this;
    const sp = exports.stackSave();
    const exitCode = process.exitCode;
    this.errors.length = 0;
    try {
      const encoder = new TextEncoder();
      const pointers = args.map((a) => {
        const bytes = encoder.encode(`${a}\0`);
        const p = exports.stackAlloc(bytes.length);
        module.HEAPU8.set(bytes, p);
        return p;
      });
      const argv = exports.stackAlloc((pointers.length + 1) * 4);
      const view = new DataView(module.HEAPU8.buffer);
      pointers.forEach((p, i) => view.setUint32(argv + 4 * i, p, true));
      view.setUint32(argv + 4 * pointers.length, 0, true);
      const status = module._main(args.length, argv);
      if (status !== 0) throw new Error(`exit status ${status}`);
    } catch (e) {
      throw new Error(`espeak-ng failed on "${u.text}" with voice ${u.voice}: ${this.errors.join(' ') || (e as Error).message}`);
    } finally {
      exports.stackRestore(sp);
      // Emscripten's exit() sets the host's exit code; a failed utterance must not fail the process.
      process.exitCode = exitCode;
    }
    this.spoken++;
    // getopt permutes the text to the end, so the options consumed are all arguments but the last.
    this.optind = args.length - 1;
    if (this.errors.length) throw new Error(`espeak-ng on "${u.text}" with voice ${u.voice}: ${this.errors.join(' ')}`);
    const wav = module.FS.readFile(out);
    module.FS.unlink(out);
    return decodeWav(wav, `espeak-ng "${u.text}" (${u.voice})`);
  }
}
