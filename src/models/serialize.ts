// One portable file per model: everything needed to rebuild it (architecture, migration settings,
// class names, feature settings) and its tensors. Layout, all little-endian:
//   "SNNV" | u32 version | u32 header bytes | header JSON (UTF-8) | pad to 4 | f32 tensors | u32 CRC-32
// The CRC covers every byte before it, so truncation and bit flips are both caught.
import type { FeatureSettings } from '../audio/features.js';
import { fmtShape } from '../engine/errors.js';
import { crc32 } from './crc32.js';
import type { Model, ModelConfig } from './types.js';
import { createModel } from './zoo.js';

export const MODEL_FORMAT_VERSION = 1;
const MAGIC = 0x564e4e53; // "SNNV" read as a little-endian u32

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

export function serializeModel(model: Model, meta: ModelMeta): Uint8Array {
  if (meta.classNames.length !== model.classes)
    throw new RangeError(`serializeModel: ${meta.classNames.length} class names for a model with ${model.classes} classes`);
  const tensors = namedTensors(model);
  const header: Header = { config: model.config, meta, tensors: tensors.map((t) => ({ name: t.name, shape: [...t.value.shape] })) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = (12 + json.length + 3) & ~3;
  const values = tensors.reduce((n, t) => n + t.value.size, 0);
  const bytes = new Uint8Array(dataStart + 4 * values + 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, MODEL_FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  let at = dataStart;
  for (const { value } of tensors) {
    const src = value.f32;
    for (let i = 0; i < src.length; i++, at += 4) view.setFloat32(at, src[i], true);
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

export function deserializeModel(input: Uint8Array | ArrayBuffer, source = 'model file'): { model: Model; meta: ModelMeta } {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 || view.getUint32(0, true) !== MAGIC)
    throw new ModelFileError(source, 'is not an snn-voice model file (bad magic number)');
  const version = view.getUint32(4, true);
  if (version !== MODEL_FORMAT_VERSION)
    throw new ModelFileError(source, `has format version ${version}; this snn-voice reads version ${MODEL_FORMAT_VERSION}`);
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true))
    throw new ModelFileError(source, 'is truncated or corrupted (checksum mismatch)');
  const jsonLength = view.getUint32(8, true);
  if (12 + jsonLength > end) throw new ModelFileError(source, 'is truncated (header runs past the end)');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as Header;
  } catch (e) {
    throw new ModelFileError(source, `has an unreadable header (${(e as Error).message})`);
  }
  const model = createModel(header.config.name, header.config);
  try {
    const expected = namedTensors(model);
    if (expected.length !== header.tensors.length)
      throw new ModelFileError(source, `holds ${header.tensors.length} tensors, a ${header.config.name} model has ${expected.length}`);
    let at = (12 + jsonLength + 3) & ~3;
    expected.forEach(({ name, value }, i) => {
      const entry = header.tensors[i];
      if (entry.name !== name || fmtShape(entry.shape) !== fmtShape(value.shape))
        throw new ModelFileError(source, `tensor ${i} is "${entry.name}" ${fmtShape(entry.shape)}, expected "${name}" ${fmtShape(value.shape)}`);
      if (at + 4 * value.size > end) throw new ModelFileError(source, `is truncated inside tensor "${name}"`);
      const dst = value.f32;
      for (let k = 0; k < dst.length; k++, at += 4) dst[k] = view.getFloat32(at, true);
    });
    if (at !== end) throw new ModelFileError(source, `has ${end - at} unexpected bytes after the tensors`);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, meta: header.meta };
}
