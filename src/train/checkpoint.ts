// Training checkpoints: a JSON part (counters, history, settings) and named f32 arrays (weights,
// optimizer slots, best weights), in the project's container (util/container.ts) so a store only moves bytes.
import { decodeContainer, encodeContainer, type ContainerKind } from '../util/container.js';

export const CHECKPOINT_FORMAT_VERSION = 1;

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

const KIND: ContainerKind = {
  magic: 0x434e4e53, // "SNNC"
  version: CHECKPOINT_FORMAT_VERSION,
  description: 'an snn-voice checkpoint',
  error: (source, problem) => new CheckpointError(source, problem),
};

interface Header {
  meta: unknown;
  arrays: Array<{ name: string; length: number }>;
}

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const entries = [...checkpoint.arrays];
  const header: Header = { meta: checkpoint.meta, arrays: entries.map(([name, a]) => ({ name, length: a.length })) };
  return encodeContainer(KIND, header, entries.map(([, a]) => a));
}

export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const reader = decodeContainer(KIND, bytes, source);
  const header = reader.header as Header;
  const arrays = new Map<string, Float32Array>();
  for (const { name, length } of header.arrays) arrays.set(name, reader.next(length, `array "${name}"`));
  reader.end('arrays');
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
