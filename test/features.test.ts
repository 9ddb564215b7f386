// Features: shapes, where a tone lands, settings as a value, and meyda's spectrum under the mel bank.
import { describe, expect, it } from 'vitest';
import { extractFeatures, featureKey, featureShape, featuresFor, validateFeatureSettings, LOGMEL_60x134, type LogMelSettings } from '../src/audio/features.js';

const tone = (n: number, rate: number, hz: number, amp = 0.5) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);

describe('features', () => {
  it('gives the study shapes for a 1-second clip', () => {
    expect(featureShape(featuresFor('hjh'))).toEqual([1, 60, 134]);
    expect(featureShape(featuresFor('m5'))).toEqual([1, 4000]);
    expect(extractFeatures(tone(16000, 16000, 440), 16000, featuresFor('piczak')).length).toBe(60 * 134);
    expect(extractFeatures(tone(16000, 16000, 440), 16000, featuresFor('m5')).length).toBe(4000);
    // Shorter and longer clips, other rates: padded or trimmed to one second.
    expect(extractFeatures(tone(7000, 8000, 440), 8000, featuresFor('tcy')).length).toBe(60 * 134);
    expect(extractFeatures(tone(30000, 16000, 440), 16000, featuresFor('m5')).length).toBe(4000);
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
    const s = featuresFor('hjh');
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
