// The built-in data set synthesizer on a tiny run: the Speech Commands layout, identical bytes for the
// same seed (in one process or two worker threads, and after an interrupted run), a split by voice, and
// the reuse of a complete set. Skipped, with the reason, when eSpeak NG cannot load.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featuresFor } from '../src/audio/features.js';
import { decodeWav } from '../src/audio/wav.js';
import { Espeak } from '../src/data/espeak.js';
import { loadSpeechCommands } from '../src/data/speech-commands.js';
import { VARIANTS, speakersFor, splitSpeakers, synthesizeSpeechCommands, variantPools, type SynthOptions } from '../src/data/synth-node.js';

let unavailable = '';
try {
  await Espeak.load();
} catch (e) {
  unavailable = (e as Error).message;
  console.warn(`synth tests skipped: ${unavailable}`);
}

const WORDS_HERE = ['yes', 'no', 'sheila'];

/** Every file under `dir` (relative path -> SHA-256 of its bytes), except the completion marker (it holds a timing). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.name !== 'synth-complete.json') out.set(r, createHash('sha256').update(readFileSync(join(dir, r))).digest('hex'));
    }
  };
  walk('');
  return out;
}

const voiceOf = (rel: string): string => rel.split('/')[1].split('_nohash_')[0];

describe.skipIf(unavailable !== '')('synthesizeSpeechCommands', () => {
  let dir: string;
  const opts = (out: string, extra: Partial<SynthOptions> = {}): SynthOptions => ({ out, seed: 11, clipsPerWord: 5, words: WORDS_HERE, workers: 1, ...extra });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-synth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the Speech Commands layout with a split by voice', async () => {
    const out = join(dir, 'a');
    const s = await synthesizeSpeechCommands(opts(out));
    expect(s).toMatchObject({ clips: 15, words: 3, clipsPerWord: 5, cached: false });
    expect(s.voices).toEqual({ train: 3, validation: 1, test: 1 });
    expect(s.splits).toEqual({ train: 9, validation: 3, test: 3 });
    expect(existsSync(join(out, 'up'))).toBe(false);
    const files = WORDS_HERE.flatMap((w) => readdirSync(join(out, w)).map((f) => `${w}/${f}`));
    expect(files).toHaveLength(15);
    for (const f of files) {
      expect(f).toMatch(/^[a-z]+\/[0-9a-f]{8}_nohash_0\.wav$/);
      const { samples, sampleRate } = decodeWav(readFileSync(join(out, f)), f);
      expect(sampleRate).toBe(16000);
      expect(samples.length).toBe(16000);
      const energy = samples.reduce((a, v) => a + v * v, 0);
      expect(energy).toBeGreaterThan(0);
    }
    const bytes = readFileSync(join(out, files[0]));
    expect(new DataView(bytes.buffer, bytes.byteOffset).getUint16(34, true)).toBe(16); // 16-bit
    expect(readdirSync(join(out, '_background_noise_')).sort()).toEqual(['brown_noise.wav', 'hum.wav', 'pink_noise.wav', 'white_noise.wav']);

    const list = (name: string): string[] => readFileSync(join(out, name), 'utf8').split('\n').filter(Boolean);
    const validation = list('validation_list.txt'), test = list('testing_list.txt');
    expect(validation).toHaveLength(3);
    expect(test).toHaveLength(3);
    const train = files.filter((f) => !validation.includes(f) && !test.includes(f));
    const voices = [train, validation, test].map((l) => new Set(l.map(voiceOf)));
    expect(voices.map((v) => v.size)).toEqual([3, 1, 1]);
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) for (const v of voices[a]) expect(voices[b].has(v)).toBe(false);
    // Each held-out voice says every word.
    expect(validation.map((f) => f.split('/')[0]).sort()).toEqual([...WORDS_HERE].sort());
    // The lists hold exactly the speakers drawn for those splits.
    const drawn = speakersFor(11, 5);
    expect([...voices[1]]).toEqual(drawn.filter((v) => v.split === 'validation').map((v) => v.id));
    expect([...voices[2]]).toEqual(drawn.filter((v) => v.split === 'test').map((v) => v.id));

    // The loader reads it back with the same split sizes.
    const loaded = await loadSpeechCommands(out, featuresFor('m5'), { cacheDir: join(dir, 'cache') });
    expect([loaded.train.size, loaded.validation.size, loaded.test.size]).toEqual([9, 3, 3]);
    expect(loaded.train.classes).toEqual(['no', 'sheila', 'yes']);
    expect(loaded.skipped).toEqual([]);
  });

  it('is byte-identical for a seed, with two worker threads and after an interrupted run', async () => {
    const a = snapshot(join(dir, 'a'));
    const out = join(dir, 'b');
    await synthesizeSpeechCommands(opts(out, { workers: 2 }));
    expect(snapshot(out)).toEqual(a);

    // Interrupted: the completion marker and some clips missing, the temp file of a write cut short.
    unlinkSync(join(out, 'synth-complete.json'));
    const clips = readdirSync(join(out, 'no'));
    unlinkSync(join(out, 'no', clips[0]));
    unlinkSync(join(out, 'yes', clips[1]));
    writeFileSync(join(out, 'no', `${clips[2]}.999.0.tmp`), 'half a clip');
    const resumed = await synthesizeSpeechCommands(opts(out));
    expect(resumed.cached).toBe(false);
    expect(snapshot(out)).toEqual(a);

    const other = join(dir, 'c');
    await synthesizeSpeechCommands(opts(other, { seed: 12 }));
    const c = snapshot(other);
    expect(c.get('validation_list.txt')).not.toEqual(a.get('validation_list.txt'));
  });

  it('reuses a complete set, redoes one made with other options, refuses a foreign folder', async () => {
    const out = join(dir, 'a');
    const again = await synthesizeSpeechCommands(opts(out));
    expect(again.cached).toBe(true);
    expect(again.clips).toBe(15);

    const redo = await synthesizeSpeechCommands(opts(out, { words: ['yes'], clipsPerWord: 3 }));
    expect(redo.cached).toBe(false);
    expect(existsSync(join(out, 'no'))).toBe(false);
    expect(readdirSync(join(out, 'yes'))).toHaveLength(3);

    const foreign = join(dir, 'foreign');
    await synthesizeSpeechCommands(opts(foreign, { clipsPerWord: 1, words: ['up'] }));
    unlinkSync(join(foreign, 'synth.json'));
    writeFileSync(join(foreign, 'mine.txt'), 'keep me');
    await expect(synthesizeSpeechCommands(opts(foreign))).rejects.toThrow(/not empty/);
    expect(existsSync(join(foreign, 'mine.txt'))).toBe(true);

    await expect(synthesizeSpeechCommands(opts(join(dir, 'd'), { words: ['yes', 'maybe'] }))).rejects.toThrow(/"maybe" is not a Speech Commands word/);
    await expect(synthesizeSpeechCommands(opts(join(dir, 'd'), { clipsPerWord: 0 }))).rejects.toThrow(/clipsPerWord/);
  });
});

describe('splitSpeakers', () => {
  it('holds out about 10% of voices each for validation and test, disjointly', () => {
    for (const n of [1, 2, 3, 10, 57, 160]) {
      const s = splitSpeakers(3, n);
      const all = [...s.train, ...s.validation, ...s.test].sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
      if (n >= 3) {
        expect(s.validation.length).toBe(Math.max(1, Math.round(n / 10)));
        expect(s.test.length).toBe(s.validation.length);
      }
    }
    expect(splitSpeakers(3, 160)).toEqual(splitSpeakers(3, 160));
    expect(splitSpeakers(4, 160)).not.toEqual(splitSpeakers(3, 160));
  });

  it('gives held-out speakers timbres (voice variants) never used in training', () => {
    const pools = variantPools(5);
    expect([...pools.train, ...pools.validation, ...pools.test].sort()).toEqual([...VARIANTS].sort());
    expect(pools.validation.length).toBeGreaterThan(0);
    expect(pools.test.length).toBe(pools.validation.length);
    const speakers = speakersFor(5, 200);
    const used = { train: new Set<string>(), validation: new Set<string>(), test: new Set<string>() };
    for (const s of speakers) {
      const variant = s.voice.split('+')[1];
      expect(pools[s.split]).toContain(variant);
      used[s.split].add(variant);
    }
    for (const v of used.validation) expect(used.train.has(v) || used.test.has(v)).toBe(false);
    for (const v of used.test) expect(used.train.has(v)).toBe(false);
    expect(new Set(speakers.map((s) => s.id)).size).toBe(200);
  });
});
