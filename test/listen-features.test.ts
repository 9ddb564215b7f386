// The stream's features for each window equal extractFeatures() on the same second of audio (to float
// rounding): log-mel frames are computed once per stream frame, the window's edge frames, peak scaling
// and standardisation per window; waveform features per window. "Float rounding" is measured, not
// guessed: the stream takes mel energies of raw samples and scales them by the window's peak, where
// extractFeatures scales the samples first, so the two differ as extractFeatures differs from itself on
// the same clip times a constant (its float32 FFT's rounding, visible only in the faintest bins, near
// the clamp). The bound is twice that, and the mean difference must be tiny.
import { describe, expect, it } from 'vitest';
import { extractFeatures } from '../src/audio/features.js';
import { LOGMEL_60x134, WAVEFORM_4K, type FeatureSettings } from '../src/audio/settings.js';
import { FeatureStream } from '../src/listen/feature-stream.js';
import { testAudio } from './listen-helpers.js';
import { describeEachBuild } from './helpers.js';
import { EngineSpectra } from '../src/kernels/fft.js';
import { spectraFor } from '../src/audio/spectrum.js';

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

interface Checked { windows: number; worst: number; mean: number; rounding: number; hop: number }

function check(settings: FeatureSettings, hop: number, chunks: number[], seconds = 6.3): Checked {
  const audio = testAudio(seconds, settings.sampleRate);
  const stream = new FeatureStream(settings, hop);
  let windows = 0, worst = 0, sum = 0, rounding = 0, c = 0;
  for (let at = 0; at < audio.length; ) {
    const n = chunks[c++ % chunks.length];
    stream.push(audio.subarray(at, at + n), (features, end) => {
      expect(end).toBe(stream.window + windows * stream.hop);
      const clip = audio.slice(end - stream.window, end);
      const offline = extractFeatures(clip, settings.sampleRate, settings);
      worst = Math.max(worst, maxDiff(features, offline));
      for (let i = 0; i < features.length; i++) sum += Math.abs(features[i] - offline[i]);
      rounding = Math.max(rounding, maxDiff(offline, extractFeatures(clip.map((v) => v * 0.7317), settings.sampleRate, settings)));
      windows++;
    });
    at += n;
  }
  expect(windows).toBe(Math.floor((audio.length - stream.window) / stream.hop) + 1);
  return { windows, worst, mean: sum / (windows * stream.size), rounding, hop: stream.hop };
}

function expectEqualToRounding(r: Checked): void {
  expect(r.worst).toBeLessThanOrEqual(2 * r.rounding + 1e-5);
  expect(r.worst).toBeLessThan(0.05);
  expect(r.mean).toBeLessThan(1e-4);
}

describe('FeatureStream', () => {
  it('log-mel at a 100 ms hop (rounded to 13 frames), chunks of any size, equals extractFeatures per window', () => {
    const r = check(LOGMEL_60x134, 1600, [128, 1, 4000, 333, 16000, 77]);
    expect(r.hop).toBe(13 * 120);
    expect(r.windows).toBeGreaterThan(30);
    expectEqualToRounding(r);
  });

  it('log-mel with hops of one frame and of a whole window', () => {
    const narrow = check(LOGMEL_60x134, 100, [512], 2.2);
    expect(narrow.hop).toBe(120);
    expectEqualToRounding(narrow);
    const wide = check(LOGMEL_60x134, 16000, [2048]);
    expect(wide.hop).toBe(133 * 120);
    expectEqualToRounding(wide);
  });

  it('waveform (M5) recomputes each window and equals extractFeatures', () => {
    const r = check(WAVEFORM_4K, 400, [128, 3, 999]);
    expect(r.hop).toBe(400);
    expect(r.worst).toBeLessThan(1e-6);
    expect(r.rounding).toBeLessThan(1e-5);
  });

  it('starts over after reset', () => {
    const stream = new FeatureStream(LOGMEL_60x134, 1600);
    const audio = testAudio(1.5, 16000, 9);
    const ends: number[] = [];
    stream.push(audio, (_, end) => ends.push(end));
    stream.reset();
    let again: Float32Array | undefined;
    stream.push(audio.subarray(8000, 24000), (f) => (again = f.slice()));
    expect(ends).toEqual([16000, 17560, 19120, 20680, 22240, 23800]);
    expect(maxDiff(again!, extractFeatures(audio.slice(8000, 24000), 16000, LOGMEL_60x134))).toBeLessThan(0.01);
  });
});

// With an engine running, the stream and extractFeatures both take the WASM FFT (the stream in batches
// of the frames each window adds, offline all 134 at once): the same equality.
describeEachBuild('FeatureStream on the WASM FFT', () => {
  it('log-mel at a 100 ms hop equals extractFeatures per window', () => {
    expect(spectraFor(LOGMEL_60x134.frameSize)).toBeInstanceOf(EngineSpectra);
    const r = check(LOGMEL_60x134, 1600, [128, 4000, 16000, 77], 3.2);
    expect(r.windows).toBeGreaterThan(10);
    expectEqualToRounding(r);
  });
});
