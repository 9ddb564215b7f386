// Saving and loading model files in Node. Writes go to a temp file in the same folder and are renamed
// over the target, so a crash mid-write never leaves a half-written model behind.
import type { Model } from './types.js';
import { deserializeModel, serializeModel, type ModelMeta } from './serialize.js';
import { writeFileAtomic } from '../util/atomic-node.js';
import { readFileBounded } from '../util/read-file-node.js';

/** Piczak, the largest model of the zoo, is about 100 MB. */
const MAX_MODEL_BYTES = 1 << 30;

export async function saveModel(path: string, model: Model, meta: ModelMeta): Promise<void> {
  await writeFileAtomic(path, serializeModel(model, meta));
}

export async function loadModel(path: string): Promise<{ model: Model; meta: ModelMeta }> {
  return deserializeModel(await readFileBounded(path, MAX_MODEL_BYTES, 'a model file'), path);
}
