// `snn-voice export --format nir` and `snn-voice import`: a model file to NIR and back, with the same
// outputs; a model NIR cannot express and a foreign NIR file are refused with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import { loadModel, saveModel } from '../src/node.js';
import { logits, randArray } from './helpers.js';
import { cli } from './cli-helpers.js';

describe('snn-voice export / import (NIR)', () => {
  let dir: string;
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
    dir = mkdtempSync(join(tmpdir(), 'snn-voice-nir-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Tcy's pool, flatten and fc are one Affine in the file, read back as the three within rounding.
  for (const [name, options, exact] of [['tcresnet8', { converted: true }, true], ['hjh', {}, true], ['tcy', {}, false]] as const) {
    it(`${name} ${JSON.stringify(options)}: m.snn -> m.nir -> m.snn keeps the outputs`, async () => {
      const model = createModel(name, { classes: 4, seed: 3, spiking: true, steps: 3, ...options });
      // Untrained weights at threshold 1 leave most neurons silent; at 0.1 they fire.
      for (const b of model.buffers()) if (b.name.endsWith('.threshold')) b.value.f32.fill(0.1);
      const src = join(dir, `${name}.snn`);
      const nir = join(dir, `${name}.nir`);
      const back = join(dir, `${name}-back.snn`);
      const meta = { classNames: ['yes', 'no', 'up', 'down'], features: featuresFor(name) };
      await saveModel(src, model, meta);
      const x = randArray(2 * model.inputShape.reduce((a, b) => a * b, 1), 5, 0, 4);
      const before = logits(model, x);
      model.dispose();
      const ex = await cli('export', '--format', 'nir', '--model', src, '--out', nir);
      expect(ex.err).toBe('');
      expect(ex.code).toBe(0);
      expect(ex.out).toContain(nir);
      const im = await cli('import', nir, '--out', back, '--json');
      expect(im.err).toBe('');
      expect(im.code).toBe(0);
      expect(JSON.parse(im.out)).toMatchObject({ model: name, steps: 3, classes: 4 });
      const loaded = await loadModel(back);
      try {
        expect(loaded.meta.classNames).toEqual(meta.classNames);
        const after = logits(loaded.model, x);
        if (exact) expect(Array.from(after)).toEqual(Array.from(before));
        else {
          const scale = before.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          for (let i = 0; i < before.length; i++) expect(Math.abs(after[i] - before[i])).toBeLessThan(1e-4 * scale);
        }
      } finally {
        loaded.model.dispose();
      }
    }, 120_000);
  }

  it('refuses a model NIR cannot express, naming the layers, why, and what exports', async () => {
    const model = createModel('hjh-scnn', { classes: 4 });
    const src = join(dir, 'hjh-scnn.snn');
    await saveModel(src, model, { classNames: ['a', 'b', 'c', 'd'], features: featuresFor('hjh-scnn') });
    model.dispose();
    const r = await cli('export', '--format', 'nir', '--model', src, '--out', join(dir, 'hjh-scnn.nir'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/hjh-scnn\.snn: cannot be written as NIR: relu1, relu2: NIR has no ReLU node and no exact equivalent/);
    expect(r.err).toMatch(/a model whose activations are all Leaky neurons exports/);
    expect(r.err).toMatch(/pool1: a max pool over analog values/);
  }, 120_000);

  it('refuses to save a foreign NIR file as a model file, saying why', async () => {
    const r = await cli('import', join(__dirname, 'fixtures', 'snntorch-small.nir'), '--out', join(dir, 'foreign.snn'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/was not written by snn-voice export/);
  });
});
