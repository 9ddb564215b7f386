// The keyword spotters shipped in the package (pretrained/, made by scripts/train-pretrained.ts from
// the seed). In a browser the app says where the file is served from (a bundler gives its URL:
// `import url from 'snn-voice/pretrained/kws-snn.snn?url'`); in Node, loadPretrained from
// 'snn-voice/node' finds it in the installed package.
import { deserializeModel, type ModelMeta } from './serialize.js';
import type { Model } from './types.js';

export const PRETRAINED = {
  /** TC-ResNet8, a CNN: the most accurate on the synthesized and the real test splits. */
  'kws-cnn': 'kws-cnn.snn',
  /** Its spiking twin (T = 8, converted from the CNN fine-tuned with QCFS activations): as accurate on
   *  real people, spiking in 8-19% of its neurons per step, its deeper layers accumulating rather than multiplying. */
  'kws-snn': 'kws-snn.snn',
} as const;

export type PretrainedName = keyof typeof PRETRAINED;

export function pretrainedFile(name: string): string {
  const file = (PRETRAINED as Record<string, string>)[name];
  if (!file) throw new RangeError(`no pretrained model "${name}"; there are ${Object.keys(PRETRAINED).join(', ')}`);
  return file;
}

/** Fetches and loads a pretrained model from where the app serves the package's pretrained/ folder. */
export async function loadPretrainedFrom(url: string | URL, name: PretrainedName): Promise<{ model: Model; meta: ModelMeta }> {
  const where = new URL(pretrainedFile(name), url.toString().endsWith('/') ? url : `${url}/`);
  const response = await fetch(where);
  if (!response.ok) throw new Error(`${where}: cannot fetch the pretrained model "${name}" (HTTP ${response.status})`);
  return deserializeModel(await response.arrayBuffer(), where.toString());
}
