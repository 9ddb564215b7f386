// A clip's features from its samples, by the settings saved with the model.
import { logMelSpectrogram } from './logmel.js';
import { mfccFromLogMel } from './mfcc.js';
import { resample } from './resample.js';
import { validateFeatureSettings, type FeatureSettings } from './settings.js';
import type { PowerSpectra } from './spectrum.js';

/** Zero-padded or trimmed to `length` samples; always a copy, so the caller may change it in place. */
export function padOrTrim(samples: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(samples.subarray(0, length));
  return out;
}

/** Resampled to the settings' rate, then zero-padded or trimmed to their length. */
export function fitClip(samples: Float32Array, sampleRate: number, rate: number, length: number): Float32Array {
  return padOrTrim(sampleRate === rate ? samples : resample(samples, sampleRate, rate, length), length);
}

/**
 * Features of one clip. Normalisation is per clip (the original normalised per batch, which made a clip's
 * features depend on its batch mates): the waveform gets zero mean and unit RMS; for the log-mel
 * spectrogram the clip is scaled to peak 1 (so the log floor sits at the same level below every clip's
 * loudest sound) and the result is standardised by its own statistics; MFCC take that spectrogram on.
 * Spectra come from `spectra` when given (tests and benchmarks compare backends), else from the one
 * dispatch of audio/spectrum.ts. `warp` scales the voice's formants for training (audio/logmel.ts
 * warpFrequency; 1 for none); a waveform has no mel bank to warp and takes only 1.
 */
export function extractFeatures(samples: Float32Array, sampleRate: number, settings: FeatureSettings, spectra?: PowerSpectra, warp = 1): Float32Array {
  validateFeatureSettings(settings);
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`extractFeatures: sample rate must be a positive integer, got ${sampleRate}`);
  for (let i = 0; i < samples.length; i++)
    if (!Number.isFinite(samples[i])) throw new RangeError(`extractFeatures: sample ${i} is ${samples[i]}`);
  if (settings.kind === 'waveform' && warp !== 1) throw new RangeError(`extractFeatures: the waveform has no mel bank to warp (warp ${warp})`);
  const clip = fitClip(samples, sampleRate, settings.sampleRate, settings.length);
  if (settings.kind !== 'waveform') {
    let peak = 0;
    for (const x of clip) peak = Math.max(peak, Math.abs(x));
    if (peak > 0) for (let i = 0; i < clip.length; i++) clip[i] /= peak;
    const logMel = logMelSpectrogram(clip, settings, spectra, warp);
    return settings.kind === 'mfcc' ? mfccFromLogMel(logMel, settings) : logMel;
  }
  let mean = 0;
  for (const x of clip) mean += x;
  mean /= clip.length;
  let power = 0;
  for (let i = 0; i < clip.length; i++) {
    clip[i] -= mean;
    power += clip[i] * clip[i];
  }
  const rms = Math.sqrt(power / clip.length);
  if (rms > 1e-8) for (let i = 0; i < clip.length; i++) clip[i] /= rms;
  return clip;
}
