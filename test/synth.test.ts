// The built-in data set synthesizer on a tiny run: the Speech Commands layout, identical bytes for the
// same seed (in one process or two worker threads, and after an interrupted run), a split by voice across
// its synthesizers (eSpeak NG, Flite, GnuSpeech, and SVOX Pico's English and accented voices when asked
// for), the reuse of a complete set and its growth by words. The speakers' draws: speakers.test.ts.
// Skipped, with the reason, when a synthesizer cannot load.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featuresFor } from '../src/models/zoo.js';
import { decodeWav } from '../src/audio/wav.js';
import { Espeak } from '../src/data/espeak-node.js';
import { Flite } from '../src/data/flite-node.js';
import { GnuSpeech } from '../src/data/gnuspeech-node.js';
import { Pico } from '../src/data/pico-node.js';
import { loadSpeechCommands } from '../src/data/speech-commands-node.js';
import { ACCENTED_VOICES, ACCENTED_WORDS } from '../src/data/accents.js';
import { FLITE_POOLS, PICO_VOICES, speakersFor } from '../src/data/speakers.js';
import { synthesizeSpeechCommands, type SynthOptions } from '../src/data/synth-node.js';
import { WORDS } from '../src/data/words.js';

/** A synthesizer loaded, or why it could not be (its tests are then skipped with that reason). */
async function loadOrWhy<T>(tests: string, load: () => Promise<T>): Promise<[T | undefined, string]> {
  try {
    return [await load(), ''];
  } catch (e) {
    const why = (e as Error).message;
    console.warn(`${tests} tests skipped: ${why}`);
    return [undefined, why];
  }
}

const [flite, unavailable] = await loadOrWhy('synth', async () => {
  await Espeak.load();
  return Flite.load();
});
const [gnuspeech, gnuspeechUnavailable] = await loadOrWhy('GnuSpeech', () => GnuSpeech.load());
const [pico, picoUnavailable] = await loadOrWhy('SVOX Pico', async () => {
  const p = await Pico.load();
  await p.open([...PICO_VOICES, ...ACCENTED_VOICES]);
  return p;
});

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
  // Half the speakers by Flite: for seed 29, four of the five (kal, slt, and awb and rms held out). No
  // GnuSpeech or Pico speaker: their tests are below.
  const opts = (out: string, extra: Partial<SynthOptions> = {}): SynthOptions => ({ out, seed: 29, clipsPerWord: 5, words: WORDS_HERE, workers: 1, fliteShare: 0.5, gnuspeechShare: 0, picoVoices: 0, accentedVoices: 0, ...extra });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-synth-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the Speech Commands layout with a split by voice', async () => {
    const out = join(dir, 'a');
    const s = await synthesizeSpeechCommands(opts(out));
    expect(s).toMatchObject({ clips: 15, words: 3, clipsPerWord: 5, cached: false });
    expect(s.voices).toEqual({ train: 3, validation: 1, test: 1 });
    expect(s.synthesizers).toEqual({ 'espeak-ng': 1, flite: 4 });
    expect(s.splits).toEqual({ train: 9, validation: 3, test: 3 });
    const manifest = JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8'));
    expect(manifest).toMatchObject({ version: 3, fliteShare: 0.5, synthesizers: ['espeak-ng', 'flite'] });
    // No GnuSpeech share: the manifest is the one sets had before GnuSpeech joined, so they are reused.
    expect(manifest).not.toHaveProperty('gnuspeechShare');
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
    const drawn = speakersFor(29, 5, 0.5, 0);
    expect(drawn.filter((v) => v.split !== 'train').map((v) => v.synthesizer)).toEqual(['flite', 'flite']);
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

    // Another share is another set: the manifest tells them apart.
    const redo = await synthesizeSpeechCommands(opts(other, { seed: 12, fliteShare: 0 }));
    expect(redo).toMatchObject({ cached: false, synthesizers: { 'espeak-ng': 5 } });
    expect(JSON.parse(readFileSync(join(other, 'synth.json'), 'utf8')).synthesizers).toEqual(['espeak-ng']);
  });

  it('grows a set of some words into one of more, the same bytes as the larger set made at once', async () => {
    const grown = join(dir, 'grown'), whole = join(dir, 'whole');
    // "sheila" after "no" and "yes" in eSpeak's session: a set of no and yes holds the clips the set of all three has.
    const first = await synthesizeSpeechCommands(opts(grown, { words: ['no', 'yes'] }));
    expect(first).toMatchObject({ cached: false, clips: 10, words: 2 });
    expect(existsSync(join(grown, 'sheila'))).toBe(false);
    const yesBefore = readFileSync(join(grown, 'yes', readdirSync(join(grown, 'yes'))[0]));
    // Asking for fewer words than a set has reuses it.
    expect(await synthesizeSpeechCommands(opts(grown, { words: ['yes'] }))).toMatchObject({ cached: true, words: 2 });
    const more = await synthesizeSpeechCommands(opts(grown));
    expect(more).toMatchObject({ cached: false, clips: 15, words: 3 });
    expect(readFileSync(join(grown, 'yes', readdirSync(join(grown, 'yes'))[0]))).toEqual(yesBefore);
    await synthesizeSpeechCommands(opts(whole));
    expect(snapshot(grown)).toEqual(snapshot(whole));
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
    await expect(synthesizeSpeechCommands(opts(join(dir, 'd'), { fliteShare: 1.5 }))).rejects.toThrow(/fliteShare must be in \[0, 1\], got 1.5/);
  });
});

describe.skipIf(unavailable !== '')('Flite', () => {
  const energy = (x: Float32Array): number => x.reduce((a, v) => a + v * v, 0);

  it('lists its voices and speaks each pooled one at its rate', () => {
    const pooled = Object.values(FLITE_POOLS).flat();
    for (const voice of pooled) {
      expect(flite!.voices).toContain(voice);
      const { samples, sampleRate } = flite!.speak({ text: 'yes', voice, stretch: 1 });
      expect(sampleRate).toBe(voice === 'kal' ? 8000 : 16000);
      expect(samples.length).toBeGreaterThan(0.2 * sampleRate);
      expect(energy(samples)).toBeGreaterThan(1);
    }
  });

  it('gives the same samples for an utterance whatever was spoken before, and follows stretch and pitch', () => {
    const u = { text: 'sheila', voice: 'slt', stretch: 1 };
    const first = flite!.speak(u);
    flite!.speak({ text: 'backward', voice: 'awb', stretch: 1.3, f0: 150 });
    expect(flite!.speak(u).samples).toEqual(first.samples);
    const slow = flite!.speak({ ...u, stretch: 1.5 });
    expect(slow.samples.length / first.samples.length).toBeGreaterThan(1.3);
    const high = flite!.speak({ ...u, f0: 240 });
    expect(high.samples.length).toBe(first.samples.length);
    expect(high.samples).not.toEqual(first.samples);
  });

  it('names the voice when it fails', () => {
    expect(() => flite!.speak({ text: 'yes', voice: 'nobody', stretch: 1 })).toThrow(/flite: unknown voice "nobody" \(voices: .*slt/);
    expect(() => flite!.speak({ text: 'yes', voice: 'slt', stretch: -1 })).toThrow(/duration_stretch must be a positive number, got -1 \(voice slt\)/);
  });
});

describe.skipIf(gnuspeechUnavailable !== '' || unavailable !== '')('GnuSpeech', () => {
  const tube = { tractLength: 17.5, pulseRise: 40, pulseFall: 24, pitch: -12, breathiness: 0.5, radius: 1 };
  const u = { text: 'sheila', voice: tube, tempo: 1, pitchOffset: 0 };

  it('gives the same samples for an utterance whatever was spoken before, and follows tempo, pitch and tube', () => {
    const first = gnuspeech!.speak(u);
    expect(first.sampleRate).toBe(22050);
    expect(first.samples.length).toBeGreaterThan(0.3 * 22050);
    expect(first.samples.reduce((a, v) => a + v * v, 0)).toBeGreaterThan(1);
    gnuspeech!.speak({ text: 'backward?', voice: { ...tube, tractLength: 14, pitch: 2 }, tempo: 1.3, pitchOffset: 3 });
    expect(gnuspeech!.speak(u).samples).toEqual(first.samples);
    const fast = gnuspeech!.speak({ ...u, tempo: 1.5 });
    expect(fast.samples.length / first.samples.length).toBeLessThan(0.85);
    for (const other of [{ ...u, pitchOffset: 4 }, { ...u, voice: { ...tube, tractLength: 15 } }, { ...u, voice: { ...tube, breathiness: 3 } }]) {
      const spoken = gnuspeech!.speak(other).samples;
      expect(spoken).not.toEqual(first.samples);
    }
  });

  it('speaks every Speech Commands word', () => {
    for (const w of WORDS) expect(gnuspeech!.speak({ ...u, text: w }).samples.length, w).toBeGreaterThan(0.2 * 22050);
  });

  it('renders its share of a data set, named in the manifest, byte-identical for a seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snn-gnuspeech-'));
    try {
      const opts = (out: string): SynthOptions => ({ out, seed: 29, clipsPerWord: 5, words: ['yes', 'no'], workers: 1, fliteShare: 0, gnuspeechShare: 0.6, picoVoices: 0, accentedVoices: 0 });
      const s = await synthesizeSpeechCommands(opts(join(dir, 'a')));
      expect(s.synthesizers).toEqual({ 'espeak-ng': 1, gnuspeech: 4 });
      expect(JSON.parse(readFileSync(join(dir, 'a', 'synth.json'), 'utf8'))).toMatchObject({ gnuspeechShare: 0.6, synthesizers: ['espeak-ng', 'gnuspeech'] });
      await synthesizeSpeechCommands(opts(join(dir, 'b')));
      expect(snapshot(join(dir, 'b'))).toEqual(snapshot(join(dir, 'a')));
      await expect(synthesizeSpeechCommands({ ...opts(join(dir, 'c')), fliteShare: 0.5 })).rejects.toThrow(/gnuspeechShare must be at least 0 and, with fliteShare \(0.5\), at most 1, got 0.6/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(picoUnavailable !== '' || unavailable !== '')('SVOX Pico', () => {
  const u = { text: 'sheila', voice: 'en-US' as const, pitch: 100, speed: 100 };
  const energy = (x: Float32Array): number => x.reduce((a, v) => a + v * v, 0);

  it('gives the same samples for an utterance whatever was spoken before, and follows pitch, speed and voice', () => {
    const first = pico!.speak(u);
    expect(first.sampleRate).toBe(16000);
    expect(first.samples.length).toBeGreaterThan(0.3 * 16000);
    expect(energy(first.samples)).toBeGreaterThan(1);
    pico!.speak({ text: 'backward?', voice: 'en-US', pitch: 60, speed: 140 });
    expect(pico!.speak(u).samples).toEqual(first.samples);
    expect(pico!.speak({ ...u, speed: 150 }).samples.length / first.samples.length).toBeLessThan(0.8);
    for (const other of [{ ...u, pitch: 70 }, { ...u, voice: 'en-GB' as const }]) expect(pico!.speak(other).samples).not.toEqual(first.samples);
  });

  it('speaks every Speech Commands word in both voices', () => {
    for (const voice of PICO_VOICES) for (const w of WORDS) expect(energy(pico!.speak({ ...u, voice, text: w }).samples), `${voice} ${w}`).toBeGreaterThan(1);
  });

  it('says each command word its accented voices are given, and no voice it was not asked to open', async () => {
    for (const voice of ACCENTED_VOICES)
      for (const [word, text] of Object.entries(ACCENTED_WORDS[voice])) {
        const spoken = pico!.speak({ ...u, voice, text }).samples;
        // Markup Pico could not read comes out as silence or as its characters spelled: neither is a word's 0.2-1.2 s.
        expect(energy(spoken), `${voice} ${word}`).toBeGreaterThan(1);
        expect(spoken.length / 16000, `${voice} ${word}`).toBeGreaterThan(0.2);
        expect(spoken.length / 16000, `${voice} ${word}`).toBeLessThan(1.2);
      }
    const fresh = await Pico.load();
    expect(() => fresh.speak(u)).toThrow(/the voice "en-US" is not open \(open: none\)/);
    await expect(fresh.open(['xx-XX' as never])).rejects.toThrow(/no voice "xx-XX" \(en-US, en-GB, de-DE, es-ES, fr-FR, it-IT\)/);
  });

  it('adds its training voices to a set, leaving the other files as they were, named in the manifest, byte-identical for a seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snn-pico-'));
    try {
      const opts = (out: string, picoVoices: number): SynthOptions => ({ out, seed: 29, clipsPerWord: 10, words: ['yes', 'no'], workers: 1, fliteShare: 0, gnuspeechShare: 0, picoVoices, accentedVoices: 0 });
      const s = await synthesizeSpeechCommands(opts(join(dir, 'a'), 4));
      expect(s).toMatchObject({ clips: 28, clipsPerWord: 10, synthesizers: { 'espeak-ng': 10, pico: 4 }, voices: { train: 12, validation: 1, test: 1 }, splits: { train: 24, validation: 2, test: 2 } });
      expect(JSON.parse(readFileSync(join(dir, 'a', 'synth.json'), 'utf8'))).toMatchObject({ picoVoices: 4, synthesizers: ['espeak-ng', 'pico'] });
      await synthesizeSpeechCommands(opts(join(dir, 'b'), 4));
      const withPico = snapshot(join(dir, 'a'));
      expect(snapshot(join(dir, 'b'))).toEqual(withPico);
      // Without them: the same files less Pico's, and the same split lists (Pico's voices are in training).
      await synthesizeSpeechCommands(opts(join(dir, 'c'), 0));
      const without = snapshot(join(dir, 'c'));
      const picoIds = speakersFor(29, 10, 0, 0, 4, 0).filter((v) => v.synthesizer === 'pico').map((v) => v.id);
      expect(picoIds).toHaveLength(4);
      expect(new Map([...withPico].filter(([rel]) => !picoIds.some((id) => rel.includes(id)) && rel !== 'synth.json'))).toEqual(new Map([...without].filter(([rel]) => rel !== 'synth.json')));
      await expect(synthesizeSpeechCommands(opts(join(dir, 'd'), 1.5))).rejects.toThrow(/picoVoices must be a non-negative integer, got 1.5/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('adds accented voices after the English ones, each saying only the words it is given, the rest of the set unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'snn-accent-'));
    try {
      // "go" is no accented voice's word, "yes" is every one's.
      const opts = (out: string, accentedVoices: number): SynthOptions => ({ out, seed: 29, clipsPerWord: 10, words: ['yes', 'go'], workers: 1, fliteShare: 0, gnuspeechShare: 0, picoVoices: 1, accentedVoices });
      const s = await synthesizeSpeechCommands(opts(join(dir, 'a'), 4));
      expect(s).toMatchObject({ clips: 26, synthesizers: { 'espeak-ng': 10, pico: 5 }, voices: { train: 13, validation: 1, test: 1 }, splits: { train: 22, validation: 2, test: 2 } });
      expect(JSON.parse(readFileSync(join(dir, 'a', 'synth.json'), 'utf8'))).toMatchObject({ picoVoices: 1, accentedVoices: 4 });
      const accented = speakersFor(29, 10, 0, 0, 1, 4).slice(11);
      expect(accented.map((v) => v.voice)).toEqual([...ACCENTED_VOICES]);
      for (const v of accented) {
        expect(existsSync(join(dir, 'a', 'yes', `${v.id}_nohash_0.wav`))).toBe(true);
        expect(existsSync(join(dir, 'a', 'go', `${v.id}_nohash_0.wav`))).toBe(false);
      }
      // Resumed (a file removed), the same bytes; without them, the same files less theirs.
      unlinkSync(join(dir, 'a', 'yes', `${accented[2].id}_nohash_0.wav`));
      unlinkSync(join(dir, 'a', 'synth-complete.json'));
      const withAccents = snapshot(join(dir, 'a'));
      await synthesizeSpeechCommands(opts(join(dir, 'a'), 4));
      const resumed = snapshot(join(dir, 'a'));
      expect(resumed.size).toBe(withAccents.size + 1);
      await synthesizeSpeechCommands(opts(join(dir, 'b'), 0));
      const ids = accented.map((v) => v.id);
      const drop = (m: Map<string, string>) => new Map([...m].filter(([rel]) => !ids.some((id) => rel.includes(id)) && rel !== 'synth.json'));
      expect(drop(snapshot(join(dir, 'b')))).toEqual(drop(resumed));
      await expect(synthesizeSpeechCommands(opts(join(dir, 'd'), -2))).rejects.toThrow(/accentedVoices must be a non-negative integer, got -2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
