// The per-model training recipe (cli/recipe.ts): what `train` uses where no flag says, and how its help
// states it. The study's four models keep the study's schedule; TC-ResNet8 trains long enough to converge.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interrupt } from '../src/cli/interrupt.js';
import type { CliIo } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { builtinChoices, builtinHelp, recipeFor, recipeHelp, studySchedule, teacherHelp, teachingChoices, teachingHelp } from '../src/cli/recipe.js';
import { snnTeaching, trainTeaching } from '../src/cli/train.js';
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
    expect(recipeFor('tcresnet8')).toEqual({
      epochs: 40, lr: 0.01, pctStart: 0.4, patience: Infinity,
      builtin: {
        features: 'mfcc', augment: 'full', augmentColour: 0.8, augmentWarp: 0.1, keep: 'last',
        teaching: { generations: 3, width: 1.25, teacherWidth: 1 }, taughtSnn: { width: 1.25 },
      },
    });
    expect(studySchedule('tcresnet8')).toEqual({ lr: 0.01, pctStart: 0.4 });
    // A copy: changing it changes no later run's defaults.
    recipeFor('tcresnet8').epochs = 1;
    recipeFor('tcresnet8').builtin!.augmentColour = 0;
    recipeFor('tcresnet8').builtin!.teaching!.generations = 1;
    expect(recipeFor('tcresnet8')).toMatchObject({ epochs: 40, builtin: { augmentColour: 0.8, teaching: { generations: 3 } } });
  });

  it("fills a built-in run's choices from the recipe, each flag over it, colour and warp only with copies", () => {
    expect(builtinChoices('tcresnet8', {})).toEqual({ features: 'mfcc', augment: 'full', augmentColour: 0.8, augmentWarp: 0.1, keep: 'last' });
    expect(builtinChoices('tcresnet8', { features: 'default', augmentWarp: 0.2, keep: 'best' })).toEqual({ features: 'default', augment: 'full', augmentColour: 0.8, augmentWarp: 0.2, keep: 'best' });
    // SpecAugment alone makes no waveform copies to colour or warp.
    expect(builtinChoices('tcresnet8', { augment: 'spec' })).toEqual({ features: 'mfcc', augment: 'spec', augmentColour: undefined, augmentWarp: undefined, keep: 'last' });
    expect(builtinChoices('tcresnet8', { augmentCopies: 0 })).toMatchObject({ augment: 'full', augmentColour: undefined, augmentWarp: undefined });
    expect(builtinChoices('tcresnet8', { augment: 'wave', augmentColour: 0.5 })).toMatchObject({ augment: 'wave', augmentColour: 0.5, augmentWarp: 0.1 });
    expect(builtinChoices('m5', {})).toEqual({ features: undefined, augment: undefined, augmentColour: undefined, augmentWarp: undefined, keep: undefined });
    expect(builtinChoices('bcresnet', {})).toMatchObject({ augment: 'spec', augmentColour: undefined });
    expect(builtinHelp('augmentColour', '0')).toBe('0; 0.8 for tcresnet8');
    expect(builtinHelp('augment', 'full')).toBe('full; spec for bcresnet');
  });

  it("trains TC-ResNet8's CNN on the built-in set three times, the last at width 1.25, and any flag overrides it", () => {
    const recipe = recipeFor('tcresnet8').builtin!.teaching;
    expect(teachingChoices({}, recipe)).toEqual({ generations: 3, width: 1.25, teacherWidth: 1 });
    expect(teachingChoices({ width: 1 }, recipe)).toEqual({ generations: 3, width: 1, teacherWidth: 1 });
    expect(teachingChoices({ generations: 2, teacherWidth: 0.5 }, recipe)).toEqual({ generations: 2, width: 1.25, teacherWidth: 0.5 });
    // One generation has no teacher to give a width to.
    expect(teachingChoices({ generations: 1 }, recipe)).toEqual({ generations: 1, width: 1.25 });
    // No recipe: once, at the settings' width.
    expect(teachingChoices({}, undefined)).toEqual({ generations: 1, width: 1 });
    expect(teachingChoices({ generations: 2, width: 0.75 })).toEqual({ generations: 2, width: 0.75 });
    expect(recipeFor('bcresnet').builtin!.teaching).toBeUndefined();
    expect(teachingHelp('generations', '1')).toBe("1; 3 for tcresnet8's CNN on the built-in set");
    expect(teachingHelp('teacherWidth', '--width')).toBe("--width; 1 for tcresnet8's CNN on the built-in set");
  });

  it('takes the generations only for a CNN trained on the built-in set from scratch and untaught, where they were measured', () => {
    const fresh = { builtin: true, spiking: false };
    expect(trainTeaching('tcresnet8', fresh, {})).toEqual({ generations: 3, width: 1.25, teacherWidth: 1 });
    expect(trainTeaching('tcresnet8', fresh, { generations: 1, width: 1 })).toEqual({ generations: 1, width: 1 });
    for (const other of [{ builtin: false }, { spiking: true }, { quantize: 8 }, { origin: 'cnn.snn' }, { teachers: ['t.snn'] }]) {
      expect(trainTeaching('tcresnet8', { ...fresh, ...other }, {})).toEqual({ generations: 1, width: 1 });
    }
    // A width given (or read off --from-cnn's file) stays.
    expect(trainTeaching('tcresnet8', { ...fresh, origin: 'cnn.snn' }, { width: 1.25 })).toEqual({ generations: 1, width: 1.25 });
    expect(trainTeaching('hjh', fresh, {})).toEqual({ generations: 1, width: 1 });
  });

  it("teaches TC-ResNet8's SNN on the built-in set by its CNN's three generations, unless anything says otherwise", () => {
    const fresh = { builtin: true, spiking: true };
    expect(snnTeaching('tcresnet8', fresh, undefined)).toEqual({ cnn: { generations: 3, width: 1.25, teacherWidth: 1 }, width: 1.25 });
    // --generations (1: the SNN alone) or any other origin or teacher leaves the SNN untaught by its CNN.
    expect(snnTeaching('tcresnet8', fresh, 1)).toBeUndefined();
    for (const other of [{ builtin: false }, { spiking: false }, { quantize: 8 }, { origin: 'cnn.snn' }, { teachers: ['t.snn'] }]) {
      expect(snnTeaching('tcresnet8', { ...fresh, ...other }, undefined)).toBeUndefined();
    }
    expect(snnTeaching('m5', fresh, undefined)).toBeUndefined();
    expect(teacherHelp()).toBe("none; for tcresnet8's SNN on the built-in set, its CNN, trained first as train trains it, in <out>/generation-<g>");
  });

  it('states the defaults in the help: the common value, then the models that differ', async () => {
    expect(recipeHelp('epochs')).toBe('10; 40 for tcresnet8, bcresnet');
    expect(recipeHelp('lr')).toBe('0.01; 0.001 for piczak');
    expect(recipeHelp('pctStart')).toBe('0.2; 0.4 for piczak, tcresnet8, bcresnet');
    expect(recipeHelp('patience')).toBe('5; never for tcresnet8, bcresnet');
    const help = (await cli('train', '--help')).out.replace(/\s+/g, ' ');
    expect(help).toContain('--epochs <n> training epochs (default: 10; 40 for tcresnet8, bcresnet)');
    expect(help).toContain('(default: 0.2; 0.4 for piczak, tcresnet8, bcresnet)');
    expect(help).toContain('(default: 0; 0.8 for tcresnet8 on the built-in set; 0 with --data)');
    expect(help).toContain('(default: best; last for tcresnet8 on the built-in set; best with --data)');
    expect(help).toContain("--generations <n> born-again training");
    expect(help).toContain("(default: 1; 3 for tcresnet8's CNN on the built-in set)");
    expect(help).toContain("(default 1; 1.25 for tcresnet8's CNN and its taught SNN on the built-in set)");
    expect(help).toContain("(default: --width; 1 for tcresnet8's CNN on the built-in set)");
    const demo = (await cli('demo', '--help')).out.replace(/\s+/g, ' ');
    expect(demo).toContain("(default: 1; 3 for tcresnet8's CNN on the built-in set)");
    // sweep does not take the recipes' choices, and its help does not say it does.
    const sweep = (await cli('sweep', '--help')).out.replace(/\s+/g, ' ');
    expect(sweep).toContain('(default: 0 on the built-in set; 0 with --data)');
  });

  describe('train without schedule flags', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'snn-voice-recipe-'));
      writeTree(join(dir, 'speech'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The settings `train --model <model>` runs with, from its checkpoint after epoch 1 (a Ctrl-C as
     *  epoch 2 starts stops it there), and whether that was the first of several generations. */
    async function settingsOf(model: string, ...data: string[]): Promise<RunSettings & { bornAgain: boolean }> {
      const out = join(dir, [model, ...data].join('-').replace(/[^\w-]/g, '') + (data.includes('--data') ? '' : '-builtin'));
      const io: CliIo = {
        out: () => {},
        err: () => {},
        progress: (label) => ({ update: () => void (label.startsWith('epoch 2/') && interrupt.take()), stop() {} }),
      };
      expect(await run(['train', '--model', model, '--batch-size', '4', ...data, '--out', out], io)).toBe(130);
      // Born again, the first generation trains first, in its own folder.
      const first = join(out, 'generation-1', 'checkpoint.snnc');
      const bornAgain = existsSync(first);
      const saved = await new FileCheckpointStore(bornAgain ? first : join(out, 'checkpoint.snnc')).load();
      return { ...(saved?.meta as TrainCheckpointMeta).settings, bornAgain };
    }

    it('trains tcresnet8 40 epochs without early stopping, a study model 10 with patience 5', async () => {
      const tiny = ['--data', join(dir, 'speech')];
      const tc = await settingsOf('tcresnet8', ...tiny);
      expect(tc).toMatchObject({ epochs: 40, lr: 0.01, pctStart: 0.4, patience: null });
      // The built-in set's recipe stays there: on a --data folder the architecture's features, the best epoch.
      expect(tc.model).toMatchObject({ features: 'default', width: 1 });
      expect(tc.keep).toBeUndefined();
      expect(tc.bornAgain).toBe(false);
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

    // On the built-in set (absent until `snn-voice synth` has run), tcresnet8 trains as npm start does:
    // MFCC, the waveform copies (coloured and warped) and SpecAugment, its last epoch kept; a study
    // model takes the loader's default, both, and keeps its best epoch.
    it.skipIf(!existsSync(builtinDataDir()))('trains tcresnet8 on the built-in set by its recipe, and a flag over it', async () => {
      const few = ['--words', 'yes,no', '--limit-per-class', '2'];
      const tc = await settingsOf('tcresnet8', ...few);
      expect(tc.augment).toEqual({ spec: specAugmentFor(featuresFor('tcresnet8', 'mfcc')), copies: true });
      // Three generations: the first (at the teachers' width 1) stopped in generation-1.
      expect(tc.model).toMatchObject({ features: 'mfcc', width: 1 });
      expect(tc.keep).toBe('last');
      expect(tc.bornAgain).toBe(true);
      expect(await settingsOf('tcresnet8', ...few, '--generations', '1')).toMatchObject({ bornAgain: false, model: { width: 1.25 } });
      const flagged = await settingsOf('tcresnet8', ...few, '--features', 'default', '--augment', 'spec', '--keep', 'best');
      expect(flagged.augment).toEqual({ spec: specAugmentFor(featuresFor('tcresnet8')), copies: false });
      expect(flagged.model).toMatchObject({ features: 'default' });
      expect(flagged.keep).toBeUndefined();
      // No copies to colour: the recipe's colour and warp stay out (the loader would refuse them).
      expect((await settingsOf('tcresnet8', ...few, '--augment-copies', '0')).augment).toEqual({ spec: specAugmentFor(featuresFor('tcresnet8', 'mfcc')), copies: false });
      const tcy = await settingsOf('tcy', ...few);
      expect(tcy.augment).toMatchObject({ copies: true });
      expect(tcy.keep).toBeUndefined();
    });
  });
});
