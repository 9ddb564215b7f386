// The per-model training recipe (cli/run.ts): what `train` uses where no flag says, and how its help
// states it. The study's four models keep the study's schedule; TC-ResNet8 trains long enough to converge.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interrupt } from '../src/cli/interrupt.js';
import type { CliIo } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { recipeFor, recipeHelp, studySchedule } from '../src/cli/run.js';
import { builtinDataDir } from '../src/data/speech-commands-node.js';
import { featuresFor } from '../src/models/zoo.js';
import { specAugmentFor } from '../src/train/augment.js';
import { FileCheckpointStore } from '../src/train/checkpoint-node.js';
import type { RunSettings, TrainCheckpointMeta } from '../src/train/run.js';
import { cli, writeTree } from './cli-helpers.js';

describe('training recipe per model', () => {
  it("keeps the study's schedule for its models and gives TC-ResNet8 40 epochs with 40% warm-up, run to the end", () => {
    for (const m of ['m5', 'hjh', 'hjh-scnn', 'tcy'] as const) expect(recipeFor(m)).toEqual({ epochs: 10, lr: 0.01, pctStart: 0.2, patience: 5 });
    expect(recipeFor('piczak')).toEqual({ epochs: 10, lr: 0.001, pctStart: 0.4, patience: 5 });
    // A one-cycle run to the end: no early stop at the peak rate.
    expect(recipeFor('tcresnet8')).toEqual({ epochs: 40, lr: 0.01, pctStart: 0.4, patience: Infinity, builtinAugment: 'spec' });
    expect(studySchedule('tcresnet8')).toEqual({ lr: 0.01, pctStart: 0.4 });
    // A copy: changing it changes no later run's defaults.
    recipeFor('tcresnet8').epochs = 1;
    expect(recipeFor('tcresnet8').epochs).toBe(40);
  });

  it('states the defaults in the help: the common value, then the models that differ', async () => {
    expect(recipeHelp('epochs')).toBe('10; 40 for tcresnet8, bcresnet');
    expect(recipeHelp('lr')).toBe('0.01; 0.001 for piczak');
    expect(recipeHelp('pctStart')).toBe('0.2; 0.4 for piczak, tcresnet8, bcresnet');
    expect(recipeHelp('patience')).toBe('5; never for tcresnet8, bcresnet');
    const help = (await cli('train', '--help')).out.replace(/\s+/g, ' ');
    expect(help).toContain('--epochs <n> training epochs (default: 10; 40 for tcresnet8, bcresnet)');
    expect(help).toContain('(default: 0.2; 0.4 for piczak, tcresnet8, bcresnet)');
  });

  describe('train without schedule flags', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'snn-voice-recipe-'));
      writeTree(join(dir, 'speech'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The settings `train --model <model>` runs with, from its checkpoint after epoch 1 (a Ctrl-C as
     *  epoch 2 starts stops it there). */
    async function settingsOf(model: string, ...data: string[]): Promise<RunSettings> {
      const out = join(dir, [model, ...data].join('-').replace(/[^\w-]/g, '') + (data.includes('--data') ? '' : '-builtin'));
      const io: CliIo = {
        out: () => {},
        err: () => {},
        progress: (label) => ({ update: () => void (label.startsWith('epoch 2/') && interrupt.take()), stop() {} }),
      };
      expect(await run(['train', '--model', model, '--batch-size', '4', ...data, '--out', out], io)).toBe(130);
      const saved = await new FileCheckpointStore(join(out, 'checkpoint.snnc')).load();
      return (saved?.meta as TrainCheckpointMeta).settings;
    }

    it('trains tcresnet8 40 epochs without early stopping, a study model 10 with patience 5', async () => {
      const tiny = ['--data', join(dir, 'speech')];
      expect(await settingsOf('tcresnet8', ...tiny)).toMatchObject({ epochs: 40, lr: 0.01, pctStart: 0.4, patience: null });
      expect(await settingsOf('tcy', ...tiny)).toMatchObject({ epochs: 10, lr: 0.01, pctStart: 0.2, patience: 5 });
    });

    it('takes --patience n or never in place of the recipe\'s', async () => {
      const tiny = ['--data', join(dir, 'speech')];
      expect(await settingsOf('tcy', ...tiny, '--patience', 'never')).toMatchObject({ patience: null });
      expect(await settingsOf('tcresnet8', ...tiny, '--patience', '3')).toMatchObject({ patience: 3 });
      const bad = await cli('train', '--model', 'tcy', '--patience', '0', ...tiny);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('--patience must be a positive integer, got "0"');
    });

    // On the built-in set (absent until `snn-voice synth` has run), tcresnet8 takes SpecAugment without
    // the waveform copies; a study model the loader's default, both.
    it.skipIf(!existsSync(builtinDataDir()))('augments tcresnet8 on the built-in set with shift and masks only', async () => {
      const few = ['--words', 'yes,no', '--limit-per-class', '2'];
      expect((await settingsOf('tcresnet8', ...few)).augment).toEqual({ spec: specAugmentFor(featuresFor('tcresnet8')), copies: false });
      expect((await settingsOf('tcy', ...few)).augment).toMatchObject({ copies: true });
    });
  });
});
