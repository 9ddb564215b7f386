// Saving and loading model files in Node. Writes go to a temp file in the same folder and are renamed
// over the target, so a crash mid-write never leaves a half-written model behind.
import { readFile } from 'node:fs/promises';
import type { Model } from './types.js';
import { deserializeModel, serializeModel, type ModelMeta } from './serialize.js';
import { writeFileAtomic } from '../util/atomic-node.js';

export async function saveModel(path: string, model: Model, meta: ModelMeta): Promise<void> {
  await writeFileAtomic(path, serializeModel(model, meta));
}

export async function loadModel(path: string): Promise<{ model: Model; meta: ModelMeta }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${path}: cannot read model file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return deserializeModel(bytes, path);
}
