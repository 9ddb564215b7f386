// What the end-to-end CLI tests share: the command run in process with its output captured, and a tiny
// Speech Commands tree that a small network learns in one epoch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { encodeWav } from '../src/audio/wav.js';
import { run } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { silentProgress } from '../src/util/progress.js';

export interface Captured {
  code: number;
  out: string;
  err: string;
}

export async function cli(...argv: string[]): Promise<Captured> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), progress: silentProgress };
  const code = await run(argv, io);
  return { code, out, err };
}

const WORDS = ['no', 'up', 'yes'];
const RATE = 16000;

/** A clip per word that a small network can tell apart: a tone whose pitch depends on the word. */
function clip(word: number, variant: number): Float32Array {
  const x = new Float32Array(RATE);
  const f = 300 + 500 * word + 20 * variant;
  for (let i = 0; i < x.length; i++) {
    const t = i / RATE;
    const envelope = t > 0.2 && t < 0.8 ? 1 : 0.05;
    x[i] = 0.4 * envelope * Math.sin(2 * Math.PI * f * t) + 0.01 * Math.sin(i * 12.9898 + variant);
  }
  return x;
}

/** 3 words (no, up, yes) x 6 clips: 4 train, 1 validation, 1 test each. */
export function writeTree(root: string): void {
  const validation: string[] = [];
  const test: string[] = [];
  WORDS.forEach((w, wi) => {
    mkdirSync(join(root, w), { recursive: true });
    for (let v = 0; v < 6; v++) {
      const rel = `${w}/speaker${v}_nohash_0.wav`;
      writeFileSync(join(root, rel), encodeWav(clip(wi, v), RATE, 16));
      if (v === 4) validation.push(rel);
      if (v === 5) test.push(rel);
    }
  });
  writeFileSync(join(root, 'validation_list.txt'), validation.join('\n') + '\n');
  writeFileSync(join(root, 'testing_list.txt'), test.join('\n') + '\n');
}

/** For a suite: the tiny tree in `<a temp folder>/speech`, written before its cases and removed after. */
export function tinyTreeSuite(prefix: string): { readonly dir: string; readonly data: string } {
  const paths = { dir: '', data: '' };
  beforeAll(() => {
    paths.dir = mkdtempSync(join(tmpdir(), prefix));
    paths.data = join(paths.dir, 'speech');
    writeTree(paths.data);
  });
  afterAll(() => rmSync(paths.dir, { recursive: true, force: true }));
  return paths;
}
