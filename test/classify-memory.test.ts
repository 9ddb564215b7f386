// Memory stays flat over many offline classifications through the documented API
// (Recognizer.classify): the engine's bytes in use and its linear memory are the same after 1,000 calls
// as after the first few. scripts/classify-memory.ts measures 100,000 calls and the JS heap.
import { beforeAll, expect, it } from 'vitest';
import { getEngine, initEngine } from '../src/engine/engine.js';
import { Recognizer } from '../src/listen/recognizer.js';
import { createModel, featuresFor } from '../src/models/zoo.js';

beforeAll(async () => {
  await initEngine({ flavor: 'simd' });
});

it('Recognizer.classify allocates nothing on the engine over 1,000 calls (tcy CNN and SNN)', () => {
  const engine = getEngine();
  const features = featuresFor('tcy');
  const rate = features.sampleRate;
  const clips = Array.from({ length: 4 }, (_, k) =>
    Float32Array.from({ length: rate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * (150 + 40 * k) * i) / rate)),
  );
  for (const spiking of [false, true]) {
    const model = createModel('tcy', { classes: 4, spiking, ...(spiking && { steps: 2 }) });
    const r = new Recognizer(model, { classNames: ['a', 'b', 'c', 'd'], features });
    for (let i = 0; i < 5; i++) r.classify(clips[i % clips.length], rate);
    const start = { bytes: engine.bytesInUse, memory: engine.memoryBytes };
    const calls = spiking ? 300 : 700;
    for (let i = 0; i < calls; i++) {
      const p = r.classify(clips[i % clips.length], rate);
      if (i % 100 === 0) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect({ bytes: engine.bytesInUse, memory: engine.memoryBytes }).toEqual(start);
    r.dispose();
    model.dispose();
    // What stays is the engine's shared scratch area (GEMM packing, im2col), sized by the largest call.
    expect(engine.bytesInUse).toBeLessThan(start.bytes);
  }
}, 120_000);
