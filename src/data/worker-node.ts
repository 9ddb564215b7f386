// Worker threads running one of this package's modules, from compiled JavaScript or from the TypeScript
// sources (tsx, vitest): a pool that hands them tasks, and the loop a worker module answers them with.
// tsx's loader does not carry over into worker threads, so from sources a worker first registers it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, parentPort, workerData } from 'node:worker_threads';

/** A task's outcome, as a worker posts it. */
type Reply<R> = { result: R } | { error: string };

interface Job<T, R> {
  task: T;
  resolve: (result: R) => void;
  reject: (e: Error) => void;
}

/**
 * `count` worker threads of the module `name` (beside `base`, the caller's import.meta.url), each given
 * `data` at start and one task at a time; tasks wait in order for a free worker. A task's error rejects
 * that task only; a worker that dies rejects every task, as its own task cannot finish.
 */
export class WorkerPool<T, R> {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job<T, R>[] = [];
  private readonly running = new Map<Worker, Job<T, R>>();
  private failure: Error | null = null;

  constructor(base: string, name: string, data: unknown, count: number) {
    for (let w = 0; w < count; w++) {
      const worker = startWorker(base, name, data);
      worker.on('message', (m: Reply<R>) => {
        const job = this.running.get(worker);
        this.running.delete(worker);
        if ('error' in m) job?.reject(new Error(m.error));
        else job?.resolve(m.result);
        this.dispatch(worker);
      });
      worker.on('error', (e) => this.fail(e));
      // Workers never end on their own, so any exit before close() is a failure.
      worker.on('exit', (code) => this.fail(new Error(`worker ${name} exited with code ${code}`)));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  run(task: T): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ task, resolve, reject });
      const worker = this.idle.pop();
      if (worker) this.dispatch(worker);
    });
  }

  /** Stops the workers; tasks not yet answered are rejected. */
  async close(): Promise<void> {
    this.fail(new Error('worker pool closed'));
    await Promise.allSettled(this.workers.map((w) => w.terminate()));
  }

  private dispatch(worker: Worker): void {
    const job = this.queue.shift();
    if (!job) {
      this.idle.push(worker);
      return;
    }
    this.running.set(worker, job);
    worker.postMessage(job.task);
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const job of [...this.running.values(), ...this.queue]) job.reject(e);
    this.running.clear();
    this.queue.length = 0;
  }
}

/**
 * A pool worker's body: `setup` runs once on the pool's data, and the handler it gives answers each task.
 * A failed setup fails every task with its error. `transfer` names buffers of a result to move rather
 * than copy.
 */
export function serveTasks<D, T, R>(setup: (data: D) => Promise<(task: T) => Promise<R>>, transfer: (result: R) => ArrayBuffer[] = () => []): void {
  const port = parentPort!;
  const handler = setup(workerData as D);
  // Observed by each task; this keeps a failed setup from counting as "unhandled" before the first.
  handler.catch(() => {});
  port.on('message', (task: T) => {
    handler
      .then(async (handle) => {
        const result = await handle(task);
        port.postMessage({ result } satisfies Reply<R>, transfer(result));
      })
      .catch((e: Error) => port.postMessage({ error: e.message } satisfies Reply<R>));
  });
}

function startWorker(base: string, name: string, data: unknown): Worker {
  const fromSource = base.endsWith('.ts');
  const url = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, base);
  return new Worker(fromSource ? tsxBootstrap(url) : url, { workerData: data });
}

/** A module that registers tsx's ESM loader and then imports `url`. */
function tsxBootstrap(url: URL): URL {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(url.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
