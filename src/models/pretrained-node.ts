// Pretrained models in Node: read from the package's own pretrained/ folder, wherever it is installed
// (the folder sits at the package root, above both src/ and dist/src/).
import { join } from 'node:path';
import { packageFile } from '../util/package-root-node.js';
import { loadModel } from './file-node.js';
import { PRETRAINED, pretrainedFile, type PretrainedName } from './pretrained.js';
import type { ModelMeta } from './serialize.js';
import type { Model } from './types.js';

/** The path of a pretrained model's file in the installed package. */
export function pretrainedPath(name: string): string {
  const file = pretrainedFile(name);
  const path = packageFile(join('pretrained', file));
  if (path !== null) return path;
  throw new Error(`the pretrained model "${name}" (${file}) is missing from this installation of snn-voice`);
}

/** Loads one of the keyword spotters shipped in the package: `await loadPretrained('kws-snn')`. */
export async function loadPretrained(name: PretrainedName): Promise<{ model: Model; meta: ModelMeta }> {
  return loadModel(pretrainedPath(name));
}

export { PRETRAINED };
