// Standard tasks on small Speech Commands trees written here: gsc12's `_silence_` and `_unknown_` at
// about 10% of each split's known-word clips, the same on every load; gsc35; digital silence where there
// is no `_background_noise_`; the official test-set layout; the feature cache of a read-only data folder.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../src/audio/wav.js';
import { featuresFor } from '../src/models/zoo.js';
import { cacheLocation, dataSetCacheName, isWritableDir, userCacheDir } from '../src/data/cache-dir-node.js';
import { listSpeechCommands } from '../src/data/listing-node.js';
import { loadSpeechCommands, type SpeechCommandsSplits } from '../src/data/speech-commands-node.js';
import { GSC12_CLASSES, SILENCE, UNKNOWN, classesOf, parseSilence, specialCount, taskClasses, taskNameOf } from '../src/data/tasks.js';
import { WORDS } from '../src/data/words.js';
import { rngFor } from '../src/util/hash.js';
import { run } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { UsageError, taskChoice } from '../src/cli/options.js';
import { silentProgress } from '../src/util/progress.js';

const RATE = 16000;
const settings = featuresFor('tcy');
const COMMANDS_HERE = ['yes', 'no'];
const OTHERS_HERE = ['bed', 'cat', 'dog'];
/** Per word: clips 0..23 training, 24..27 validation, 28..31 test. */
const PER_WORD = 32;

function clip(seed: number, len = 4000): Float32Array {
  const rng = rngFor(3, seed);
  const f = 200 + (seed % 37) * 40;
  return Float32Array.from({ length: len }, (_, i) => 0.4 * Math.sin((2 * Math.PI * f * i) / RATE) + 0.02 * (rng.next() - 0.5));
}

/** A normal-layout tree; with `noise`, a `_background_noise_` folder of two recordings. */
function writeTree(root: string, noise: boolean): void {
  const validation: string[] = [], testing: string[] = [];
  let n = 0;
  for (const w of [...COMMANDS_HERE, ...OTHERS_HERE]) {
    mkdirSync(join(root, w), { recursive: true });
    for (let k = 0; k < PER_WORD; k++) {
      const rel = `${w}/s${String(k).padStart(2, '0')}_nohash_0.wav`;
      writeFileSync(join(root, rel), encodeWav(clip(n++), RATE, 16));
      if (k >= 24 && k < 28) validation.push(rel);
      if (k >= 28) testing.push(rel);
    }
  }
  writeFileSync(join(root, 'validation_list.txt'), validation.join('\n') + '\n');
  writeFileSync(join(root, 'testing_list.txt'), testing.join('\n') + '\n');
  if (noise) {
    mkdirSync(join(root, '_background_noise_'));
    const rng = rngFor(11);
    writeFileSync(join(root, '_background_noise_/hiss.wav'), encodeWav(Float32Array.from({ length: 3 * RATE }, () => 0.3 * (rng.next() - 0.5)), RATE, 16));
    writeFileSync(join(root, '_background_noise_/hum.wav'), encodeWav(Float32Array.from({ length: 2 * RATE }, (_, i) => 0.3 * Math.sin(i * 0.02)), RATE, 16));
  }
}

let dir: string, root: string, quiet: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'snn-tasks-'));
  root = join(dir, 'speech');
  quiet = join(dir, 'quiet');
  writeTree(root, true);
  writeTree(quiet, false);
});
afterAll(() => {
  for (const d of [dir]) {
    chmodTree(d, 0o755);
    rmSync(d, { recursive: true, force: true });
  }
});

function chmodTree(path: string, mode: number): void {
  if (!existsSync(path)) return;
  chmodSync(path, mode);
  for (const e of readdirSync(path, { withFileTypes: true })) if (e.isDirectory()) chmodTree(join(path, e.name), mode);
}

const closeAll = (s: SpeechCommandsSplits): void => {
  s.train.close();
  s.validation.close();
  s.test.close();
};
const countOf = (labels: ArrayLike<number>, c: number): number => Array.from(labels).filter((l) => l === c).length;

describe('task names', () => {
  it('gsc12 is silence, unknown and the ten commands in TensorFlow order; gsc35 the 35 words', () => {
    expect(taskClasses('gsc12')).toEqual(['_silence_', '_unknown_', 'yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
    expect(taskClasses('gsc35')).toEqual([...WORDS]);
    expect(taskNameOf(GSC12_CLASSES)).toBe('gsc12');
    expect(taskNameOf(['yes', 'no'])).toBeNull();
    expect(classesOf(['yes', '_unknown_', 'bed', '_silence_'])).toEqual(['_silence_', '_unknown_', 'bed', 'yes']);
    expect(() => classesOf(['yes', 'hello'])).toThrow(/"hello" is not a Speech Commands word/);
    expect([specialCount(48, 0.1), specialCount(8, 0.1), specialCount(0, 0.1), specialCount(50, 0.1)]).toEqual([5, 1, 0, 5]);
  });
});

describe('gsc12 on the normal layout', () => {
  it('adds silence and unknown at about 10% of the known clips of each split, the same on every load', async () => {
    const a = await loadSpeechCommands(root, settings, { cacheDir: join(dir, 'cache-a'), task: { classes: taskClasses('gsc12') } });
    expect(a.train.classes).toEqual(GSC12_CLASSES);
    expect(a.listing).toMatchObject({ layout: 'standard', silence: 'background', unknown: 'sampled' });
    expect(a.listing.missingWords).toEqual(['up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
    const known = { train: 2 * 24, validation: 2 * 4, test: 2 * 4 };
    for (const split of ['train', 'validation', 'test'] as const) {
      const d = a[split];
      expect(countOf(d.labels, 2) + countOf(d.labels, 3), split).toBe(known[split]);
      // TensorFlow: ceil(10% of the known-word clips) each.
      expect(countOf(d.labels, 0), split).toBe(Math.ceil(known[split] / 10));
      expect(countOf(d.labels, 1), split).toBe(Math.ceil(known[split] / 10));
      const unknown = d.files.filter((_, i) => d.labels[i] === 1);
      // Unknown clips are other words' clips of the same split (by the official lists).
      for (const f of unknown) expect(OTHERS_HERE).toContain(f.split('/')[0]);
      const k = (f: string) => Number(/s(\d+)_/.exec(f)![1]);
      for (const f of unknown) expect(split === 'train' ? k(f) < 24 : split === 'validation' ? k(f) >= 24 && k(f) < 28 : k(f) >= 28, f).toBe(true);
      const silence = d.files.filter((_, i) => d.labels[i] === 0);
      for (const f of silence) expect(['hiss.wav', 'hum.wav']).toContain(parseSilence(f)!.source);
    }
    // Labels follow the class order; silence features are those of noise, not of nothing.
    expect(Array.from(a.train.labels)).toEqual([...a.train.labels].sort((x, y) => x - y));
    const s0 = a.validation.features(0);
    expect(Math.max(...s0) - Math.min(...s0)).toBeGreaterThan(1);
    // The validation and test silence windows are their own, not the training ones.
    const trainSilence = new Set(a.train.files.filter((_, i) => a.train.labels[i] === 0));
    for (const f of a.test.files.filter((_, i) => a.test.labels[i] === 0)) expect(trainSilence.has(f)).toBe(false);

    // Another load (another cache, so the features are computed again) gives the same clips and features.
    const b = await loadSpeechCommands(root, settings, { cacheDir: join(dir, 'cache-b'), task: { classes: taskClasses('gsc12') } });
    expect(b.fromCache).toBe(false);
    for (const split of ['train', 'validation', 'test'] as const) {
      expect(b[split].files).toEqual(a[split].files);
      for (let i = 0; i < a[split].size; i++) expect(b[split].features(i)).toEqual(a[split].features(i));
    }
    // Another task seed draws another sample of unknown words and other silence windows.
    const c = await listSpeechCommands(root, { task: { classes: taskClasses('gsc12'), seed: 7 } });
    expect(c.splits.train.files).not.toEqual(a.train.files);
    for (const s of [a, b]) closeAll(s);
  });

  it('with no _background_noise_, silence is digital silence with a little seeded noise; gsc35 keeps every word', async () => {
    const q = await loadSpeechCommands(quiet, settings, { cacheDir: join(dir, 'cache-q'), task: { classes: taskClasses('gsc12') } });
    expect(q.listing.silence).toBe('digital');
    const silence = q.train.files.filter((_, i) => q.train.labels[i] === 0);
    expect(silence).toHaveLength(5);
    for (const f of silence) expect(parseSilence(f)).toMatchObject({ source: 'digital' });
    closeAll(q);

    const l = await listSpeechCommands(root, { task: { classes: taskClasses('gsc35') } });
    expect(l.classes).toEqual([...WORDS]);
    expect(l.missingWords).toHaveLength(30);
    expect(l.splits.train.files).toHaveLength(5 * 24);
    expect(l.silence).toBeNull();
  });
});

describe('the official test-set layout', () => {
  it('takes _unknown_ and _silence_ folders as those classes, every clip in the test split', async () => {
    const t = join(dir, 'test-set');
    for (const [folder, count] of [['yes', 3], ['no', 2], ['_unknown_', 4], ['_silence_', 2]] as const) {
      mkdirSync(join(t, folder), { recursive: true });
      for (let k = 0; k < count; k++) writeFileSync(join(t, folder, `c${k}_nohash_0.wav`), encodeWav(clip(100 + k), RATE, 16));
    }
    const s = await loadSpeechCommands(t, settings, { cacheDir: join(dir, 'cache-t'), task: { classes: taskClasses('gsc12') } });
    expect(s.listing).toMatchObject({ layout: 'test-set', silence: 'folder', unknown: 'folder' });
    expect([s.train.size, s.validation.size, s.test.size]).toEqual([0, 0, 11]);
    expect(s.test.files).toEqual([
      '_silence_/c0_nohash_0.wav', '_silence_/c1_nohash_0.wav',
      '_unknown_/c0_nohash_0.wav', '_unknown_/c1_nohash_0.wav', '_unknown_/c2_nohash_0.wav', '_unknown_/c3_nohash_0.wav',
      'yes/c0_nohash_0.wav', 'yes/c1_nohash_0.wav', 'yes/c2_nohash_0.wav', 'no/c0_nohash_0.wav', 'no/c1_nohash_0.wav',
    ]);
    expect(Array.from(s.test.labels)).toEqual([0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3]);
    closeAll(s);
    // With no task the folders' classes are the special ones first, then the words.
    expect((await listSpeechCommands(t)).classes).toEqual([SILENCE, UNKNOWN, 'no', 'yes']);
  });
});

describe('feature cache location', () => {
  it('names the user cache folder per platform', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u')).toBe(join('/x/cache', 'snn-voice'));
    expect(userCacheDir({}, 'linux', '/home/u')).toBe(join('/home/u', '.cache', 'snn-voice'));
    expect(userCacheDir({}, 'darwin', '/Users/u')).toBe(join('/Users/u', 'Library', 'Caches', 'snn-voice'));
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe(join('C:\\Users\\u\\AppData\\Local', 'snn-voice'));
    // Two data folders of the same name never share a cache.
    expect(dataSetCacheName('/a/speech')).not.toBe(dataSetCacheName('/b/speech'));
    expect(dataSetCacheName('/a/speech')).toMatch(/^speech-[0-9a-f]{8}$/);
  });

  it('falls back to the user cache folder when the data folder is read-only, and reads it back', async () => {
    const ro = join(dir, 'read-only');
    writeTree(ro, false);
    const userCache = join(dir, 'xdg');
    const saved = { xdg: process.env.XDG_CACHE_HOME, env: process.env.SNN_VOICE_CACHE };
    process.env.XDG_CACHE_HOME = userCache;
    delete process.env.SNN_VOICE_CACHE;
    try {
      expect(await isWritableDir(ro)).toBe(true);
      expect((await cacheLocation(ro)).source).toBe('data-folder');
      chmodTree(ro, 0o555);
      // Root writes through missing write bits; the check goes by the bits, so the test holds either way.
      expect(await isWritableDir(ro)).toBe(false);
      const a = await loadSpeechCommands(ro, settings, { words: ['yes', 'no'] });
      expect(a.cacheLocation).toEqual({ dir: join(userCache, 'snn-voice', dataSetCacheName(ro)), source: 'user-cache' });
      expect(a.cacheDir.startsWith(join(userCache, 'snn-voice'))).toBe(true);
      expect(existsSync(join(ro, '.snn-voice-cache'))).toBe(false);
      closeAll(a);
      const b = await loadSpeechCommands(ro, settings, { words: ['yes', 'no'] });
      expect(b.fromCache).toBe(true);
      expect(b.cacheDir).toBe(a.cacheDir);
      closeAll(b);

      // A folder the access test finds writable but the (injected) check does not: the fallback is taken.
      chmodTree(ro, 0o755);
      const c = await loadSpeechCommands(ro, settings, { words: ['yes'], cacheWritable: (d) => d !== ro });
      expect(c.cacheLocation.source).toBe('user-cache');
      expect(existsSync(join(ro, '.snn-voice-cache'))).toBe(false);
      closeAll(c);
      const d = await loadSpeechCommands(ro, settings, { words: ['yes'], cacheWritable: () => true });
      expect(d.cacheLocation).toEqual({ dir: join(ro, '.snn-voice-cache'), source: 'data-folder' });
      expect(existsSync(join(ro, '.snn-voice-cache'))).toBe(true);
      closeAll(d);

      // SNN_VOICE_CACHE, then the option, take precedence over both.
      process.env.SNN_VOICE_CACHE = join(dir, 'env-cache');
      expect(await cacheLocation(ro)).toEqual({ dir: join(dir, 'env-cache', dataSetCacheName(ro)), source: 'env' });
      expect(await cacheLocation(ro, { cacheDir: join(dir, 'opt') })).toEqual({ dir: join(dir, 'opt', dataSetCacheName(ro)), source: 'option' });
    } finally {
      chmodTree(ro, 0o755);
      if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.xdg;
      if (saved.env === undefined) delete process.env.SNN_VOICE_CACHE;
      else process.env.SNN_VOICE_CACHE = saved.env;
    }
  });
});

describe('the CLI', () => {
  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '', err = '';
    const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), progress: silentProgress };
    return { code: await run(argv, io), out, err };
  }

  it('parses --task', () => {
    const p = taskChoice('--task');
    expect(p('gsc12')).toBe('gsc12');
    expect(p('gsc35')).toBe('gsc35');
    expect(p('all')).toBe('all');
    expect(p('commands')).toEqual(['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
    expect(p('yes,_unknown_')).toEqual(['yes', '_unknown_']);
    expect(() => p('gsc20')).toThrow(new UsageError('--task must be gsc12, gsc35, all, commands or a comma-separated list of words, got "gsc20"'));
    expect(() => p('yes,_noise_')).toThrow(/--task must be one of _silence_, _unknown_, backward/);
  });

  it('--unknown-share sets the _unknown_ share of a task with _unknown_ and is refused without one; --weight-decay reaches the run', async () => {
    const cache = join(dir, 'cli-cache');
    const t = await cli('train', '--model', 'tcy', '--task', 'gsc12', '--unknown-share', '0.5', '--weight-decay', '0.003', '--epochs', '1', '--batch-size', '16',
      '--data', root, '--cache-dir', cache, '--augment', 'none', '--out', join(dir, 'run-share'), '--json');
    expect(t.code, t.err).toBe(0);
    // 24 training and 4 validation and test clips of each of the two known words here, half as many _unknown_.
    expect(t.err).toMatch(/_unknown_: 24 \/ 4 \/ 4 \(train \/ validation \/ test\) clips drawn from the other words/);
    expect(JSON.parse(readFileSync(join(dir, 'run-share', 'result.json'), 'utf8')).spec.weightDecay).toBe(0.003);
    const words = await cli('train', '--model', 'tcy', '--task', 'yes,no', '--unknown-share', '0.5', '--data', root, '--out', join(dir, 'run-share2'));
    expect(words.code).toBe(2);
    expect(words.err).toMatch(/--unknown-share applies to a task with _unknown_/);
    const bad = await cli('train', '--model', 'tcy', '--weight-decay', '-1', '--data', root);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--weight-decay must be a number from 0 to 1, got "-1"/);
  });

  it('--augment-colour colours the waveform copies, kept apart in the cache, and is refused where there are none', async () => {
    const cache = join(dir, 'colour-cache');
    const copiesFiles = (): string[] => readdirSync(cache, { recursive: true, encoding: 'utf8' }).filter((f) => /train-copies-\w+\.f32$/.test(f));
    for (const colour of [[], ['--augment-colour', '1']]) {
      const t = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--epochs', '1', '--batch-size', '16', '--data', root, '--cache-dir', cache,
        '--augment', 'wave', '--augment-copies', '1', ...colour, '--out', join(dir, `run-colour${colour.length}`), '--overwrite');
      expect(t.code, t.err).toBe(0);
    }
    expect(copiesFiles()).toHaveLength(2);
    const none = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--data', root, '--cache-dir', cache, '--augment', 'spec', '--augment-colour', '0.5', '--out', join(dir, 'run-colour-spec'));
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/--augment-colour colours the waveform-augmented copies, and --augment spec makes none/);
  });

  it('--augment-warp warps the copies\' mel banks, kept apart in the cache, and is refused without copies or a mel bank', async () => {
    const cache = join(dir, 'warp-cache');
    const copiesFiles = (): string[] => readdirSync(cache, { recursive: true, encoding: 'utf8' }).filter((f) => /train-copies-\w+\.f32$/.test(f));
    const copies = (file: string): Float32Array => new Float32Array(readFileSync(join(cache, file)).buffer.slice(0));
    for (const warp of [[], ['--augment-warp', '0.2']]) {
      const t = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--epochs', '1', '--batch-size', '16', '--data', root, '--cache-dir', cache,
        '--augment', 'wave', '--augment-copies', '1', ...warp, '--out', join(dir, `run-warp${warp.length}`), '--overwrite');
      expect(t.code, t.err).toBe(0);
    }
    const files = copiesFiles();
    expect(files).toHaveLength(2);
    // The same waveform copies (the warp has its own draws), through other banks.
    const [a, b] = files.map(copies);
    expect(a.length).toBe(b.length);
    let differ = 0;
    for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 1e-3) differ++;
    expect(differ).toBeGreaterThan(a.length / 4);
    const spec = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--data', root, '--cache-dir', cache, '--augment', 'spec', '--augment-warp', '0.1', '--out', join(dir, 'run-warp-spec'));
    expect(spec.code).toBe(2);
    expect(spec.err).toMatch(/--augment-warp warps the waveform-augmented copies' mel banks, and --augment spec makes none/);
    const m5 = await cli('train', '--model', 'm5', '--words', 'yes,no', '--data', root, '--cache-dir', cache, '--augment', 'wave', '--augment-warp', '0.1', '--out', join(dir, 'run-warp-m5'));
    expect(m5.code).toBe(2);
    expect(m5.err).toMatch(/--augment-warp warps a mel bank, and this model takes the waveform/);
    const far = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--data', root, '--augment-warp', '0.5', '--out', join(dir, 'run-warp-far'));
    expect(far.code).toBe(2);
    expect(far.err).toMatch(/--augment-warp must be a number from 0 to 0.3/);
  });

  it('--augment-shift sets the time shift, and is refused without it or out of range', async () => {
    const wave = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--data', root, '--augment', 'wave', '--augment-shift', '200', '--out', join(dir, 'run-shift-wave'));
    expect(wave.code).toBe(2);
    expect(wave.err).toMatch(/--augment-shift moves the clips under --augment spec or full, and this is --augment wave/);
    const far = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--data', root, '--augment', 'spec', '--augment-shift', '600', '--out', join(dir, 'run-shift-far'));
    expect(far.code).toBe(2);
    expect(far.err).toMatch(/--augment-shift must be a number from 0 to 500/);
  });

  it('trains a gsc12 model with augmentation, and eval maps the other words of a folder to _unknown_', async () => {
    const out = join(dir, 'run-gsc12');
    const cache = join(dir, 'cli-cache');
    const t = await cli('train', '--model', 'tcy', '--task', 'gsc12', '--epochs', '1', '--batch-size', '16', '--data', root, '--cache-dir', cache,
      '--augment', 'full', '--augment-copies', '1', '--out', out, '--json');
    expect(t.code, t.err).toBe(0);
    expect(t.err).toMatch(/_unknown_: 5 \/ 1 \/ 1 \(train \/ validation \/ test\) clips drawn from the other words/);
    expect(t.err).toMatch(/1 augmented copies of each training clip in/);
    expect(JSON.parse(t.out).classes).toBe(12);
    const e = await cli('eval', join(out, 'model.snn'), '--data', quiet, '--cache-dir', cache, '--json');
    expect(e.code, e.err).toBe(0);
    const r = JSON.parse(e.out);
    expect(r.classes).toEqual(GSC12_CLASSES);
    expect(r.samples).toBe(8 + 1 + 1);
    expect(e.err).toMatch(/_silence_: 5 \/ 1 \/ 1 \(train \/ validation \/ test\) clips of digital silence/);
    expect(e.err).toMatch(/no clips of up, down, left, right, on, off, stop, go/);
  });
});
