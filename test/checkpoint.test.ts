// Checkpoints: bit-exact round trips, refusal of damaged bytes, copies that later training cannot
// touch, and atomic file writes: a write that fails half-way leaves the previous checkpoint intact.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { crc32 } from '../src/util/crc32.js';
import { CheckpointError, MemoryCheckpointStore, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../src/train/checkpoint.js';
import { FileCheckpointStore } from '../src/train/checkpoint-node.js';
import { randArray } from './helpers.js';

// Lets a test make the next file write fail after writing half its bytes, as a full disk or a kill would.
const failNextWrite = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile = async (path: string, data: Uint8Array | string): Promise<void> => {
    if (!failNextWrite.on) return actual.writeFile(path, data);
    failNextWrite.on = false;
    await actual.writeFile(path, data.slice(0, Math.floor(data.length / 2)));
    throw new Error('ENOSPC: no space left on device (simulated)');
  };
  return { ...actual, writeFile, default: { ...actual, writeFile } };
});

function sample(seed: number): Checkpoint {
  const special = Float32Array.from([0, -0, 1e-40, -3.4e38, Math.fround(Math.PI)]);
  return {
    meta: { epoch: seed, history: [{ loss: 1.25, top1: 0.5 }], name: 'tcy ✓' },
    arrays: new Map([
      ['model/conv1.weight', randArray(37, seed)],
      ['optimizer/m/conv1.weight', randArray(37, seed + 1)],
      ['special', special],
      ['empty', new Float32Array(0)],
    ]),
  };
}

function expectSame(a: Checkpoint, b: Checkpoint): void {
  expect(a.meta).toEqual(b.meta);
  expect([...a.arrays.keys()]).toEqual([...b.arrays.keys()]);
  for (const [name, values] of a.arrays) {
    const other = b.arrays.get(name)!;
    // Bit patterns, so -0 and subnormals count.
    expect(Array.from(new Uint32Array(other.buffer, other.byteOffset, other.length))).toEqual(
      Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length)),
    );
  }
}

describe('checkpoint encoding', () => {
  it('round-trips meta and arrays bit for bit', () => {
    const c = sample(3);
    expectSame(decodeCheckpoint(encodeCheckpoint(c)), c);
  });

  it('refuses flipped bits, truncation, other files and other versions with a clear error', () => {
    const bytes = encodeCheckpoint(sample(4));
    const flipped = bytes.slice();
    flipped[bytes.length - 40] ^= 0x10;
    expect(() => decodeCheckpoint(flipped, 'run.ckpt')).toThrow(/run.ckpt: is truncated or corrupted/);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 9), 'run.ckpt')).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(new TextEncoder().encode('{"not": "a checkpoint"}'), 'x.json')).toThrow(/x.json: is not an snn-voice checkpoint/);
    // A whole file of a later version (its checksum right) names the version; a damaged one says damaged.
    const future = bytes.slice();
    const view = new DataView(future.buffer);
    view.setUint32(4, 99, true);
    expect(() => decodeCheckpoint(future, 'bad.ckpt')).toThrow(/bad.ckpt: is truncated or corrupted/);
    view.setUint32(future.length - 4, crc32(future.subarray(0, future.length - 4)), true);
    expect(() => decodeCheckpoint(future, 'new.ckpt')).toThrow(/format version 99/);
  });

  it('the memory store keeps a copy, not the caller arrays', async () => {
    const store = new MemoryCheckpointStore();
    expect(await store.load()).toBeNull();
    const c = sample(5);
    const before = decodeCheckpoint(encodeCheckpoint(c));
    await store.save(c);
    c.arrays.get('model/conv1.weight')!.fill(7);
    (c.meta as { epoch: number }).epoch = 99;
    expectSame((await store.load())!, before);
    expect(store.byteLength).toBeGreaterThan(37 * 8);
  });
});

describe('file checkpoint store', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'snn-voice-checkpoint-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('returns null before the first save, then the latest checkpoint', async () => {
    const store = new FileCheckpointStore(join(dir, 'nested', 'run.ckpt'));
    expect(await store.load()).toBeNull();
    await store.save(sample(1));
    await store.save(sample(2));
    expectSame((await new FileCheckpointStore(store.path).load())!, sample(2));
  });

  it('a write that fails half-way leaves the previous checkpoint intact and no temp file behind', async () => {
    const path = join(dir, 'atomic.ckpt');
    const store = new FileCheckpointStore(path);
    await store.save(sample(10));
    const good = await readFile(path);
    failNextWrite.on = true;
    await expect(store.save(sample(11))).rejects.toThrow(/ENOSPC/);
    expect(failNextWrite.on).toBe(false); // the failure really happened inside the store's write
    expect(Buffer.compare(await readFile(path), good)).toBe(0);
    expectSame((await store.load())!, sample(10));
    expect((await readdir(dir)).filter((f) => f.startsWith('atomic.ckpt.'))).toEqual([]);
    // The next save works again.
    await store.save(sample(12));
    expectSame((await store.load())!, sample(12));
  });

  it('names the file when it holds something else', async () => {
    const path = join(dir, 'garbage.ckpt');
    await writeFile(path, 'hello');
    await expect(new FileCheckpointStore(path).load()).rejects.toThrow(/garbage.ckpt: is not an snn-voice checkpoint/);
  });
});
