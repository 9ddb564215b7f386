// The built-in set made with some of its words (npm start makes the ten commands it trains on): a load
// that needs others is refused with the command that adds them, rather than reading the folders there
// are as if they were every word.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataRoots, wordsRead } from '../src/cli/data.js';
import { COMMAND_WORDS, WORDS } from '../src/data/words.js';

describe('the built-in set with some of its words', () => {
  const cwd = process.cwd();
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-builtin-words-'));
    mkdirSync(join(dir, 'data', 'builtin'), { recursive: true });
    writeFileSync(join(dir, 'data', 'builtin', 'synth.json'), JSON.stringify({ generator: 'snn-voice synth', version: 3, words: COMMAND_WORDS }));
    process.chdir(dir);
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the words a task needs: every word for a task with _unknown_', () => {
    expect(wordsRead({ words: COMMAND_WORDS })).toEqual(COMMAND_WORDS);
    expect(wordsRead({ task: ['yes', 'no', '_silence_'] })).toEqual(['yes', 'no']);
    for (const task of ['gsc12', 'gsc35', 'all', ['yes', '_unknown_']] as const) expect(wordsRead({ task }), String(task)).toEqual(WORDS);
    expect(wordsRead({})).toEqual(WORDS);
  });

  it('serves the words it has and names the command that adds the others', () => {
    expect(dataRoots({ words: COMMAND_WORDS })).toEqual([join(dir, 'data', 'builtin')]);
    expect(dataRoots({ task: ['up', 'down'] })).toHaveLength(1);
    expect(() => dataRoots({ task: 'gsc12' })).toThrow(/holds 10 of the 35 words .* needs 25 more \(backward, bed, .*\): run `snn-voice synth` to add them/);
    expect(() => dataRoots({ words: ['yes', 'sheila'] })).toThrow(/needs 1 more \(sheila\)/);
    // Another folder is read as it is.
    expect(dataRoots({ data: join(dir, 'data', 'builtin'), task: 'gsc12' })).toHaveLength(1);
  });
});
