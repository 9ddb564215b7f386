// A window's features from a stream of samples, one window per hop, equal (to float rounding) to
// extractFeatures() on the same second of audio. Log-mel frames depend only on the samples under them,
// so each stream frame is computed once and kept in a ring; what does depend on the window (the frames
// that the clip's edges reflect into, and the per-clip peak scaling and standardisation) is applied per
// window. Waveform features are all per-window (zero mean, unit RMS over the window), so they are
// recomputed each hop: cheap, at 4000 samples. MFCC are the DCT of each window's standardised log-mel.
// Spectra come from the same dispatch as offline (audio/spectrum.ts: the WASM FFT once the engine runs),
// the frames a window adds in one batch.
import { extractFeatures } from '../audio/features.js';
import { melEnergies, standardiseLogMel } from '../audio/logmel.js';
import { mfccFromLogMel } from '../audio/mfcc.js';
import { type FeatureSettings, type SpectralSettings, featureShape, validateFeatureSettings } from '../audio/settings.js';

/** Receives each window's features (a buffer reused for the next window) and its end, in samples. */
export type WindowSink = (features: Float32Array, end: number) => void;

export class FeatureStream {
  /** Samples per window, at settings.sampleRate (the model's clip length). */
  readonly window: number;
  /** Samples from one window to the next; for log-mel a whole number of feature frames. */
  readonly hop: number;
  /** Feature values per window: the product of featureShape(settings). */
  readonly size: number;
  /** The last `window` samples; absolute sample a sits at a % window. */
  private readonly samples: Float32Array;
  /** The current window in order (what extractFeatures would be given). */
  private readonly clip: Float32Array;
  private readonly out: Float32Array;
  private received = 0;
  private nextEnd: number;
  private readonly mel: MelState | null;
  /** MFCC only: the window's log-mel, from which the coefficients are taken. */
  private readonly logMel: Float32Array | null;

  constructor(
    readonly settings: FeatureSettings,
    /** The wanted hop in samples at settings.sampleRate; log-mel rounds it to whole frames. */
    hopSamples: number,
  ) {
    validateFeatureSettings(settings);
    if (!(hopSamples > 0)) throw new RangeError(`FeatureStream: hop must be positive, got ${hopSamples}`);
    this.window = settings.length;
    this.size = featureShape(settings).reduce((a, b) => a * b, 1);
    this.samples = new Float32Array(this.window);
    this.clip = new Float32Array(this.window);
    this.out = new Float32Array(this.size);
    if (settings.kind !== 'waveform') {
      this.hop = Math.max(1, Math.round(hopSamples / settings.hop)) * settings.hop;
      this.mel = melState(settings);
      this.logMel = settings.kind === 'mfcc' ? new Float32Array(settings.melBands * settings.frames) : null;
    } else {
      this.hop = Math.max(1, Math.round(hopSamples));
      this.mel = null;
      this.logMel = null;
    }
    this.hop = Math.min(this.hop, this.window);
    this.nextEnd = this.window;
  }

  /** Samples received since the start (or the last reset). */
  get position(): number {
    return this.received;
  }

  /** Takes samples at settings.sampleRate; calls `sink` for every window completed by them, in order. */
  push(samples: Float32Array, sink: WindowSink): void {
    const ring = this.samples, n = this.window;
    for (let i = 0; i < samples.length; ) {
      const take = Math.min(samples.length - i, this.nextEnd - this.received);
      for (let k = 0; k < take; k++) ring[(this.received + k) % n] = samples[i + k];
      i += take;
      this.received += take;
      if (this.received === this.nextEnd) {
        sink(this.features(this.nextEnd), this.nextEnd);
        this.nextEnd += this.hop;
      }
    }
  }

  reset(): void {
    this.received = 0;
    this.nextEnd = this.window;
    if (this.mel) this.mel.computedUpTo = -1;
  }

  private features(end: number): Float32Array {
    const n = this.window, start = end - n, clip = this.clip, at = start % n;
    clip.set(this.samples.subarray(at));
    clip.set(this.samples.subarray(0, at), n - at);
    if (!this.mel) {
      // Per window by definition; the same function as offline, so the features cannot drift from it.
      this.out.set(extractFeatures(clip, this.settings.sampleRate, this.settings));
      return this.out;
    }
    if (this.settings.kind === 'mfcc') return mfccFromLogMel(windowLogMel(this.mel, clip, start, this.logMel!), this.settings, this.out);
    return windowLogMel(this.mel, clip, start, this.out);
  }
}

interface MelState {
  s: SpectralSettings;
  /** Frames t in first .. last of a window lie wholly inside it: no reflection, so they are stream frames. */
  first: number;
  last: number;
  /** Mel energies of stream frames, frame-major: stream frame j in slot j % frames. Float64, so energies
   *  of a very quiet signal do not underflow before the window's peak scaling lifts them. */
  ring: Float64Array;
  computedUpTo: number;
  /** One window's energies for the frames its edges reflect into: frames 0 .. first-1, then last+1 .. frames-1. */
  edge: Float64Array;
}

function melState(s: SpectralSettings): MelState {
  const half = s.frameSize / 2;
  const first = Math.ceil(half / s.hop);
  const last = Math.floor((s.length - half) / s.hop);
  return { s, first, last, ring: new Float64Array(s.frames * s.melBands), computedUpTo: -1, edge: new Float64Array((first + s.frames - 1 - last) * s.melBands) };
}

/** The window's standardised log-mel, [melBands, frames], in `out` (a new array when not given). */
function windowLogMel(m: MelState, clip: Float32Array, start: number, out: Float32Array = new Float32Array(m.s.melBands * m.s.frames)): Float32Array {
  const { s, first, last, ring, edge } = m;
  const frames = s.frames, bands = s.melBands;
  const j0 = start / s.hop; // the window's frame t is stream frame j0 + t (windows start on frame boundaries)
  // The stream frames this window adds (all of its inner frames for the first window after a gap), in
  // at most two batches: the ring wraps.
  for (let j = Math.max(m.computedUpTo + 1, j0 + first); j <= j0 + last; ) {
    const slot = j % frames, run = Math.min(j0 + last - j + 1, frames - slot);
    melEnergies(clip, s, j - j0, run, ring, slot * bands, 1, bands);
    j += run;
  }
  m.computedUpTo = j0 + last;
  if (first > 0) melEnergies(clip, s, 0, first, edge, 0, 1, bands);
  if (last < frames - 1) melEnergies(clip, s, last + 1, frames - 1 - last, edge, first * bands, 1, bands);
  let peak = 0;
  for (let i = 0; i < clip.length; i++) {
    const a = Math.abs(clip[i]);
    if (a > peak) peak = a;
  }
  // extractFeatures scales the clip to peak 1; energies scale with its square.
  const scale = peak > 0 ? 1 / (peak * peak) : 1;
  for (let t = 0; t < frames; t++) {
    let src: Float64Array, at: number;
    if (t >= first && t <= last) {
      src = ring;
      at = ((j0 + t) % frames) * bands;
    } else {
      src = edge;
      at = (t < first ? t : first + t - last - 1) * bands;
    }
    for (let b = 0; b < bands; b++) out[b * frames + t] = src[at + b] * scale;
  }
  return standardiseLogMel(out, s);
}
