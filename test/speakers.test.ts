// The built-in set's speakers (src/data/speakers.ts): the split by voice, the timbres each split draws
// from, and the synthesizers' speakers added without changing the others. Pure draws: no synthesizer runs.
import { describe, expect, it } from 'vitest';
import { ACCENTED_VOICES, ACCENTED_WORDS } from '../src/data/accents.js';
import { DEFAULT_ACCENTED_VOICES, DEFAULT_FLITE_SHARE, DEFAULT_PICO_VOICES, FLITE_POOLS, PICO_F0, PICO_VOICES, VARIANTS, speakersFor, splitSpeakers, variantPools, type SplitName } from '../src/data/speakers.js';
import { COMMAND_WORDS } from '../src/data/words.js';

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

  it('gives held-out speakers timbres (eSpeak variants, Flite voices) never used in training', () => {
    const pools = variantPools(5);
    expect([...pools.train, ...pools.validation, ...pools.test].sort()).toEqual([...VARIANTS].sort());
    expect(pools.validation.length).toBeGreaterThan(0);
    expect(pools.test.length).toBe(pools.validation.length);
    const speakers = speakersFor(5, 200);
    // kal and kal16 are one speaker at two sampling rates; a GnuSpeech speaker's tube is its own.
    const timbre = (s: (typeof speakers)[number]): string =>
      s.synthesizer === 'flite' ? `flite:${s.voice.replace('kal16', 'kal')}`
      : s.synthesizer === 'gnuspeech' ? `gnuspeech:${s.id}`
      : s.synthesizer === 'pico' ? `pico:${s.voice}`
      : `espeak:${s.voice.split('+')[1]}`;
    const used: Record<SplitName, Set<string>> = { train: new Set(), validation: new Set(), test: new Set() };
    for (const s of speakers) {
      if (s.synthesizer === 'espeak-ng' || s.synthesizer === 'flite') expect(s.synthesizer === 'flite' ? FLITE_POOLS[s.split] : pools[s.split]).toContain(s.synthesizer === 'flite' ? s.voice : s.voice.split('+')[1]);
      used[s.split].add(timbre(s));
    }
    for (const v of used.validation) expect(used.train.has(v) || used.test.has(v)).toBe(false);
    for (const v of used.test) expect(used.train.has(v)).toBe(false);
    // Three synthesizers in every split, Flite and GnuSpeech for about a quarter of the set's own
    // speakers each, and Pico's voices in training.
    for (const split of ['train', 'validation', 'test'] as const)
      expect(new Set([...used[split]].map((t) => t.split(':')[0]))).toEqual(new Set(['espeak', 'flite', 'gnuspeech', ...(split === 'train' ? ['pico'] : [])]));
    expect(speakers.filter((s) => s.synthesizer === 'pico')).toHaveLength(DEFAULT_PICO_VOICES + DEFAULT_ACCENTED_VOICES);
    for (const synthesizer of ['flite', 'gnuspeech'] as const) {
      const share = speakers.filter((s) => s.synthesizer === synthesizer).length / 200;
      expect(share, synthesizer).toBeGreaterThan(0.15);
      expect(share, synthesizer).toBeLessThan(0.35);
    }
    expect(new Set(speakers.map((s) => s.id)).size).toBe(200 + DEFAULT_PICO_VOICES + DEFAULT_ACCENTED_VOICES);
  });

  it('draws the synthesizer apart from the traits: the share changes only who uses Flite', () => {
    const none = speakersFor(5, 60, 0, 0, 0, 0), quarter = speakersFor(5, 60, DEFAULT_FLITE_SHARE, 0, 0, 0), all = speakersFor(5, 60, 1, 0, 0, 0);
    expect(none.every((s) => s.synthesizer === 'espeak-ng')).toBe(true);
    expect(all.every((s) => s.synthesizer === 'flite')).toBe(true);
    for (let i = 0; i < 60; i++) {
      expect(quarter[i]).toMatchObject({ id: none[i].id, split: none[i].split, pitch: none[i].pitch, rate: none[i].rate, tract: none[i].tract });
      if (quarter[i].synthesizer === 'espeak-ng') expect(quarter[i].voice).toBe(none[i].voice);
    }
  });

  it('adds GnuSpeech speakers without changing the others, each with a tube of its own', () => {
    const before = speakersFor(5, 200, 0.25, 0, 0, 0), mixed = speakersFor(5, 200, 0.25, 0.25, 0, 0);
    // The built-in set's default, which adds Pico's voices after them.
    expect(speakersFor(5, 200).slice(0, 200)).toEqual(mixed);
    const tubes = mixed.filter((s) => s.synthesizer === 'gnuspeech');
    expect(tubes.length).toBeGreaterThan(30);
    expect(tubes.length).toBeLessThan(70);
    for (let i = 0; i < 200; i++) {
      if (mixed[i].synthesizer === 'gnuspeech') {
        expect(before[i].synthesizer).toBe('espeak-ng');
        expect(mixed[i].voice).toBe('tube');
        expect(mixed[i].tube!.tractLength).toBeGreaterThanOrEqual(13.5);
        expect(mixed[i].tube!.tractLength).toBeLessThanOrEqual(18.5);
      } else expect(mixed[i]).toEqual(before[i]);
    }
    expect(new Set(tubes.map((s) => s.tube!.tractLength)).size).toBe(tubes.length);
    expect(before.some((s) => 'tube' in s)).toBe(false);
    expect(() => speakersFor(5, 10, 0.6, 0.6)).toThrow(/add up to at most 1, got 0.6 and 0.6/);
  });

  it('adds Pico voices after the others, all in training, each a man or a woman by its own pitch and tract', () => {
    const before = speakersFor(5, 400, 0.25, 0.25, 0, 0), mixed = speakersFor(5, 400, 0.25, 0.25, 200, 0);
    expect(mixed.slice(0, 400)).toEqual(before);
    const voices = mixed.slice(400);
    expect(voices).toHaveLength(200);
    for (const [k, v] of voices.entries()) {
      expect(v).toMatchObject({ index: 400 + k, split: 'train', synthesizer: 'pico' });
      expect(PICO_VOICES).toContain(v.voice);
      expect(v.picoPitch).toBeGreaterThanOrEqual(50);
      expect(v.picoPitch).toBeLessThanOrEqual(200);
      // The pitch heard after the tract's resampling: a man's 67.5-112.5 Hz or a woman's 123.75-195 Hz.
      const f0 = (PICO_F0[v.voice as keyof typeof PICO_F0] * v.picoPitch!) / 100 / v.tract;
      expect(v.tract > 1.1 ? f0 >= 67.4 && f0 <= 112.6 : f0 >= 123.7 && f0 <= 195.1, `f0 ${f0} at tract ${v.tract}`).toBe(true);
    }
    for (const [share, of] of [[voices.filter((v) => v.tract > 1.1).length, 'men'], [voices.filter((v) => v.voice === 'en-US').length, 'US voices']] as const) {
      expect(share, of).toBeGreaterThan(60);
      expect(share, of).toBeLessThan(140);
    }
    expect(new Set(mixed.map((s) => s.id)).size).toBe(600);
    expect(() => speakersFor(5, 10, 0.25, 0.25, -1)).toThrow(/picoVoices must be a non-negative integer, got -1/);
  });

  it('adds accented voices after the English ones, in turn, in training, with pitches drawn around each voice\'s own', () => {
    const english = speakersFor(5, 400, 0.25, 0.25, 80, 0), all = speakersFor(5, 400, 0.25, 0.25, 80, 8);
    expect(all.slice(0, 480)).toEqual(english);
    expect(all.slice(480).map((v) => v.voice)).toEqual([...ACCENTED_VOICES, ...ACCENTED_VOICES]);
    for (const v of all.slice(480)) {
      expect(v).toMatchObject({ split: 'train', synthesizer: 'pico' });
      const f0 = (PICO_F0[v.voice as keyof typeof PICO_F0] * v.picoPitch!) / 100 / v.tract;
      expect(v.tract > 1.1 ? f0 >= 67.4 && f0 <= 112.6 : f0 >= 123.7 && f0 <= 195.1, `f0 ${f0} at tract ${v.tract}`).toBe(true);
    }
    // Their words: command words, go left out (docs/accuracy.md).
    for (const voice of ACCENTED_VOICES) expect(Object.keys(ACCENTED_WORDS[voice]).sort()).toEqual(COMMAND_WORDS.filter((w) => w !== 'go').sort());
    expect(() => speakersFor(5, 10, 0.25, 0.25, 0, 0.5)).toThrow(/accentedVoices must be a non-negative integer, got 0.5/);
  });
});
