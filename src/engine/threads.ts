/**
 * Kernel calls on several threads over one shared WebAssembly.Memory. Each worker holds its own
 * instance of the threaded build over the same memory and parks on a control block (a
 * SharedArrayBuffer) with Atomics.wait; the calling thread writes a share of work into a worker's
 * block, wakes it with Atomics.notify, runs its own share and waits for the others. A message per call
 * would cost far more than the kernels it splits, and the API stays synchronous.
 *
 * Nothing here imports Node: the worker's program is source text, the same for worker_threads and Web
 * Workers but for its first lines, started by the host's spawner (engine/threads-node.ts,
 * engine/threads-web.ts). A browser's main thread may not block in Atomics.wait: there the calling
 * thread spins until its workers are done (the call is synchronous either way).
 */

/** One kernel call: an export's name and its arguments (offsets, sizes, scalars). */
export type KernelCall = readonly [name: string, ...args: number[]];
/** One thread's part of an operation: calls run in order. */
export type Share = readonly KernelCall[];

// Control block of one worker, in 32-bit words: the posted job number, the finished job number, the
// number of calls, an error flag, the error text's length, and the claim: -job while job j is
// unclaimed, then +job once the worker (or the calling thread, stealing it) has taken it. Then the
// calls from CALLS_AT (f64 slots: export index, argument count, arguments), then the error text.
const POSTED = 0;
const DONE = 1;
const COUNT = 2;
const FAILED = 3;
const TEXT_LENGTH = 4;
const CLAIM = 5;
const RESULT_AT = 32; // bytes: the share's last call's result, an f64
const CALLS_AT = 64; // bytes
const MAX_CALLS = 8;
const MAX_ARGS = 24; // the longest call, lifBackward, takes 21
const SLOTS = MAX_CALLS * (MAX_ARGS + 2);
const TEXT_AT = CALLS_AT + SLOTS * 8;
const TEXT_MAX = 512;
export const CONTROL_BYTES = TEXT_AT + TEXT_MAX * 2;
// A worker spins this many polls (a few hundred µs) before it parks: the calls of a training step
// follow each other within microseconds to a few hundred (JavaScript between kernels, small unsplit
// calls), and waking a parked thread costs about 80 µs. 2,000 polls let workers park inside a step.
const SPINS = 20000;

// How the worker program gets its first message and answers it: worker_threads' parent port, or the
// global scope of a Web Worker.
const PREAMBLES = {
  node: `const port = require('node:worker_threads').parentPort;
const onFirst = (start) => port.once('message', start);
const answer = (m) => port.postMessage(m);`,
  web: `const onFirst = (start) => { self.onmessage = (e) => { self.onmessage = null; start(e.data); }; };
const answer = (m) => self.postMessage(m);`,
};

/**
 * The worker's program, run as script text by the spawner (a worker_threads Worker with eval, so it
 * runs the same from src under tsx and from dist; a Web Worker from a blob URL). Its first message
 * brings { module, memory, control, names }; it answers 'ready' once instantiated, then serves jobs forever.
 */
export const workerSource = (host: keyof typeof PREAMBLES): string => `${PREAMBLES[host]}
onFirst(({ module, memory, control, names }) => {
  const read = (ptr) => {
    if (!ptr) return 'null';
    const units = new Uint16Array(memory.buffer, ptr, new Uint32Array(memory.buffer, ptr - 4, 1)[0] >>> 1);
    return String.fromCharCode(...units);
  };
  const abort = (msg, file, line, column) => { throw new Error('abort: ' + read(msg) + ' at ' + read(file) + ':' + line + ':' + column); };
  const exports = new WebAssembly.Instance(module, { env: { memory, abort } }).exports;
  const fns = names.map((n) => exports[n]);
  const words = new Int32Array(control);
  const slots = new Float64Array(control, ${CALLS_AT}, ${SLOTS});
  const text = new Uint16Array(control, ${TEXT_AT}, ${TEXT_MAX});
  const result = new Float64Array(control, ${RESULT_AT}, 1);
  answer('ready');
  let seen = 0;
  for (;;) {
    for (let i = 0; i < ${SPINS} && Atomics.load(words, ${POSTED}) === seen; i++);
    Atomics.wait(words, ${POSTED}, seen);
    seen = Atomics.load(words, ${POSTED});
    // The calling thread runs a share itself when its worker has not taken it by the time its own is done.
    if (Atomics.compareExchange(words, ${CLAIM}, -seen, seen) !== -seen) continue;
    result[0] = 0;
    try {
      for (let c = 0, at = 0; c < words[${COUNT}]; c++) {
        const argc = slots[at + 1];
        const args = [];
        for (let a = 0; a < argc; a++) args.push(slots[at + 2 + a]);
        result[0] = fns[slots[at]](...args) ?? 0;
        at += ${MAX_ARGS + 2};
      }
    } catch (err) {
      const msg = String(err && err.message || err).slice(0, ${TEXT_MAX});
      for (let i = 0; i < msg.length; i++) text[i] = msg.charCodeAt(i);
      words[${TEXT_LENGTH}] = msg.length;
      words[${FAILED}] = 1;
    }
    Atomics.store(words, ${DONE}, seen);
    Atomics.notify(words, ${DONE});
  }
});
`;

/** The worker side as the engine sees it: a control block, and a way to let the worker go. */
export interface WorkerHandle {
  readonly control: SharedArrayBuffer;
  terminate(): void;
}

/**
 * Starts `count` workers over one compiled module and shared memory (a WebAssembly.Module and
 * WebAssembly.Memory, typed unknown here: the public declarations must not name WebAssembly, see
 * util/host-types.ts; the spawner only hands them to its workers); supplied by the host
 * (engine/threads-node.ts).
 */
export type ThreadSpawner = (count: number, module: unknown, memory: unknown, names: string[]) => Promise<WorkerHandle[]>;

/** The threaded builds' bytes and a spawner, registered by a host that can run threads. */
export interface ThreadHost {
  bytes(flavor: 'relaxed' | 'simd'): Uint8Array;
  spawn: ThreadSpawner;
  /** Why threads cannot run here and now (a page that is not cross-origin isolated), or null when they can. */
  unavailable?(): string | null;
}

let host: ThreadHost | null = null;

/** Registers the host's threads (Node does at import of 'snn-voice/node'). */
export function setThreadHost(h: ThreadHost): void {
  host = h;
}

export function threadHost(threads: number): ThreadHost {
  if (!host)
    throw new Error(
      `engine threads: ${threads} threads need a thread host: import 'snn-voice/node' in Node, or 'snn-voice/web-threads' in a browser (a cross-origin isolated page)`,
    );
  return host;
}

/**
 * Whether this thread may block in Atomics.wait: not a browser's main thread, which throws a TypeError
 * there (checked before the value is compared, so asking costs nothing).
 */
const CAN_BLOCK = ((): boolean => {
  if (typeof SharedArrayBuffer !== 'function') return false;
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
})();

/** Runs a share on the calling thread; returns its last call's result (0 for none). */
export function runHere(exports: Record<string, (...args: number[]) => number>, share: Share): number {
  let result = 0;
  for (const [name, ...args] of share) result = exports[name](...args) ?? 0;
  return result;
}

/** The workers of one engine and the calling thread: shares[0] runs here, shares[i] on worker i - 1. */
export class ThreadPool {
  private readonly words: Int32Array[];
  private readonly slots: Float64Array[];
  private readonly index: Map<string, number>;
  private job = 0;

  constructor(
    private readonly workers: WorkerHandle[],
    names: string[],
    private readonly exports: Record<string, (...args: number[]) => number>,
  ) {
    this.words = workers.map((w) => new Int32Array(w.control));
    this.slots = workers.map((w) => new Float64Array(w.control, CALLS_AT, SLOTS));
    this.index = new Map(names.map((n, i) => [n, i]));
  }

  /** Threads in all, the calling one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs each share on its own thread and returns when all are done, with each share's last call's
   * result (0 for none); rethrows a worker's error.
   */
  run(shares: readonly Share[]): number[] {
    const results = shares.map(() => 0);
    if (shares.length > this.size) throw new Error(`ThreadPool.run: ${shares.length} shares for ${this.size} threads`);
    const job = ++this.job;
    for (let t = 1; t < shares.length; t++) this.post(t - 1, shares[t], job);
    let failure: unknown = null;
    try {
      results[0] = runHere(this.exports, shares[0]);
    } catch (err) {
      failure = err;
    }
    for (let t = 1; t < shares.length; t++) {
      const words = this.words[t - 1];
      // A worker that has not even taken its share (parked, or descheduled on a busy machine) would make
      // this thread wait for nothing: take the share back and run it here.
      if (Atomics.compareExchange(words, CLAIM, -job, job) === -job) {
        try {
          results[t] = runHere(this.exports, shares[t]);
        } catch (err) {
          failure ??= err;
        }
        continue;
      }
      // Spin first: a share that ends near this one's end would otherwise pay a wake-up here too.
      for (let i = 0; i < SPINS && Atomics.load(words, DONE) !== job; i++);
      for (let done = Atomics.load(words, DONE); done !== job; done = Atomics.load(words, DONE)) if (CAN_BLOCK) Atomics.wait(words, DONE, done);
      if (words[FAILED]) {
        words[FAILED] = 0;
        const text = String.fromCharCode(...new Uint16Array(this.workers[t - 1].control, TEXT_AT, words[TEXT_LENGTH]));
        failure ??= new Error(`thread ${t}: ${text}`);
      }
      results[t] = new Float64Array(this.workers[t - 1].control, RESULT_AT, 1)[0];
    }
    if (failure) throw failure;
    return results;
  }

  private post(worker: number, share: Share, job: number): void {
    if (share.length > MAX_CALLS) throw new Error(`ThreadPool: a share of ${share.length} calls (at most ${MAX_CALLS})`);
    const slots = this.slots[worker];
    share.forEach(([name, ...args], c) => {
      const fn = this.index.get(name);
      if (fn === undefined) throw new Error(`ThreadPool: no kernel '${name}'`);
      if (args.length > MAX_ARGS) throw new Error(`ThreadPool: ${name} with ${args.length} arguments (at most ${MAX_ARGS})`);
      const at = c * (MAX_ARGS + 2);
      slots[at] = fn;
      slots[at + 1] = args.length;
      slots.set(args, at + 2);
    });
    const words = this.words[worker];
    words[COUNT] = share.length;
    Atomics.store(words, CLAIM, -job);
    Atomics.store(words, POSTED, job);
    Atomics.notify(words, POSTED);
  }

  terminate(): void {
    for (const w of this.workers) w.terminate();
  }
}
