// On-disk feature cache: one binary file of f32 feature rows per split. Rows are appended while a data
// set is featurized, then the header and a CRC per row are written and the file is renamed into place,
// so a reader sees either no file or a complete one. A reader checks the header, the file size, the
// CRC table and a sample of rows at open (any mismatch raises CacheError and the caller rebuilds), and
// every row against its CRC when first read.
//
// Layout (little-endian): header (32 bytes) | rows: count × per × f32 | row CRCs: count × u32
// header: magic "SNNFEAT1" | version u32 | count u32 | per u32 | CRC of the row-CRC table u32 |
//         CRC of the header's first 24 bytes u32 | reserved u32
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from '../util/crc32.js';

const MAGIC = 'SNNFEAT1';
const VERSION = 1;
const HEADER_BYTES = 32;

/** A cache file that is missing, truncated or damaged; the message names the file. */
export class CacheError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CacheError';
  }
}

const bytesOf = (f: Float32Array): Uint8Array => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);

let tmpCounter = 0;

/** Appends feature rows of `per` values to a temporary file; `finish()` completes it and renames it to `path`. */
export class FeatureFileWriter {
  private readonly crcs: number[] = [];
  private position = HEADER_BYTES;

  private constructor(
    readonly path: string,
    readonly per: number,
    private readonly tmp: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string, per: number): Promise<FeatureFileWriter> {
    if (!Number.isInteger(per) || per <= 0) throw new RangeError(`FeatureFileWriter: row length must be a positive integer, got ${per}`);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.${tmpCounter++}.tmp`;
    return new FeatureFileWriter(path, per, tmp, await open(tmp, 'w'));
  }

  get count(): number {
    return this.crcs.length;
  }

  async append(row: Float32Array): Promise<void> {
    if (row.length !== this.per) throw new RangeError(`FeatureFileWriter(${this.path}): row of ${row.length} values, expected ${this.per}`);
    const bytes = bytesOf(row);
    this.crcs.push(crc32(bytes));
    await this.handle.write(bytes, 0, bytes.length, this.position);
    this.position += bytes.length;
  }

  async finish(): Promise<void> {
    const table = new Uint8Array(Uint32Array.from(this.crcs).buffer);
    await this.handle.write(table, 0, table.length, this.position);
    await this.handle.write(header(this.count, this.per, crc32(table)), 0, HEADER_BYTES, 0);
    await this.handle.sync();
    await this.handle.close();
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => {});
    await rm(this.tmp, { force: true });
  }
}

function header(count: number, per: number, tableCrc: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const view = new DataView(h.buffer);
  for (let i = 0; i < MAGIC.length; i++) h[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, count, true);
  view.setUint32(16, per, true);
  view.setUint32(20, tableCrc, true);
  view.setUint32(24, crc32(h.subarray(0, 24)), true);
  return h;
}

interface Header {
  count: number;
  per: number;
  tableCrc: number;
}

function parseHeader(h: Uint8Array, path: string): Header {
  if (h.length < HEADER_BYTES) throw new CacheError(`${path}: truncated header`);
  for (let i = 0; i < MAGIC.length; i++)
    if (h[i] !== MAGIC.charCodeAt(i)) throw new CacheError(`${path}: not a feature cache file (bad magic)`);
  const view = new DataView(h.buffer, h.byteOffset, HEADER_BYTES);
  if (view.getUint32(24, true) !== crc32(h.subarray(0, 24))) throw new CacheError(`${path}: header checksum mismatch`);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new CacheError(`${path}: cache format version ${version}, this build reads ${VERSION}`);
  return { count: view.getUint32(12, true), per: view.getUint32(16, true), tableCrc: view.getUint32(20, true) };
}

export interface FeatureFileOptions {
  /** Files up to this size are read into memory; larger ones are read row by row from disk.
   *  Either way a row is checked against its CRC the first time it is read. Default 256 MiB. */
  memoryLimitBytes?: number;
}

/** Rows of a feature cache file, by index. */
export interface FeatureFile {
  readonly path: string;
  readonly count: number;
  readonly per: number;
  /** Row i; a view into memory for a file read whole, a fresh array for a file read row by row. */
  row(i: number): Float32Array;
  close(): void;
}

/** Opens a cache file written by FeatureFileWriter, checking that it has `count` rows of `per` values. */
export async function openFeatureFile(path: string, expect: { count: number; per: number }, opts: FeatureFileOptions = {}): Promise<FeatureFile> {
  const limit = opts.memoryLimitBytes ?? 256 * 1024 * 1024;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CacheError(`${path}: cannot open (${(e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(HEADER_BYTES);
    readSync(fd, head, 0, HEADER_BYTES, 0);
    const { count, per, tableCrc } = parseHeader(head, path);
    if (count !== expect.count || per !== expect.per)
      throw new CacheError(`${path}: holds ${count} rows of ${per} values, the index expects ${expect.count} of ${expect.per}`);
    const rowBytes = per * 4;
    const tableAt = HEADER_BYTES + count * rowBytes;
    if (size !== tableAt + count * 4) throw new CacheError(`${path}: ${size} bytes, expected ${tableAt + count * 4} (truncated or overwritten)`);
    const table = new Uint8Array(count * 4);
    readSync(fd, table, 0, table.length, tableAt);
    if (crc32(table) !== tableCrc) throw new CacheError(`${path}: row checksum table is damaged`);
    const crcs = new Uint32Array(table.buffer);
    const check = (i: number, r: Float32Array): Float32Array => {
      if (crc32(bytesOf(r)) !== crcs[i]) throw new CacheError(`${path}: row ${i} is damaged (checksum mismatch); delete the cache folder to rebuild it`);
      return r;
    };
    const checkIndex = (i: number): void => {
      if (!Number.isInteger(i) || i < 0 || i >= count) throw new RangeError(`${path}: row ${i} outside 0..${count - 1}`);
    };

    // Spot checks at open (first, last and evenly spread rows) catch most damage before training
    // starts; every other row is checked the first time it is read.
    const spotCheck = (get: (i: number) => Float32Array): void => {
      const probes = Math.min(count, 33);
      for (let k = 0; k < probes; k++) get(Math.floor((k * (count - 1)) / Math.max(1, probes - 1)));
    };

    if (size <= limit) {
      // Read straight into an aligned Float32Array, so rows are views without a copy.
      const rows = new Float32Array(count * per);
      const bytes = bytesOf(rows);
      for (let done = 0; done < bytes.length;) {
        const got = readSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30), HEADER_BYTES + done);
        if (got <= 0) throw new CacheError(`${path}: short read`);
        done += got;
      }
      closeSync(fd);
      const verified = new Uint8Array(count);
      const get = (i: number): Float32Array => {
        const r = rows.subarray(i * per, (i + 1) * per);
        if (!verified[i]) {
          check(i, r);
          verified[i] = 1;
        }
        return r;
      };
      spotCheck(get);
      return {
        path, count, per,
        row(i) {
          checkIndex(i);
          return get(i);
        },
        close() {},
      };
    }

    const readRow = (i: number): Float32Array => {
      const r = new Float32Array(per);
      const got = readSync(fd, bytesOf(r), 0, rowBytes, HEADER_BYTES + i * rowBytes);
      if (got !== rowBytes) throw new CacheError(`${path}: short read of row ${i}`);
      return check(i, r);
    };
    spotCheck(readRow);
    let open = true;
    return {
      path, count, per,
      row(i) {
        checkIndex(i);
        if (!open) throw new Error(`${path}: read after close()`);
        return readRow(i);
      },
      close() {
        if (open) closeSync(fd);
        open = false;
      },
    };
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed after a whole-file read */ }
    throw e;
  }
}
