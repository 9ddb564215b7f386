// The one binary container of the project: model files and training checkpoints are both a JSON header
// and f32 arrays in one self-checking byte string. Layout, all little-endian:
//   magic (u32) | u32 version | u32 header bytes | header JSON (UTF-8) | pad to 4 | f32 arrays | u32 CRC-32
// The CRC covers every byte before it, so truncation and bit flips are both caught.
import { crc32 } from './crc32.js';

/** Which container a byte string must be, and what to call it in messages. */
export interface ContainerKind {
  /** Four ASCII letters read as a little-endian u32, e.g. "SNNV". */
  magic: number;
  version: number;
  /** "an snn-voice model file": said when the magic number does not match. */
  description: string;
  /** Builds the error thrown for a bad byte string: `${source}: ${problem}`. */
  error: (source: string, problem: string) => Error;
}

/** On little-endian hosts (all current ones) arrays are copied as bytes: a Piczak checkpoint is ~400 MB. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export function encodeContainer(kind: ContainerKind, header: unknown, arrays: readonly Float32Array[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = (12 + json.length + 3) & ~3;
  const values = arrays.reduce((n, a) => n + a.length, 0);
  const bytes = new Uint8Array(dataStart + 4 * values + 4);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, kind.magic, true);
  view.setUint32(4, kind.version, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  let at = dataStart;
  for (const a of arrays) {
    if (LITTLE_ENDIAN) {
      bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
      at += a.byteLength;
    } else for (let i = 0; i < a.length; i++, at += 4) view.setFloat32(at, a[i], true);
  }
  view.setUint32(at, crc32(bytes.subarray(0, at)), true);
  return bytes;
}

/** A checked container: its header, and its arrays read in order by `next`. */
export interface ContainerReader {
  header: unknown;
  /** How many f32 values the container holds in all. */
  values: number;
  /** Fills `into` (or a new array of `length`) with the next `length` values; `what` names them in errors. */
  next(length: number, what: string, into?: Float32Array): Float32Array;
  /** Throws unless every array has been read. */
  end(what: string): void;
}

export function decodeContainer(kind: ContainerKind, bytes: Uint8Array, source: string): ContainerReader {
  const fail = (problem: string): never => {
    throw kind.error(source, problem);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 16 || view.getUint32(0, true) !== kind.magic) fail(`is not ${kind.description} (bad magic number)`);
  // The checksum first: a damaged file should say so, not report the version its damage spells.
  const end = bytes.length - 4;
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) fail('is truncated or corrupted (checksum mismatch)');
  const version = view.getUint32(4, true);
  if (version !== kind.version) fail(`has format version ${version}; this snn-voice reads version ${kind.version}`);
  const jsonLength = view.getUint32(8, true);
  if (12 + jsonLength > end) fail('is truncated (header runs past the end)');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength)));
  } catch (e) {
    fail(`has an unreadable header (${(e as Error).message})`);
  }
  let at = (12 + jsonLength + 3) & ~3;
  if (at > end) fail('is truncated (header runs past the end)');
  return {
    header,
    values: (end - at) / 4,
    next(length, what, into = new Float32Array(length)) {
      if (at + 4 * length > end) fail(`is truncated inside ${what}`);
      if (LITTLE_ENDIAN) new Uint8Array(into.buffer, into.byteOffset, 4 * length).set(bytes.subarray(at, at + 4 * length));
      else for (let i = 0; i < length; i++) into[i] = view.getFloat32(at + 4 * i, true);
      at += 4 * length;
      return into;
    },
    end(what) {
      if (at !== end) fail(`has ${end - at} unexpected bytes after the ${what}`);
    },
  };
}
