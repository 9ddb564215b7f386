// NIR in a browser: the core bundled for browsers (esbuild, platform 'browser', so a Node built-in
// anywhere in h5wasm's graph fails the build) exports a spiking model to NIR bytes and imports them back
// with the same outputs, in a JavaScript realm without process, require or Buffer.
import { expect, it } from 'vitest';
import { runInPage } from './browser-page.js';

it('the browser bundle writes and reads NIR in a realm without Node', async () => {
  const result = await runInPage<{ hasNode: boolean; size: number; before: number[]; after: number[] }>(
    `(async () => {
      const s = snnVoice;
      await s.initEngine();
      const model = s.createModel('tcresnet8', { spiking: true, converted: true, steps: 3, classes: 3, seed: 2 });
      model.eval();
      const n = model.inputShape.reduce((a, b) => a * b, 1);
      const x = s.Tensor.from(Float32Array.from({ length: n }, (_, i) => (i % 17) / 8), [1, ...model.inputShape]);
      const before = Array.from(model.forward(x).toArray());
      const bytes = await s.exportNir(model);
      const back = await s.importNir(bytes);
      back.model.eval();
      const after = Array.from(back.model.forward(x).toArray());
      return { hasNode: typeof process !== 'undefined', size: bytes.length, before, after };
    })()`,
  );
  expect(result.hasNode).toBe(false);
  expect(result.size).toBeGreaterThan(1000);
  expect(result.after).toEqual(result.before);
}, 120_000);
