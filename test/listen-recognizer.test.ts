// The recognizer: detection logic (smoothing, threshold, suppression, non-words never fire) on a model
// whose outputs are scripted; on real zoo models, that each hop classifies what classify() would on the
// same second, that it takes any chunk size and rate, that M5's waveform works, and that engine memory
// stays flat however long it listens.
import { beforeAll, describe, expect, it } from 'vitest';
import { LOGMEL_60x134 } from '../src/audio/settings.js';
import { resample } from '../src/audio/resample.js';
import { getEngine, initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { Recognizer, isKeyword, softmax, type WordEvent } from '../src/listen/recognizer.js';
import type { Model } from '../src/models/types.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import { testAudio } from './listen-helpers.js';

beforeAll(async () => {
  await initEngine({ flavor: 'simd' });
});

const CLASSES = ['_silence_', '_unknown_', 'yes', 'no'];

/** A model that ignores its input and answers hop i with script[i] (then the last row forever). */
function scripted(script: number[][]): Model & { calls: number } {
  const out = Tensor.empty([1, CLASSES.length]);
  const fake = {
    classes: CLASSES.length,
    inputShape: [1, LOGMEL_60x134.melBands, LOGMEL_60x134.frames],
    calls: 0,
    eval() {},
    forward() {
      out.f32.set(script[Math.min(fake.calls++, script.length - 1)]);
      return out;
    },
  };
  return fake as unknown as Model & { calls: number };
}

/** Logits that give probability ~p to class c and share the rest. */
function logitsFor(c: number, p: number): number[] {
  const rest = (1 - p) / (CLASSES.length - 1);
  return CLASSES.map((_, i) => Math.log(i === c ? p : rest));
}

describe('softmax and word classes', () => {
  it('softmax gives plain probabilities that sum to 1, even for huge logits', () => {
    const p = softmax([1000, 1000 + Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
    expect(Array.isArray(p)).toBe(true);
  });

  it('_silence_, _unknown_ and other _names_ are not keywords', () => {
    expect(['_silence_', '_unknown_', '_background_noise_', 'yes', '_'].map(isKeyword)).toEqual([false, false, false, true, true]);
  });
});

describe('Recognizer detection', () => {
  const features = LOGMEL_60x134;
  /** Pushes audio for `hops` windows in 100 ms chunks; returns every event. */
  function run(r: Recognizer, hops: number): WordEvent[] {
    const audio = testAudio(1 + (hops - 1) * r.hopSeconds + 0.01, 16000, 3);
    const events: WordEvent[] = [];
    for (let at = 0; at < audio.length; at += 1600) events.push(...r.push(audio.subarray(at, at + 1600), 16000));
    return events;
  }

  it('fires once per word above the threshold, after smoothing, with suppression; non-words never fire', () => {
    const S = logitsFor(0, 0.97), U = logitsFor(1, 0.99), Y = logitsFor(2, 0.95), N = logitsFor(3, 0.95);
    // hops: silence, unknown (confident, never fires), one lone "yes" hop (smoothed away), then a run of
    // yes (fires once, then suppressed), silence, a run of no.
    const script = [S, S, U, U, U, S, Y, S, S, Y, Y, Y, Y, Y, Y, S, S, S, S, S, S, S, S, S, S, N, N, N, N, S];
    const model = scripted(script);
    const onWord: WordEvent[] = [];
    const r = new Recognizer(model, { classNames: CLASSES, features }, { smoothing: 3, probabilityThreshold: 0.8, suppressionTimeMillis: 1000, onWord: (e) => onWord.push(e) });
    const events = run(r, script.length);
    expect(model.calls).toBe(script.length);
    expect(events.map((e) => e.word)).toEqual(['yes', 'no']);
    expect(onWord).toEqual(events);
    // "yes" needs three yes hops in the mean (hops 9-11): it fires at the end of hop 11's window.
    expect(events[0].time).toBeCloseTo(1 + 11 * r.hopSeconds, 6);
    expect(events[0].score).toBeCloseTo(0.95, 6);
    expect(events[0].probabilities).toHaveLength(4);
    expect(events[0].probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 9);
    expect(events[1].time).toBeCloseTo(1 + 27 * r.hopSeconds, 6);
    r.dispose();
  });

  it('suppression holds a second word back until its time is over', () => {
    const Y = logitsFor(2, 0.95), N = logitsFor(3, 0.95);
    const script = [Y, Y, Y, Y, N, N, N, N, N, N, N];
    const r = new Recognizer(scripted(script), { classNames: CLASSES, features }, { smoothing: 1, suppressionTimeMillis: 500 });
    const events = run(r, script.length);
    expect(events.map((e) => e.word)).toEqual(['yes', 'no']);
    expect(events[1].time - events[0].time).toBeGreaterThanOrEqual(0.5);
    expect(events[1].time - events[0].time).toBeLessThan(0.5 + r.hopSeconds);
  });

  it('checks its options and the model', () => {
    const m = scripted([logitsFor(0, 0.9)]);
    const meta = { classNames: CLASSES, features };
    expect(() => new Recognizer(m, meta, { overlapFactor: 1 })).toThrow(/overlapFactor must be in \[0, 1\)/);
    expect(() => new Recognizer(m, meta, { smoothing: 0 })).toThrow(/smoothing must be a positive integer/);
    expect(() => new Recognizer(m, { classNames: ['a'], features })).toThrow(/1 class names for a model of 4 classes/);
    expect(() => new Recognizer(m, { classNames: CLASSES, features: featuresFor('m5') })).toThrow(/4000 values, the model takes \[1,60,134\]/);
    const r = new Recognizer(m, meta);
    expect(r.hopSeconds).toBeCloseTo(0.0975, 9);
    expect(() => r.push(new Float32Array([0, NaN]), 16000)).toThrow(/sample 1 is NaN/);
    r.dispose();
    expect(() => r.push(new Float32Array(10), 16000)).toThrow(/after dispose/);
  });
});

describe('Recognizer on zoo models', () => {
  // BC-ResNet's 10-ms frames make the hop 0.1 s where TC-ResNet8's 7.5-ms frames make it 0.0975 s.
  it.each([['tcresnet8', LOGMEL_60x134], ['bcresnet', featuresFor('bcresnet')]] as const)('%s: each hop classifies what classify() gives for the same second, at 48 kHz in odd chunks', (name, features) => {
    const model = createModel(name, { classes: 4, seed: 3 });
    const hops: Array<{ time: number; p: number[] }> = [];
    const r = new Recognizer(model, { classNames: CLASSES, features }, { smoothing: 1, onHop: (time, p) => hops.push({ time, p: Array.from(p) }) });
    // 2.53 s: no hop ends exactly at the last sample, which the resampler still holds back.
    const audio = testAudio(2.53, 48000, 5);
    for (let at = 0, n = 1; at < audio.length; at += n, n = (n * 7 + 3) % 2000) r.push(audio.subarray(at, at + n), 48000);
    expect(hops.length).toBe(Math.floor((2.53 - 1) / r.hopSeconds) + 1);
    const at16k = resample(audio, 48000, 16000);
    for (const { time, p } of hops) {
      const end = Math.round(time * 16000);
      const offline = r.classify(at16k.slice(end - 16000, end), 16000);
      for (let c = 0; c < p.length; c++) expect(p[c]).toBeCloseTo(offline[c], 3);
    }
    r.dispose();
    model.dispose();
  });

  it('M5 (waveform) and a spiking model listen too', () => {
    for (const [name, spiking] of [['m5', false], ['hjh', true]] as const) {
      const model = createModel(name, { classes: 4, seed: 1, spiking, steps: 2 });
      const r = new Recognizer(model, { classNames: CLASSES, features: featuresFor(name) }, { onHop: () => {} });
      const audio = testAudio(1.5, 16000, 2);
      r.push(audio, 16000);
      const p = r.probabilities;
      expect(p).toHaveLength(4);
      expect(p.reduce((a, b) => a + b)).toBeCloseTo(1, 6);
      expect(r.time).toBeCloseTo(1.5, 2);
      r.dispose();
      model.dispose();
    }
  });

  it('engine memory is flat over many pushes, and reset() starts the clock again', () => {
    const engine = getEngine();
    const model = createModel('tcresnet8', { classes: 4, seed: 3, spiking: true, steps: 2 });
    let hops = 0;
    const r = new Recognizer(model, { classNames: CLASSES, features: LOGMEL_60x134 }, { onHop: () => hops++ });
    const chunk = testAudio(0.5, 44100, 8);
    for (let i = 0; i < 4; i++) for (let at = 0; at < chunk.length; at += 128) r.push(chunk.subarray(at, at + 128), 44100);
    const bytes = engine.bytesInUse, memory = engine.memoryBytes;
    for (let i = 0; i < 60; i++) for (let at = 0; at < chunk.length; at += 128) r.push(chunk.subarray(at, at + 128), 44100);
    expect(hops).toBeGreaterThan(250);
    expect(engine.bytesInUse).toBe(bytes);
    expect(engine.memoryBytes).toBe(memory);
    for (let i = 0; i < 40; i++) r.push(chunk, 44100);
    expect(engine.bytesInUse).toBe(bytes);
    expect(r.time).toBeGreaterThan(20);
    r.reset();
    expect(r.time).toBe(0);
    r.dispose();
    model.dispose();
  });
});
