// Several Speech Commands folders read as one data set (`--data a --data b`): each folder keeps its own
// official splits and feature cache, the classes are the union through the task, and gsc12's `_unknown_`
// and `_silence_` are made across folders. Two small trees are written here: `alpha` has only command
// words and the background recordings, `beta` only other words and `yes`, under the same file names as
// alpha's `yes` clips but with other sounds.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../src/audio/wav.js';
import { listFolders } from '../src/data/listing-node.js';
import { loadSpeechCommands, type SpeechCommandsSplits } from '../src/data/speech-commands-node.js';
import { GSC12_CLASSES, SILENCE, UNKNOWN, parseSilence, specialCount, taskClasses } from '../src/data/tasks.js';
import { featuresFor } from '../src/models/zoo.js';
import { run } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { rngFor } from '../src/util/hash.js';
import { silentProgress } from '../src/util/progress.js';

const RATE = 16000;
const settings = featuresFor('tcy');
/** Per word: clips 0..11 training, 12..15 validation, 16..19 test. */
const PER_WORD = 20;
const SPLIT_OF = (k: number): 'train' | 'validation' | 'test' => (k < 12 ? 'train' : k < 16 ? 'validation' : 'test');
const PER_SPLIT = { train: 12, validation: 4, test: 4 };
const SPLITS = ['train', 'validation', 'test'] as const;

function writeTree(root: string, words: string[], tone: number, noise: boolean): void {
  const validation: string[] = [], testing: string[] = [];
  for (const [w, word] of words.entries()) {
    mkdirSync(join(root, word), { recursive: true });
    for (let k = 0; k < PER_WORD; k++) {
      const rel = `${word}/s${String(k).padStart(2, '0')}_nohash_0.wav`;
      const rng = rngFor(tone, w, k);
      const f = tone + 60 * w + 7 * k;
      writeFileSync(join(root, rel), encodeWav(Float32Array.from({ length: 4000 }, (_, i) => 0.4 * Math.sin((2 * Math.PI * f * i) / RATE) + 0.02 * (rng.next() - 0.5)), RATE, 16));
      if (SPLIT_OF(k) === 'validation') validation.push(rel);
      if (SPLIT_OF(k) === 'test') testing.push(rel);
    }
  }
  writeFileSync(join(root, 'validation_list.txt'), validation.join('\n') + '\n');
  writeFileSync(join(root, 'testing_list.txt'), testing.join('\n') + '\n');
  if (noise) {
    mkdirSync(join(root, '_background_noise_'));
    const rng = rngFor(11);
    writeFileSync(join(root, '_background_noise_/hiss.wav'), encodeWav(Float32Array.from({ length: 3 * RATE }, () => 0.3 * (rng.next() - 0.5)), RATE, 16));
  }
}

let dir: string, alpha: string, beta: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snn-folders-'));
  alpha = join(dir, 'alpha');
  beta = join(dir, 'beta');
  writeTree(alpha, ['yes', 'no'], 300, true);
  writeTree(beta, ['yes', 'bed', 'cat'], 1500, false);
  mkdirSync(join(dir, 'empty'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const closeAll = (s: SpeechCommandsSplits): void => SPLITS.forEach((n) => s[n].close());
const count = (labels: ArrayLike<number>, c: number): number => Array.from(labels).filter((l) => l === c).length;

describe('several data folders', () => {
  it('gsc12: known words from both, _unknown_ from the other words of either, _silence_ from the folder with background noise', async () => {
    const s = await loadSpeechCommands([alpha, beta], settings, { task: { classes: taskClasses('gsc12') } });
    try {
      expect(s.train.classes).toEqual(GSC12_CLASSES);
      expect(s.folders.map((f) => f.root)).toEqual([alpha, beta]);
      expect(s.listing).toMatchObject({ silence: 'background', unknown: 'sampled' });
      const [a, b] = s.folders;
      // Each folder's cache is its own, in its own folder.
      expect(a.cacheDir.startsWith(join(alpha, '.snn-voice-cache'))).toBe(true);
      expect(b.cacheDir.startsWith(join(beta, '.snn-voice-cache'))).toBe(true);
      const cls = (name: string): number => GSC12_CLASSES.indexOf(name);
      for (const split of SPLITS) {
        const d = s[split];
        const n = PER_SPLIT[split];
        // Known words: yes from both folders, no from alpha; the other commands have no folder anywhere.
        expect(count(d.labels, cls('yes'))).toBe(2 * n);
        expect(count(d.labels, cls('no'))).toBe(n);
        for (const w of ['up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']) expect(count(d.labels, cls(w))).toBe(0);
        // Made classes: 10% of the known clips of both folders together (3n), rounded up.
        const made = specialCount(3 * n, 0.1);
        expect(count(d.labels, cls(UNKNOWN))).toBe(made);
        expect(count(d.labels, cls(SILENCE))).toBe(made);
        // alpha has no other words, so every _unknown_ clip is one of beta's; beta has no background
        // recordings, so every _silence_ clip is a window of alpha's.
        expect(count(a[split].labels, cls(UNKNOWN))).toBe(0);
        expect(count(b[split].labels, cls(SILENCE))).toBe(0);
        for (const [i, f] of b[split].files.entries()) if (b[split].labels[i] === cls(UNKNOWN)) expect(['bed', 'cat']).toContain(f.split('/')[0]);
        for (const [i, f] of a[split].files.entries()) if (a[split].labels[i] === cls(SILENCE)) expect(parseSilence(f)!.source).toBe('hiss.wav');
        // The merged split is alpha's clips then beta's, named with their folder, each in its own split.
        expect(d.size).toBe(a[split].size + b[split].size);
        expect(d.files).toEqual([...a[split].files.map((f) => join(alpha, f)), ...b[split].files.map((f) => join(beta, f))]);
        for (const [i, f] of d.files.entries()) {
          const k = /s(\d\d)_nohash/.exec(f);
          if (k) expect(SPLIT_OF(Number(k[1])), f).toBe(split);
          const [part, j] = i < a[split].size ? [a[split], i] : [b[split], i - a[split].size];
          expect(d.labels[i]).toBe(part.labels[j]);
          expect(Array.from(d.features(i))).toEqual(Array.from(part.features(j)));
        }
      }
      // The same file name in two folders is two clips: alpha's and beta's yes/s00 differ.
      const ya = s.train.files.indexOf(join(alpha, 'yes/s00_nohash_0.wav'));
      const yb = s.train.files.indexOf(join(beta, 'yes/s00_nohash_0.wav'));
      expect(ya).toBeGreaterThanOrEqual(0);
      expect(yb).toBeGreaterThan(ya);
      expect(Array.from(s.train.features(ya))).not.toEqual(Array.from(s.train.features(yb)));
      expect(() => s.train.features(s.train.size)).toThrow(/outside/);
    } finally {
      closeAll(s);
    }
    // A second load reads both caches.
    const again = await loadSpeechCommands([alpha, beta], settings, { task: { classes: taskClasses('gsc12') } });
    expect(again.fromCache).toBe(true);
    expect(again.folders.every((f) => f.fromCache)).toBe(true);
    closeAll(again);
  });

  it('every word folder of any folder is a class; one folder is read as before', async () => {
    const [la, lb] = await listFolders([alpha, beta]);
    expect(la.classes).toEqual(['bed', 'cat', 'no', 'yes']);
    expect(lb.classes).toEqual(la.classes);
    expect(la.splits.train.files.every((f) => f.startsWith('no/') || f.startsWith('yes/'))).toBe(true);
    expect(lb.splits.validation.files).toHaveLength(3 * PER_SPLIT.validation);
    const one = await loadSpeechCommands(alpha, settings, { task: { classes: taskClasses('gsc12') } });
    try {
      // Alone, alpha has no other words for _unknown_.
      expect(one.folders).toHaveLength(1);
      expect(count(one.train.labels, 1)).toBe(0);
      expect(one.train.files[0]).not.toContain(alpha);
    } finally {
      closeAll(one);
    }
  });

  it('names a folder that is missing, empty, or given twice', async () => {
    await expect(loadSpeechCommands([alpha, join(dir, 'nope')], settings)).rejects.toThrow(/Speech Commands folder ".*nope" not found/);
    await expect(loadSpeechCommands([alpha, join(dir, 'empty')], settings)).rejects.toThrow(/no word folders in ".*empty"/);
    await expect(loadSpeechCommands([alpha, join(dir, 'alpha', '.')], settings)).rejects.toThrow(/alpha.*" is given twice/);
    await expect(loadSpeechCommands([alpha, beta], settings, { words: ['yes', 'up'] })).rejects.toThrow(/no folder for the word "up" in ".*alpha" or ".*beta"/);
  });
});

describe('the CLI with several --data', () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '', err = '';
    const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), progress: silentProgress };
    return { code: await run(argv, io), out, err };
  }

  it('trains on two folders, says what each gave, evaluates on both, and sweeps them', async () => {
    const out = join(dir, 'run');
    const cache = join(dir, 'cli-cache');
    const t = await cli('train', '--model', 'tcy', '--task', 'gsc12', '--epochs', '1', '--batch-size', '16', '--data', alpha, '--data', beta, '--cache-dir', cache, '--out', out, '--json');
    expect(t.code, t.err).toBe(0);
    // alpha: yes, no and the silence windows; beta: yes and the unknown clips (10% of 36 / 12 / 12 rounded up).
    expect(t.err).toContain(`${alpha}: ${24 + 4} / ${8 + 2} / ${8 + 2} (train / validation / test) clips`);
    expect(t.err).toContain(`${beta}: ${12 + 4} / ${4 + 2} / ${4 + 2} (train / validation / test) clips`);
    expect(t.err).toMatch(/_unknown_: 4 \/ 2 \/ 2 \(train \/ validation \/ test\) clips drawn from the other words/);
    // One cache per folder under --cache-dir.
    expect(readdirSync(cache).sort().map((n) => n.replace(/-[0-9a-f]{8}$/, ''))).toEqual(['alpha', 'beta']);
    const e = await cli('eval', join(out, 'model.snn'), '--data', alpha, '--data', beta, '--cache-dir', cache, '--json');
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out).samples).toBe(10 + 6);
    // A sweep reads the same two folders (the splits train loaded, kept in this process).
    const sw = await cli('sweep', '--models', 'tcy', '--no-cnn', '--steps', '1', '--learn-beta', 'off', '--epochs', '1', '--batch-size', '16', '--task', 'gsc12',
      '--data', alpha, '--data', beta, '--cache-dir', cache, '--out', join(dir, 'sweep'), '--json');
    expect(sw.code, sw.err).toBe(0);
    expect(readFileSync(join(dir, 'sweep', 'report.md'), 'utf8')).toContain(`${alpha}, ${beta}`);
    const missing = await cli('eval', join(out, 'model.snn'), '--data', alpha, '--data', join(dir, 'nope'));
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/--data: folder ".*nope" does not exist/);
  });
});
