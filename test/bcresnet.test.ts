// BC-ResNet: a broadcast-residual block built from the zoo's layers against its parts run one by one and
// against finite differences, and the zoo's model: its size, its shapes stage by stage, its SNN twin.
import { beforeAll, describe, expect, it } from 'vitest';
import { createEngine, useEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { BatchNorm2d } from '../src/layers/batchnorm.js';
import { Conv2d } from '../src/layers/conv2d.js';
import { DepthwiseConv2d } from '../src/layers/depthwise-conv2d.js';
import { type ForwardContext, type Layer, allLayers } from '../src/layers/layer.js';
import { Leaky } from '../src/layers/leaky.js';
import { ReLU } from '../src/layers/relu.js';
import { Reshape } from '../src/layers/reshape.js';
import { Residual } from '../src/layers/residual.js';
import { BroadcastRows, MeanRows } from '../src/layers/rows.js';
import { arrayDataset } from '../src/data/dataset.js';
import { BatchNorm } from '../src/layers/batchnorm.js';
import type { Network } from '../src/models/network.js';
import { deserializeModel, serializeModel } from '../src/models/serialize.js';
import { convert } from '../src/train/convert.js';
import { exportNir } from '../src/nir/export.js';
import { evalBatch } from '../src/train/evaluate.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

const ctx = (batch: number): ForwardContext => ({ batch, steps: 1, training: true, count: false, spikesIn: false });

// One normal block over [C, F, T] = [3, 4, 9]: y = x + f1 + broadcast(f2(mean_F f1)), f1 the frequency
// filter and a sub-spectral norm of 2 sub-bands; the ReLU after the sum is left out so every path is smooth.
function block(seed: number): Residual {
  const [C, F, T] = [3, 4, 9];
  return new Residual('block', [
    new DepthwiseConv2d('freq', { channels: C, kernel: [3, 1], padding: [1, 0] }, seed),
    new Reshape('ssn.split', [C * 2, F / 2, T]),
    new BatchNorm2d('ssn.bn', C * 2),
    new Reshape('ssn.join', [C, F, T]),
    new Residual('broadcast', [
      new MeanRows('avgfreq'),
      new DepthwiseConv2d('time', { channels: C, kernel: [1, 3], padding: [0, 2], dilation: [1, 2] }, seed + 1),
      new Conv2d('pointwise', { inChannels: C, outChannels: C, kernel: [1, 1] }, seed + 2),
      new BroadcastRows('spread', F),
    ]),
  ]);
}

describeEachBuild('bcresnet', () => {
  it('a broadcast-residual block is x + f1 + broadcast(f2) of its parts, and its backward matches finite differences', () => {
    const B = 2;
    const b = block(5);
    const x = Tensor.from(randArray(B * 3 * 4 * 9, 1), [B, 3, 4, 9]);
    const y = b.forward(x, ctx(B)).toArray();
    // The parts on clones, joined in JS: f1, then f2 broadcast by hand over the 4 bands.
    const through = (layers: readonly Layer[], h: Tensor) => layers.reduce((v, l) => l.clone().forward(v, ctx(B)), h);
    const f1t = through(b.main.slice(0, 4), x);
    const f1 = f1t.toArray();
    const f2 = through((b.main[4] as Residual).main.slice(0, 3), f1t).toArray();
    const xs = x.toArray();
    const expected = xs.map((v, i) => {
      const [plane, t] = [Math.floor(i / 36), i % 9];
      return v + f1[i] + f2[plane * 9 + t];
    });
    expect(maxRelErr(y, expected, 1e-5, 1e-4)).toBeLessThanOrEqual(1);

    const r = randArray(y.length, 2);
    const loss = (): number => b.forward(x, ctx(B)).f32.reduce((s, v, i) => s + v * r[i], 0);
    loss();
    const dx = b.backward(Tensor.from(r, [B, 3, 4, 9]), true)!.toArray();
    const grads = b.parameters().map((p) => p.grad.toArray());
    const xi = [0, 7, 20, 35, 50, 71];
    expect(maxRelErr(xi.map((i) => dx[i]), finiteDiff(x.f32, xi, loss), 2e-2, 2e-2)).toBeLessThanOrEqual(1);
    b.parameters().forEach((p, k) => {
      const idx = [0, Math.floor(p.value.size / 2), p.value.size - 1];
      expect(maxRelErr(idx.map((i) => grads[k][i]), finiteDiff(p.value.f32, idx, loss), 2e-2, 2e-2), p.name).toBeLessThanOrEqual(1);
    });
    b.dispose();
    x.free();
  });

  it('the zoo model: BC-ResNet-3 of 54,720 parameters (12 words) on 40 log-mel bands x 101 frames, bands 20-10-5 by stage', () => {
    const m = createModel('bcresnet', { classes: 12 }) as Network;
    expect(m.parameterCount()).toBe(54720);
    expect(m.inputShape).toEqual([1, 40, 101]);
    let shape: number[] = [...m.inputShape];
    const bands: Record<string, number> = {};
    for (const l of m.layers) {
      shape = l.outputShape(shape);
      const block = /^block(\d+)/.exec(l.name)?.[1];
      if (block && shape.length === 3) bands[block] = shape[1];
    }
    expect(bands).toEqual({ 1: 20, 2: 20, 3: 10, 4: 10, 5: 5, 6: 5, 7: 5, 8: 5, 9: 5, 10: 5, 11: 5, 12: 5 });
    expect(shape).toEqual([12]);
    // The stages' widths 24, 36, 48, 60 (8τ ... 20τ at τ = 3): the frequency filters' weights.
    const widths = allLayers(m.layers).filter((l) => l instanceof DepthwiseConv2d && /^block\d+\.freq$/.test(l.name)).map((l) => (l as DepthwiseConv2d).weight.value.shape[0]);
    expect(widths).toEqual([24, 24, 36, 36, 48, 48, 48, 48, 60, 60, 60, 60]);
    // Convolutions before a batch norm have no bias (a dead channel stays 0); the branch's last 1x1 has one.
    const names = m.parameters().map((p) => p.name);
    expect(names.filter((n) => n.endsWith('.bias') && !/bn\.bias$|bn\d\.bias$/.test(n))).toEqual([...Array(12).keys()].map((k) => `block${k + 1}.pointwise.bias`).concat('fc.bias'));
    const x = Tensor.from(randArray(3 * 40 * 101, 3), [3, 1, 40, 101]);
    m.eval();
    expect(m.forward(x).shape).toEqual([3, 12]);
    m.dispose();
    x.free();
  });

  it('its SNN twin: every ReLU a Leaky, inside the broadcast branches too, with the same weights', () => {
    const cnn = createModel('bcresnet', { classes: 4, seed: 2 }) as Network;
    const snn = createModel('bcresnet', { classes: 4, seed: 2, spiking: true, steps: 2 }) as Network;
    const relus = allLayers(cnn.layers).filter((l) => l instanceof ReLU).length;
    expect(relus).toBe(1 + 12 + 4 + 12 + 1); // stem, a branch each, four transitions' 1x1, each block's sum, the head
    expect(allLayers(snn.layers).filter((l) => l instanceof Leaky).length).toBe(relus);
    expect(allLayers(snn.layers).some((l) => l instanceof ReLU)).toBe(false);
    const weight = (m: Network, name: string) => m.parameters().find((p) => p.name === name)!.value.toArray();
    expect(weight(snn, 'block7.time.weight')).toEqual(weight(cnn, 'block7.time.weight'));
    const x = Tensor.from(randArray(2 * 40 * 101, 4, 0, 3), [2, 1, 40, 101]);
    snn.train(true);
    const logits = snn.forward(x);
    expect(logits.shape).toEqual([2, 4]);
    snn.backward(Tensor.from(randArray(8, 5), [2, 4]));
    const grad = snn.parameters().find((p) => p.name === 'conv0.weight')!.grad.toArray();
    expect(grad.some((g) => g !== 0)).toBe(true);
    expect(grad.every(Number.isFinite)).toBe(true);
    for (const m of [cnn, snn]) m.dispose();
    x.free();
  });

  it('an evaluation bounds its batch by what the activations hold: one clip of a BC-ResNet SNN at T = 64', () => {
    const models = [createModel('bcresnet', { classes: 3, spiking: true, steps: 64 }), createModel('bcresnet', { classes: 3 }), createModel('tcresnet8', { classes: 3, spiking: true, steps: 64 })];
    // 16.7 MB of outputs a step: 64 steps take 1 GiB; TC-ResNet8's 0.18 MB leave the batch as asked.
    expect((models[1] as Network).activationFloats() * 4).toBeCloseTo(16.67e6, -4);
    expect(models.map((m) => evalBatch(m, 64))).toEqual([1, 64, 64]);
    for (const m of models) m.dispose();
  });

  it('NIR export refuses it by the layer NIR cannot express: the sub-spectral norm\'s reshape', async () => {
    const snn = createModel('bcresnet', { classes: 3, spiking: true, steps: 2 });
    await expect(exportNir(snn)).rejects.toThrow('block1.ssn.split: a reshape of [24,20,101] to [120,4,101] is not a flatten of leading dimensions, and NIR has no reshape node');
    snn.dispose();
  });

  it('refuses shapes that do not fit, naming the layer', () => {
    expect(() => new MeanRows('avgfreq').outputShape([3, 9])).toThrow('avgfreq: input has shape [3,9] per row, expected [C, H, W]');
    expect(() => new BroadcastRows('spread', 4).outputShape([3, 2, 9])).toThrow('spread: input has shape [3,2,9] per row, expected [C, 1, W]');
    expect(() => new DepthwiseConv2d('freq', { channels: 3, kernel: [2, 1], padding: 'same' }, 1)).toThrow("freq: padding 'same' needs an odd kernel, got 2x1");
    expect(() => new DepthwiseConv2d('freq', { channels: 3, kernel: [3, 1] }, 1).outputShape([4, 5, 5])).toThrow('has 3 filters, x [1,4,5,5] has 4 channels');
  });
});

// One build suffices here (the kernels are checked in both elsewhere): two conversions take 15 s.
describe('bcresnet conversion', () => {
  beforeAll(async () => useEngine(await createEngine({ flavor: 'relaxed' })));

  it("converts (ECC): the SNN's logits approach the CNN's as T grows; identity shortcuts get a unit synapse; the model file rebuilds it", () => {
    const cnn = createModel('bcresnet', { classes: 5, seed: 3 }) as Network;
    const per = 40 * 101;
    // A smooth pattern that gives every band and frame activity; a few training-mode passes put the
    // batch-norm statistics where the CNN's activations are, as training would.
    const xs = Float32Array.from({ length: 32 * per }, (_, i) => 2 * Math.sin(i * 0.37) + Math.cos(i * 0.011));
    cnn.train(true);
    for (let k = 0; k < 20; k++) cnn.forward(Tensor.from(xs.subarray(0, 8 * per), [8, 1, 40, 101]));
    cnn.eval();
    const calibration = arrayDataset(xs, Int32Array.from({ length: 32 }, (_, i) => i % 5), ['a', 'b', 'c', 'd', 'e'], [1, 40, 101]);
    const x = Tensor.from(xs.subarray(0, 2 * per), [2, 1, 40, 101]);
    const reference = cnn.forward(x).toArray();
    const range = Math.max(...reference.map(Math.abs));
    const errors = [16, 64].map((steps) => {
      const snn = convert(cnn, { steps, calibration, samples: 32 }) as Network;
      snn.eval();
      const y = snn.forward(x).toArray();
      if (steps === 64) {
        expect(allLayers(snn.layers).filter((l) => /\.identity$/.test(l.name))).toHaveLength(8);
        expect(allLayers(snn.layers).some((l) => l instanceof BatchNorm)).toBe(false);
        // A bias-less convolution gains the bias its batch norm folds into, saved with the model.
        expect(snn.parameters().map((p) => p.name)).toContain('block3.freq.bias');
        const { model: again } = deserializeModel(serializeModel(snn, { classNames: ['a', 'b', 'c', 'd', 'e'], features: featuresFor('bcresnet') }));
        again.eval();
        expect(again.forward(x).toArray()).toEqual(y);
        again.dispose();
      }
      snn.dispose();
      return Math.max(...y.map((v, i) => Math.abs(v - reference[i])));
    });
    // Measured 0.060 and 0.032 of a range of 0.41; a unit lost at a sum (a block's neurons saturating
    // at the input's scale) stayed at 0.13 at every T.
    expect(errors[1]).toBeLessThan(errors[0]);
    expect(errors[1]).toBeLessThan(0.12 * range);
    cnn.dispose();
    x.free();
  });
});
