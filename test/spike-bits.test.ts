// Spike trains kept as bits for backward: packSpikes / unpackSpikes against a plain JS reference (spike
// trains, and a residual join's counts as planes of bits), and the convolutions over spikes (dense and
// depthwise), which keep their input that way in training, against ones that keep f32.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { reluForward } from '../src/kernels/activation.js';
import { packSpikes, selectByBits, spikeWords, unpackSpikes } from '../src/kernels/spike-bits.js';
import type { ForwardContext } from '../src/layers/layer.js';
import { Conv2d } from '../src/layers/conv2d.js';
import { DepthwiseConv2d } from '../src/layers/depthwise-conv2d.js';
import { describeEachBuild, randArray } from './helpers.js';

/** Bit j of word w is (value 32w + j >= level), written independently of the kernel. */
function referenceWords(xs: Float32Array, level = 1): Int32Array {
  const words = new Int32Array(Math.ceil(xs.length / 32));
  xs.forEach((v, i) => {
    if (v >= level) words[i >> 5] |= 1 << (i & 31);
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
      expect(packSpikes(x, [bits]), `n=${n}`).toBe(n > 1 ? 1 : Math.max(0, ...xs));
      expect(Array.from(bits.data), `n=${n}`).toEqual(Array.from(referenceWords(xs)));
      const back = Tensor.empty([n]).fill(7);
      unpackSpikes(bits, back);
      expect(Array.from(back.f32), `n=${n}`).toEqual(Array.from(xs));
      for (const t of [x, bits, back]) t.free();
    }
    // -0 is a silent neuron too: the same bits.
    const xs = spikeTrain(70, 3);
    const signed = Tensor.from(xs.map((v, i) => (v === 0 && i % 5 === 0 ? -0 : v)), [70]);
    const bits = Tensor.empty([spikeWords(70)], 'i32');
    expect(packSpikes(signed, [bits])).toBe(1);
    expect(Array.from(bits.data)).toEqual(Array.from(referenceWords(xs)));
    for (const t of [signed, bits]) t.free();
  });

  it('packs counts of 0 to 2 as two planes of bits whose sum is the count, bulk and tail', () => {
    // A spike train in two planes leaves the second empty.
    const train = Tensor.from(spikeTrain(100, 5), [100]);
    const pair = [1, 2].map(() => Tensor.empty([spikeWords(100)], 'i32').fill(-1));
    expect(packSpikes(train, pair)).toBe(1);
    expect(Array.from(pair[0].data)).toEqual(Array.from(referenceWords(train.f32)));
    expect(Array.from(pair[1].data)).toEqual([0, 0, 0, 0]);
    for (const t of [train, ...pair]) t.free();
    for (const n of [7, 64, 100]) {
      const xs = randArray(n, n, 0, 1).map((u) => (u < 0.5 ? 0 : u < 0.8 ? 1 : 2));
      xs[n - 1] = 2;
      const x = Tensor.from(xs, [n]);
      const planes = [1, 2].map(() => Tensor.empty([spikeWords(n)], 'i32'));
      expect(packSpikes(x, planes)).toBe(2);
      planes.forEach((p, k) => expect(Array.from(p.data), `n=${n} level ${k + 1}`).toEqual(Array.from(referenceWords(xs, k + 1))));
      const back = Tensor.empty([n]).fill(7);
      planes.forEach((p, k) => unpackSpikes(p, back, k > 0));
      expect(Array.from(back.f32), `n=${n}`).toEqual(Array.from(xs));
      for (const t of [x, back, ...planes]) t.free();
    }
  });

  it('says a tensor holds no spike counts when any value is not a whole number >= 0, in the bulk or the tail', () => {
    for (const [at, v] of [[40, 0.5], [3, -1], [66, -1], [67, Number.NaN], [5, Number.NaN], [66, 1.5]] as const) {
      const xs = spikeTrain(68, 9);
      xs[at] = v;
      const x = Tensor.from(xs, [68]);
      const bits = Tensor.empty([spikeWords(68)], 'i32');
      expect(packSpikes(x, [bits]), `${v} at ${at}`).toBe(-1);
      for (const t of [x, bits]) t.free();
    }
    // Counts beyond the planes given, in the bulk or the tail: 2 without a second plane, 3 with one.
    const bits = Tensor.empty([spikeWords(68)], 'i32');
    const twos = Tensor.empty([spikeWords(68)], 'i32');
    for (const at of [50, 66]) {
      const two = Tensor.from(Array.from(spikeTrain(68, 9), (v, i) => (i === at ? 2 : v)), [68]);
      const three = Tensor.from(Array.from(spikeTrain(68, 9), (v, i) => (i === at ? 3 : v)), [68]);
      expect(packSpikes(two, [bits]), `2 at ${at}`).toBe(-1);
      expect(packSpikes(two, [bits, twos]), `2 at ${at}`).toBe(2);
      expect(packSpikes(three, [bits, twos]), `3 at ${at}`).toBe(-1);
      for (const t of [two, three]) t.free();
    }
    const x = Tensor.zeros([10]);
    expect(() => packSpikes(x, [Tensor.empty([2], 'i32')])).toThrow(/packSpikes: bits has shape \[2\], expected \[1\]/);
    expect(() => packSpikes(x, [])).toThrow(/packSpikes: 1 or 2 planes, got 0/);
    expect(() => unpackSpikes(Tensor.empty([1], 'f32'), x)).toThrow(/unpackSpikes: bits must be an i32 tensor, got f32/);
    for (const t of [x, bits, twos]) t.free();
  });

  it('reluForward writes the mask (x > 0) as bits, and selectByBits passes dy where a bit is set and +0 elsewhere, into dx or over dy itself', () => {
    for (const n of [5, 64, 100]) {
      const xs = randArray(n, n + 3);
      xs[1] = 0;
      const dys = randArray(n, n + 4);
      const x = Tensor.from(xs, [n]);
      const bits = Tensor.empty([spikeWords(n)], 'i32').fill(-1);
      reluForward(x, x, bits);
      expect(Array.from(x.f32), `n=${n}`).toEqual(Array.from(xs, (v) => Math.max(v, 0)));
      expect(Array.from(bits.data), `n=${n}`).toEqual(Array.from(referenceWords(xs, Number.MIN_VALUE)));
      const want = Array.from(dys, (d, i) => (xs[i] > 0 ? d : 0));
      const dy = Tensor.from(dys, [n]);
      const dx = Tensor.empty([n]).fill(7);
      selectByBits(bits, dy, dx);
      expect(Array.from(dx.f32), `n=${n}`).toEqual(want);
      expect(Array.from(dx.f32).every((v) => !Object.is(v, -0))).toBe(true);
      selectByBits(bits, dy, dy);
      expect(Array.from(dy.f32), `n=${n}, in place`).toEqual(want);
      for (const t of [x, bits, dy, dx]) t.free();
    }
    const dy = Tensor.zeros([40]);
    const bits = Tensor.empty([2], 'i32');
    expect(() => selectByBits(bits, dy, dy.reshape([4, 10]))).toThrow(/selectByBits: dx has shape \[4,10\], expected \[40\]/);
    expect(() => reluForward(dy, dy, Tensor.empty([1], 'i32'))).toThrow(/reluForward: mask has shape \[1\], expected \[2\]/);
    for (const t of [dy, bits]) t.free();
  });

  const layers = {
    Conv2d: () => new Conv2d('conv', { inChannels: 3, outChannels: 4, kernel: [3, 3], padding: 'same' }, 5),
    DepthwiseConv2d: () => new DepthwiseConv2d('dw', { channels: 3, kernel: [3, 1], stride: [2, 1], padding: [1, 0] }, 5),
  };
  it.each(Object.keys(layers) as (keyof typeof layers)[])('%s over spikes keeps them as bits in training and gives the gradients of one that keeps f32', (kind) => {
    const make = layers[kind];
    const ctx = (spikesIn: boolean): ForwardContext => ({ batch: 2, steps: 3, training: true, count: false, spikesIn, backward: true });
    const x = Tensor.from(spikeTrain(6 * 3 * 5 * 7, 11), [6, 3, 5, 7]);
    const probe = make();
    const outShape = [6, ...probe.outputShape([3, 5, 7])];
    probe.dispose();
    const dy = Tensor.from(randArray(outShape.reduce((a, b) => a * b, 1), 12), outShape);
    const grads = (input: Tensor, spikesIn: boolean, kept: boolean) => {
      const layer = make();
      const y = layer.forward(input, ctx(spikesIn)).toArray();
      expect(layer.keepsInput(), `spikesIn ${spikesIn}`).toBe(kept);
      const dx = layer.backward(dy, true)!.toArray();
      const out = { y, dx, dw: layer.weight.grad.toArray(), db: layer.bias.grad.toArray() };
      layer.dispose();
      return out;
    };
    expect(grads(x, true, false)).toEqual(grads(x, false, true));
    // A residual join's counts of 2 are kept as two planes, with the same gradients; a count of 3 stays f32.
    for (const [top, kept] of [[2, false], [3, true]] as const) {
      const counts = Tensor.from(Array.from(x.f32, (v, i) => (i % 7 === 3 ? top : v)), x.shape);
      expect(grads(counts, true, kept), `counts to ${top}`).toEqual(grads(counts, false, true));
      counts.free();
    }
    for (const t of [x, dy]) t.free();
  });
});
