// A recognizer in a Web Worker (or anything that speaks postMessage), so inference never runs on the
// page's thread. The worker script is one line, bundled by the app:
//   import { serveRecognizer } from 'snn-voice'; serveRecognizer(self);
// and the page talks to it through connectRecognizer(), which looks like a Recognizer to listen().
import { getEngine, initEngine, type EngineOptions } from '../engine/engine.js';
import { deserializeModel } from '../models/serialize.js';
import type { Model } from '../models/types.js';
import { Recognizer, type RecognizerOptions, type WordEvent } from './recognizer.js';
import { ensureTextCodecs } from './text-codec.js';

/** The part of a Worker, DedicatedWorkerGlobalScope or MessagePort that the protocol uses. */
export interface MessageEndpoint {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener?(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** Recognizer options that can cross a thread: the callbacks stay on the page (connectRecognizer). */
export type PortableRecognizerOptions = Omit<RecognizerOptions, 'onWord' | 'onHop'> & {
  /** Post every hop's probabilities back too (for a live display); off by default. */
  hops?: boolean;
};

/** Page -> worker. */
export type RecognizerRequest =
  | { type: 'init'; model: ArrayBuffer | Uint8Array; options?: PortableRecognizerOptions; engine?: Pick<EngineOptions, 'flavor'> }
  | { type: 'audio'; samples: Float32Array; sampleRate: number }
  | { type: 'reset' }
  | { type: 'dispose' };

/** Worker -> page. */
export type RecognizerReply =
  | { type: 'ready'; classNames: string[]; windowSeconds: number; hopSeconds: number }
  | { type: 'word'; event: WordEvent }
  | { type: 'hop'; time: number; probabilities: number[] }
  | { type: 'error'; message: string };

/** The engine this realm already has, or a new one: a worker or worklet owns its realm. */
export async function ensureEngine(options: Pick<EngineOptions, 'flavor'> = {}): Promise<void> {
  try {
    getEngine();
  } catch {
    await initEngine(options);
  }
}

/** Builds a recognizer from a model file's bytes; the caller disposes both. */
export function recognizerFromBytes(bytes: ArrayBuffer | Uint8Array, options: RecognizerOptions, source = 'model file'): { recognizer: Recognizer; model: Model } {
  const { model, meta } = deserializeModel(bytes, source);
  try {
    return { recognizer: new Recognizer(model, meta, options), model };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Answers RecognizerRequests on `scope` (in a worker: `self`). Requests are handled strictly in order,
 * so audio sent while the engine and model are still loading waits for them instead of being lost.
 * Where TextDecoder is missing (a worklet's port may be served too) a UTF-8 one is installed.
 */
export function serveRecognizer(scope: MessageEndpoint): void {
  ensureTextCodecs();
  let loaded: { recognizer: Recognizer; model: Model } | null = null;
  let queue = Promise.resolve();
  const reply = (message: RecognizerReply) => scope.postMessage(message);
  const handle = async (request: RecognizerRequest): Promise<void> => {
    if (request.type === 'init') {
      await ensureEngine(request.engine);
      if (loaded) dispose();
      const { hops, ...options } = request.options ?? {};
      loaded = recognizerFromBytes(request.model, {
        ...options,
        onWord: (event) => reply({ type: 'word', event }),
        onHop: hops ? (time, p) => reply({ type: 'hop', time, probabilities: Array.from(p) }) : undefined,
      });
      const r = loaded.recognizer;
      reply({ type: 'ready', classNames: [...r.classNames], windowSeconds: r.windowSeconds, hopSeconds: r.hopSeconds });
    } else if (request.type === 'audio') {
      if (!loaded) throw new Error('audio before init');
      loaded.recognizer.push(request.samples, request.sampleRate);
    } else if (request.type === 'reset') loaded?.recognizer.reset();
    else if (request.type === 'dispose') dispose();
  };
  const dispose = () => {
    loaded?.recognizer.dispose();
    loaded?.model.dispose();
    loaded = null;
  };
  scope.addEventListener('message', (event) => {
    const request = event.data as RecognizerRequest;
    queue = queue.then(() => handle(request)).catch((e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
  });
}

/** The page's handle on a recognizer served by serveRecognizer(): push() matches Recognizer's for listen(). */
export interface RemoteRecognizer {
  readonly classNames: readonly string[];
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  /** Posts a copy of the samples; words arrive through onWord. */
  push(samples: Float32Array, sampleRate: number): void;
  reset(): void;
  /** Frees the worker's recognizer and model (the worker itself stays the caller's to terminate). */
  dispose(): void;
}

export interface ConnectOptions extends PortableRecognizerOptions {
  onWord?: (event: WordEvent) => void;
  /** Needs `hops: true`. */
  onHop?: (time: number, probabilities: number[]) => void;
  /** Errors the worker reports after it is ready (a bad audio chunk); the default rethrows nothing. */
  onError?: (message: string) => void;
  engine?: Pick<EngineOptions, 'flavor'>;
}

/** Sends the model to a worker running serveRecognizer() and resolves once it is ready to listen. */
export function connectRecognizer(worker: MessageEndpoint, model: ArrayBuffer | Uint8Array, options: ConnectOptions = {}): Promise<RemoteRecognizer> {
  const { onWord, onHop, onError, engine, ...portable } = options;
  return new Promise((resolve, reject) => {
    let ready = false;
    worker.addEventListener('message', (event) => {
      const reply = event.data as RecognizerReply;
      if (reply.type === 'word') onWord?.(reply.event);
      else if (reply.type === 'hop') onHop?.(reply.time, reply.probabilities);
      else if (reply.type === 'error') {
        if (ready) onError?.(reply.message);
        else reject(new Error(reply.message));
      } else if (reply.type === 'ready') {
        ready = true;
        const send = (request: RecognizerRequest) => worker.postMessage(request);
        resolve({
          classNames: reply.classNames,
          windowSeconds: reply.windowSeconds,
          hopSeconds: reply.hopSeconds,
          push: (samples, sampleRate) => send({ type: 'audio', samples: samples.slice(), sampleRate }),
          reset: () => send({ type: 'reset' }),
          dispose: () => send({ type: 'dispose' }),
        });
      }
    });
    worker.postMessage({ type: 'init', model, options: portable, engine } satisfies RecognizerRequest);
  });
}
