// The keyword spotters shipped in pretrained/ load with one call and recognise real people: scored on
// the recordings in samples/real-speech (never trained on), they must stay far above chance (1 in 12),
// so a regression in the engine, the features or the files fails here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { loadSpeechCommands } from '../src/data/speech-commands-node.js';
import { loadPretrained, pretrainedPath } from '../src/models/pretrained-node.js';
import { PRETRAINED, type PretrainedName } from '../src/models/pretrained.js';
import { evaluate } from '../src/train/evaluate.js';
import { root } from './import-graph.js';

/** Measured with scripts/train-pretrained.ts's eval step (kws-cnn 83.4%, kws-snn 84.1% of 145 clips);
 *  each floor is about four points (six clips) under, room for build rounding but not for a regression. */
const REAL_SPEECH_FLOOR: Record<PretrainedName, number> = { 'kws-cnn': 0.79, 'kws-snn': 0.8 };

describe('pretrained keyword spotters', () => {
  beforeAll(async () => {
    await initEngine();
  });

  for (const name of Object.keys(PRETRAINED) as PretrainedName[]) {
    it(`${name} loads by name and scores real speech above ${Math.round(REAL_SPEECH_FLOOR[name] * 100)}% (chance 8.3%)`, async () => {
      const { model, meta } = await loadPretrained(name);
      expect(meta.classNames).toEqual(['_silence_', '_unknown_', 'yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go']);
      expect(model.name).toBe('tcresnet8');
      const cacheDir = mkdtempSync(join(tmpdir(), 'snn-voice-pretrained-'));
      try {
        const data = await loadSpeechCommands(join(root, 'samples', 'real-speech'), meta.features, {
          task: { classes: meta.classNames },
          cacheDir,
        });
        const result = evaluate(model, data.test);
        expect(result.samples).toBeGreaterThan(130);
        expect(result.top1).toBeGreaterThan(REAL_SPEECH_FLOOR[name]);
        data.test.close();
      } finally {
        model.dispose();
        rmSync(cacheDir, { recursive: true, force: true });
      }
    });
  }

  it('names the missing model', () => {
    expect(() => pretrainedPath('kws-lstm')).toThrow(/no pretrained model "kws-lstm"; there are kws-cnn, kws-snn/);
  });
});
