// A NIR file in snnTorch's layout, written by NIR's reference package (scripts/nir-fixture.py, which
// also recorded the outputs of the graph under NIR's dynamics), imports and gives those outputs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { importNir } from '../src/index.js';

const FIXTURES = join(__dirname, 'fixtures');

describe('NIR fixture in snnTorch layout', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  it('imports and gives the outputs the script recorded', async () => {
    const expected = JSON.parse(await readFile(join(FIXTURES, 'snntorch-small.json'), 'utf8')) as {
      steps: number; inputShape: number[]; input: number[]; logits: number[];
    };
    const { model, fromSnnVoice, classNames } = await importNir(await readFile(join(FIXTURES, 'snntorch-small.nir')), { steps: expected.steps });
    try {
      expect(fromSnnVoice).toBe(false);
      expect(classNames).toBeNull();
      expect(model.inputShape).toEqual(expected.inputShape.slice(1));
      expect(model.classes).toBe(4);
      model.eval();
      const x = Tensor.from(Float32Array.from(expected.input), expected.inputShape);
      const logits = model.forward(x).toArray();
      x.free();
      expect(Array.from(logits)).toEqual(expected.logits);
    } finally {
      model.dispose();
    }
  });
});
