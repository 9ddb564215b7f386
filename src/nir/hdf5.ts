// HDF5 bytes <-> a tree of groups and arrays, through h5wasm (HDF5 compiled to WebAssembly). Its ESM
// build embeds the wasm and keeps files in Emscripten's in-memory file system (MEMFS), so the same code
// runs in Node and in browsers and needs no node:* import: bytes are written to a MEMFS file, opened,
// and the file is removed after. It is imported on first use: loading it compiles 4 MB of WebAssembly,
// a cost no one who never reads or writes NIR should pay when importing the package.
import type { Dataset, Group } from 'h5wasm';

type H5wasm = typeof import('h5wasm');
let loading: Promise<H5wasm> | null = null;
/** h5wasm, its module (and with it the file system) ready. */
function h5(): Promise<H5wasm> {
  loading ??= import('h5wasm').then(async (m) => {
    await m.ready;
    if (!m.FS) throw new Error('h5wasm: its file system did not load');
    return m;
  }).catch((e: unknown) => {
    loading = null; // let a later call try again
    throw e;
  });
  return loading;
}

/** A numeric array, row-major; shape [] is a scalar. */
export interface H5Array {
  data: Float32Array | Float64Array | Int32Array;
  shape: number[];
}

/** Strings (an edge list is [n, 2] of them); a lone string is stored as a scalar string dataset. */
export interface H5Strings {
  strings: string[];
  shape: number[];
}

export type H5Leaf = H5Array | H5Strings | string;
export type H5Group = Map<string, H5Leaf | H5Group>;

export const isArray = (v: unknown): v is H5Array => typeof v === 'object' && v !== null && !(v instanceof Map) && 'data' in v;
export const isStrings = (v: unknown): v is H5Strings => typeof v === 'object' && v !== null && !(v instanceof Map) && 'strings' in v;

let count = 0;
/** A fresh MEMFS path: two calls in flight never share a file. */
const scratchPath = () => `/snn-voice-nir-${++count}.h5`;

/** gzip level of NIR's reference writer (h5py's default for compression='gzip'). */
const GZIP = 4;

function writeGroup(group: Group, tree: H5Group): void {
  for (const [name, v] of tree) {
    if (v instanceof Map) writeGroup(group.create_group(name), v);
    else if (typeof v === 'string') group.create_dataset({ name, data: v });
    else if (isStrings(v)) group.create_dataset({ name, data: v.strings, shape: v.shape });
    else if (v.data.length > 1) group.create_dataset({ name, data: v.data, shape: v.shape, compression: GZIP, chunks: v.shape });
    else group.create_dataset({ name, data: v.data, shape: v.shape });
  }
}

/** The HDF5 file holding `tree` under its root. */
export async function writeHdf5(tree: H5Group): Promise<Uint8Array> {
  const h5wasm = await h5();
  const FS = h5wasm.FS!;
  const path = scratchPath();
  const file = new h5wasm.File(path, 'w');
  try {
    writeGroup(file, tree);
  } finally {
    file.close();
  }
  try {
    return new Uint8Array(FS.readFile(path));
  } finally {
    FS.unlink(path);
  }
}

function readValue(d: Dataset): H5Leaf {
  const shape = d.shape ?? [];
  const v = d.value;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return { strings: v as string[], shape };
  if (v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array) return { data: v, shape };
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return { data: Float64Array.from(v as ArrayLike<number | bigint>, Number), shape };
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return { data: Float64Array.of(Number(v)), shape };
  throw new Error(`HDF5 dataset ${d.path}: a value of type ${d.dtype} is not read here`);
}

function readGroup(h5wasm: H5wasm, group: Group): H5Group {
  const out: H5Group = new Map();
  for (const name of group.keys()) {
    const e = group.get(name);
    if (e instanceof h5wasm.Group) out.set(name, readGroup(h5wasm, e));
    else if (e instanceof h5wasm.Dataset) out.set(name, readValue(e));
  }
  return out;
}

/** The tree under an HDF5 file's root (groups and datasets; attributes are not read). */
export async function readHdf5(bytes: Uint8Array): Promise<H5Group> {
  const h5wasm = await h5();
  const FS = h5wasm.FS!;
  const path = scratchPath();
  FS.writeFile(path, bytes);
  try {
    const file = new h5wasm.File(path, 'r');
    try {
      return readGroup(h5wasm, file);
    } finally {
      file.close();
    }
  } finally {
    FS.unlink(path);
  }
}
