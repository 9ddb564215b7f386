// Spike trains kept as bits for backward: packSpikes / unpackSpikes against a plain JS reference, and
// a convolution over spikes, which keeps its input that way in training, against one that keeps f32.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { packSpikes, spikeWords, unpackSpikes } from '../src/kernels/spike-bits.js';
import type { ForwardContext } from '../src/layers/layer.js';
import { Conv2d } from '../src/layers/conv2d.js';
import { describeEachBuild, randArray } from './helpers.js';

/** Bit j of word w is value 32w + j, written independently of the kernel. */
function referenceWords(xs: Float32Array): Int32Array {
  const words = new Int32Array(Math.ceil(xs.length / 32));
  xs.forEach((v, i) => {
    if (v === 1) words[i >> 5] |= 1 << (i & 31);
  });
  return words;
}

const spikeTrain = (n: number, seed: number, rate = 0.3): Float32Array => randArray(n, seed, 0, 1).map((u) => (u < rate ? 1 : 0));

describeEachBuild('spike bits', () => {
  it('pack and unpack round-trip spike trains of every length class, words as the reference lays them', () => {
    for (const n of [0, 1, 5, 31, 32, 33, 100, 4096, 4099]) {
      const xs = spikeTrain(n, n + 1);
      const x = Tensor.from(xs, [n]);
      const bits = Tensor.empty([spikeWords(n)], 'i32');
      expect(packSpikes(x, bits), `n=${n}`).toBe(true);
      expect(Array.from(bits.data), `n=${n}`).toEqual(Array.from(referenceWords(xs)));
      const back = Tensor.empty([n]).fill(7);
      unpackSpikes(bits, back);
      expect(Array.from(back.f32), `n=${n}`).toEqual(Array.from(xs));
      for (const t of [x, bits, back]) t.free();
    }
  });

  it('says a tensor is no spike train when any value is neither 0 nor 1, in the bulk or the tail', () => {
    for (const [at, v] of [[3, 2], [40, 0.5], [66, -1], [67, Number.NaN]] as const) {
      const xs = spikeTrain(68, 9);
      xs[at] = v;
      const x = Tensor.from(xs, [68]);
      const bits = Tensor.empty([spikeWords(68)], 'i32');
      expect(packSpikes(x, bits), `${v} at ${at}`).toBe(false);
      for (const t of [x, bits]) t.free();
    }
    const x = Tensor.zeros([10]);
    expect(() => packSpikes(x, Tensor.empty([2], 'i32'))).toThrow(/packSpikes: bits has shape \[2\], expected \[1\]/);
    expect(() => unpackSpikes(Tensor.empty([1], 'f32'), x)).toThrow(/unpackSpikes: bits must be an i32 tensor, got f32/);
    x.free();
  });

  it('a convolution over spikes keeps them as bits in training and gives the gradients of one that keeps f32', () => {
    const settings = { inChannels: 3, outChannels: 4, kernel: [3, 3] as [number, number], padding: 'same' as const };
    const ctx = (spikesIn: boolean): ForwardContext => ({ batch: 2, steps: 3, training: true, count: false, spikesIn, backward: true });
    const x = Tensor.from(spikeTrain(6 * 3 * 5 * 7, 11), [6, 3, 5, 7]);
    const dy = Tensor.from(randArray(6 * 4 * 5 * 7, 12), [6, 4, 5, 7]);
    const grads = (spikesIn: boolean) => {
      const conv = new Conv2d('conv', settings, 5);
      const y = conv.forward(x, ctx(spikesIn)).toArray();
      expect(conv.keepsInput(), `spikesIn ${spikesIn}`).toBe(!spikesIn);
      const dx = conv.backward(dy, true)!.toArray();
      const out = { y, dx, dw: conv.weight.grad.toArray(), db: conv.bias.grad.toArray() };
      conv.dispose();
      return out;
    };
    expect(grads(true)).toEqual(grads(false));
    // Counts above 1 (a residual join's) stay f32.
    const counts = Tensor.from(Array.from(x.f32, (v, i) => (i === 50 ? 2 : v)), x.shape);
    const conv = new Conv2d('conv', settings, 5);
    conv.forward(counts, ctx(true));
    expect(conv.keepsInput()).toBe(true);
    conv.dispose();
    for (const t of [x, dy, counts]) t.free();
  });
});
