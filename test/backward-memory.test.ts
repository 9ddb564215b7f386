// What a training step keeps between forward and backward, and for how long: gradients let go once used,
// activations held only until their last reader, and the layers that keep less (bits, no membrane, no
// input) giving the same results to the bit as the copies that keep everything.

import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { BatchNorm1d, BatchNorm2d } from '../src/layers/batchnorm.js';
import { DepthwiseConv2d } from '../src/layers/depthwise-conv2d.js';
import { Flatten } from '../src/layers/flatten.js';
import { type ForwardContext, type Layer, allLayers, backwardThrough, forwardThrough, releaseAll } from '../src/layers/layer.js';
import { ReLU } from '../src/layers/relu.js';
import { Leaky, type LeakySettings } from '../src/layers/leaky.js';
import { Residual } from '../src/layers/residual.js';
import { Reshape } from '../src/layers/reshape.js';
import { MeanRows } from '../src/layers/rows.js';
import type { Network } from '../src/models/network.js';
import { createModel } from '../src/models/zoo.js';
import { describeEachBuild, randArray } from './helpers.js';

describeEachBuild('backward memory', () => {
  const ctx: ForwardContext = { batch: 2, steps: 1, training: true, count: false, spikesIn: false };

  it('backwardThrough lets a gradient go once used, not while a view of it is passed on', () => {
    const [a, flat, b] = [new ReLU('a'), new Flatten('flat'), new ReLU('b')];
    const x = Tensor.from(randArray(2 * 3 * 4, 1), [2, 3, 4]);
    const reshaped = Tensor.from(randArray(24, 2), [2, 12]);
    a.forward(x, ctx);
    flat.forward(x);
    b.forward(reshaped, ctx);
    const calls: Array<[string, boolean]> = [];
    for (const l of [a, b]) {
      const release = l.releaseGrad.bind(l);
      l.releaseGrad = (keep) => {
        const done = release(keep);
        calls.push([l.name, done]);
        return done;
      };
    }
    const dy = Tensor.from(randArray(24, 3), [2, 12]);
    const { dx, held } = backwardThrough([a, flat, b], dy, () => true);
    // After Flatten: b's gradient is what it passes on, so b keeps it; after a, b lets it go.
    expect(calls).toEqual([['b', false], ['b', true]]);
    expect(held.map((l) => l.name)).toEqual(['a']);
    expect(dx!.shape).toEqual([2, 3, 4]);
    releaseAll(held);
    expect(calls.at(-1)).toEqual(['a', true]);
  });

  it('a network holds no input gradient after backward, residual blocks and spiking layers included', () => {
    for (const [name, spiking] of [['hjh', false], ['tcresnet8', true]] as const) {
      const net = createModel(name, { classes: 4, seed: 1, spiking, steps: 2 }) as Network;
      const x = Tensor.from(randArray(2 * 60 * 134, 4), [2, ...net.inputShape]);
      const dlogits = Tensor.from(randArray(8, 5), [2, 4]);
      const engine = x.engine;
      for (let i = 0; i < 2; i++) {
        net.forward(x);
        net.backward(dlogits);
      }
      const after = engine.bytesInUse;
      releaseAll(allLayers(net.layers)); // nothing is left to let go
      expect(engine.bytesInUse, name).toBe(after);
      net.dispose();
    }
  });

  it('a Leaky over per-step currents writes its spikes over the batch norm output it adopts, and its gradient over dL/dspikes, with the same results', () => {
    const settings: LeakySettings = { steps: 3, beta: 0.8, threshold: 0.6, learnBeta: true, learnThreshold: true, surrogate: 'atan', form: 'current', reset: 'subtract', initial: 0, signed: false };
    const ctx: ForwardContext = { batch: 2, steps: 3, training: true, count: false, spikesIn: false, backward: true };
    const x = Tensor.from(randArray(6 * 4 * 5, 7), [6, 4, 5]);
    const dy = Tensor.from(randArray(6 * 4 * 5, 8), [6, 4, 5]);
    const run = (adopt: boolean) => {
      const bn = new BatchNorm1d('bn', 4);
      const lif = new Leaky('lif', settings);
      const h = bn.forward(x, ctx);
      expect(lif.adopts(h, ctx)).toBe(true);
      const held = adopt ? bn.giveOutput() : null;
      const y = lif.forward(h, { ...ctx, adopted: held });
      if (adopt) expect(y.ptr, 'the spikes are written over the currents').toBe(h.ptr);
      // Backward likewise writes the currents' gradient over a dL/dspikes handed over to it.
      const handed = adopt ? Tensor.from(dy.toArray(), dy.shape) : null;
      expect(lif.adoptsGrad(dy)).toBe(true);
      const dlif = lif.backward(handed ?? dy, true, handed)!;
      if (handed) expect(dlif.ptr, 'the gradient is written over dL/dspikes').toBe(handed.ptr);
      const out = { y: y.toArray(), dx: bn.backward(dlif, true)!.toArray(), dbeta: lif.beta.grad.f32[0] };
      bn.dispose();
      lif.dispose();
      return out;
    };
    expect(run(true)).toEqual(run(false));
    // Currents given once ([batch, ...], repeat encoding) are kept for backward, never adopted.
    const once = new Leaky('once', settings);
    const currents = Tensor.from(randArray(8, 9), [2, 4]);
    expect(once.adopts(currents, ctx)).toBe(false);
    once.dispose();
    // At one step a batch of currents is both per-step and given once: kept, so never written over (an
    // SNN at T=1 once wrote its spikes over the currents its backward recomputes the membrane from).
    const single = new Leaky('single', { ...settings, steps: 1 });
    const oneStep: ForwardContext = { ...ctx, steps: 1 };
    expect(single.adopts(currents, oneStep)).toBe(false);
    single.forward(currents, oneStep);
    expect(single.keepsInput()).toBe(true);
    single.dispose();
    for (const t of [x, dy, currents]) t.free();
  });

  it('a Leaky after a batch norm keeps no membrane: backward recomputes its currents from the batch norm\'s input and statistics, with the same results to the bit', () => {
    const settings: LeakySettings = { steps: 3, beta: 0.8, threshold: 0.6, learnBeta: true, learnThreshold: true, surrogate: 'atan', form: 'current', reset: 'subtract', initial: 0, signed: false };
    const ctx: ForwardContext = { batch: 2, steps: 3, training: true, count: false, spikesIn: false, backward: true };
    // 2 samples of 4 channels of 5 x 7 positions per step: planes of 35, not whole vectors.
    const x = Tensor.from(randArray(6 * 4 * 5 * 7, 27), [6, 4, 5, 7]);
    const dy = Tensor.from(randArray(6 * 4 * 5 * 7, 28), [6, 4, 5, 7]);
    const engine = x.engine;
    const run = (recompute: boolean) => {
      const bn = new BatchNorm2d('bn', 4);
      bn.weight.value.f32.set([1.5, -0.5, 0.7, 2]);
      bn.bias.value.f32.set([0.1, 0.3, -0.2, 0.6]);
      const lif = new Leaky('lif', settings);
      const h = bn.forward(x, ctx);
      const affineInput = recompute ? bn.affineOutput() : null;
      if (recompute) expect(affineInput!.x.ptr, 'the map reads the batch norm\'s input').toBe(x.ptr);
      const before = engine.bytesInUse;
      const y = lif.forward(h, { ...ctx, adopted: bn.giveOutput(), affineInput: () => affineInput });
      const held = engine.bytesInUse - before;
      const yv = y.toArray();
      const handed = Tensor.from(dy.toArray(), dy.shape);
      const dlif = lif.backward(handed, true, handed)!;
      const out = { y: yv, dx: bn.backward(dlif, true, lif.giveGrad())!.toArray(), dbeta: lif.beta.grad.f32[0], dthreshold: lif.threshold.grad.f32[0], dw: bn.weight.grad.toArray() };
      bn.dispose();
      lif.dispose();
      return { out, held };
    };
    const [kept, recomputed] = [run(false), run(true)];
    expect(recomputed.out).toEqual(kept.out);
    // The membrane of every step ([3, 280] f32) against only the last step's.
    expect(kept.held - recomputed.held).toBe(2 * 280 * 4);
    // An eval pass has no batch statistics to recompute from.
    const bn = new BatchNorm2d('bn', 4);
    bn.forward(x, { ...ctx, training: false });
    expect(bn.affineOutput()).toBeNull();
    bn.dispose();
    for (const t of [x, dy]) t.free();
  });

  it('a batch norm after a depthwise convolution over spikes keeps no input: backward computes it again from the bits, through views, with the same results to the bit', () => {
    // BC-ResNet's sub-spectral norm: depthwise conv -> reshape -> batch norm -> reshape -> frequency mean.
    // 2 samples at 2 steps of 3 channels of 4 x 9 spikes; the norm sees 6 sub-band channels of 2 x 9.
    const x = Tensor.from(randArray(4 * 3 * 4 * 9, 41).map((v) => (v > 0.2 ? 1 : 0)), [4, 3, 4, 9]);
    const dy = Tensor.from(randArray(4 * 3 * 9, 42), [4, 3, 1, 9]);
    const run = (spikes: boolean) => {
      const dw = new DepthwiseConv2d('dw', { channels: 3, kernel: [3, 1], padding: [1, 0] }, 7);
      const bn = new BatchNorm2d('bn', 6);
      bn.weight.value.f32.set([1.5, -0.5, 0.7, 2, 0.9, 1.1]);
      const layers: Layer[] = [dw, new Reshape('split', [6, 2, 9]), bn, new Reshape('join', [3, 4, 9]), new MeanRows('mean')];
      const outputs: Tensor[] = [];
      for (const l of layers) {
        const forward = l.forward.bind(l);
        l.forward = (h: Tensor, c: ForwardContext) => {
          const y = forward(h, c);
          outputs.push(y);
          return y;
        };
      }
      const c: ForwardContext = { batch: 2, steps: 2, training: true, count: false, spikesIn: spikes, backward: true };
      const y = forwardThrough(layers, x, c, (i) => (c.spikesIn = spikes && i === 0), () => true).toArray();
      // The mean keeps no input, so the norm's output it reads through the view goes at once; the
      // convolution's goes too when the norm can have it computed again from the spikes' bits.
      expect(outputs[2].isFreed, "the batch norm's output").toBe(true);
      expect(outputs[0].isFreed, "the convolution's output").toBe(spikes);
      expect(bn.keepsInput()).toBe(!spikes);
      const { dx, held } = backwardThrough(layers, Tensor.from(dy.toArray(), dy.shape), () => true);
      const out = { y, dx: dx!.toArray(), dw: dw.weight.grad.toArray(), dgamma: bn.weight.grad.toArray(), dbeta: bn.bias.grad.toArray() };
      releaseAll(held);
      for (const l of layers) l.dispose();
      return out;
    };
    const recomputed = run(true);
    expect(recomputed.dgamma.every((v) => v !== 0)).toBe(true);
    expect(recomputed).toEqual(run(false));
    for (const t of [x, dy]) t.free();
  });

  it('batch norm -> ReLU in training: the ReLU writes over the batch norm output, keeps a mask of bits, and both write their gradients over dy, with the results of eval-style copies', () => {
    const ctx: ForwardContext = { batch: 6, steps: 1, training: true, count: false, spikesIn: false, backward: true };
    // Some currents exactly 0 after batch norm would be luck; ReLU's own zeros test the mask's edge.
    const x = Tensor.from(randArray(6 * 4 * 37, 17), [6, 4, 37]);
    const dy = Tensor.from(randArray(6 * 4 * 37, 18), [6, 4, 37]);
    const run = (inPlace: boolean) => {
      const bn = new BatchNorm1d('bn', 4);
      const relu = new ReLU('relu');
      const h = bn.forward(x, ctx);
      expect(relu.adopts(h, ctx)).toBe(true);
      const y = relu.forward(h, inPlace ? { ...ctx, adopted: bn.giveOutput() } : { ...ctx, training: false });
      if (inPlace) {
        expect(y.ptr, 'the ReLU writes over the batch norm output').toBe(h.ptr);
        expect(relu.keepsInput(), 'in training the ReLU keeps a mask, not its input').toBe(false);
      } else expect(relu.keepsInput()).toBe(true);
      const yv = y.toArray();
      // Nothing else reads y: the mask alone serves backward.
      if (inPlace) y.fill(Number.NaN);
      const handed = inPlace ? Tensor.from(dy.toArray(), dy.shape) : null;
      const drelu = relu.backward(handed ?? dy, true, handed)!;
      if (handed) expect(drelu.ptr, 'the ReLU writes its gradient over dy').toBe(handed.ptr);
      const held = inPlace ? relu.giveGrad() : null;
      const dx = bn.backward(drelu, true, held)!;
      if (held) expect(dx.ptr, 'batch norm writes its gradient over dy').toBe(held.ptr);
      const out = { y: yv, dx: dx.toArray(), dw: bn.weight.grad.toArray(), db: bn.bias.grad.toArray() };
      // Each layer owns what it was handed: dispose frees it.
      bn.dispose();
      relu.dispose();
      return out;
    };
    const a = run(true);
    expect(a.y.some((v) => v === 0) && a.y.some((v) => v > 0)).toBe(true);
    expect(a).toEqual(run(false));
    for (const t of [x, dy]) t.free();
  });

  it('a training step holds an activation from its forward to its last reader only, as autograd does', () => {
    for (const [name, spiking] of [['m5', true], ['hjh', false], ['tcresnet8', true], ['bcresnet', true]] as const) {
      const net = createModel(name, { classes: 4, seed: 1, spiking, steps: 2 }) as Network;
      const x = Tensor.from(randArray(2 * net.inputShape.reduce((a, b) => a * b), 4), [2, ...net.inputShape]);
      const dlogits = Tensor.from(randArray(8, 5), [2, 4]);
      const engine = x.engine;
      const layers = net.layers;
      net.train();
      net.forward(x);
      if (name === 'tcresnet8') {
        // Blocks 2 and 3 read spike counts (0 to 2), which their convolutions keep as bits: the block
        // before's output goes once they have run. Block 1 reads the stem's currents.
        expect(layers.filter((l) => l instanceof Residual).map((l) => l.keepsInput!())).toEqual([true, false, false]);
      }
      // A Leaky before a max pool, a max pool before a flatten...: gone once the next layer has run.
      let held = engine.bytesInUse;
      layers.forEach((l, i) => i > 0 && l.keepsInput?.() === false && layers[i - 1].releaseOutput?.());
      expect(engine.bytesInUse, `${name}: an output the next layer does not keep outlived the forward`).toBe(held);
      net.backward(dlogits);
      // Only the logits' layer keeps its output (the caller may read it); nothing else is left to free.
      held = engine.bytesInUse;
      for (const l of allLayers(layers).slice(0, -1)) {
        l.releaseSaved?.();
        l.releaseOutput?.();
      }
      expect(engine.bytesInUse, `${name}: an activation outlived its backward`).toBe(held);
      // The next step allocates afresh and gives the same logits.
      const again = net.forward(x).toArray();
      net.forward(x);
      expect(net.forward(x).toArray()).toEqual(again);
      net.dispose();
      for (const t of [x, dlogits]) t.free();
    }
  });
});
