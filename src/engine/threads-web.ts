// Threads in browsers: Web Workers running the worker program of engine/threads.ts, and the threaded
// builds (imported here only, so a page that does not ask for threads does not carry them). Imported
// for its effect by src/web-threads.ts ('snn-voice/web-threads'). A WebAssembly memory can be shared
// only in a cross-origin isolated page (served with Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp); elsewhere createEngine({ threads }) runs one thread.
import { decodeBase64 } from './engine.js';
import { CONTROL_BYTES, setThreadHost, workerSource, type WorkerHandle } from './threads.js';
import { relaxedThreadsWasmBase64, simdThreadsWasmBase64 } from './wasm-binaries-threads.js';

/** Why this page cannot run engine threads, or null when it can. */
export function webThreadsUnavailable(): string | null {
  const g = globalThis as { Worker?: unknown; SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; Blob?: unknown; URL?: { createObjectURL?: unknown } };
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') return 'this context cannot start Web Workers';
  if (typeof g.SharedArrayBuffer !== 'function' || g.crossOriginIsolated !== true)
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  return null;
}

let url: string | null = null;

async function spawn(count: number, module: unknown, memory: unknown, names: string[]): Promise<WorkerHandle[]> {
  url ??= URL.createObjectURL(new Blob([workerSource('web')], { type: 'text/javascript' }));
  const start = (): Promise<WorkerHandle> => {
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const worker = new Worker(url!);
    return new Promise((resolve, reject) => {
      worker.onerror = (e) => reject(new Error(`engine thread: ${e.message || 'the worker failed to start'}`));
      worker.onmessage = () => {
        worker.onmessage = worker.onerror = null;
        resolve({ control, terminate: () => worker.terminate() });
      };
      worker.postMessage({ module, memory, control, names });
    });
  };
  return Promise.all(Array.from({ length: count }, start));
}

setThreadHost({
  bytes: (flavor) => decodeBase64(flavor === 'relaxed' ? relaxedThreadsWasmBase64 : simdThreadsWasmBase64),
  spawn,
  unavailable: webThreadsUnavailable,
});
