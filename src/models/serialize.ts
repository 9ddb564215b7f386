// One portable file per model: everything needed to rebuild it (architecture, migration settings,
// class names, feature settings) and its tensors, in the project's container (util/container.ts).
import type { FeatureSettings } from '../audio/settings.js';
import { fmtShape } from '../engine/errors.js';
import { decodeContainer, encodeContainer, type ContainerKind } from '../util/container.js';
import type { Model, ModelConfig } from './types.js';
import { createModel } from './zoo.js';

export const MODEL_FORMAT_VERSION = 1;

export interface ModelMeta {
  classNames: string[];
  features: FeatureSettings;
  extra?: Record<string, unknown>;
}

interface TensorEntry {
  name: string;
  shape: number[];
}

interface Header {
  config: ModelConfig;
  meta: ModelMeta;
  tensors: TensorEntry[];
}

export class ModelFileError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'ModelFileError';
  }
}

/** Parameters first, then buffers, in the model's own order: the order is part of the format. */
function namedTensors(model: Model) {
  return [...model.parameters().map((p) => ({ name: p.name, value: p.value })), ...model.buffers()];
}

/** A copy of every parameter and buffer, by name: for best-weights snapshots and checkpoints. */
export type ModelState = Map<string, Float32Array>;

export function exportState(model: Model): ModelState {
  return new Map(namedTensors(model).map(({ name, value }) => [name, value.toArray()]));
}

export function importState(model: Model, state: ModelState, source = 'model state'): void {
  for (const { name, value } of namedTensors(model)) {
    const values = state.get(name);
    if (!values) throw new ModelFileError(source, `has no tensor "${name}"`);
    if (values.length !== value.size)
      throw new ModelFileError(source, `tensor "${name}" has ${values.length} values, the model expects ${fmtShape(value.shape)}`);
    value.f32.set(values);
  }
}

const KIND: ContainerKind = {
  magic: 0x564e4e53, // "SNNV"
  version: MODEL_FORMAT_VERSION,
  description: 'an snn-voice model file',
  error: (source, problem) => new ModelFileError(source, problem),
};

export function serializeModel(model: Model, meta: ModelMeta): Uint8Array {
  if (meta.classNames.length !== model.classes)
    throw new RangeError(`serializeModel: ${meta.classNames.length} class names for a model with ${model.classes} classes`);
  const tensors = namedTensors(model);
  const header: Header = { config: model.config, meta, tensors: tensors.map((t) => ({ name: t.name, shape: [...t.value.shape] })) };
  return encodeContainer(KIND, header, tensors.map((t) => t.value.f32));
}

export function deserializeModel(input: Uint8Array | ArrayBuffer, source = 'model file'): { model: Model; meta: ModelMeta } {
  const reader = decodeContainer(KIND, input instanceof Uint8Array ? input : new Uint8Array(input), source);
  const header = reader.header as Header;
  const model = createModel(header.config.name, header.config);
  try {
    const expected = namedTensors(model);
    if (expected.length !== header.tensors.length)
      throw new ModelFileError(source, `holds ${header.tensors.length} tensors, a ${header.config.name} model has ${expected.length}`);
    expected.forEach(({ name, value }, i) => {
      const entry = header.tensors[i];
      if (entry.name !== name || fmtShape(entry.shape) !== fmtShape(value.shape))
        throw new ModelFileError(source, `tensor ${i} is "${entry.name}" ${fmtShape(entry.shape)}, expected "${name}" ${fmtShape(value.shape)}`);
      reader.next(value.size, `tensor "${name}"`, value.f32);
    });
    reader.end('tensors');
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: header.meta };
}
