// Model files: save, load, identical outputs afterwards; truncated, corrupted and wrong-version files refused.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { featuresFor } from '../src/models/zoo.js';
import { createModel } from '../src/models/zoo.js';
// Saving and loading come from the package entries: these names are public API.
import { deserializeModel, exportState, importMatching, importState, serializeModel, type ModelMeta } from '../src/index.js';
import { loadModel, saveModel } from '../src/node.js';
import { crc32 } from '../src/util/crc32.js';
import { logits, randArray } from './helpers.js';

const classNames = ['yes', 'no', 'up', 'down'];
const meta = (): ModelMeta => ({ classNames, features: featuresFor('hjh') });

describe('model files', () => {
  let dir: string;
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
    dir = await mkdtemp(join(tmpdir(), 'snn-voice-serialize-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  for (const spiking of [false, true]) {
    it(`round-trips a ${spiking ? 'spiking' : 'plain'} Hjh with its batch-norm statistics and settings`, async () => {
      const model = createModel('hjh', { classes: 4, spiking, steps: 3, learnBeta: true, seed: 7 });
      // Move the running statistics away from their initial values so the buffers are really tested.
      model.train();
      const batch = Tensor.from(randArray(2 * 60 * 134, 3), [2, 1, 60, 134]);
      model.forward(batch);
      batch.free();
      const x = randArray(2 * 60 * 134, 11);
      const before = logits(model, x);
      const path = join(dir, `hjh-${spiking}.snn`);
      await saveModel(path, model, meta());
      const { model: loaded, meta: loadedMeta } = await loadModel(path);
      expect(loaded.config).toEqual(model.config);
      expect(loadedMeta).toEqual(meta());
      expect(Array.from(logits(loaded, x))).toEqual(Array.from(before));
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      loaded.dispose();
      model.dispose();
    });
  }

  /** The same file claiming another format version, its checksum made right again. */
  const withVersion = (bytes: Uint8Array, version: number): Uint8Array => {
    const b = bytes.slice();
    const view = new DataView(b.buffer);
    view.setUint32(4, version, true);
    view.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
    return b;
  };

  it('refuses truncated, corrupted, foreign and wrong-version files with the file name', async () => {
    const model = createModel('tcy', { classes: 4 });
    const bytes = serializeModel(model, meta());
    model.dispose();
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.snn', bytes.subarray(0, bytes.length - 9), /truncated.snn: .*(truncated|checksum)/],
      ['flipped.snn', (() => { const b = bytes.slice(); b[b.length - 20] ^= 0x10; return b; })(), /flipped.snn: .*corrupted/],
      ['foreign.snn', new TextEncoder().encode('RIFF....WAVEfmt not a model at all'), /foreign.snn: .*not an snn-voice model/],
      ['future.snn', withVersion(bytes, 99), /future.snn: .*version 99/],
    ];
    for (const [name, data, message] of cases) {
      const path = join(dir, name);
      await writeFile(path, data);
      await expect(loadModel(path)).rejects.toThrow(message);
    }
    await expect(loadModel(join(dir, 'missing.snn'))).rejects.toThrow(/missing.snn: cannot read/);
  });

  it('loads from an ArrayBuffer as a browser would', async () => {
    const model = createModel('tcy', { classes: 4, spiking: true, steps: 2 });
    const bytes = serializeModel(model, meta());
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { model: loaded } = deserializeModel(copy as ArrayBuffer, 'fetched');
    const x = randArray(2 * 60 * 134, 5);
    expect(Array.from(logits(loaded, x))).toEqual(Array.from(logits(model, x)));
    loaded.dispose();
    model.dispose();
  });

  it('snapshots and restores state, refusing a mismatched snapshot', () => {
    const a = createModel('tcy', { classes: 4, seed: 1 });
    const b = createModel('tcy', { classes: 4, seed: 2 });
    const x = randArray(2 * 60 * 134, 8);
    importState(b, exportState(a));
    expect(Array.from(logits(b, x))).toEqual(Array.from(logits(a, x)));
    const other = createModel('hjh', { classes: 4 });
    expect(() => importState(other, exportState(a), 'snapshot')).toThrow(/snapshot: has no tensor/);
    [a, b, other].forEach((m) => m.dispose());
  });

  it('warm-starts from the tensors that match, keeping the rest (a classifier over other words)', () => {
    const from = createModel('tcresnet8', { classes: 35, seed: 1 });
    const model = createModel('tcresnet8', { classes: 12, seed: 2 });
    const fresh = exportState(model);
    const { copied, kept } = importMatching(model, exportState(from), 'pretrained.snn');
    expect(kept).toEqual(['fc.weight', 'fc.bias']);
    expect(copied).toHaveLength(exportState(model).size - 2);
    const now = exportState(model);
    for (const name of copied) expect(Array.from(now.get(name)!), name).toEqual(Array.from(exportState(from).get(name)!));
    for (const name of kept) expect(Array.from(now.get(name)!), name).toEqual(Array.from(fresh.get(name)!));
    expect(Array.from(now.get('conv0.weight')!)).not.toEqual(Array.from(fresh.get('conv0.weight')!));
    const other = createModel('tcy', { classes: 35 });
    expect(() => importMatching(model, exportState(other), 'tcy.snn')).toThrow(/tcy\.snn: has no tensor of the model's names and sizes/);
    [from, model, other].forEach((m) => m.dispose());
  });

  it('keeps the written bytes stable for the same model', async () => {
    const m = createModel('tcy', { classes: 4, seed: 3 });
    const path = join(dir, 'stable.snn');
    await saveModel(path, m, meta());
    expect(Buffer.compare(await readFile(path), Buffer.from(serializeModel(m, meta())))).toBe(0);
    m.dispose();
  });
});
