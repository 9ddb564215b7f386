// The snn-voice command end to end, in process, on a tiny Speech Commands tree written to a temp dir.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/main.js';
import { sweepGrid } from '../src/cli/sweep.js';
import { interrupt } from '../src/cli/interrupt.js';
import type { ModelName } from '../src/models/types.js';
import type { CliIo } from '../src/cli/io.js';
import { UsageError, choice, listOf, numberIn, onOff, positiveInt, settingOption, settingParser, settingsFromFlags, wordList } from '../src/cli/options.js';
import { MODEL_SETTINGS } from '../src/models/settings.js';
import { formatCell, formatTable } from '../src/cli/table.js';
import { loadModel } from '../src/node.js';
import { createModel } from '../src/models/zoo.js';
import { cli, writeTree } from './cli-helpers.js';

describe('table printer', () => {
  it('aligns text left and numbers right', () => {
    const t = formatTable(['name', 'acc', 'n'], [['hjh', '55.0%', 12], ['piczak', '7.5%', 3]]).split('\n');
    expect(t[0]).toBe('name      acc   n');
    expect(t[1]).toBe('------  -----  --');
    expect(t[2]).toBe('hjh     55.0%  12');
    expect(t[3]).toBe('piczak   7.5%   3');
  });
  it('formats numbers and refuses ragged rows', () => {
    expect(formatCell(0.123456)).toBe('0.123');
    expect(formatCell(0.0378, 1)).toBe('0.038');
    expect(formatCell(0.00002)).toBe('2.00e-5');
    expect(formatCell(3e9 + 0.5)).toBe('3.00e+9');
    expect(formatCell(undefined)).toBe('-');
    expect(() => formatTable(['a', 'b'], [['x']])).toThrow(/1 cells for 2 columns/);
  });
});

describe('option parsers', () => {
  it('accept good values and name the option when refusing bad ones', () => {
    expect(positiveInt('--steps')('15')).toBe(15);
    expect(() => positiveInt('--steps')('abc')).toThrow(new UsageError('--steps must be a positive integer, got "abc"'));
    expect(() => positiveInt('--steps')('0')).toThrow(/positive integer/);
    expect(() => positiveInt('--steps')('2.5')).toThrow(/positive integer/);
    expect(numberIn('--beta', 0, 1)('0.9')).toBe(0.9);
    expect(() => numberIn('--beta', 0, 1)('1.5')).toThrow('--beta must be a number from 0 to 1, got "1.5"');
    expect(() => numberIn('--lr', 0, 10, true)('0')).toThrow(/above 0/);
    expect(choice('--model', ['hjh', 'tcy'])('tcy')).toBe('tcy');
    expect(() => choice('--model', ['hjh', 'tcy'])('vgg')).toThrow('--model must be one of hjh, tcy, got "vgg"');
    expect(listOf('--steps', positiveInt('--steps'))('1, 5,5')).toEqual([1, 5]);
    expect(() => listOf('--steps', positiveInt('--steps'))('1,,5')).toThrow(/comma-separated/);
    expect(listOf('--learn-beta', onOff('--learn-beta'))('off,on')).toEqual([false, true]);
    expect(() => onOff('--learn-beta')('maybe')).toThrow(/on or off/);
    expect(wordList('--words')('all')).toBe('all');
    expect(wordList('--words')('commands')).toEqual(['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
    expect(wordList('--words')('yes, no')).toEqual(['yes', 'no']);
    expect(() => wordList('--words')('yes,hello')).toThrow(/--words must be one of backward, .*, got "hello"/);
  });

  it('parse a declared setting by its rule, in the same words', () => {
    expect(settingParser('--beta', MODEL_SETTINGS.beta)('0.25')).toBe(0.25);
    expect(() => settingParser('--beta', MODEL_SETTINGS.beta)('1.5')).toThrow(new UsageError('--beta must be a number from 0 to 1, got "1.5"'));
    expect(() => settingParser('--threshold', MODEL_SETTINGS.threshold)('0')).toThrow(new UsageError('--threshold must be a number greater than 0, got "0"'));
    expect(() => settingParser('--steps', MODEL_SETTINGS.steps)('0')).toThrow(new UsageError('--steps must be a positive integer, got "0"'));
    expect(settingParser('--seed', MODEL_SETTINGS.seed)('0')).toBe(0);
    expect(() => settingParser('--seed', MODEL_SETTINGS.seed)('-1')).toThrow(/--seed must be a non-negative integer/);
    expect(() => settingParser('--encoder', MODEL_SETTINGS.encoder)('morse')).toThrow(new UsageError('--encoder must be one of repeat, rate, latency, got "morse"'));
    expect(settingParser('--learn-beta', MODEL_SETTINGS.learnBeta)('on')).toBe(true);
    const beta = settingOption(MODEL_SETTINGS.beta);
    expect([beta.flags, beta.description, beta.defaultValue]).toEqual(['--beta <b>', 'membrane decay per step, 0 to 1', 0.5]);
    const surrogate = settingOption(MODEL_SETTINGS.surrogate, { defaultNote: 'by --neuron' });
    expect([surrogate.description, surrogate.defaultValue]).toEqual(['spike gradient: atan, fast-sigmoid, straight-through (default by --neuron)', undefined]);
    expect(settingOption(MODEL_SETTINGS.spiking).defaultValue).toBeUndefined();
    expect(settingsFromFlags(MODEL_SETTINGS, { model: 'tcy', steps: 3, learnBeta: true, out: 'x' })).toEqual({ name: 'tcy', steps: 3, learnBeta: true });
  });
});

describe('sweep grid', () => {
  it("uses the study's schedule per model unless --lr or --pct-start say otherwise", () => {
    const flags = { models: ['piczak', 'hjh'] as ModelName[], steps: [5], learnBeta: [false], cnn: true, neuron: 'current' as const, epochs: 1, batchSize: 4, seed: 0 };
    const grid = sweepGrid(flags);
    expect(grid.map((r) => [r.id, r.spec.lr, r.spec.pctStart])).toEqual([
      ['piczak-cnn', 0.001, 0.4],
      ['piczak-snn-t5', 0.001, 0.4],
      ['hjh-cnn', 0.01, 0.2],
      ['hjh-snn-t5', 0.01, 0.2],
    ]);
    expect(sweepGrid({ ...flags, lr: 0.05, pctStart: 0.3 }).map((r) => [r.spec.lr, r.spec.pctStart])).toEqual(Array(4).fill([0.05, 0.3]));
  });
});

describe('snn-voice', () => {
  let dir: string;
  let data: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-voice-cli-'));
    data = join(dir, 'speech');
    writeTree(data);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints help for the program and every command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['demo', 'synth', 'train', 'eval', 'infer', 'sweep', 'bench']) {
      expect(top.out).toContain(c);
      const h = await cli(c, '--help');
      expect(h.code, c).toBe(0);
      expect(h.out).toContain(`Usage: snn-voice ${c}`);
    }
    // train takes every model setting that declares a flag, and the neuron preset.
    const train = (await cli('train', '--help')).out;
    for (const s of Object.values(MODEL_SETTINGS) as Array<{ flag?: string }>) if (s.flag) expect(train).toContain(s.flag);
    for (const flag of ['--model <name>', '--spiking', '--steps <n>', '--encoder <name>', '--beta <b>', '--threshold <v>', '--learn-beta', '--learn-threshold', '--surrogate <name>', '--neuron <preset>', '--seed <n>'])
      expect(train).toContain(flag);
    expect(train).toMatch(/--beta <b>\s+membrane decay per step, 0 to 1 \(default: 0.5\)/);
  });

  it('refuses bad options and paths with one line and a non-zero exit', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['train', '--steps', 'abc'], /^error: --steps must be a positive integer, got "abc"$/m],
      [['bench', '--filter', 'models', '--models', 'tcy,vgg'], /^error: --models: no model vgg; the zoo has m5, piczak, hjh, hjh-scnn, tcy, tcresnet8, bcresnet$/m],
      [['train', '--model', 'vgg'], /^error: --model must be one of m5, piczak, hjh, hjh-scnn, tcy, tcresnet8, bcresnet, got "vgg"$/m],
      [['train', '--beta', '2'], /^error: --beta must be a number from 0 to 1, got "2"$/m],
      [['train', '--threshold', '0'], /^error: --threshold must be a number greater than 0, got "0"$/m],
      [['train', '--encoder', 'morse'], /^error: --encoder must be one of repeat, rate, latency, got "morse"$/m],
      [['train', '--learn-threshold', '--data', data], /^error: --learn-threshold applies to SNNs: add --spiking$/m],
      [['demo', '--model', 'hjh-scnn'], /^error: --model must be one of m5, piczak, hjh, tcy, tcresnet8, bcresnet, got "hjh-scnn"$/m],
      [['sweep', '--steps', '1,0'], /^error: --steps must be a positive integer, got "0"$/m],
      [['train', '--pct-start', '0.6'], /^error: --pct-start must be a number above 0 to 0.5, got "0.6"$/m],
      [['train', '--data', join(dir, 'nowhere')], /^error: --data: folder ".*nowhere" does not exist$/m],
      [['train', '--learn-beta', '--data', data], /^error: --learn-beta applies to SNNs: add --spiking$/m],
      [['train', '--data', dir], /^error: no word folders in ".*"/m],
      [['train', '--data', data, '--words', 'yes,stop'], /^error: no folder for the word "stop" in ".*"/m],
      [['eval', join(dir, 'missing.snn')], /^error: model: file ".*missing.snn" does not exist$/m],
      [['sweep', '--models', 'tcy,vgg'], /^error: --models must be one of/m],
      [['synth', '--out', join(dir, 'unused'), '--gnuspeech-share', '0.8'], /^error: --gnuspeech-share 0.8 and --flite-share 0.25 \(its default\) add up to more than 1: lower --flite-share/m],
      [['synth', '--out', join(dir, 'unused'), '--flite-share', '0.9'], /^error: --gnuspeech-share 0.25 \(its default\) and --flite-share 0.9 add up to more than 1: lower --flite-share or --gnuspeech-share/m],
      [['synth', '--out', join(dir, 'unused'), '--pico-voices', '-3'], /^error: --pico-voices/m],
      [['synth', '--out', join(dir, 'unused'), '--accented-voices', '2.5'], /^error: --accented-voices/m],
      [['train', '--no-such-option'], /unknown option '--no-such-option'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.err, argv.join(' ')).toMatch(message);
      expect(r.err, argv.join(' ')).not.toMatch(/^\s+at /m);
      expect(r.out).toBe('');
    }
  });

  it('synth writes a Speech Commands tree (2 words x 2 clips, 1 Pico voice, 1 accented voice)', async () => {
    const out = join(dir, 'synth');
    const r = await cli('synth', '--out', out, '--words', 'yes,no', '--clips-per-word', '2', '--pico-voices', '1', '--accented-voices', '1', '--json');
    // Only a missing synthesizer package (a production install without dev dependencies) skips.
    if (r.code !== 0 && /which is not installed/.test(r.err)) {
      console.warn(`skipped: a synthesizer is not installed (${r.err.trim()})`);
      return;
    }
    expect(r.code, r.err).toBe(0);
    // The accented (German) voice says yes and no.
    expect(JSON.parse(r.out)).toMatchObject({ out, clips: 8, clipsPerWord: 2, voices: { train: 3, validation: 1, test: 0 }, synthesizers: { pico: 2 } });
    for (const w of ['yes', 'no']) expect(existsSync(join(out, w))).toBe(true);
    expect(existsSync(join(out, 'up'))).toBe(false);
    expect(existsSync(join(out, 'validation_list.txt'))).toBe(true);
    expect(existsSync(join(out, 'testing_list.txt'))).toBe(true);
  });

  let modelFile: string;

  it('train writes model.snn, checkpoint, log and result', async () => {
    const out = join(dir, 'run-cnn');
    const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--pct-start', '0.3', '--data', data, '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out);
    const stored = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(stored.spec).toMatchObject({ lr: 0.01, pctStart: 0.3 });
    // How the data was read, defaults included: --data alone trains without augmentation.
    expect(stored.data).toEqual({ folders: [data], augment: 'none', copies: 0, colour: 0, warp: 0 });
    expect(result.model).toBe('tcy');
    expect(result.spiking).toBe(false);
    expect(result.epochs).toHaveLength(1);
    expect(result.test.samples).toBe(3);
    for (const f of ['model.snn', 'checkpoint.snnc', 'log.jsonl', 'result.json']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    modelFile = join(out, 'model.snn');
  });

  it('a run folder is owned by its run: no silent restart, replacement or empty resume', async () => {
    const out = join(dir, 'run-cnn');
    const args = ['train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', data, '--out', out];
    const again = await cli(...args);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/run-cnn holds a finished run: choose another --out, or add --overwrite/);
    const empty = join(dir, 'run-empty');
    const resume = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', data, '--out', empty, '--resume');
    expect(resume.code).not.toBe(0);
    expect(resume.err).toMatch(/run-empty holds no checkpoint to resume/);
    const over = await cli(...args, '--overwrite');
    expect(over.code, over.err).toBe(0);
    // A killed run's folder keeps only its checkpoint: no older result beside it to shadow it.
    for (const file of ['result.json', 'model.snn']) rmSync(join(out, file));
    const killed = await cli(...args);
    expect(killed.err).toMatch(/run-cnn holds an unfinished run \(checkpoint\.snnc\): add --resume to continue it, or --overwrite/);
    // The later cases read this run's model again.
    expect((await cli(...args, '--overwrite')).code).toBe(0);
  });

  it('train --from-cnn converts the CNN to an SNN and fine-tunes it (its architecture unless --model says otherwise); the table is aligned', async () => {
    const out = join(dir, 'run-snn');
    const args = ['train', '--from-cnn', modelFile, '--steps', '2', '--epochs', '1', '--batch-size', '4', '--data', data];
    const other = await cli(...args, '--model', 'hjh', '--out', join(dir, 'run-hjh'));
    expect(other.code).not.toBe(0);
    expect(other.err).toMatch(/is a tcy model, but --model is hjh/);
    const r = await cli(...args, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/converted .* with T=2 \(ecc: batch norm folded/);
    expect(r.out).toContain('tcy SNN T=2');
    expect(r.out).toMatch(/run\s+kept epoch\s+val top-1\s+test top-1/);
    expect(existsSync(join(out, 'model.snn'))).toBe(true);
    // The CNN's features come along too.
    const mfcc = join(dir, 'run-mfcc');
    expect((await cli('train', '--model', 'tcy', '--features', 'mfcc', '--epochs', '1', '--batch-size', '4', '--data', data, '--out', mfcc)).code).toBe(0);
    const snn = await cli('train', '--from-cnn', join(mfcc, 'model.snn'), '--steps', '2', '--epochs', '1', '--batch-size', '4', '--data', data, '--out', join(dir, 'run-mfcc-snn'));
    expect(snn.code, snn.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run-mfcc-snn', 'result.json'), 'utf8')).spec).toMatchObject({ model: 'tcy', features: 'mfcc', spiking: true });
  });

  it('train --init-from starts from a model file of the same architecture (its architecture unless --model says otherwise)', async () => {
    const args = ['train', '--init-from', modelFile, '--epochs', '1', '--batch-size', '4', '--data', data];
    const r = await cli(...args, '--out', join(dir, 'run-init'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`started from ${modelFile}: 2 of 2 tensors`);
    expect(JSON.parse(readFileSync(join(dir, 'run-init', 'result.json'), 'utf8')).spec).toMatchObject({ model: 'tcy', initFrom: modelFile });
    // Fewer words: tcy's only layer is the classifier, so nothing fits, and the run says so.
    const fewer = await cli(...args, '--words', 'no,up', '--out', join(dir, 'run-init-words'));
    expect(fewer.code).not.toBe(0);
    expect(fewer.err).toMatch(/has no tensor of the model's names and sizes/);
    const other = await cli(...args, '--model', 'hjh', '--out', join(dir, 'run-init-hjh'));
    expect(other.err).toMatch(/--init-from: ".*" is a tcy model, but --model is hjh/);
    const both = await cli(...args, '--from-cnn', modelFile, '--out', join(dir, 'run-init-both'));
    expect(both.err).toMatch(/--from-cnn and --init-from both give the weights to start from: give one/);
    const features = await cli(...args, '--features', 'mfcc', '--out', join(dir, 'run-init-mfcc'));
    expect(features.err).toMatch(/--init-from: ".*" was trained on other features than tcy uses here/);
  });

  it('train --width widens tcresnet8; --init-from and --from-cnn take the file\'s width; the study\'s models refuse it', async () => {
    const base = ['--epochs', '1', '--batch-size', '4', '--data', data];
    const narrow = join(dir, 'run-narrow');
    const r = await cli('train', '--model', 'tcresnet8', '--features', 'mfcc', '--width', '0.5', ...base, '--out', narrow);
    expect(r.code, r.err).toBe(0);
    const spec = (out: string) => JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).spec;
    expect(spec(narrow)).toMatchObject({ model: 'tcresnet8', width: 0.5 });
    const { model } = await loadModel(join(narrow, 'model.snn'));
    const fresh = createModel('tcresnet8', { features: 'mfcc', classes: model.classes, width: 0.5 });
    expect([model.config.width, model.parameterCount()]).toEqual([0.5, fresh.parameterCount()]);
    for (const m of [model, fresh]) m.dispose();
    const init = await cli('train', '--init-from', join(narrow, 'model.snn'), ...base, '--out', join(dir, 'run-narrow-init'));
    expect(init.code, init.err).toBe(0);
    expect(spec(join(dir, 'run-narrow-init'))).toMatchObject({ width: 0.5 });
    expect(init.err).toMatch(/started from .*: (\d+) of \1 tensors/);
    const snn = await cli('train', '--from-cnn', join(narrow, 'model.snn'), '--steps', '2', ...base, '--out', join(dir, 'run-narrow-snn'));
    expect(snn.code, snn.err).toBe(0);
    expect(spec(join(dir, 'run-narrow-snn'))).toMatchObject({ width: 0.5, spiking: true });
    const study = await cli('train', '--model', 'm5', '--width', '2', ...base, '--out', join(dir, 'run-m5-wide'));
    expect(study.code).not.toBe(0);
    expect(study.err).toMatch(/model option width: m5 has the study's channels \(width 1, got 2\)/);
  });

  it('train --teacher learns from trained models as well, on the run\'s features or others; teachers on other words, and weights without a teacher, are refused', async () => {
    const args = ['train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', data];
    const r = await cli(...args, '--teacher', modelFile, '--teacher', modelFile, '--distill-temperature', '3', '--out', join(dir, 'run-taught'));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run-taught', 'result.json'), 'utf8')).spec).toMatchObject({ teachers: [modelFile, modelFile], distillAlpha: 0.5, distillTemperature: 3 });
    const words = await cli(...args, '--teacher', modelFile, '--words', 'no,up', '--out', join(dir, 'run-taught-words'));
    expect(words.err).toMatch(/--teacher: ".*" has classes .*, the data has no,up/);
    // A log-mel teacher for an MFCC student hears the clips in its own features.
    const features = await cli(...args, '--teacher', modelFile, '--features', 'mfcc', '--out', join(dir, 'run-taught-mfcc'));
    expect(features.code, features.err).toBe(0);
    expect(features.err).toMatch(/--teacher .* takes logmel \[1, 60, 134\]: it hears each training clip so/);
    const alone = await cli(...args, '--distill-alpha', '0.7', '--out', join(dir, 'run-untaught'));
    expect(alone.err).toMatch(/--distill-alpha weighs the teachers' soft targets: add --teacher/);
  });

  it('train --label-space folder scores each clip against its own folder\'s words; with --teacher it is refused', async () => {
    // A second folder without "yes": its clips are scored against no and up alone.
    const partial = join(dir, 'speech-no-yes');
    writeTree(partial);
    rmSync(join(partial, 'yes'), { recursive: true });
    for (const list of ['validation_list.txt', 'testing_list.txt'])
      writeFileSync(join(partial, list), readFileSync(join(partial, list), 'utf8').split('\n').filter((l) => !l.startsWith('yes/')).join('\n'));
    const args = ['train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', data, '--data', partial];
    const r = await cli(...args, '--label-space', 'folder', '--out', join(dir, 'run-label-space'));
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run-label-space', 'result.json'), 'utf8')).spec).toMatchObject({ labelSpace: 'folder' });
    const taught = await cli(...args, '--label-space', 'folder', '--teacher', modelFile, '--out', join(dir, 'run-label-space-taught'));
    expect(taught.err).toMatch(/--label-space folder and --teacher: .* give one/);
    const bad = await cli(...args, '--label-space', 'word', '--out', join(dir, 'run-label-space-bad'));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--label-space/);
  });

  it("train records in result.json the augmentation it read its data with", async () => {
    const out = join(dir, 'run-augmented');
    const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--data', data, '--augment', 'full', '--augment-copies', '1', '--augment-colour', '0.5', '--augment-warp', '0.1', '--augment-shift', '200', '--limit-per-class', '3', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).data).toEqual({ folders: [data], augment: 'full', copies: 1, colour: 0.5, warp: 0.1, shift: 200, limitPerClass: 3 });
  });

  it.each([
    { flag: '--average', key: 'average', good: 0.9, bad: '1', refusal: /--average must be a number from 0.5 to below 1, got "1"/ },
    { flag: '--sam', key: 'sam', good: 0.05, bad: '0', refusal: /--sam must be a number above 0 to 2, got "0"/ },
  ])('train $flag is recorded in result.json; $flag $bad is refused', async ({ flag, key, good, bad, refusal }) => {
    const args = ['train', '--model', 'tcy', '--epochs', '2', '--batch-size', '4', '--data', data];
    const out = join(dir, `run${flag}`);
    const r = await cli(...args, flag, String(good), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).spec).toMatchObject({ [key]: good });
    const refused = await cli(...args, flag, bad, '--out', `${out}-refused`);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(refusal);
  });

  it('convert writes a converted SNN that eval scores; --sweep-steps writes the table and plots', async () => {
    const out = join(dir, 'converted.snn');
    const r = await cli('convert', '--model', modelFile, '--steps', '3', '--method', 'channel', '--samples', '4', '--data', data, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`tcy CNN -> SNN (channel, T=3) -> ${out}`);
    const scored = await cli('eval', out, '--data', data, '--json');
    expect(scored.code, scored.err).toBe(0);
    expect(JSON.parse(scored.out)).toMatchObject({ spiking: true, steps: 3 });
    const report = join(dir, 'conversion');
    const sweep = await cli('convert', '--model', modelFile, '--sweep-steps', '2,1', '--method', 'layer,ecc', '--samples', '4', '--data', data, '--out', report);
    expect(sweep.code, sweep.err).toBe(0);
    expect(sweep.out).toMatch(/method\s+T\s+top-1\s+vs CNN/);
    for (const f of ['conversion.md', 'conversion.json', 'accuracy.svg', 'energy.svg']) expect(existsSync(join(report, f)), f).toBe(true);
    const json = JSON.parse(readFileSync(join(report, 'conversion.json'), 'utf8'));
    expect(json.points.map((p: { method: string; steps: number }) => `${p.method}${p.steps}`)).toEqual(['layer1', 'layer2', 'ecc1', 'ecc2']);
    const refused = await cli('convert', '--model', modelFile, '--method', 'qcfs', '--data', data, '--out', out);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/method qcfs needs a CNN trained with QCFS activations/);
  });

  it('Ctrl-C stops a training run after its batch, keeps the checkpoint, and --resume finishes it', async () => {
    const out = join(dir, 'run-interrupted');
    const args = ['train', '--model', 'tcy', '--epochs', '3', '--batch-size', '4', '--data', data, '--out', out];
    expect(interrupt.take()).toBe(false); // nothing is training: the process would quit at once
    let err = '';
    const io: CliIo = {
      out: () => {},
      err: (t) => void (err += t),
      // The user presses Ctrl-C as the second epoch starts.
      progress: (label) => ({ update: () => void (label.startsWith('epoch 2/') && interrupt.take()), stop() {} }),
    };
    expect(await run(args, io)).toBe(130);
    expect(err).toMatch(/^error: tcy-cnn: stopped by Ctrl-C; 1 epochs are in the checkpoint in .*train --resume/m);
    expect(existsSync(join(out, 'checkpoint.snnc'))).toBe(true);
    expect(existsSync(join(out, 'result.json'))).toBe(false);
    const resumed = await cli(...args, '--resume', '--json');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toContain('resumed after epoch 1');
    expect(JSON.parse(resumed.out).epochs).toHaveLength(3);
  });

  it('train --words learns a subset of the words; eval scores the model on its own words', async () => {
    const out = join(dir, 'run-two-words');
    const r = await cli('train', '--model', 'tcy', '--words', 'yes,no', '--epochs', '1', '--batch-size', '4', '--data', data, '--out', out, '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).test.samples).toBe(2);
    const e = await cli('eval', join(out, 'model.snn'), '--data', data, '--json');
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out)).toMatchObject({ classes: ['no', 'yes'], samples: 2 });
  });

  it('eval prints accuracy, activity and the confusion matrix', async () => {
    const r = await cli('eval', modelFile, '--data', data, '--split', 'validation', '--confusion');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/top-1\s+\d+\.\d%/);
    expect(r.out).toContain('energy pJ / sample');
    expect(r.out).toMatch(/true \\ predicted\s+no\s+up\s+yes/);
    const j = await cli('eval', modelFile, '--data', data, '--json');
    expect(j.code, j.err).toBe(0);
    const parsed = JSON.parse(j.out);
    expect(parsed.samples).toBe(3);
    expect(parsed.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3);
    // All three splits at once: every clip of the folder, each counted once.
    const sizes: { samples: number; top1: number }[] = [];
    for (const split of ['train', 'validation', 'test']) sizes.push(JSON.parse((await cli('eval', modelFile, '--data', data, '--split', split, '--json')).out));
    const all = await cli('eval', modelFile, '--data', data, '--split', 'all');
    expect(all.code, all.err).toBe(0);
    const total = sizes.reduce((n, s) => n + s.samples, 0);
    expect(all.out).toContain(`on all three splits (${total} samples, 3 words)`);
    const right = sizes.reduce((n, s) => n + Math.round(s.top1 * s.samples), 0);
    expect(JSON.parse((await cli('eval', modelFile, '--data', data, '--split', 'all', '--json')).out)).toMatchObject({ split: 'all', samples: total, top1: right / total });
  });

  it('infer ranks the words of each WAV, reports a bad file by name and still does the rest', async () => {
    const good = join(data, 'yes', 'speaker0_nohash_0.wav');
    const bad = join(dir, 'broken.wav');
    writeFileSync(bad, 'RIFF not really a wav');
    const r = await cli('infer', '--model', modelFile, '--top', '2', bad, good);
    expect(r.code).toBe(1);
    expect(r.err).toContain('broken.wav');
    expect(r.out).toContain(good);
    expect(r.out).toMatch(/rank\s+word\s+probability/);
    const j = await cli('infer', '--model', modelFile, '--json', good);
    expect(j.code, j.err).toBe(0);
    const [only] = JSON.parse(j.out);
    expect(only.predictions).toHaveLength(3);
    const sum = only.predictions.reduce((a: number, p: { probability: number }) => a + p.probability, 0);
    expect(sum).toBeCloseTo(1, 5);
  });

  it('a model shipped in the package is named on the command line, and a wrong name says which exist', async () => {
    const clip = join('samples', 'real-speech', 'yes', readdirSync(join('samples', 'real-speech', 'yes'))[0]);
    const byName = await cli('infer', '--model', 'kws-cnn', '--json', clip);
    expect(byName.code, byName.err).toBe(0);
    const byPath = await cli('infer', '--model', join('pretrained', 'kws-cnn.snn'), '--json', clip);
    expect(JSON.parse(byName.out)).toEqual(JSON.parse(byPath.out));
    const wrong = await cli('eval', 'kws-nope', '--data', data);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain('"kws-nope" does not exist, and it is not a model shipped in the package (kws-cnn, kws-snn)');
  });

  it('sweep runs a two-run grid, writes the report, and skips finished runs when run again', async () => {
    const out = join(dir, 'sweep');
    const args = ['sweep', '--models', 'tcy', '--steps', '2', '--learn-beta', 'off', '--epochs', '1', '--batch-size', '4', '--data', data, '--out', out, '--json'];
    const first = await cli(...args);
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out).trained).toEqual(['tcy-cnn', 'tcy-snn-t2']);
    for (const f of ['results.json', 'report.md', 'accuracy-tcy.svg', 'cost-time.svg', 'tcy-cnn/result.json', 'tcy-snn-t2/model.snn'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('tcy SNN T=2');
    const again = await cli(...args);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ trained: [], skipped: ['tcy-cnn', 'tcy-snn-t2'] });
    expect(again.err).toMatch(/finished before, skipped/);
    // A run stopped before writing its result picks up its checkpoint instead of starting over.
    rmSync(join(out, 'tcy-snn-t2', 'result.json'));
    const resumed = await cli(...args);
    expect(resumed.code, resumed.err).toBe(0);
    expect(JSON.parse(resumed.out)).toMatchObject({ trained: ['tcy-snn-t2'], skipped: ['tcy-cnn'] });
    expect(resumed.err).toContain('tcy-snn-t2: resumed after epoch 1');
    expect(JSON.parse(resumed.out).results[1].epochs).toHaveLength(1);
  });

  it('demo trains the CNN and its SNN twin, prints the comparison and writes the report', async () => {
    const out = join(dir, 'demo');
    const r = await cli('demo', '--model', 'tcy', '--steps', '2', '--epochs', '1', '--batch-size', '4', '--words', 'all', '--data', data, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/tcy CNN\s/);
    expect(r.out).toMatch(/tcy SNN T=2\s/);
    expect(r.out).toContain('chance is 33.3%');
    for (const f of ['report.md', 'results.json', 'accuracy-tcy.svg', 'cost-time.svg', 'tcy-cnn/model.snn', 'tcy-snn-t2/model.snn'])
      expect(existsSync(join(out, f)), f).toBe(true);
  });
});
