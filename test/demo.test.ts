// The demo's two runs: the CNN with its model's recipe, then the SNN converted from that CNN and
// fine-tuned at a tenth of the rate (cli/demo.ts), on a tiny Speech Commands tree.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS, type DemoFlags, demoData } from '../src/cli/demo.js';
import { recipeFor } from '../src/cli/run.js';
import { cli, writeTree } from './cli-helpers.js';

describe('demo', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-voice-demo-'));
    writeTree(join(dir, 'speech'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults to TC-ResNet8's recipe for the CNN and a short fine-tuning of the converted SNN", () => {
    expect(DEMO_DEFAULTS).toMatchObject({ model: 'tcresnet8', epochs: recipeFor('tcresnet8').epochs, lr: recipeFor('tcresnet8').lr, steps: 8, fineTuneEpochs: 16, fineTuneLr: 0.001, convertedSteps: 32 });
    expect(DEMO_DEFAULTS).toMatchObject({ features: 'mfcc', augment: 'full', augmentColour: 0.8, augmentWarp: 0.1 });
  });

  it("takes its recipe's features and augmentation only for its own model on the built-in set, and a flag over each", () => {
    const flags = (o: Partial<DemoFlags>) => ({ model: 'tcresnet8', ...o }) as DemoFlags;
    expect(demoData(flags({}))).toEqual({ features: 'mfcc', augment: 'full', augmentColour: 0.8, augmentWarp: 0.1 });
    expect(demoData(flags({ model: 'tcy' }))).toEqual({ features: 'default', augment: 'spec', augmentColour: undefined, augmentWarp: undefined });
    // Colour and warp change the waveform copies, which --augment spec does not make.
    expect(demoData(flags({ augment: 'spec' }))).toEqual({ features: 'mfcc', augment: 'spec', augmentColour: undefined, augmentWarp: undefined });
    expect(demoData(flags({ features: 'default', augmentWarp: 0.2 }))).toEqual({ features: 'default', augment: 'full', augmentColour: 0.8, augmentWarp: 0.2 });
    expect(demoData(flags({ data: 'speech' }))).toEqual({ features: 'default', augment: undefined, augmentColour: undefined, augmentWarp: undefined });
  });

  it('converts its CNN to the SNN and fine-tunes that for --fine-tune-epochs', async () => {
    const out = join(dir, 'demo');
    const r = await cli('demo', '--model', 'tcy', '--steps', '2', '--epochs', '2', '--fine-tune-epochs', '1', '--batch-size', '4', '--words', 'all', '--data', join(dir, 'speech'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('converting tcy-cnn and fine-tuning tcy-snn-t2 for 1 epochs');
    const result = (id: string) => JSON.parse(readFileSync(join(out, id, 'result.json'), 'utf8'));
    const cnn = result('tcy-cnn');
    const snn = result('tcy-snn-t2');
    expect(cnn.epochs).toHaveLength(2);
    expect(cnn.spec).toMatchObject({ spiking: false, lr: 0.01, pctStart: recipeFor('tcy').pctStart });
    expect(snn.epochs).toHaveLength(1);
    expect(snn.spec).toMatchObject({ spiking: true, steps: 2, lr: 0.001, fromCnn: join(out, 'tcy-cnn', 'model.snn') });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('SNN: converted from the CNN, fine-tuned 1 at peak lr 0.001');
    expect([cnn.spec.features, snn.spec.features]).toEqual(['default', 'default']);
    // Beside the runs, the CNN converted without training at T = 32 and scored on the test split.
    expect(r.err).toContain('converting the CNN at T=32 without training');
    expect(r.out).toMatch(/^tcy SNN T=32 converted without training \(ecc\), test: \d+\.\d% \(CNN \d+\.\d%\)$/m);
    const [sweep] = JSON.parse(readFileSync(join(out, 'conversions.json'), 'utf8'));
    expect(sweep).toMatchObject({ model: 'tcy', split: 'test', points: [{ method: 'ecc', steps: 32 }] });
    // The CNN's top-1 there is the CNN run's own on the test split.
    expect(sweep.cnn.top1).toBeCloseTo(cnn.test.top1, 6);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## 5. Conversion of the trained CNN');
  });

  it('trains both runs on the features --features names', async () => {
    const out = join(dir, 'demo-mfcc');
    const r = await cli('demo', '--model', 'tcy', '--features', 'mfcc', '--steps', '2', '--epochs', '1', '--fine-tune-epochs', '1', '--converted-steps', '0', '--batch-size', '4', '--words', 'all', '--data', join(dir, 'speech'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('converted without training');
    expect(existsSync(join(out, 'conversions.json'))).toBe(false);
    for (const id of ['tcy-cnn', 'tcy-snn-t2']) expect(JSON.parse(readFileSync(join(out, id, 'result.json'), 'utf8')).spec.features, id).toBe('mfcc');
  });
});
