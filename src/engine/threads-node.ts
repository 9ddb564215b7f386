// Threads in Node: worker_threads running the worker program of engine/threads.ts, and the threaded
// builds (imported here only, so browser bundles do not carry them). Imported for its effect by
// src/node.ts, which makes createEngine({ threads }) work.
import { Worker } from 'node:worker_threads';
import { CONTROL_BYTES, setThreadHost, workerSource, type WorkerHandle } from './threads.js';
import { decodeBase64 } from './engine.js';
import { relaxedThreadsWasmBase64, simdThreadsWasmBase64 } from './wasm-binaries-threads.js';

const SOURCE = workerSource('node');

async function spawn(count: number, module: unknown, memory: unknown, names: string[]): Promise<WorkerHandle[]> {
  const start = (): Promise<WorkerHandle> => {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const worker = new Worker(SOURCE, { eval: true });
    // A parked worker must not keep the process alive once the caller is done.
    worker.unref();
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve({ control, terminate: () => void worker.terminate() }));
      worker.postMessage({ module, memory, control, names });
    });
  };
  return Promise.all(Array.from({ length: count }, start));
}

setThreadHost({
  bytes: (flavor) => decodeBase64(flavor === 'relaxed' ? relaxedThreadsWasmBase64 : simdThreadsWasmBase64),
  spawn,
});
