// Leaky.lastSpikes(): the spikes of the last forward pass, for displays (the browser demo's raster).
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { Leaky } from '../src/layers/leaky.js';
import { describeEachBuild } from './helpers.js';

describeEachBuild('Leaky.lastSpikes', () => {
  it('is null before a forward pass, then the record of the last one as [steps, batch, ...row]', () => {
    const lif = new Leaky('lif1', { steps: 3, beta: 1, threshold: 1, learnBeta: false, learnThreshold: false, surrogate: 'atan', form: 'current', reset: 'subtract', initial: 0, signed: false });
    expect(lif.lastSpikes()).toBeNull();
    const ctx = { batch: 2, steps: 3, training: false, count: false, spikesIn: false, backward: false };
    // One row per sample (repeat encoding: broadcast over the steps), 2 channels x 2 positions.
    // With beta 1 and threshold 1 the membrane sums I, less 1 per earlier spike; it fires above 1.
    const x = Tensor.from([0, 0.6, 1.5, 2.5, 0.4, 0.9, 3, 0], [2, 2, 2]);
    const out = lif.forward(x, ctx).toArray();
    const spikes = lif.lastSpikes()!;
    expect(spikes.shape).toEqual([3, 2, 2, 2]);
    expect(spikes.dtype).toBe('u8');
    expect(Array.from(spikes.data)).toEqual(Array.from(out));
    expect(Array.from(spikes.data)).toEqual([
      0, 0, 1, 1, 0, 0, 1, 0, // step 0: the membrane is I
      0, 1, 1, 1, 0, 1, 1, 0, // step 1: 2I - 1 after a spike
      0, 0, 1, 1, 1, 1, 1, 0, // step 2
    ]);
    // A second pass overwrites the same record.
    const zeros = Tensor.from(new Array(8).fill(0), [2, 2, 2]);
    lif.forward(zeros, ctx);
    expect(Array.from(lif.lastSpikes()!.data).every((s) => s === 0)).toBe(true);
    // A pass that a backward follows keeps no spike bytes: its backward reads them off the membrane.
    lif.forward(x, { ...ctx, training: true, backward: true });
    expect(lif.lastSpikes()).toBeNull();
    for (const t of [x, zeros]) t.free();
    lif.dispose();
    expect(lif.lastSpikes()).toBeNull();
  });
});
