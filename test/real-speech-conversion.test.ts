// Conversion keeps a real keyword spotter's accuracy on real people: the shipped CNN (kws-cnn),
// converted without training at a long spike train, must score on samples/real-speech (never trained
// on) as the CNN does, within a few clips. The calibration reads the real Speech Commands clips the CNN
// was trained on (../shared/data/gsc-v1-subset's training split), so the case is skipped, with a
// message, where ../shared/ is absent. docs/accuracy.md has the measurements behind the bounds.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { loadSpeechCommands } from '../src/data/speech-commands-node.js';
import { loadPretrained } from '../src/models/pretrained-node.js';
import { convert } from '../src/train/convert.js';
import { evaluate } from '../src/train/evaluate.js';
import { root } from './import-graph.js';

const GSC_SUBSET = join(root, '..', 'shared', 'data', 'gsc-v1-subset');
const haveSubset = existsSync(join(GSC_SUBSET, 'validation_list.txt'));
if (!haveSubset) console.warn(`conversion on real speech skipped: no Speech Commands copy at ../shared/data/gsc-v1-subset (its training split calibrates the conversion)`);

/** T = 64: the converted SNN matches kws-cnn's 83.4% (121 of 145 clips); calibrated on the built-in set
 *  instead, it lost 2 clips at T = 32 and 12 at T = 16; here at T = 8 it loses 14. */
const STEPS = 64;
/** Clips of the 145 the SNN may lose against its CNN (2.8 points): rounding, not a broken conversion. */
const CLIPS_LOST = 4;

describe.skipIf(!haveSubset)('conversion on real speech', () => {
  beforeAll(async () => {
    await initEngine();
  });

  it(`kws-cnn converted to an SNN of T=${STEPS} (ECC) scores real people within ${CLIPS_LOST} clips of the CNN`, { timeout: 180_000 }, async () => {
    const { model: cnn, meta } = await loadPretrained('kws-cnn');
    const cacheDir = mkdtempSync(join(tmpdir(), 'snn-voice-conversion-'));
    try {
      const task = { classes: meta.classNames };
      const calibration = await loadSpeechCommands(GSC_SUBSET, meta.features, { task, cacheDir, limitPerClass: 60 });
      const people = await loadSpeechCommands(join(root, 'samples', 'real-speech'), meta.features, { task, cacheDir });
      const snn = convert(cnn, { steps: STEPS, method: 'ecc', calibration: calibration.train });
      const before = evaluate(cnn, people.test);
      const after = evaluate(snn, people.test);
      console.log(`kws-cnn on real people: CNN ${(before.top1 * 100).toFixed(1)}%, SNN T=${STEPS} ${(after.top1 * 100).toFixed(1)}% of ${after.samples} clips`);
      expect(after.samples).toBeGreaterThan(130);
      expect(snn.spiking).toBe(true);
      expect(snn.steps).toBe(STEPS);
      expect(Math.round(after.top1 * after.samples)).toBeGreaterThanOrEqual(Math.round(before.top1 * before.samples) - CLIPS_LOST);
      expect(after.top1).toBeGreaterThan(0.79);
      for (const d of [calibration.train, calibration.validation, calibration.test, people.train, people.validation, people.test]) d?.close();
      snn.dispose();
      cnn.dispose();
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
