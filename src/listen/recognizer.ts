// Streaming keyword spotting, as @tensorflow-models/speech-commands does it: audio of any chunk size and
// sample rate goes in; every hop (window * (1 - overlapFactor)) the last second is classified, and the
// class probabilities go to a Detector (detector.ts: averaging, threshold, suppression) that turns them
// into word events. All state is in the object; the model's input tensor is allocated once, so memory
// does not grow while listening.
import { StreamResampler } from '../audio/resample.js';
import { extractFeatures } from '../audio/features.js';
import type { FeatureSettings } from '../audio/settings.js';
import { Tensor } from '../engine/tensor.js';
import type { Model } from '../models/types.js';
import { Detector, type DetectorOptions, type WordEvent } from './detector.js';
import { FeatureStream } from './feature-stream.js';

export { isKeyword } from './detector.js';
export type { WordEvent } from './detector.js';

export interface RecognizerOptions extends DetectorOptions {
  /** Share of a window that the next one overlaps, 0 <= f < 1. Default 0.9: a 100 ms hop for 1 s windows.
   *  Log-mel hops are rounded to whole feature frames (0.9 gives 13 frames, 97.5 ms). */
  overlapFactor?: number;
  /** Called with each word event, as it is detected (push() also returns them). */
  onWord?: (event: WordEvent) => void;
  /** Called after every hop with its time and the averaged probabilities (a view: copy to keep). */
  onHop?: (time: number, probabilities: Float64Array) => void;
}

/** What a recognizer needs to know of a model file: ModelMeta has both. */
export interface RecognizerMeta {
  classNames: readonly string[];
  features: FeatureSettings;
}

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

export class Recognizer {
  readonly classNames: readonly string[];
  readonly features: FeatureSettings;
  /** Seconds of audio per classified window, and between windows. */
  readonly windowSeconds: number;
  readonly hopSeconds: number;
  readonly detector: Detector;
  private readonly stream: FeatureStream;
  private resampler: StreamResampler | null = null;
  private readonly input: Tensor;
  private readonly current: Float64Array;
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
    const overlap = options.overlapFactor ?? 0.9;
    if (typeof overlap !== 'number' || !(overlap >= 0 && overlap < 1)) throw new RangeError(`Recognizer: overlapFactor must be in [0, 1), got ${String(options.overlapFactor)}`);
    this.detector = new Detector(this.classNames, options);
    this.stream = new FeatureStream(meta.features, meta.features.length * (1 - overlap));
    const rate = meta.features.sampleRate;
    this.windowSeconds = this.stream.window / rate;
    this.hopSeconds = this.stream.hop / rate;
    const shape = [1, ...model.inputShape];
    if (this.stream.size !== shape.reduce((a, b) => a * b, 1))
      throw new RangeError(`Recognizer: the features have ${this.stream.size} values, the model takes [${model.inputShape.join(',')}]`);
    this.current = new Float64Array(this.classNames.length);
    model.eval();
    this.input = Tensor.empty(shape);
  }

  /** Seconds of audio consumed so far, at the model's feature rate. */
  get time(): number {
    return this.stream.position / this.features.sampleRate;
  }

  /** The averaged probabilities of the last hop (zeros before the first), in classNames order. */
  get probabilities(): number[] {
    return Array.from(this.detector.averaged);
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
    // Features first: with an engine, their spectra may grow its memory, detaching a view taken before.
    const features = extractFeatures(samples, sampleRate, this.features);
    this.input.f32.set(features);
    return softmax(this.model.forward(this.input).f32);
  }

  /** Forgets the stream and the detections: the next push starts again at time zero. */
  reset(): void {
    this.stream.reset();
    this.resampler = null;
    this.detector.reset();
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
    const time = end / this.features.sampleRate;
    const event = this.detector.update(this.current, time);
    this.options.onHop?.(time, this.detector.averaged);
    if (!event) return;
    this.events.push(event);
    this.options.onWord?.(event);
  }

  private check(): void {
    if (this.disposed) throw new Error('Recognizer: used after dispose()');
  }
}
