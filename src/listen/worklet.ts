// Audio-thread code. Two processors:
// - FORWARDER_SOURCE: a few lines that post the microphone's samples to the page in chunks; listen()
//   loads it from a Blob URL, so apps need no extra file for the usual setup (recognizer on the page
//   or in a Web Worker).
// - registerRecognizerProcessor(): the whole recognizer on the audio thread, for apps that bundle their
//   own worklet module (`import { registerRecognizerProcessor } from 'snn-voice'; registerRecognizerProcessor();`).
//   AudioWorkletGlobalScope has no TextDecoder, TextEncoder, atob, fetch or timers; the engine loads
//   without them and the model file's header is decoded by text-codec.ts.
import { ensureTextCodecs } from './text-codec.js';
import type { PortableRecognizerOptions, RecognizerReply } from './worker.js';
import { ensureEngine, recognizerFromBytes } from './worker.js';
import type { Recognizer } from './recognizer.js';
import type { Model } from '../models/types.js';

/** The forwarder's registered name. */
export const FORWARDER_NAME = 'snn-voice-forwarder';

/**
 * The forwarder's module source. Input channels are averaged to mono; every `chunkSize` samples (its
 * processorOptions, default 2048) are posted to the page as a transferred Float32Array.
 */
export const FORWARDER_SOURCE = `
class SnnVoiceForwarder extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = (options && options.processorOptions && options.processorOptions.chunkSize) || 2048;
    this.buffer = new Float32Array(this.size);
    this.filled = 0;
    this.running = true;
    this.port.onmessage = (e) => { if (e.data === 'stop') this.running = false; };
  }
  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      const n = channels[0].length, k = channels.length;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let c = 0; c < k; c++) v += channels[c][i];
        this.buffer[this.filled++] = v / k;
        if (this.filled === this.size) {
          this.port.postMessage(this.buffer, [this.buffer.buffer]);
          this.buffer = new Float32Array(this.size);
          this.filled = 0;
        }
      }
    }
    return this.running;
  }
}
registerProcessor(${JSON.stringify(FORWARDER_NAME)}, SnnVoiceForwarder);
`;

/** What AudioWorkletGlobalScope provides, declared here because TypeScript's DOM library does not. */
interface WorkletScope {
  AudioWorkletProcessor: new () => { readonly port: MessagePort };
  registerProcessor(name: string, processor: unknown): void;
  sampleRate: number;
}

/** processorOptions of the recognizer processor (AudioWorkletNode's options.processorOptions). */
export interface RecognizerProcessorOptions {
  /** The model file's bytes (structured-cloned into the audio thread). */
  model: ArrayBuffer | Uint8Array;
  options?: PortableRecognizerOptions;
}

/**
 * Registers (in AudioWorkletGlobalScope) a processor that runs a Recognizer on its input and posts
 * RecognizerReply messages ('ready', 'word', 'hop' with options.hops, 'error') on its port. Audio that
 * arrives while the engine and model load is dropped: the recognizer starts listening when 'ready' is
 * posted. A model's forward pass can take longer than a render quantum; it delays the audio thread,
 * so prefer a small CNN here, or the forwarder and a Web Worker for larger models.
 */
export function registerRecognizerProcessor(name = 'snn-voice-recognizer'): void {
  const scope = globalThis as unknown as WorkletScope;
  if (typeof scope.registerProcessor !== 'function' || typeof scope.AudioWorkletProcessor !== 'function')
    throw new Error('registerRecognizerProcessor: call it in an AudioWorklet module (no registerProcessor here)');
  ensureTextCodecs();
  class RecognizerProcessor extends scope.AudioWorkletProcessor {
    private loaded: { recognizer: Recognizer; model: Model } | null = null;
    private mono = new Float32Array(128);
    private running = true;

    constructor(init: { processorOptions: RecognizerProcessorOptions }) {
      super();
      const { model, options = {} } = init.processorOptions;
      const reply = (message: RecognizerReply) => this.port.postMessage(message);
      const { hops, ...rest } = options;
      this.port.onmessage = (e: MessageEvent) => {
        if (e.data === 'stop') this.stop();
        else if (e.data === 'reset') this.loaded?.recognizer.reset();
      };
      ensureEngine()
        .then(() => {
          if (!this.running) return;
          this.loaded = recognizerFromBytes(model, {
            ...rest,
            onWord: (event) => reply({ type: 'word', event }),
            onHop: hops ? (time, p) => reply({ type: 'hop', time, probabilities: Array.from(p) }) : undefined,
          });
          const r = this.loaded.recognizer;
          reply({ type: 'ready', classNames: [...r.classNames], windowSeconds: r.windowSeconds, hopSeconds: r.hopSeconds });
        })
        .catch((e: unknown) => reply({ type: 'error', message: e instanceof Error ? e.message : String(e) }));
    }

    process(inputs: Float32Array[][]): boolean {
      const channels = inputs[0];
      if (this.loaded && channels && channels.length > 0) {
        const n = channels[0].length, k = channels.length;
        if (this.mono.length < n) this.mono = new Float32Array(n);
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let c = 0; c < k; c++) v += channels[c][i];
          this.mono[i] = v / k;
        }
        try {
          this.loaded.recognizer.push(this.mono.subarray(0, n), scope.sampleRate);
        } catch (e) {
          this.port.postMessage({ type: 'error', message: (e as Error).message } satisfies RecognizerReply);
        }
      }
      return this.running;
    }

    private stop(): void {
      this.running = false;
      this.loaded?.recognizer.dispose();
      this.loaded?.model.dispose();
      this.loaded = null;
    }
  }
  scope.registerProcessor(name, RecognizerProcessor);
}
