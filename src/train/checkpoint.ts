// Training checkpoints: a JSON part (counters, history, settings) and named f32 arrays (weights,
// optimizer slots, best weights), encoded into one self-checking byte string so a store only moves
// bytes. Layout, all little-endian:
//   "SNNC" | u32 version | u32 header bytes | header JSON (UTF-8) | pad to 4 | f32 arrays | u32 CRC-32
import { crc32 } from '../models/crc32.js';

export const CHECKPOINT_FORMAT_VERSION = 1;
const MAGIC = 0x434e4e53; // "SNNC" read as a little-endian u32
/** On little-endian hosts (all current ones) arrays are copied as bytes: a Piczak checkpoint is ~400 MB. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export interface Checkpoint {
  /** Anything JSON can hold. */
  meta: unknown;
  arrays: Map<string, Float32Array>;
}

/** Where a run keeps its latest checkpoint. `save` must replace the previous one atomically. */
export interface CheckpointStore {
  save(checkpoint: Checkpoint): Promise<void>;
  /** The latest checkpoint, or null when none was saved yet. */
  load(): Promise<Checkpoint | null>;
}

export class CheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

interface Header {
  meta: unknown;
  arrays: Array<{ name: string; length: number }>;
}

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const entries = [...checkpoint.arrays];
  const header: Header = { meta: checkpoint.meta, arrays: entries.map(([name, a]) => ({ name, length: a.length })) };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = (12 + json.length + 3) & ~3;
  const values = entries.reduce((n, [, a]) => n + a.length, 0);
  const bytes = new Uint8Array(dataStart + 4 * values + 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CHECKPOINT_FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  let at = dataStart;
  for (const [, a] of entries) {
    if (LITTLE_ENDIAN) {
      bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
      at += a.byteLength;
    } else for (let i = 0; i < a.length; i++, at += 4) view.setFloat32(at, a[i], true);
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 || view.getUint32(0, true) !== MAGIC) throw new CheckpointError(source, 'is not an snn-voice checkpoint (bad magic number)');
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_FORMAT_VERSION)
    throw new CheckpointError(source, `has format version ${version}; this snn-voice reads version ${CHECKPOINT_FORMAT_VERSION}`);
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) throw new CheckpointError(source, 'is truncated or corrupted (checksum mismatch)');
  const jsonLength = view.getUint32(8, true);
  if (12 + jsonLength > end) throw new CheckpointError(source, 'is truncated (header runs past the end)');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as Header;
  } catch (e) {
    throw new CheckpointError(source, `has an unreadable header (${(e as Error).message})`);
  }
  const arrays = new Map<string, Float32Array>();
  let at = (12 + jsonLength + 3) & ~3;
  for (const { name, length } of header.arrays) {
    if (at + 4 * length > end) throw new CheckpointError(source, `is truncated inside array "${name}"`);
    const a = new Float32Array(length);
    if (LITTLE_ENDIAN) {
      new Uint8Array(a.buffer).set(bytes.subarray(at, at + 4 * length));
      at += 4 * length;
    } else for (let i = 0; i < length; i++, at += 4) a[i] = view.getFloat32(at, true);
    arrays.set(name, a);
  }
  if (at !== end) throw new CheckpointError(source, `has ${end - at} unexpected bytes after the arrays`);
  return { meta: header.meta, arrays };
}

/** Keeps the latest checkpoint in memory, encoded, so what is saved is a copy that later training cannot touch. */
export class MemoryCheckpointStore implements CheckpointStore {
  private bytes: Uint8Array | null = null;

  async save(checkpoint: Checkpoint): Promise<void> {
    this.bytes = encodeCheckpoint(checkpoint);
  }

  async load(): Promise<Checkpoint | null> {
    return this.bytes ? decodeCheckpoint(this.bytes, 'in-memory checkpoint') : null;
  }

  /** Size of the stored checkpoint in bytes (0 when empty). */
  get byteLength(): number {
    return this.bytes?.length ?? 0;
  }
}
