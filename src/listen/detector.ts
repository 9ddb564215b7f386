// From per-hop class probabilities to word events, as @tensorflow-models/speech-commands decides: the
// probabilities are averaged over the last `smoothing` hops; the best keyword fires when its average
// passes the threshold, unless a word fired less than the suppression time before. Separate from the
// recognizer so recorded probabilities can be replayed under other settings (scripts/detection-eval.ts).

export interface DetectorOptions {
  /** A keyword fires when its averaged probability exceeds this. Default 0.6. */
  probabilityThreshold?: number;
  /** Milliseconds of audio after a detection in which no other word fires. Default 1000. */
  suppressionTimeMillis?: number;
  /** Hops whose probabilities are averaged before thresholding (1 = no smoothing). Default 7. */
  smoothing?: number;
}

/**
 * The operating point measured best for the pretrained models with scripts/detection-eval.ts on a
 * 32-minute recording of real people (docs/listen.md): averaging 7 hops (0.7 s at the default 100 ms hop)
 * with a threshold of 0.6 detected 95-99% of the words the log-mel models got right offline at about the
 * false-detection rate of the former 3 hops and 0.8 (which detected 91%), and the events still come
 * before the clip ends; the MFCC models shipped now detect 90.7% (CNN) and 95.2% (SNN) there.
 * A word held over most of the averaged hops passes; a one- or two-hop flicker of a keyword does not.
 */
export const DETECTOR_DEFAULTS: Readonly<Required<DetectorOptions>> = Object.freeze({ probabilityThreshold: 0.6, suppressionTimeMillis: 1000, smoothing: 7 });

export interface WordEvent {
  word: string;
  /** Seconds of audio from the start of the stream to the end of the window that fired. */
  time: number;
  /** The word's averaged probability. */
  score: number;
  /** Averaged probabilities of every class, in classNames order. */
  probabilities: number[];
}

/** Classes that are not words and never fire: `_silence_`, `_unknown_`, and any other `_name_`. */
export const isKeyword = (name: string): boolean => !(name.length > 1 && name.startsWith('_') && name.endsWith('_'));

function option(name: string, value: number | undefined, fallback: number, ok: (v: number) => boolean, rule: string): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !ok(v)) throw new RangeError(`${name} must be ${rule}, got ${String(value)}`);
  return v;
}

export class Detector {
  readonly classNames: readonly string[];
  readonly probabilityThreshold: number;
  readonly suppressionTimeMillis: number;
  readonly smoothing: number;
  /** The averaged probabilities after the last update (zeros before the first), in classNames order. */
  readonly averaged: Float64Array;
  private readonly keyword: boolean[];
  /** The last `smoothing` hops' probabilities, a ring of rows. */
  private readonly recent: Float64Array;
  private hops = 0;
  private lastFired = -Infinity;

  constructor(classNames: readonly string[], options: DetectorOptions = {}) {
    this.classNames = [...classNames];
    this.probabilityThreshold = option('probabilityThreshold', options.probabilityThreshold, DETECTOR_DEFAULTS.probabilityThreshold, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    this.suppressionTimeMillis = option('suppressionTimeMillis', options.suppressionTimeMillis, DETECTOR_DEFAULTS.suppressionTimeMillis, (v) => v >= 0, '>= 0');
    this.smoothing = option('smoothing', options.smoothing, DETECTOR_DEFAULTS.smoothing, (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    this.keyword = this.classNames.map(isKeyword);
    this.recent = new Float64Array(this.smoothing * this.classNames.length);
    this.averaged = new Float64Array(this.classNames.length);
  }

  /** One hop's probabilities, for the window ending at `time` seconds; the word it fires, if any. */
  update(probabilities: ArrayLike<number>, time: number): WordEvent | null {
    const n = this.classNames.length;
    if (probabilities.length !== n) throw new RangeError(`Detector: ${probabilities.length} probabilities for ${n} classes`);
    this.recent.set(probabilities, (this.hops % this.smoothing) * n);
    this.hops++;
    const count = Math.min(this.hops, this.smoothing);
    let best = -1;
    for (let c = 0; c < n; c++) {
      // Rows not yet written are zeros (a fresh or reset ring), so the sum over all rows is the sum over
      // the hops seen; summed afresh each hop, as a running sum would drift over hours.
      let sum = 0;
      for (let r = c; r < this.recent.length; r += n) sum += this.recent[r];
      this.averaged[c] = sum / count;
      if (this.keyword[c] && (best < 0 || this.averaged[c] > this.averaged[best])) best = c;
    }
    // Until the ring is full the hops not yet heard count as zeros for firing: dividing by the hops seen
    // alone would let the first hop of a stream fire by itself, the one-hop flicker the averaging exists
    // to ignore. The probabilities reported stay the mean over the hops seen.
    if (best < 0 || !((this.averaged[best] * count) / this.smoothing > this.probabilityThreshold)) return null;
    if ((time - this.lastFired) * 1000 < this.suppressionTimeMillis) return null;
    this.lastFired = time;
    return { word: this.classNames[best], time, score: this.averaged[best], probabilities: Array.from(this.averaged) };
  }

  reset(): void {
    this.recent.fill(0);
    this.averaged.fill(0);
    this.hops = 0;
    this.lastFired = -Infinity;
  }
}
