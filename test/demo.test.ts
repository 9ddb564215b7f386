// The demo's runs (cli/demo.ts): the CNN with its model's recipe, the CNN fine-tuned with QCFS
// activations, the SNN converted from that without training (or, with --quantize 0, converted from the
// CNN by ECC and fine-tuned by BPTT), on a tiny Speech Commands tree.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DEFAULTS, type DemoFlags, demoData, demoRuns, demoTeaching } from '../src/cli/demo.js';
import { recipeFor } from '../src/cli/recipe.js';
import { RUN_DEFAULTS, RUN_MODEL_DEFAULTS } from '../src/cli/run.js';
import { cli, writeTree } from './cli-helpers.js';

describe('demo', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'snn-voice-demo-'));
    writeTree(join(dir, 'speech'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("defaults to TC-ResNet8's recipe for the CNN and a short QCFS fine-tuning before conversion", () => {
    expect(DEMO_DEFAULTS).toMatchObject({ model: 'tcresnet8', epochs: recipeFor('tcresnet8').epochs, lr: recipeFor('tcresnet8').lr, steps: 8, convertedSteps: 32 });
    expect(DEMO_DEFAULTS).toMatchObject({ quantizeEpochs: 20, quantizeLr: 0.003, fineTuneEpochs: { qcfs: 0, ecc: 16 }, fineTuneLr: 0.001 });
    expect(DEMO_DEFAULTS).toMatchObject({ keep: 'last' });
  });

  it("takes each model's recipe on the built-in set, as train does, and a flag over each", () => {
    const flags = (o: Partial<DemoFlags>) => ({ model: 'tcresnet8', ...o }) as DemoFlags;
    expect(demoData(flags({}))).toEqual({ features: 'mfcc', augment: 'full', augmentColour: 0.8, augmentWarp: 0.1 });
    // A study model's recipe leaves all four: the architecture's features and the loader's augmentation.
    expect(demoData(flags({ model: 'tcy' }))).toEqual({ features: 'default', augment: undefined, augmentColour: undefined, augmentWarp: undefined });
    expect(demoData(flags({ model: 'bcresnet' }))).toEqual({ features: 'default', augment: 'spec', augmentColour: undefined, augmentWarp: undefined });
    // Colour and warp change the waveform copies, which --augment spec does not make.
    expect(demoData(flags({ augment: 'spec' }))).toEqual({ features: 'mfcc', augment: 'spec', augmentColour: undefined, augmentWarp: undefined });
    expect(demoData(flags({ augmentCopies: 0 }))).toEqual({ features: 'mfcc', augment: 'full', augmentColour: undefined, augmentWarp: undefined });
    expect(demoData(flags({ features: 'default', augmentWarp: 0.2 }))).toEqual({ features: 'default', augment: 'full', augmentColour: 0.8, augmentWarp: 0.2 });
    expect(demoData(flags({ data: 'speech' }))).toEqual({ features: 'default', augment: undefined, augmentColour: undefined, augmentWarp: undefined });
  });

  it('quantises at --steps levels and converts without training by default, or converts by ECC and fine-tunes with --quantize 0', () => {
    const base = { model: 'hjh' as const, ...RUN_MODEL_DEFAULTS, neuron: RUN_DEFAULTS.neuron, epochs: 3, batchSize: 4, lr: 0.01, pctStart: 0.2, seed: 0 };
    const flags = (o: Partial<DemoFlags>) => ({ model: 'hjh', steps: 4, epochs: 3, quantizeEpochs: 2, out: 'o', ...o }) as DemoFlags;
    const [cnn, qcfs, snn, ...more] = demoRuns(flags({}), base);
    expect(more).toEqual([]);
    expect(cnn).toMatchObject({ id: 'hjh-cnn', spec: { spiking: false, quantize: 0, epochs: 3 } });
    expect(qcfs).toMatchObject({ id: 'hjh-cnn-q4', spec: { spiking: false, quantize: 4, epochs: 2, lr: 0.003, initFrom: join('o', 'hjh-cnn', 'model.snn') } });
    expect(snn).toMatchObject({ id: 'hjh-snn-t4', spec: { spiking: true, steps: 4, signed: true, epochs: 0, fromCnn: join('o', 'hjh-cnn-q4', 'model.snn') } });
    expect(demoRuns(flags({ quantize: 8, fineTuneEpochs: 3 }), base)[2]).toMatchObject({ spec: { epochs: 3, fromCnn: join('o', 'hjh-cnn-q8', 'model.snn') } });
    const ecc = demoRuns(flags({ quantize: 0 }), base);
    expect(ecc.map((r) => r.id)).toEqual(['hjh-cnn', 'hjh-snn-t4']);
    expect(ecc[1]).toMatchObject({ spec: { signed: false, epochs: 16, lr: 0.001, fromCnn: join('o', 'hjh-cnn', 'model.snn') } });
    expect(ecc[1].doing).toBe('converting hjh-cnn to hjh-snn-t4 (ecc) and fine-tuning it for 16 epochs at peak lr 0.001');
    // Tcy has no activations to quantise: ECC unless --quantize asks (and then its run refuses it).
    expect(demoRuns(flags({ model: 'tcy' }), { ...base, model: 'tcy' }).map((r) => r.id)).toEqual(['tcy-cnn', 'tcy-snn-t4']);
  });

  it('with --generations trains the CNN born again, and its QCFS fine-tuning taught by the generation before the last', () => {
    const flags = (o: Partial<DemoFlags>) => ({ model: 'tcresnet8', steps: 8, epochs: 3, quantizeEpochs: 2, out: 'o', ...o }) as DemoFlags;
    const base = { model: 'tcresnet8' as const, ...RUN_MODEL_DEFAULTS, neuron: RUN_DEFAULTS.neuron, epochs: 3, batchSize: 4, lr: 0.01, pctStart: 0.4, seed: 0 };
    const [cnn, qcfs, snn] = demoRuns(flags({ generations: 2 }), base);
    expect(cnn).toMatchObject({ generations: 2, doing: 'training tcresnet8-cnn for 3 epochs in 2 generations, each after the first taught by the one before' });
    expect(qcfs).toMatchObject({ generations: 1, spec: { initFrom: join('o', 'tcresnet8-cnn', 'model.snn'), teachers: [join('o', 'tcresnet8-cnn', 'generation-1', 'model.snn')], distillAlpha: 0.5, distillTemperature: 2 } });
    expect(qcfs.doing).toBe('fine-tuning tcresnet8-cnn with QCFS activations of 8 levels for 2 epochs, taught by its generation 1');
    expect(snn.spec.teachers).toBeUndefined();
    // One generation, the default: nothing teaches the fine-tuning.
    expect(demoRuns(flags({}), base)[0].generations).toBe(1);
    expect(demoRuns(flags({}), base)[1].spec.teachers).toBeUndefined();
  });

  it("trains TC-ResNet8's CNN on the built-in set as train's recipe does, three generations, and any flag overrides it", () => {
    const flags = (o: Partial<DemoFlags>) => ({ model: 'tcresnet8', ...o }) as DemoFlags;
    expect(demoTeaching(flags({}))).toEqual({ width: 1.25, generations: 3, teacherWidth: 1 });
    expect(demoTeaching(flags({ width: 1 }))).toEqual({ width: 1, generations: 3, teacherWidth: 1 });
    expect(demoTeaching(flags({ generations: 2 }))).toEqual({ width: 1.25, generations: 2, teacherWidth: 1 });
    // One generation has no teacher to give a width to.
    expect(demoTeaching(flags({ generations: 1 }))).toEqual({ width: 1.25, generations: 1 });
    expect(demoTeaching(flags({ generations: 3, teacherWidth: 0.5 }))).toEqual({ width: 1.25, generations: 3, teacherWidth: 0.5 });
    // Real training data and the other models keep one generation at width 1: the pair was measured on neither.
    expect(demoTeaching(flags({ data: 'speech' }))).toEqual({ width: 1, generations: 1 });
    expect(demoTeaching(flags({ model: 'hjh' }))).toEqual({ width: 1, generations: 1 });
    expect(demoTeaching(flags({ model: 'bcresnet', generations: 2 }))).toEqual({ width: 1, generations: 2 });
  });

  it('refuses --teacher-width without --generations before it trains', async () => {
    const r = await cli('demo', '--teacher-width', '0.5', '--data', join(dir, 'speech'), '--out', join(dir, 'refused'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--teacher-width is the width of the generations before the last: add --generations');
    expect(existsSync(join(dir, 'refused'))).toBe(false);
  });

  it('fine-tunes its CNN with QCFS activations and converts that to the SNN without training', async () => {
    const out = join(dir, 'demo');
    const r = await cli('demo', '--model', 'tcresnet8', '--steps', '2', '--epochs', '2', '--quantize-epochs', '1', '--generations', '2', '--width', '0.75', '--teacher-width', '0.5', '--batch-size', '4', '--words', 'all', '--data', join(dir, 'speech'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('fine-tuning tcresnet8-cnn with QCFS activations of 2 levels for 1 epochs');
    expect(r.err).toContain('converting tcresnet8-cnn-q2 to tcresnet8-snn-t2 (qcfs, signed neurons) without training');
    const result = (id: string) => JSON.parse(readFileSync(join(out, id, 'result.json'), 'utf8'));
    const cnn = result('tcresnet8-cnn');
    const qcfs = result('tcresnet8-cnn-q2');
    const snn = result('tcresnet8-snn-t2');
    expect(cnn.epochs).toHaveLength(2);
    expect(cnn.spec).toMatchObject({ spiking: false, lr: 0.01, pctStart: recipeFor('tcresnet8').pctStart, keep: 'last' });
    // Each run ends with its last epoch's weights, which the test split scored.
    expect(cnn.bestEpoch).toBe(2);
    expect(qcfs.epochs).toHaveLength(1);
    expect(qcfs).toMatchObject({ quantize: 2, spec: { quantize: 2, lr: 0.003, initFrom: join(out, 'tcresnet8-cnn', 'model.snn') } });
    // The CNN's second generation was taught by its first, which teaches the QCFS fine-tuning too.
    const teacher = join(out, 'tcresnet8-cnn', 'generation-1', 'model.snn');
    expect(existsSync(teacher)).toBe(true);
    expect(cnn.spec.teachers).toEqual([teacher]);
    expect(qcfs.spec.teachers).toEqual([teacher]);
    // The teacher at --teacher-width; the CNN, its QCFS fine-tuning and the SNN at --width.
    expect(result(join('tcresnet8-cnn', 'generation-1')).spec.width).toBe(0.5);
    expect([cnn, qcfs, snn].map((x) => x.spec.width)).toEqual([0.75, 0.75, 0.75]);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('0.75 (generations before the last: 0.5)');
    // The teacher's own scores, under the table and in the report, to hold the taught CNN's against.
    const taughtBy = result(join('tcresnet8-cnn', 'generation-1'));
    const line = `tcresnet8 CNN generation 1 of 2 (${taughtBy.parameters.toLocaleString('en')} parameters, teacher of generation 2): test ${(100 * taughtBy.test.top1).toFixed(1)}%`;
    expect(r.out).toContain(line);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain(line);
    // Scored as converted: no epochs, and the table says so rather than showing a time or memory of 0.
    expect(snn.epochs).toEqual([]);
    expect(snn.spec).toMatchObject({ spiking: true, steps: 2, signed: true, epochs: 0, fromCnn: join(out, 'tcresnet8-cnn-q2', 'model.snn') });
    expect(r.out).toMatch(/^tcresnet8 CNN QCFS L=2 +1\/1 /m);
    expect(r.out).toMatch(/^tcresnet8 SNN T=2 +-\/0 +- +\d+\.\d% +\d+\.\d% +- +- +- +\d+ /m);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('then converting tcresnet8-cnn-q2 to tcresnet8-snn-t2 (qcfs, signed neurons) without training');
    expect([cnn.spec.features, snn.spec.features]).toEqual(['default', 'default']);
    // Beside the runs, the CNN converted without training at T = 32 and scored on the test split.
    expect(r.err).toContain('converting the CNN at T=32 without training');
    expect(r.out).toMatch(/^tcresnet8 SNN T=32 converted without training \(ecc\), test: \d+\.\d% \(CNN \d+\.\d%\)$/m);
    const [sweep] = JSON.parse(readFileSync(join(out, 'conversions.json'), 'utf8'));
    expect(sweep).toMatchObject({ model: 'tcresnet8', split: 'test', points: [{ method: 'ecc', steps: 32 }] });
    // The CNN's top-1 there is the CNN run's own on the test split.
    expect(sweep.cnn.top1).toBeCloseTo(cnn.test.top1, 6);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## 5. Conversion of the trained CNN');
  });

  it('trains both runs on the features --features names', async () => {
    const out = join(dir, 'demo-mfcc');
    const r = await cli('demo', '--model', 'tcy', '--features', 'mfcc', '--steps', '2', '--epochs', '1', '--fine-tune-epochs', '1', '--converted-steps', '0', '--batch-size', '4', '--words', 'all', '--data', join(dir, 'speech'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('converting tcy-cnn to tcy-snn-t2 (ecc) and fine-tuning it for 1 epochs at peak lr 0.001');
    expect(JSON.parse(readFileSync(join(out, 'tcy-snn-t2', 'result.json'), 'utf8')).epochs).toHaveLength(1);
    expect(r.out).not.toContain('converted without training');
    expect(existsSync(join(out, 'conversions.json'))).toBe(false);
    for (const id of ['tcy-cnn', 'tcy-snn-t2']) expect(JSON.parse(readFileSync(join(out, id, 'result.json'), 'utf8')).spec.features, id).toBe('mfcc');
  });

  it('scores the CNN converted beside the runs without the copies the flags colour and warp', async () => {
    const out = join(dir, 'demo-copies');
    const r = await cli('demo', '--model', 'tcy', '--steps', '2', '--epochs', '1', '--fine-tune-epochs', '0', '--converted-steps', '2', '--augment', 'full', '--augment-colour', '0.5', '--augment-warp', '0.1', '--batch-size', '4', '--words', 'all', '--data', join(dir, 'speech'), '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^tcy SNN T=2 converted without training \(ecc\), test: \d+\.\d% \(CNN \d+\.\d%\)$/m);
  });
});
