// The core bundled for browsers (esbuild, platform 'browser': a Node built-in anywhere in the graph fails
// the build) runs in a fresh JavaScript realm that has only what a web page offers: no `process`, no
// `require`, no Buffer. It loads the embedded WebAssembly, featurizes audio with meyda, runs a spiking
// model and round-trips a model file from an ArrayBuffer.
import { expect, it } from 'vitest';
import { runInPage } from './browser-page.js';

interface PageResult {
  hasNode: boolean;
  shape: number[];
  logits: number[];
  reloaded: number[];
}

it('the browser bundle of the core classifies a clip in a realm without Node', async () => {
  const result = await runInPage<PageResult>(
    `(async () => {
      const s = snnVoice;
      await s.initEngine();
      const settings = s.featuresFor('hjh');
      const rate = 48000, clip = new Float32Array(rate);
      for (let i = 0; i < rate; i++) clip[i] = 0.3 * Math.sin(2 * Math.PI * 440 * i / rate);
      const features = s.extractFeatures(clip, rate, settings);
      const model = s.createModel('hjh', { spiking: true, steps: 3, classes: 4, seed: 5 });
      model.eval();
      const x = s.Tensor.from(features, [1, ...model.inputShape]);
      const logits = Array.from(model.forward(x).toArray());
      const bytes = s.serializeModel(model, { classNames: ['a', 'b', 'c', 'd'], features: settings });
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      const reloaded = s.deserializeModel(file, 'model.snn').model;
      reloaded.eval();
      return {
        hasNode: typeof process !== 'undefined' || typeof require !== 'undefined' || typeof Buffer !== 'undefined',
        shape: s.featureShape(settings),
        logits,
        reloaded: Array.from(reloaded.forward(x).toArray()),
      };
    })()`,
  );
  expect(result.hasNode).toBe(false);
  expect(result.shape).toEqual([1, 60, 134]);
  expect(result.logits).toHaveLength(4);
  expect(result.logits.every(Number.isFinite)).toBe(true);
  expect(result.reloaded).toEqual(result.logits);
});
