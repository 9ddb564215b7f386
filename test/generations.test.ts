// Born-again training (`train --generations`, cli/generations.ts): each generation after the first
// trains afresh, from its own seed, taught by the one before; the folders are claimed before anything
// trains, and a stopped run resumes where it stopped.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadData } from '../src/cli/data.js';
import { generationFolder, generationSeed, taughtByTwin, trainGenerations } from '../src/cli/generations.js';
import { interrupt } from '../src/cli/interrupt.js';
import type { CliIo } from '../src/cli/io.js';
import { run } from '../src/cli/main.js';
import { RUN_MODEL_DEFAULTS, type RunSpec, cnnTwin } from '../src/cli/run.js';
import { featuresFor } from '../src/models/zoo.js';
import { silentProgress } from '../src/util/progress.js';
import { loadModel } from '../src/node.js';
import { cli, tinyTreeSuite } from './cli-helpers.js';

const result = (dir: string) => JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));

async function weights(file: string): Promise<number[][]> {
  const { model } = await loadModel(file);
  try {
    return model.parameters().map((p) => Array.from(p.value.toArray()));
  } finally {
    model.dispose();
  }
}

describe('generationSeed and generationFolder', () => {
  it("keep the run's seed and folder for the first generation and give each later one its own", () => {
    expect(generationSeed(7, 1)).toBe(7);
    const seen = new Set<number>();
    for (let seed = 0; seed < 100; seed++)
      for (let g = 1; g <= 3; g++) {
        const s = generationSeed(seed, g);
        expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
        seen.add(s);
      }
    // No generation of one seed replays another seed's first generation, nor another's later ones.
    expect(seen.size).toBe(300);
    expect(generationFolder('runs/x', 2, 2)).toBe('runs/x');
    expect(generationFolder('runs/x', 1, 2)).toBe(join('runs/x', 'generation-1'));
  });
});

describe('train --generations', () => {
  const tree = tinyTreeSuite('snn-voice-generations-');
  const args = () => ['train', '--model', 'tcy', '--epochs', '2', '--batch-size', '4', '--data', tree.data, '--seed', '3'];

  it('trains the second generation taught by the first, from a seed of its own, and keeps the first beside it', async () => {
    const out = join(tree.dir, 'two');
    const r = await cli(...args(), '--generations', '2', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`generation 1 of 2 (seed 3) -> ${join(out, 'generation-1')}`);
    expect(r.err).toContain(`generation 2 of 2, taught by generation 1 (seed ${generationSeed(3, 2)}) -> ${out}`);
    const first = result(join(out, 'generation-1'));
    expect(first.spec.seed).toBe(3);
    expect(first.spec.teachers).toBeUndefined();
    const last = result(out);
    expect(last.spec).toMatchObject({ seed: generationSeed(3, 2), teachers: [join(out, 'generation-1', 'model.snn')], distillAlpha: 0.5, distillTemperature: 2 });
    expect(existsSync(join(out, 'model.snn'))).toBe(true);
    // Under the table, the teacher's own score, to hold the taught generation's against.
    expect(r.out).toContain(`tcy CNN generation 1 of 2 (${first.parameters.toLocaleString('en')} parameters, teacher of generation 2): test ${(100 * first.test.top1).toFixed(1)}%`);
    // The same run again is refused before it trains: the first generation's folder holds a finished run.
    const again = await cli(...args(), '--generations', '2', '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`${join(out, 'generation-1')} holds a finished run`);
    expect(result(out).spec.seed).toBe(generationSeed(3, 2));
  });

  it('trains the generations before the last at --teacher-width, and refuses it without generations', async () => {
    const out = join(tree.dir, 'widths');
    const wide = ['train', '--model', 'tcresnet8', '--epochs', '1', '--batch-size', '4', '--data', tree.data, '--width', '0.75'];
    const r = await cli(...wide, '--generations', '2', '--teacher-width', '0.5', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(result(join(out, 'generation-1')).spec.width).toBe(0.5);
    expect(result(out).spec.width).toBe(0.75);
    expect(result(join(out, 'generation-1')).parameters).toBeLessThan(result(out).parameters);
    const alone = await cli(...wide, '--teacher-width', '0.5', '--out', join(tree.dir, 'widths-alone'));
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('--teacher-width is the width of the generations before the last: add --generations');
  });

  it('refuses --teacher beside more than one generation, and more generations than measured', async () => {
    const teacher = join(tree.dir, 'two', 'generation-1', 'model.snn');
    const taught = await cli(...args(), '--generations', '2', '--teacher', teacher, '--out', join(tree.dir, 'taught'));
    expect(taught.code).toBe(2);
    expect(taught.err).toContain('--generations and --teacher: each generation after the first is taught by the one before; give one');
    const many = await cli(...args(), '--generations', '6', '--out', join(tree.dir, 'many'));
    expect(many.code).toBe(2);
    expect(many.err).toContain('--generations must be at most 5, got 6');
    expect(existsSync(join(tree.dir, 'taught'))).toBe(false);
  });

  it('resumes a run stopped in its second generation without training the first again', async () => {
    const out = join(tree.dir, 'stopped');
    const none = await cli(...args(), '--generations', '2', '--resume', '--out', out);
    expect(none.code).toBe(2);
    expect(none.err).toContain('holds no checkpoint to resume');
    // Ctrl-C as the second generation's second epoch starts.
    let epochTwos = 0;
    const io: CliIo = {
      out: () => {},
      err: () => {},
      progress: (label) => {
        const stop = label.startsWith('epoch 2/') && ++epochTwos === 2;
        return { update: () => void (stop && interrupt.take()), stop() {} };
      },
    };
    expect(await run([...args(), '--generations', '2', '--out', out], io)).toBe(130);
    const first = result(join(out, 'generation-1'));
    expect(existsSync(join(out, 'result.json'))).toBe(false);
    const resumed = await cli(...args(), '--generations', '2', '--resume', '--out', out);
    expect(resumed.code, resumed.err).toBe(0);
    // The first generation is read back from its finished checkpoint, the second goes on after its epoch 1.
    expect(resumed.err).toContain('tcy-cnn generation 1: resumed after epoch 2');
    expect(resumed.err).toContain('tcy-cnn: resumed after epoch 1');
    expect(result(join(out, 'generation-1')).test).toEqual(first.test);
    expect(result(out).epochs).toHaveLength(2);
    // Uninterrupted, the same run ends with the same model.
    const whole = join(tree.dir, 'whole');
    expect((await cli(...args(), '--generations', '2', '--out', whole)).code).toBe(0);
    expect(await weights(join(out, 'model.snn'))).toEqual(await weights(join(whole, 'model.snn')));
    expect(result(out).test).toEqual(result(whole).test);
  });
});

describe('an SNN taught by its CNN twin (train --spiking on the built-in set)', () => {
  const tree = tinyTreeSuite('snn-voice-twin-');
  const snn: RunSpec = {
    model: 'tcresnet8', ...RUN_MODEL_DEFAULTS, spiking: true, steps: 2, learnBeta: true, surrogate: 'fast-sigmoid', width: 0.5,
    neuron: 'current', epochs: 1, batchSize: 4, lr: 0.01, pctStart: 0.2, seed: 3,
  };

  it('makes the twin a CNN with the SNN-only settings back at their defaults, and the rest the run\'s', () => {
    const twin = cnnTwin(snn);
    expect(twin).toMatchObject({ spiking: false, steps: RUN_MODEL_DEFAULTS.steps, learnBeta: false, width: 0.5, epochs: 1, lr: 0.01, seed: 3 });
    expect(twin.surrogate).toBeUndefined();
    const specs = taughtByTwin(snn, { generations: 2, width: 0.75, teacherWidth: 0.25 });
    expect(specs.map((s) => [s.spiking, s.width])).toEqual([[false, 0.25], [false, 0.75], [true, 0.5]]);
    expect(specs[2]).toBe(snn);
  });

  it('trains the CNN generations first, then the SNN taught by the last of them', async () => {
    const features = featuresFor('tcresnet8');
    let err = '';
    const io: CliIo = { out: () => {}, err: (t) => void (err += t), progress: silentProgress };
    const data = await loadData(io, { data: tree.data, augment: 'none' }, features);
    const out = join(tree.dir, 'twin');
    const specs = taughtByTwin(snn, { generations: 2, width: 0.75, teacherWidth: 0.25 });
    const { result: last, earlier } = await trainGenerations(io, 'tcresnet8-snn-t2', specs, data, features, out, 'fresh');
    expect(err).toContain(`generation 1 of 3, CNN (seed 3) -> ${join(out, 'generation-1')}`);
    expect(err).toContain(`generation 3 of 3, taught by generation 2 (seed ${generationSeed(3, 3)}) -> ${out}`);
    expect(earlier.map((r) => r.spiking)).toEqual([false, false]);
    expect([1, 2].map((g) => result(join(out, `generation-${g}`)).spec.width)).toEqual([0.25, 0.75]);
    expect(result(join(out, 'generation-2')).spec.teachers).toEqual([join(out, 'generation-1', 'model.snn')]);
    expect([last.spiking, last.steps]).toEqual([true, 2]);
    expect(result(out).spec).toMatchObject({ spiking: true, steps: 2, seed: generationSeed(3, 3), teachers: [join(out, 'generation-2', 'model.snn')] });
    const { model } = await loadModel(join(out, 'model.snn'));
    try {
      expect([model.spiking, model.steps]).toEqual([true, 2]);
    } finally {
      model.dispose();
    }
  });
});
