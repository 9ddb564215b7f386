// Bad or changed input data, end to end: an edited clip rebuilds the feature cache, a float WAV holding a
// NaN is skipped and named like any bad file, a class with no usable training clip and a one-class task
// are refused by train, --json lists the skipped files, and Ctrl-C stops eval at the next batch.
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../src/audio/wav.js';
import { run } from '../src/cli/main.js';
import { interrupt } from '../src/cli/interrupt.js';
import type { CliIo } from '../src/cli/io.js';
import { loadSpeechCommands } from '../src/data/speech-commands-node.js';
import { featuresFor } from '../src/models/zoo.js';
import { silentProgress } from '../src/util/progress.js';

const RATE = 16000;
const WORDS = ['no', 'up', 'yes'];
const settings = featuresFor('tcy');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), progress: silentProgress };
  const code = await run(argv, io);
  return { code, out, err };
}

function tone(f: number, amp = 0.4): Float32Array {
  return Float32Array.from({ length: RATE }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / RATE));
}

/** A 32-bit float WAV with one NaN sample (encodeWav refuses to write one). */
function nanWav(at: number): Uint8Array {
  const bytes = encodeWav(tone(700), RATE, '32f');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let data = 12;
  while (String.fromCharCode(...bytes.subarray(data, data + 4)) !== 'data') data += 8 + view.getUint32(data + 4, true);
  view.setFloat32(data + 8 + 4 * at, NaN, true);
  return bytes;
}

/** 3 words x 6 clips (4 train, 1 validation, 1 test); `yes` has only unreadable training clips when `brokenYes`. */
function writeTree(root: string, brokenYes = false): void {
  const validation: string[] = [], testing: string[] = [];
  WORDS.forEach((w, wi) => {
    mkdirSync(join(root, w), { recursive: true });
    for (let v = 0; v < 6; v++) {
      const rel = `${w}/spk${v}_nohash_0.wav`;
      const bad = brokenYes && w === 'yes' && v < 4;
      writeFileSync(join(root, rel), bad ? new Uint8Array(64).fill(7) : encodeWav(tone(300 + 500 * wi + 20 * v), RATE, 16));
      if (v === 4) validation.push(rel);
      if (v === 5) testing.push(rel);
    }
  });
  writeFileSync(join(root, 'validation_list.txt'), validation.join('\n') + '\n');
  writeFileSync(join(root, 'testing_list.txt'), testing.join('\n') + '\n');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snn-bad-data-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('feature cache', () => {
  it('rebuilds when a clip is edited (size and modification time are in the key)', async () => {
    const root = join(dir, 'edit');
    writeTree(root);
    const cacheDir = join(dir, 'edit-cache');
    const rel = 'up/spk0_nohash_0.wav';
    const first = await loadSpeechCommands(root, settings, { cacheDir });
    const i = first.train.files.indexOf(rel);
    const before = Float32Array.from(first.train.features(i));
    for (const s of [first.train, first.validation, first.test]) s.close();

    const again = await loadSpeechCommands(root, settings, { cacheDir });
    expect(again.fromCache).toBe(true);
    for (const s of [again.train, again.validation, again.test]) s.close();

    // Same size, other content; the modification time moves on.
    const path = join(root, rel);
    writeFileSync(path, encodeWav(tone(3000, 0.2), RATE, 16));
    const t = statSync(path).mtime.getTime() / 1000 + 5;
    utimesSync(path, t, t);
    const edited = await loadSpeechCommands(root, settings, { cacheDir });
    expect(edited.fromCache).toBe(false);
    const after = edited.train.features(edited.train.files.indexOf(rel));
    expect(after.some((v, k) => Math.abs(v - before[k]) > 1e-3)).toBe(true);
    for (const s of [edited.train, edited.validation, edited.test]) s.close();
  });

  it('skips, counts and names a float WAV holding a NaN', async () => {
    const root = join(dir, 'nan');
    writeTree(root);
    writeFileSync(join(root, 'no/nan_nohash_0.wav'), nanWav(5000));
    const s = await loadSpeechCommands(root, settings, { cacheDir: join(dir, 'nan-cache') });
    expect(s.train.files).not.toContain('no/nan_nohash_0.wav');
    expect(s.train.size).toBe(12);
    expect(s.skipped).toHaveLength(1);
    expect(s.skipped[0].file).toBe('no/nan_nohash_0.wav');
    expect(s.skipped[0].reason).toMatch(/nan_nohash_0\.wav.*non-finite|non-finite/);
    for (const d of [s.train, s.validation, s.test]) d.close();

    const out = join(dir, 'nan-run');
    const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', root, '--cache-dir', join(dir, 'nan-cache'), '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).skipped).toEqual([{ file: 'no/nan_nohash_0.wav', reason: expect.stringMatching(/non-finite/) }]);
    const e = await cli('eval', join(out, 'model.snn'), '--data', root, '--cache-dir', join(dir, 'nan-cache'), '--split', 'train', '--json');
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out).skipped.map((f: { file: string }) => f.file)).toEqual(['no/nan_nohash_0.wav']);
  }, 60_000);
});

describe('train refuses data it cannot learn from', () => {
  it('a class whose training clips are all unreadable', async () => {
    const root = join(dir, 'broken');
    writeTree(root, true);
    const out = join(dir, 'broken-run');
    const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', root, '--out', out);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no usable clips of "yes" in the train split \(4 files skipped/);
  });

  it('a task word with no clips in the training split', async () => {
    const root = join(dir, 'missing');
    writeTree(root);
    // dog's one clip is a test clip.
    mkdirSync(join(root, 'dog'));
    writeFileSync(join(root, 'dog/spk0_nohash_0.wav'), encodeWav(tone(2500), RATE, 16));
    appendFileSync(join(root, 'testing_list.txt'), 'dog/spk0_nohash_0.wav\n');
    const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--task', 'dog,no,up,yes', '--data', root, '--out', join(dir, 'missing-run'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no usable clips of "dog" in the train split/);
  });

  it('a one-class task', async () => {
    const root = join(dir, 'one');
    writeTree(root);
    const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--words', 'yes', '--data', root, '--out', join(dir, 'one-run'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/at least 2 classes.*1 \(yes\)/);
  });
});

describe('eval', () => {
  it('stops at the next batch on Ctrl-C, exit code 130 and one line', async () => {
    const root = join(dir, 'sigint');
    writeTree(root);
    const out = join(dir, 'sigint-run');
    const t = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', root, '--out', out);
    expect(t.code, t.err).toBe(0);
    let batches = 0;
    let err = '';
    const io: CliIo = {
      out: () => {},
      err: (text) => void (err += text),
      // The user presses Ctrl-C as the first batch finishes.
      progress: () => ({ update: () => void (++batches === 1 && expect(interrupt.take()).toBe(true)), stop() {} }),
    };
    expect(await run(['eval', join(out, 'model.snn'), '--data', root, '--split', 'train', '--batch-size', '1'], io)).toBe(130);
    expect(batches).toBe(1); // of 12
    expect(err.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual(['error: eval: stopped by Ctrl-C before the end of the train split; no result']);
    expect(interrupt.take()).toBe(false); // nothing runs any more
  }, 60_000);
});
