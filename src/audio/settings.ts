// What a model sees of a clip, as settings: plain JSON saved inside every model file, so inference
// always computes exactly the features the model was trained on.
import { hashSeed } from '../util/hash.js';
import { MAX_SAMPLE_RATE } from './resample.js';

export interface WaveformSettings {
  kind: 'waveform';
  /** The clip is resampled to this rate... */
  sampleRate: number;
  /** ...and padded with zeros or trimmed to this many samples. */
  length: number;
}

export interface LogMelSettings {
  kind: 'logmel';
  sampleRate: number;
  /** Samples per clip after padding or trimming (1 second). */
  length: number;
  /** FFT frame (a power of two: meyda's requirement), Hann-windowed. */
  frameSize: number;
  hop: number;
  melBands: number;
  /** Frames per clip: 1 + floor(length / hop) with centred frames. */
  frames: number;
  fmin: number;
  fmax: number;
  /** Mel energies below this are treated as silence: the log is taken of max(energy, floor). */
  logFloor: number;
  /** Standardised values are clamped to [-clamp, clamp]. */
  clamp: number;
}

/**
 * Mel-frequency cepstral coefficients: the log-mel spectrogram of the same fields, then per frame the
 * first `coefficients` terms of meyda's DCT-II over the bands (audio/mfcc.ts).
 */
export interface MfccSettings extends Omit<LogMelSettings, 'kind'> {
  kind: 'mfcc';
  coefficients: number;
}

/** The settings of features computed from spectra (the fields both spectral kinds share). */
export type SpectralSettings = LogMelSettings | MfccSettings;

export type FeatureSettings = WaveformSettings | SpectralSettings;

const KINDS = ['waveform', 'logmel', 'mfcc'] as const;

export const WAVEFORM_4K: WaveformSettings = { kind: 'waveform', sampleRate: 4000, length: 4000 };

/** M5's waveform at twice the study's rate: 0-4 kHz heard instead of 0-2 kHz (third formants, front vowels' second). */
export const WAVEFORM_8K: WaveformSettings = { kind: 'waveform', sampleRate: 8000, length: 8000 };

export const LOGMEL_60x134: LogMelSettings = {
  kind: 'logmel', sampleRate: 16000, length: 16000, frameSize: 512, hop: 120, melBands: 60, frames: 134,
  fmin: 20, fmax: 7800, logFloor: 1e-10, clamp: 5,
};

/** BC-ResNet's input (Kim et al. 2021): 40 log-mel bands at a 10-ms hop, 101 frames a second. */
export const LOGMEL_40x101: LogMelSettings = { ...LOGMEL_60x134, hop: 160, melBands: 40, frames: 101 };

/** MFCC of the 60-band log-mel above: 20 coefficients, so a 10x10 pooling (tcy) halves them evenly. */
export const MFCC_20x134: MfccSettings = { ...LOGMEL_60x134, kind: 'mfcc', coefficients: 20 };

export function featureShape(settings: FeatureSettings): number[] {
  if (settings.kind === 'waveform') return [1, settings.length];
  return [1, settings.kind === 'mfcc' ? settings.coefficients : settings.melBands, settings.frames];
}

/** The longest clip a model may take, and the largest FFT frame. */
export const MAX_CLIP_SECONDS = 10;
const MAX_FRAME = 16384;

export function validateFeatureSettings(settings: FeatureSettings): FeatureSettings {
  const bad = (field: string, why: string): never => {
    throw new RangeError(`feature settings: ${field} ${why} (got ${JSON.stringify((settings as unknown as Record<string, unknown>)[field])})`);
  };
  const positiveInt = (field: string) => {
    const v = (settings as unknown as Record<string, unknown>)[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(field, 'must be a positive integer');
  };
  if (!settings || !KINDS.includes(settings.kind))
    throw new RangeError(`feature settings: kind must be one of ${KINDS.map((k) => `"${k}"`).join(', ')} (got ${JSON.stringify((settings as { kind?: unknown } | undefined)?.kind)})`);
  positiveInt('sampleRate');
  positiveInt('length');
  // Settings come from model files too: bounds keep a damaged or hostile file from asking for
  // unbounded work per clip.
  if (settings.sampleRate > MAX_SAMPLE_RATE) bad('sampleRate', `must be at most ${MAX_SAMPLE_RATE} Hz`);
  if (settings.length > MAX_CLIP_SECONDS * settings.sampleRate) bad('length', `must be at most ${MAX_CLIP_SECONDS} s of samples`);
  if (settings.kind !== 'waveform') {
    for (const f of ['frameSize', 'hop', 'melBands', 'frames']) positiveInt(f);
    if (settings.frameSize & (settings.frameSize - 1)) bad('frameSize', 'must be a power of two');
    if (settings.frameSize > MAX_FRAME) bad('frameSize', `must be at most ${MAX_FRAME}`);
    if (settings.melBands > settings.frameSize / 2) bad('melBands', 'must be at most half the frame size');
    if (settings.hop > settings.frameSize) bad('hop', 'must be at most the frame size');
    if (settings.frames !== 1 + Math.floor(settings.length / settings.hop)) bad('frames', `must be 1 + floor(length / hop) = ${1 + Math.floor(settings.length / settings.hop)}`);
    if (!(settings.fmin >= 0 && settings.fmin < settings.fmax)) bad('fmin', 'must be >= 0 and below fmax');
    if (!(settings.fmax <= settings.sampleRate / 2)) bad('fmax', 'must not exceed half the sample rate');
    if (!(settings.logFloor > 0)) bad('logFloor', 'must be positive');
    if (!(settings.clamp > 0)) bad('clamp', 'must be positive');
  }
  if (settings.kind === 'mfcc') {
    positiveInt('coefficients');
    if (settings.coefficients > settings.melBands) bad('coefficients', 'must be at most melBands');
  }
  return settings;
}

/** Bumped whenever the computation changes for the same settings, so cached features go stale. */
const ALGORITHM = 3;

/** A short stable name for the settings (and the algorithm version): the feature cache is keyed by it. */
export function featureKey(settings: FeatureSettings): string {
  const fields = Object.keys(settings).sort().map((k) => [k, (settings as unknown as Record<string, unknown>)[k]]);
  const canonical = JSON.stringify([ALGORITHM, fields]);
  return `${settings.kind}-${hashSeed(canonical).toString(16).padStart(8, '0')}`;
}
