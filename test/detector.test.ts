// The Detector's defaults are the operating point measured with scripts/detection-eval.ts (docs/listen.md):
// averaging 7 hops with a threshold of 0.6. Checked by behaviour on scripted probabilities: a keyword
// held over 5 of the 7 averaged hops fires (5/7 > 0.6), over 4 it does not (4/7 < 0.6); a three-hop flicker
// of a keyword never fires; the CLI's listen flags take the same defaults.
import { describe, expect, it } from 'vitest';
import { DETECTOR_DEFAULTS, Detector } from '../src/listen/detector.js';
import { cli } from './cli-helpers.js';

const CLASSES = ['_silence_', '_unknown_', 'yes', 'no'];
const SILENCE = [1, 0, 0, 0];
const YES = [0, 0, 1, 0];

/** Feeds hops at 0.1 s spacing; returns the times at which a word fired. */
function fire(detector: Detector, hops: number[][]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  hops.forEach((p, i) => {
    const e = detector.update(p, 0.1 * (i + 1));
    if (e) out.push([e.word, +e.time.toFixed(1)]);
  });
  return out;
}

const run_ = (n: number, p: number[]): number[][] => Array.from({ length: n }, () => p);

describe('Detector defaults', () => {
  it('are 7 hops, threshold 0.6, suppression 1000 ms', () => {
    const d = new Detector(CLASSES);
    expect([d.smoothing, d.probabilityThreshold, d.suppressionTimeMillis]).toEqual([7, 0.6, 1000]);
    expect(DETECTOR_DEFAULTS).toEqual({ probabilityThreshold: 0.6, suppressionTimeMillis: 1000, smoothing: 7 });
  });

  it('fire on a keyword held over 5 of the 7 averaged hops, at the fifth, and not on 4', () => {
    const lead = run_(10, SILENCE);
    expect(fire(new Detector(CLASSES), [...lead, ...run_(5, YES), ...run_(10, SILENCE)])).toEqual([['yes', 1.5]]);
    expect(fire(new Detector(CLASSES), [...lead, ...run_(4, YES), ...run_(10, SILENCE)])).toEqual([]);
  });

  it('hold the first hops of a stream to the same rule: a keyword at the very start fires at its fifth hop, not its first', () => {
    // Averaged over the hops seen, one confident first hop scored 1.0 and fired alone (the demo page
    // once fired "off" on its first window).
    expect(fire(new Detector(CLASSES), [...run_(1, YES), ...run_(10, SILENCE)])).toEqual([]);
    expect(fire(new Detector(CLASSES), [...run_(4, YES), ...run_(10, SILENCE)])).toEqual([]);
    expect(fire(new Detector(CLASSES), [...run_(5, YES), ...run_(10, SILENCE)])).toEqual([['yes', 0.5]]);
    const d = new Detector(CLASSES);
    d.update(YES, 0.1);
    d.update(SILENCE, 0.2);
    expect(d.update(SILENCE, 0.3)).toBeNull();
  });

  it('never fire on a three-hop flicker, which the former 3-hop average at 0.8 took', () => {
    const flicker = [...run_(10, SILENCE), ...run_(3, YES), ...run_(10, SILENCE)];
    expect(fire(new Detector(CLASSES), flicker)).toEqual([]);
    expect(fire(new Detector(CLASSES, { smoothing: 3, probabilityThreshold: 0.8 }), flicker)).toEqual([['yes', 1.3]]);
  });

  it('are the listen command\'s flag defaults', async () => {
    const { out, err } = await cli('listen', '--help');
    const help = out + err;
    expect(help).toMatch(/--threshold <p>[\s\S]*?\(default: 0\.6\)/);
    expect(help).toMatch(/--smoothing <hops>[\s\S]*?\(default: 7\)/);
  });
});
