// Background noise recordings read from a Speech Commands `_background_noise_` folder.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';

/** The recordings in a Speech Commands `_background_noise_` folder, resampled to `sampleRate`.
 *  A missing folder gives none; an unreadable file is reported through `onSkip` and left out. */
export async function loadBackgroundNoise(
  dir: string,
  sampleRate: number,
  onSkip?: (file: string, reason: string) => void,
): Promise<Float32Array[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.wav')).sort();
  } catch {
    return [];
  }
  const out: Float32Array[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      const { samples, sampleRate: rate } = decodeWav(new Uint8Array(await readFile(file)), file);
      const s = rate === sampleRate ? samples : resample(samples, rate, sampleRate);
      if (s.length > 0) out.push(s);
    } catch (e) {
      onSkip?.(file, (e as Error).message);
    }
  }
  return out;
}
