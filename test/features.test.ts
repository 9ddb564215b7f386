// Features: shapes, where a tone lands, settings as a value, and meyda's spectrum under the mel bank.
import { describe, expect, it } from 'vitest';
import { logMelSpectrogram, warpFrequency } from '../src/audio/logmel.js';
import { randArray } from './helpers.js';
import { extractFeatures } from '../src/audio/features.js';
import { featureKey, featureShape, validateFeatureSettings, LOGMEL_60x134, WAVEFORM_8K, type LogMelSettings } from '../src/audio/settings.js';
import { featuresFor } from '../src/models/zoo.js';

const tone = (n: number, rate: number, hz: number, amp = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);

/** Log-mel by the definition, in f64: naive DFT of each reflect-padded, Hann-windowed centred frame. */
function referenceLogMel(x: Float32Array, s: LogMelSettings): Float64Array {
  const n = x.length, N = s.frameSize, binHz = s.sampleRate / N;
  const at = (i: number) => x[i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i];
  const edges = Array.from({ length: s.melBands + 2 }, (_, i) => 700 * (10 ** ((mel(s.fmin) + (i * (mel(s.fmax) - mel(s.fmin))) / (s.melBands + 1)) / 2595) - 1));
  const out = new Float64Array(s.melBands * s.frames);
  for (let t = 0; t < s.frames; t++) {
    const frame = Array.from({ length: N }, (_, k) => at(t * s.hop - N / 2 + k) * (0.5 - 0.5 * Math.cos((2 * Math.PI * k) / N)));
    for (let j = 0; j < N / 2; j++) {
      let re = 0, im = 0;
      for (let k = 0; k < N; k++) { re += frame[k] * Math.cos((2 * Math.PI * j * k) / N); im -= frame[k] * Math.sin((2 * Math.PI * j * k) / N); }
      const f = j * binHz;
      for (let b = 0; b < s.melBands; b++) {
        const [lo, mid, hi] = [edges[b], edges[b + 1], edges[b + 2]];
        const w = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
        out[b * s.frames + t] += ((2 * w) / (hi - lo)) * (re * re + im * im);
      }
    }
  }
  const logs = Array.from(out, (e) => Math.log(Math.max(e, s.logFloor)));
  const above = logs.filter((v) => v > Math.log(s.logFloor));
  const mean = above.reduce((a, b) => a + b, 0) / above.length;
  const std = Math.sqrt(above.reduce((a, b) => a + (b - mean) ** 2, 0) / above.length);
  return Float64Array.from(logs, (v) => Math.max(-s.clamp, Math.min(s.clamp, (v - mean) / std)));
}

describe('features', () => {
  it('log-mel matches a naive f64 definition (odd sizes, frames at both edges)', () => {
    const s: LogMelSettings = { kind: 'logmel', sampleRate: 16000, length: 1999, frameSize: 128, hop: 50, melBands: 21, frames: 40, fmin: 60, fmax: 7000, logFloor: 1e-10, clamp: 3 };
    const x = randArray(1999, 11, -0.5, 0.5);
    for (let i = 0; i < x.length; i++) x[i] *= Math.sin(i / 300) ** 2; // quiet and loud stretches, so the clamp bites
    const ours = logMelSpectrogram(x, s);
    const ref = referenceLogMel(x, s);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]));
    expect(worst).toBeLessThan(2e-3);
    expect(ref.some((v) => Math.abs(v) === s.clamp)).toBe(true);
  });

  it('gives the study shapes for a 1-second clip', () => {
    expect(featureShape(featuresFor('hjh'))).toEqual([1, 60, 134]);
    expect(featureShape(featuresFor('m5'))).toEqual([1, 4000]);
    expect(extractFeatures(tone(16000, 16000, 440), 16000, featuresFor('piczak')).length).toBe(60 * 134);
    expect(extractFeatures(tone(16000, 16000, 440), 16000, featuresFor('m5')).length).toBe(4000);
    // Shorter and longer clips, other rates: padded or trimmed to one second.
    expect(extractFeatures(tone(7000, 8000, 440), 8000, featuresFor('tcy')).length).toBe(60 * 134);
    expect(extractFeatures(tone(30000, 16000, 440), 16000, featuresFor('m5')).length).toBe(4000);
  });

  it("m5's waveform-8k hears 2-4 kHz, which its 4 kHz waveform removes", () => {
    const clip = tone(16000, 16000, 500);
    const high = tone(16000, 16000, 3000);
    for (let i = 0; i < clip.length; i++) clip[i] += high[i];
    // The amplitude of a tone at hz in a waveform feature (zero mean, unit RMS: two equal tones are 1 each).
    const amplitude = (x: Float32Array, rate: number, hz: number): number => {
      let re = 0, im = 0;
      for (let i = 0; i < x.length; i++) { re += x[i] * Math.cos((2 * Math.PI * hz * i) / rate); im += x[i] * Math.sin((2 * Math.PI * hz * i) / rate); }
      return (2 * Math.hypot(re, im)) / x.length;
    };
    expect(featuresFor('m5', 'waveform-8k')).toEqual(WAVEFORM_8K);
    const at8k = extractFeatures(clip, 16000, WAVEFORM_8K);
    expect(at8k.length).toBe(8000);
    expect(amplitude(at8k, 8000, 3000)).toBeCloseTo(1, 1);
    expect(amplitude(at8k, 8000, 500)).toBeCloseTo(1, 1);
    const at4k = extractFeatures(clip, 16000, featuresFor('m5'));
    expect(amplitude(at4k, 4000, 500)).toBeCloseTo(Math.SQRT2, 1);
    expect(amplitude(at4k, 4000, 1000)).toBeLessThan(0.05); // where 3 kHz would fold
  });

  it('warps the mel bank (VTLP): a tone at f heard with warp α lands where a tone at α·f does', () => {
    const s = LOGMEL_60x134;
    const peak = (hz: number, warp = 1): number => {
      const f = extractFeatures(tone(16000, 16000, hz), 16000, s, undefined, warp);
      const energy = new Float64Array(60);
      for (let b = 0; b < 60; b++) for (let t = 10; t < 124; t++) energy[b] += f[b * 134 + t];
      return energy.indexOf(Math.max(...energy));
    };
    for (const [hz, alpha] of [[1800, 1.12], [3000, 0.88], [4000, 1.1]]) {
      expect(peak(hz, alpha)).toBe(peak(hz * alpha));
      expect(Math.abs(peak(hz, alpha) - peak(hz))).toBeGreaterThanOrEqual(2);
    }
    // g is continuous at its knee, ends at fmax, rises everywhere, and is the identity at α = 1.
    for (const alpha of [0.8, 0.95, 1.05, 1.2]) {
      const knee = 0.85 * s.fmax * Math.min(1, alpha);
      expect(warpFrequency(knee + 1e-6, alpha, s.fmax)).toBeCloseTo(warpFrequency(knee, alpha, s.fmax), 4);
      expect(warpFrequency(s.fmax, alpha, s.fmax)).toBeCloseTo(s.fmax, 9);
      for (let f = 100; f < s.fmax; f += 100) expect(warpFrequency(f + 100, alpha, s.fmax)).toBeGreaterThan(warpFrequency(f, alpha, s.fmax));
    }
    expect(warpFrequency(1234, 1, s.fmax)).toBe(1234);
    expect(extractFeatures(tone(16000, 16000, 440), 16000, s, undefined, 1)).toEqual(extractFeatures(tone(16000, 16000, 440), 16000, s));
    expect(() => extractFeatures(tone(16000, 16000, 440), 16000, s, undefined, 3)).toThrow(/warp factor must be in \[0.5, 2\], got 3/);
    expect(() => extractFeatures(tone(16000, 16000, 440), 16000, featuresFor('m5'), undefined, 1.1)).toThrow(/the waveform has no mel bank to warp/);
  });

  it('puts a pure tone in the mel band that contains it', () => {
    const s = LOGMEL_60x134;
    for (const hz of [300, 1000, 3000, 6000]) {
      const f = extractFeatures(tone(16000, 16000, hz), 16000, s);
      const energy = new Float64Array(60);
      for (let b = 0; b < 60; b++) for (let t = 10; t < 124; t++) energy[b] += f[b * 134 + t];
      const peak = energy.indexOf(Math.max(...energy));
      const expected = ((mel(hz) - mel(s.fmin)) / (mel(s.fmax) - mel(s.fmin))) * 61 - 1;
      expect(Math.abs(peak - expected)).toBeLessThanOrEqual(1.5);
    }
  });

  it('centres frame t at sample t * hop (reflect-padded at the ends)', () => {
    const s = LOGMEL_60x134;
    for (const [at, frame] of [[0, 0], [8000, 67], [8010, 67], [7950, 66], [15999, 133]]) {
      const click = new Float32Array(16000);
      click[at] = 1;
      const f = extractFeatures(click, 16000, s);
      const loudness = Array.from({ length: s.frames }, (_, t) => {
        let sum = 0;
        for (let b = 0; b < s.melBands; b++) sum += f[b * s.frames + t];
        return sum;
      });
      expect(loudness.indexOf(Math.max(...loudness))).toBe(frame);
    }
  });

  it('standardises each clip on its own: scaling the clip does not change its features', () => {
    const x = tone(16000, 16000, 800);
    const a = extractFeatures(x, 16000, featuresFor('hjh'));
    const b = extractFeatures(x.map((v) => v * 0.1), 16000, featuresFor('hjh'));
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-3);
    const w = extractFeatures(x, 16000, featuresFor('m5'));
    const rms = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(rms).toBeCloseTo(1, 4);
    expect(Math.max(...a)).toBeLessThanOrEqual(LOGMEL_60x134.clamp);
  });

  it('maps silence to zeros, not NaN, and refuses non-finite samples', () => {
    for (const m of ['hjh', 'm5'] as const) expect(extractFeatures(new Float32Array(16000), 16000, featuresFor(m)).every((v) => v === 0)).toBe(true);
    const bad = tone(16000, 16000, 440);
    bad[123] = NaN;
    expect(() => extractFeatures(bad, 16000, featuresFor('hjh'))).toThrow(/sample 123 is NaN/);
  });

  it('settings are a JSON value with a stable key, and bad settings name the field', () => {
    const s = featuresFor('hjh') as LogMelSettings;
    const back = JSON.parse(JSON.stringify(s)) as LogMelSettings;
    expect(back).toEqual(s);
    expect(featureKey(back)).toBe(featureKey(s));
    expect(featureKey({ ...s, hop: 119, frames: 135 })).not.toBe(featureKey(s));
    expect(Array.from(extractFeatures(tone(16000, 16000, 500), 16000, back))).toEqual(Array.from(extractFeatures(tone(16000, 16000, 500), 16000, s)));
    expect(() => validateFeatureSettings({ ...s, frameSize: 500 })).toThrow(/frameSize must be a power of two/);
    expect(() => validateFeatureSettings({ ...s, frames: 100 })).toThrow(/frames must be 1 \+ floor/);
    expect(() => validateFeatureSettings({ ...s, fmax: 9000 })).toThrow(/fmax/);
    expect(() => featuresFor('resnet' as never)).toThrow(/unknown model "resnet"/);
  });
});
