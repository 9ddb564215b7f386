// One portable file per model: everything needed to rebuild it (architecture, migration settings,
// class names, feature settings) and its tensors, in the project's container (util/container.ts).
import { featureShape, validateFeatureSettings, type FeatureSettings } from '../audio/settings.js';
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

/** What a warm start took: the model's tensors copied from the state, and those left as they were. */
export interface WarmStart {
  copied: string[];
  kept: string[];
}

/**
 * A warm start: copies into `model` every tensor of `state` with the same name and size, and leaves
 * the others as they are (a classifier over other words, a neuron parameter the state lacks). Throws
 * when nothing matches, so a state of another architecture is not taken for a start.
 */
export function importMatching(model: Model, state: ModelState, source = 'model state'): WarmStart {
  const copied: string[] = [];
  const kept: string[] = [];
  for (const { name, value } of namedTensors(model)) {
    const values = state.get(name);
    if (values && values.length === value.size) {
      value.f32.set(values);
      copied.push(name);
    } else kept.push(name);
  }
  if (copied.length === 0) throw new ModelFileError(source, `has no tensor of the model's names and sizes (${kept.slice(0, 3).join(', ')}, ...)`);
  return { copied, kept };
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

/** A model file may declare at most this many classes: the output layer is sized by it before its
 *  tensors are read, and the keyword tasks have 12 or 35. */
const MAX_CLASSES = 10_000;

/** The header's parts, checked before anything is allocated by them. */
function checkHeader(header: unknown, values: number, source: string): Header {
  const fail = (problem: string): never => {
    throw new ModelFileError(source, problem);
  };
  const h = header as Partial<Header> | null;
  if (!h || typeof h !== 'object') fail('has no header object');
  if (!h!.config || typeof h!.config !== 'object') fail('has no model settings ("config") in its header');
  if (!h!.meta || typeof h!.meta !== 'object') fail('has no class names and feature settings ("meta") in its header');
  if (!Array.isArray(h!.tensors)) fail('has no tensor list in its header');
  const { config, meta, tensors } = h as Header;
  if (!(config.classes <= MAX_CLASSES)) fail(`declares ${config.classes} classes; at most ${MAX_CLASSES} are read`);
  let declared = 0;
  for (const t of tensors) {
    if (typeof t?.name !== 'string' || !Array.isArray(t.shape) || !t.shape.every((d) => Number.isInteger(d) && d > 0))
      fail(`has a malformed tensor entry ${JSON.stringify(t)}`);
    declared += t.shape.reduce((a, b) => a * b, 1);
  }
  if (declared !== values) fail(`lists tensors of ${declared} values but holds ${values}`);
  if (!Array.isArray(meta.classNames) || !meta.classNames.every((c) => typeof c === 'string'))
    fail('has no list of class names');
  if (meta.classNames.length !== config.classes) fail(`names ${meta.classNames.length} classes for a model of ${config.classes}`);
  try {
    validateFeatureSettings(meta.features);
  } catch (e) {
    fail(`has unusable ${(e as Error).message}`);
  }
  return h as Header;
}

export function deserializeModel(input: Uint8Array | ArrayBuffer, source = 'model file'): { model: Model; meta: ModelMeta } {
  const reader = decodeContainer(KIND, input instanceof Uint8Array ? input : new Uint8Array(input), source);
  const header = checkHeader(reader.header, reader.values, source);
  let model: Model;
  try {
    model = createModel(header.config.name, header.config);
  } catch (e) {
    throw new ModelFileError(source, `holds model settings this snn-voice cannot build (${(e as Error).message})`);
  }
  try {
    const features = featureShape(header.meta.features);
    if (fmtShape(features) !== fmtShape(model.inputShape))
      throw new ModelFileError(source, `feature settings give ${fmtShape(features)} per clip, the ${model.name} model takes ${fmtShape(model.inputShape)}`);
    const expected = namedTensors(model);
    if (expected.length !== header.tensors.length)
      throw new ModelFileError(source, `holds ${header.tensors.length} tensors, a ${header.config.name} model has ${expected.length}`);
    expected.forEach(({ name, value }, i) => {
      const entry = header.tensors[i];
      if (entry.name !== name || fmtShape(entry.shape) !== fmtShape(value.shape))
        throw new ModelFileError(source, `tensor ${i} is "${entry.name}" ${fmtShape(entry.shape)}, expected "${name}" ${fmtShape(value.shape)}`);
      const values = reader.next(value.size, `tensor "${name}"`, value.f32);
      // A non-finite weight turns every output into NaN: refuse the file rather than print NaN.
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new ModelFileError(source, `tensor "${name}" holds ${values[bad]} at index ${bad}`);
    });
    reader.end('tensors');
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: header.meta };
}
