// Streaming keyword spotting, as @tensorflow-models/speech-commands does it: audio of any chunk size and
// sample rate goes in; every hop (window * (1 - overlapFactor)) the last second is classified, the class
// probabilities are averaged over the last few hops, and a word event comes out when a keyword's
// averaged probability passes the threshold, followed by a quiet time in which nothing fires. All state
// is in the object; the model's input tensor is allocated once, so memory does not grow while listening.
import { StreamResampler } from '../audio/resample.js';
import { extractFeatures } from '../audio/features.js';
import type { FeatureSettings } from '../audio/settings.js';
import { Tensor } from '../engine/tensor.js';
import type { Model } from '../models/types.js';
import { FeatureStream } from './feature-stream.js';

export interface RecognizerOptions {
  /** Share of a window that the next one overlaps, 0 <= f < 1. Default 0.9: a 100 ms hop for 1 s windows.
   *  Log-mel hops are rounded to whole feature frames (0.9 gives 13 frames, 97.5 ms). */
  overlapFactor?: number;
  /** A keyword fires when its averaged probability exceeds this. Default 0.8. */
  probabilityThreshold?: number;
  /** Milliseconds of audio after a detection in which no other word fires. Default 1000. */
  suppressionTimeMillis?: number;
  /** Hops whose probabilities are averaged before thresholding (1 = no smoothing). Default 3. */
  smoothing?: number;
  /** Called with each word event, as it is detected (push() also returns them). */
  onWord?: (event: WordEvent) => void;
  /** Called after every hop with its time and the averaged probabilities (a view: copy to keep). */
  onHop?: (time: number, probabilities: Float64Array) => void;
}

export interface WordEvent {
  word: string;
  /** Seconds of audio from the start of the stream to the end of the window that fired. */
  time: number;
  /** The word's averaged probability. */
  score: number;
  /** Averaged probabilities of every class, in classNames order. */
  probabilities: number[];
}

/** What a recognizer needs to know of a model file: ModelMeta has both. */
export interface RecognizerMeta {
  classNames: readonly string[];
  features: FeatureSettings;
}

/** Classes that are not words and never fire: `_silence_`, `_unknown_`, and any other `_name_`. */
export const isKeyword = (name: string): boolean => !(name.length > 1 && name.startsWith('_') && name.endsWith('_'));

/** Probabilities from logits, as plain numbers (max-subtracted, so large logits cannot overflow). */
export function softmax(logits: ArrayLike<number>): number[] {
  return Array.from(softmaxInto(logits, new Float64Array(logits.length)));
}

function softmaxInto(logits: ArrayLike<number>, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i] - max);
  for (let i = 0; i < logits.length; i++) out[i] /= sum;
  return out;
}

function option(name: string, value: number | undefined, fallback: number, ok: (v: number) => boolean, rule: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !ok(v)) throw new RangeError(`Recognizer: ${name} must be ${rule}, got ${String(value)}`);
  return v;
}

export class Recognizer {
  readonly classNames: readonly string[];
  readonly features: FeatureSettings;
  /** Seconds of audio per classified window, and between windows. */
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly probabilityThreshold: number;
  readonly suppressionTimeMillis: number;
  readonly smoothing: number;
  private readonly stream: FeatureStream;
  private resampler: StreamResampler | null = null;
  private readonly input: Tensor;
  private readonly keyword: boolean[];
  /** The last `smoothing` hops' probabilities, a ring of rows. */
  private readonly recent: Float64Array;
  private readonly current: Float64Array;
  private readonly averaged: Float64Array;
  private hops = 0;
  private lastFired = -Infinity;
  private events: WordEvent[] = [];
  private disposed = false;

  /** The model stays the caller's: dispose() frees only what the recognizer allocated. */
  constructor(
    readonly model: Model,
    meta: RecognizerMeta,
    private readonly options: RecognizerOptions = {},
  ) {
    this.classNames = [...meta.classNames];
    this.features = meta.features;
    if (this.classNames.length !== model.classes)
      throw new RangeError(`Recognizer: ${this.classNames.length} class names for a model of ${model.classes} classes`);
    const overlap = option('overlapFactor', options.overlapFactor, 0.9, (v) => v >= 0 && v < 1, 'in [0, 1)');
    this.probabilityThreshold = option('probabilityThreshold', options.probabilityThreshold, 0.8, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.suppressionTimeMillis = option('suppressionTimeMillis', options.suppressionTimeMillis, 1000, (v) => v >= 0, '>= 0');
    this.smoothing = option('smoothing', options.smoothing, 3, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    this.stream = new FeatureStream(meta.features, meta.features.length * (1 - overlap));
    const rate = meta.features.sampleRate;
    this.windowSeconds = this.stream.window / rate;
    this.hopSeconds = this.stream.hop / rate;
    const shape = [1, ...model.inputShape];
    if (this.stream.size !== shape.reduce((a, b) => a * b, 1))
      throw new RangeError(`Recognizer: the features have ${this.stream.size} values, the model takes [${model.inputShape.join(',')}]`);
    this.keyword = this.classNames.map(isKeyword);
    const n = this.classNames.length;
    this.recent = new Float64Array(this.smoothing * n);
    this.current = new Float64Array(n);
    this.averaged = new Float64Array(n);
    model.eval();
    this.input = Tensor.empty(shape);
  }

  /** Seconds of audio consumed so far, at the model's feature rate. */
  get time(): number {
    return this.stream.position / this.features.sampleRate;
  }

  /** The averaged probabilities of the last hop (zeros before the first), in classNames order. */
  get probabilities(): number[] {
    return Array.from(this.averaged);
  }

  /**
   * Takes a chunk of mono audio (any length, any rate; a change of rate continues the stream with a new
   * resampler) and classifies every window it completes. Returns the words detected in this chunk.
   */
  push(samples: Float32Array, sampleRate: number): WordEvent[] {
    this.check();
    for (let i = 0; i < samples.length; i++)
      if (!Number.isFinite(samples[i])) throw new RangeError(`Recognizer.push: sample ${i} is ${samples[i]}`);
    if (!this.resampler || this.resampler.from !== sampleRate) this.resampler = new StreamResampler(sampleRate, this.features.sampleRate);
    this.events = [];
    this.stream.push(this.resampler.push(samples), (features, end) => this.hop(features, end));
    return this.events;
  }

  /**
   * Class probabilities (softmax of the logits) of one clip, as plain numbers in classNames order: the
   * offline path (extractFeatures), for a clip that is not part of the stream. Uses the recognizer's
   * input tensor, so nothing is allocated on the engine and nothing needs freeing.
   */
  classify(samples: Float32Array, sampleRate: number): number[] {
    this.check();
    this.input.f32.set(extractFeatures(samples, sampleRate, this.features));
    return softmax(this.model.forward(this.input).f32);
  }

  /** Forgets the stream and the detections: the next push starts again at time zero. */
  reset(): void {
    this.stream.reset();
    this.resampler = null;
    this.recent.fill(0);
    this.averaged.fill(0);
    this.hops = 0;
    this.lastFired = -Infinity;
  }

  /** Frees the input tensor. The model is not disposed: it belongs to the caller. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.input.free();
  }

  private hop(features: Float32Array, end: number): void {
    this.input.f32.set(features);
    softmaxInto(this.model.forward(this.input).f32, this.current);
    const n = this.classNames.length, row = (this.hops % this.smoothing) * n;
    this.hops++;
    const count = Math.min(this.hops, this.smoothing);
    this.recent.set(this.current, row);
    let best = -1;
    for (let c = 0; c < n; c++) {
      // Rows not yet written are zeros (a fresh or reset ring), so the sum over all rows is the sum over
      // the hops seen; summed afresh each hop, as a running sum would drift over hours.
      let sum = 0;
      for (let r = c; r < this.recent.length; r += n) sum += this.recent[r];
      this.averaged[c] = sum / count;
      if (this.keyword[c] && (best < 0 || this.averaged[c] > this.averaged[best])) best = c;
    }
    const time = end / this.features.sampleRate;
    this.options.onHop?.(time, this.averaged);
    if (best < 0 || !(this.averaged[best] > this.probabilityThreshold)) return;
    if ((time - this.lastFired) * 1000 < this.suppressionTimeMillis) return;
    this.lastFired = time;
    const event: WordEvent = { word: this.classNames[best], time, score: this.averaged[best], probabilities: Array.from(this.averaged) };
    this.events.push(event);
    this.options.onWord?.(event);
  }

  private check(): void {
    if (this.disposed) throw new Error('Recognizer: used after dispose()');
  }
}
