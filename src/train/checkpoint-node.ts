// A checkpoint store on disk. Each save writes a temp file and renames it over the previous
// checkpoint, so a run killed mid-write still finds its last complete checkpoint.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-node.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint, type CheckpointStore } from './checkpoint.js';

export class FileCheckpointStore implements CheckpointStore {
  constructor(readonly path: string) {}

  async save(checkpoint: Checkpoint): Promise<void> {
    await writeFileAtomic(this.path, encodeCheckpoint(checkpoint));
  }

  async load(): Promise<Checkpoint | null> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return decodeCheckpoint(bytes, this.path);
  }
}
