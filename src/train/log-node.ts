// The epoch log: one JSON object per line, one line per epoch. The whole history is rewritten
// atomically each time, so after a kill and a resume the log always matches the checkpoint (no lost
// or doubled epochs) and a reader never sees half a line.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/atomic-node.js';
import type { EpochRecord } from './run.js';

export async function writeEpochLog(path: string, history: readonly EpochRecord[]): Promise<void> {
  await writeFileAtomic(path, history.map((r) => JSON.stringify(r) + '\n').join(''));
}

export async function readEpochLog(path: string): Promise<EpochRecord[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as EpochRecord;
      } catch (e) {
        throw new Error(`${path}: line ${i + 1} is not JSON (${(e as Error).message})`);
      }
    });
}

/** An onEpoch callback for train() that keeps the log at `path` up to date. */
export function epochLogger(path: string): (record: EpochRecord, history: readonly EpochRecord[]) => Promise<void> {
  return (_record, history) => writeEpochLog(path, history);
}
