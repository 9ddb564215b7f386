// The live PyTorch baseline: finds a Python that imports torch and drives bench/pytorch/zoo.py, one
// JSON object a line each way (the protocol is described at the top of zoo.py). PyTorch is not a
// dependency of the package: without it the suites that use it say the PyTorch column is absent.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How to get the baseline, for the line that says it is absent. */
export const HOW_TO_GET_PYTORCH =
  'run with --pytorch and a Python that imports torch (Debian: apt-get install python3-torch, then the system python3 has it; or --python EXE)';

export interface TorchInfo {
  torch: string;
  threads: number;
  interop_threads: number;
  /** torch.__config__.show()'s BLAS_INFO: what torch was built against. */
  blas_info: string;
  /** The BLAS library loaded in the process and what it is. */
  blas: string;
  onednn: string;
  cpu_capability: string;
  python: string;
  /** glibc malloc's thresholds in the process, by environment variable ('default' where unset). */
  malloc: Record<string, string>;
}

/** The script next to this file (bench/) or, from the compiled suite (dist/bench), in the repository's bench/. */
function zooScript(): string {
  for (const rel of ['./pytorch/zoo.py', '../../bench/pytorch/zoo.py']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('bench/pytorch/zoo.py is missing: run the benchmarks from a clone of the repository');
}

/**
 * glibc's malloc set up as PyTorch is run for speed (jemalloc and tcmalloc behave so): every block from
 * the heap (no mmap) and the heap never trimmed, so a training step reuses the pages of the one before,
 * as our engine reuses its WebAssembly memory. With the defaults each step's large tensors were mapped,
 * faulted in page by page and unmapped: Hjh's SNN T=5 step took 246-800 ms over three runs of the same
 * script, 142-146 ms with these (docs/bench.md). A value the caller set is kept.
 */
const TORCH_MALLOC = { MALLOC_MMAP_THRESHOLD_: String(2 ** 32), MALLOC_TRIM_THRESHOLD_: String(2 ** 32) } as const;

/** `threads` for every library torch may use; the script passes OMP_NUM_THREADS to torch.set_num_threads. */
const env = (threads = 1) => {
  const n = String(threads);
  return { ...TORCH_MALLOC, ...process.env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, PYTHONUNBUFFERED: '1' };
};

/**
 * The interpreter to run PyTorch with: `given` if it imports torch, else the first of python3 on PATH
 * and the system's /usr/bin/python3 (where Debian's python3-torch goes) that does. Null with the
 * reason when none does.
 */
export function findTorchPython(given?: string): { python: string } | { python: null; reason: string } {
  const candidates = given ? [given] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch'], { env: env(), encoding: 'utf8', timeout: 120_000 });
    if (r.status === 0) return { python };
    const why = r.error ? (r.error as NodeJS.ErrnoException).code ?? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`);
    tried.push(`${python}: ${why}`);
  }
  return { python: null, reason: `no Python here imports torch (${tried.join('; ')})` };
}

/** The interpreter for a suite's PyTorch column, or null after printing the line that says the column is absent and why. */
export function torchPythonFor(options: { pytorch?: boolean; python?: string }): string | null {
  if (!options.pytorch) {
    console.log(`PyTorch column absent: not measured in this run; ${HOW_TO_GET_PYTORCH}.`);
    return null;
  }
  const found = findTorchPython(options.python);
  if (found.python === null) console.log(`PyTorch column absent: ${found.reason}; ${HOW_TO_GET_PYTORCH}.`);
  return found.python;
}

/** A convolution's geometry as conv.bench.ts gives it: NCHW input, output channels, taps, stride, padding. */
export interface ConvGeometry {
  x: readonly number[];
  co: number;
  k: readonly number[];
  stride: readonly number[];
  padding: readonly number[];
}

/** A zoo.py process: one per model, so its peak RSS is that model's. */
export class TorchWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }> = [];
  private stderr = '';
  private exited: Error | null = null;

  constructor(python: string, threads = 1) {
    this.child = spawn(python, [zooScript()], { env: env(threads), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8').on('data', (s: string) => (this.stderr = (this.stderr + s).slice(-4000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      try {
        w.resolve(JSON.parse(line) as Record<string, unknown>);
      } catch {
        w.reject(new Error(`zoo.py answered ${JSON.stringify(line.slice(0, 200))}`));
      }
    });
    const fail = (e: Error) => {
      this.exited = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.child.on('error', fail);
    this.child.on('exit', (code, signal) => {
      const tail = this.stderr.trim().split('\n').slice(-3).join(' | ');
      fail(new Error(`zoo.py exited (${signal ?? `code ${code}`})${tail ? `: ${tail}` : ''}`));
    });
  }

  /** Sends one command; resolves with the answer's fields, rejects with zoo.py's error. */
  async request<T = Record<string, unknown>>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    if (this.exited) throw this.exited;
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.child.stdin.write(JSON.stringify({ cmd, ...args }) + '\n');
    const a = await answer;
    if (a.ok !== true) throw new Error(`zoo.py ${cmd}: ${String(a.error)}`);
    return a as T;
  }

  info(): Promise<TorchInfo> {
    return this.request<TorchInfo>('info');
  }

  /** Builds the model; its trainable parameter count and the layers that ran once per batch (spiking). */
  build(model: string, spiking: boolean, steps: number, batch: number, classes: number): Promise<{ params: number; once: string[] }> {
    return this.request('build', { model, spiking, steps, batch, classes });
  }

  /** Seconds of each of up to `steps` training steps, stopping after `budget` seconds (at least 3). */
  async time(steps: number, budget: number, warmup: number): Promise<number[]> {
    return (await this.request<{ seconds: number[] }>('time', { steps, budget, warmup })).seconds;
  }

  /** Median seconds of one call of the convolution's forward, input gradient and weight gradient, each alone. */
  conv(geometry: ConvGeometry, budget: number): Promise<{ forward: number; dx: number; dw: number }> {
    return this.request('conv', { ...geometry, budget });
  }

  /** Peak RSS of the process minus its RSS after `import torch`, in bytes. */
  async peakBytes(): Promise<number> {
    return (await this.request<{ peak_rss_delta: number }>('memory')).peak_rss_delta;
  }

  close(): void {
    if (this.exited) return;
    this.child.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
    const timer = setTimeout(() => this.child.kill(), 5000);
    this.child.once('exit', () => clearTimeout(timer));
  }
}
