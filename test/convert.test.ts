// CNN -> SNN conversion (train/convert.ts, models/converted.ts): IF neurons reproduce the ReLU they
// replace, a QCFS-trained network and its SNN agree exactly at T = L (with signed neurons, at every T
// with the network of T levels), a small trained CNN keeps its
// accuracy once converted (so a regression to chance fails here) and fine-tunes by BPTT, the zoo's
// targets convert and survive a model file, and what cannot be converted is refused by name.
import { expect, it } from 'vitest';
import { arrayDataset, type Dataset } from '../src/data/dataset.js';
import { Tensor } from '../src/engine/tensor.js';
import { AdaptiveAvgPool1d } from '../src/layers/adaptive-avg-pool.js';
import { BatchNorm, BatchNorm1d } from '../src/layers/batchnorm.js';
import { Conv1d } from '../src/layers/conv1d.js';
import { Dropout } from '../src/layers/dropout.js';
import { Flatten } from '../src/layers/flatten.js';
import { lifBackward, lifForward } from '../src/kernels/lif.js';
import { Leaky, type LeakySettings } from '../src/layers/leaky.js';
import { Linear } from '../src/layers/linear.js';
import { MaxPool1d } from '../src/layers/maxpool.js';
import { QCFS } from '../src/layers/qcfs.js';
import { ReLU } from '../src/layers/relu.js';
import { Residual } from '../src/layers/residual.js';
import { SpikeMaxPool1d } from '../src/layers/spike-maxpool.js';
import { resolveConfig } from '../src/models/config.js';
import { Network } from '../src/models/network.js';
import { deserializeModel, serializeModel } from '../src/models/serialize.js';
import { exportNir } from '../src/nir/export.js';
import { toSpiking } from '../src/models/spiking.js';
import type { Model } from '../src/models/types.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import { convert } from '../src/train/convert.js';
import { evaluate } from '../src/train/evaluate.js';
import { train } from '../src/train/trainer.js';
import { deriveSeed } from '../src/util/hash.js';
import { describeEachBuild, randArray, rng } from './helpers.js';

const ifNeuron = (steps: number, initial: number): LeakySettings => ({
  steps, beta: 1, threshold: 1, learnBeta: false, learnThreshold: false, surrogate: 'atan', form: 'current', reset: 'subtract', initial, signed: false,
});

/** [1, 32] signals: class k is a tone of k + 1 cycles at a random phase and amplitude, in noise. */
function tones(n: number, classes: number, seed: number): Dataset {
  const r = rng(seed);
  const L = 32;
  const x = new Float32Array(n * L);
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
  for (let i = 0; i < n; i++) {
    const [phase, amp] = [2 * Math.PI * r(), 0.5 + r()];
    for (let t = 0; t < L; t++) x[i * L + t] = amp * Math.sin((2 * Math.PI * (labels[i] + 1) * t) / L + phase) + 0.3 * (r() - 0.5);
  }
  return arrayDataset(x, labels, Array.from({ length: classes }, (_, k) => `tone${k}`), [1, L]);
}

/** M5's blocks and TC-ResNet's residual join in small: conv, batch norm, ReLU, max pool, a block, readout. */
function toneCnn(classes: number, seed: number, quantize = 0): Network {
  const s = (n: string) => deriveSeed(seed, n);
  const act = (name: string, tie?: QCFS) => (quantize ? new QCFS(name.replace('relu', 'qcfs'), quantize, undefined, tie) : new ReLU(name));
  const conv = (name: string, cin: number, cout: number, kernel: number) => new Conv1d(name, { inChannels: cin, outChannels: cout, kernel, padding: (kernel - 1) / 2 }, s(name));
  const main = [conv('block1.conv1', 8, 8, 3), new BatchNorm1d('block1.bn1', 8), act('block1.relu1')];
  const down = [conv('block1.down', 8, 8, 1), new BatchNorm1d('block1.bndown', 8), act('block1.reludown', main[2] as QCFS)];
  return new Network(resolveConfig('m5', { classes, seed, quantize }), [1, 32], [
    conv('conv1', 1, 8, 5), new BatchNorm1d('bn1', 8), act('relu1'), new MaxPool1d('pool1', 2),
    new Residual('block1', main, down),
    new AdaptiveAvgPool1d('avgpool', 1), new Flatten('flatten'), new Linear('fc', 8, classes, s('fc')),
  ]);
}

function logits(model: Model, x: Tensor): Float32Array {
  model.eval();
  return model.forward(x).toArray();
}

describeEachBuild('conversion', () => {
  it('an IF neuron fires at the rate of the ReLU it replaces, within 1/T (1/(2T) from half the threshold)', () => {
    for (const T of [4, 16, 64]) {
      const n = 2000;
      const xs = randArray(n, T, -0.5, 1.5);
      const x = Tensor.from(xs, [1, n]);
      for (const initial of [0, 0.5]) {
        const lif = new Leaky('lif', ifNeuron(T, initial));
        const out = lif.forward(x, { batch: 1, steps: T, training: false, count: false, spikesIn: false }).f32;
        let worst = 0;
        for (let j = 0; j < n; j++) {
          let count = 0;
          for (let t = 0; t < T; t++) count += out[t * n + j];
          worst = Math.max(worst, Math.abs(count / T - Math.min(Math.max(xs[j], 0), 1)));
        }
        expect(worst, `T=${T} initial=${initial}`).toBeLessThanOrEqual((initial ? 0.5 : 1) / T + 1e-6);
        lif.dispose();
      }
      x.free();
    }
  });

  it('a learned threshold moves the initial membrane with it: its gradient takes u0 times the initial membrane\'s', () => {
    const [T, n] = [6, 40];
    const x = Tensor.from(randArray(n, 8, 0, 0.9), [1, n]);
    const lif = new Leaky('lif', { ...ifNeuron(T, 0.5), threshold: 0.7, learnThreshold: true });
    lif.forward(x, { batch: 1, steps: T, training: true, count: false, spikesIn: false });
    const dy = Tensor.from(randArray(T * n, 9), [T, n]);
    lif.backward(dy, true);
    const record = { membrane: Tensor.empty([T, n]), spikes: Tensor.empty([T, n], 'u8'), out: Tensor.empty([T, n]) };
    const params = { ...lif.lifParams() };
    expect(params.initial).toBeCloseTo(0.35, 6);
    lifForward(x.reshape([n]), record, params);
    const g = lifBackward(dy, record, params, Tensor.empty([n]));
    expect(g.dinitial).not.toBe(0);
    expect(lif.threshold.grad.f32[0]).toBeCloseTo(g.dthreshold + 0.5 * g.dinitial, 4);
    for (const t of [x, dy, record.membrane, record.spikes, record.out]) t.free();
    lif.dispose();
  });

  it('a QCFS-trained network and its converted SNN give the same logits at T = L', async () => {
    const L = 8;
    const data = arrayDataset(randArray(96 * 6, 3, -2, 2), Array.from({ length: 96 }, (_, i) => i % 3), ['a', 'b', 'c'], [6]);
    const cnn = new Network(resolveConfig('tcy', { classes: 3, quantize: L }), [6], [
      new Linear('fc1', 6, 24, 1), new QCFS('qcfs1', L, 1), new Linear('fc', 24, 3, 2),
    ]);
    await train(cnn, { train: data }, { epochs: 3, batchSize: 16, lr: 0.02 });
    expect(cnn.parameters().find((p) => p.name === 'qcfs1.lambda')!.value.f32[0]).not.toBe(1);
    const snn = convert(cnn, { steps: L });
    expect(snn.config).toMatchObject({ spiking: true, converted: true, steps: L, beta: 1, initial: 0.5 });
    const x = Tensor.from(randArray(32 * 6, 4, -2, 2), [32, 6]);
    const [a, b] = [logits(cnn, x), logits(snn, x)];
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 4);
    // At T = 4 L the SNN no longer copies QCFS's L levels exactly, but it is the same function to
    // within a level per neuron.
    const longer = convert(cnn, { steps: 4 * L });
    const c = logits(longer, x);
    expect(Math.max(...c.map((v, i) => Math.abs(v - a[i])))).toBeLessThan(1);
    for (const m of [cnn, snn, longer]) m.dispose();
    x.free();
  });

  it('signed IF neurons: a two-layer QCFS network\'s SNN at T steps is the network with T levels exactly; unsigned ones miss it', async () => {
    const L = 8;
    const data = arrayDataset(randArray(96 * 6, 3, -2, 2), Array.from({ length: 96 }, (_, i) => i % 3), ['a', 'b', 'c'], [6]);
    const cnn = new Network(resolveConfig('tcy', { classes: 3, quantize: L }), [6], [
      new Linear('fc1', 6, 16, 1), new QCFS('qcfs1', L, 1), new Linear('fc2', 16, 16, 3), new QCFS('qcfs2', L, 1), new Linear('fc', 16, 3, 2),
    ]);
    await train(cnn, { train: data }, { epochs: 3, batchSize: 16, lr: 0.02 });
    // The same weights and λ with QCFS of T levels: what an SNN of T steps can at best compute.
    const levels = (T: number) => new Network(cnn.config, [6], cnn.layers.map((l) => (l instanceof QCFS ? new QCFS(l.name, T, l.scale) : l.clone())));
    const x = Tensor.from(randArray(64 * 6, 4, -2, 2), [64, 6]);
    const maxErr = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    for (const T of [2, 4, L, 2 * L]) {
      const twin = levels(T);
      const want = logits(twin, x);
      const [signed, unsigned] = [convert(cnn, { steps: T, signed: true }), convert(cnn, { steps: T })];
      expect(signed.config.signed).toBe(true);
      // Layer 2's currents change from step to step: an unsigned neuron that fires early cannot take
      // it back; a signed one can, so every count is its summed input rounded to a level.
      expect(maxErr(logits(signed, x), want), `signed T=${T}`).toBeLessThan(1e-4);
      expect(maxErr(logits(unsigned, x), want), `unsigned T=${T}`).toBeGreaterThan(0.02);
      for (const m of [twin, signed, unsigned]) m.dispose();
    }
    cnn.dispose();
    x.free();
  });

  it('a small trained CNN keeps its accuracy converted (ECC, T = 32; layer-wise, T = 64; signed ECC, T = 16 and 32) and fine-tunes at T = 4', async () => {
    const classes = 4;
    const data = { train: tones(256, classes, 1), validation: tones(64, classes, 2) };
    const test = tones(128, classes, 3);
    const cnn = toneCnn(classes, 7);
    await train(cnn, data, { epochs: 12, batchSize: 32, lr: 0.02, seed: 1 });
    const base = evaluate(cnn, test).top1;
    expect(base).toBeGreaterThan(0.9);
    for (const [method, steps, signed] of [['ecc', 32, false], ['layer', 64, false], ['ecc', 32, true], ['ecc', 16, true]] as const) {
      const snn = convert(cnn, { steps, method, calibration: data.train, signed });
      const top1 = evaluate(snn, test).top1;
      expect(top1, `${method}${signed ? ' signed' : ''} T=${steps}: ${top1} against the CNN's ${base}`).toBeGreaterThanOrEqual(base - 0.04);
      snn.dispose();
    }
    // Fine-tuning: BPTT through the IF neurons from the converted start improves a short-T SNN.
    const short = convert(cnn, { steps: 4, calibration: data.train });
    const before = evaluate(short, data.validation).loss;
    await train(short, data, { epochs: 2, batchSize: 32, lr: 0.003, seed: 2 });
    expect(evaluate(short, data.validation).loss).toBeLessThan(before);
    expect(evaluate(short, test).top1).toBeGreaterThanOrEqual(base - 0.1);
    // And through signed neurons (their −1 spikes' surrogate included).
    const signed = convert(cnn, { steps: 4, calibration: data.train, signed: true });
    const signedBefore = evaluate(signed, data.validation).loss;
    await train(signed, data, { epochs: 2, batchSize: 32, lr: 0.003, seed: 2 });
    expect(evaluate(signed, data.validation).loss).toBeLessThan(signedBefore);
    cnn.dispose();
    short.dispose();
    signed.dispose();
  });

  it('lays out the converted SNN: batch norm folded, IF neurons, spiking max pools, a moved pool, one unit per residual join', () => {
    const cnn = toneCnn(3, 4);
    // Make batch norm do something to fold.
    for (const bn of [cnn.layers[1], ...(cnn.layers[4] as Residual).sublayers()].filter((l): l is BatchNorm => l instanceof BatchNorm)) {
      bn.runningMean.f32.set(randArray(8, 5, -0.3, 0.3));
      bn.runningVar.f32.set(randArray(8, 6, 0.5, 2));
      bn.weight.value.f32.set(randArray(8, 7, 0.5, 1.5));
    }
    const calibration = tones(32, 3, 9);
    const snn = convert(cnn, { steps: 200, method: 'channel', percentile: 100, calibration }) as Network;
    const names = (layers: readonly { name: string; constructor: { name: string } }[]) => layers.map((l) => `${l.constructor.name}:${l.name}`);
    expect(names(snn.layers)).toEqual(['Encoder:encoder', 'Conv1d:conv1', 'Leaky:lif1', 'SpikeMaxPool1d:pool1', 'Residual:block1', 'AdaptiveAvgPool1d:avgpool', 'Flatten:flatten', 'Linear:fc']);
    const block = snn.layers[4] as Residual;
    expect(names(block.main)).toEqual(['Conv1d:block1.conv1', 'Leaky:block1.lif1']);
    // With the max scale and many steps, the SNN computes the CNN (rates to within 1/T per layer).
    const x = Tensor.from(Array.from({ length: 8 }, (_, i) => Array.from(calibration.features(i))).flat(), [8, 1, 32]);
    const [a, b] = [logits(cnn, x), logits(snn, x)];
    const scale = Math.max(...a.map(Math.abs));
    for (let i = 0; i < a.length; i++) expect(Math.abs(b[i] - a[i])).toBeLessThan(0.1 * scale);
    // Piczak's order: a max pool over changing currents trades places with the ReLU after it.
    const piczakLike = new Network(resolveConfig('piczak', { classes: 2 }), [1, 12], [
      new Conv1d('conv1', { inChannels: 1, outChannels: 2, kernel: 3 }, 1), new ReLU('relu1'),
      new Conv1d('conv2', { inChannels: 2, outChannels: 2, kernel: 3 }, 2), new MaxPool1d('pool2', 2), new Dropout('drop2', 0.5, 3), new ReLU('relu2'),
      new Flatten('flatten'), new Linear('fc', 8, 2, 4),
    ]);
    const moved = convert(piczakLike, { steps: 4, method: 'layer', calibration: arrayDataset(randArray(48, 1), [0, 1, 0, 1], ['a', 'b'], [1, 12]) }) as Network;
    expect(names(moved.layers).slice(4, 8)).toEqual(['Dropout:drop2', 'Leaky:lif2', 'SpikeMaxPool1d:pool2', 'Flatten:flatten']);
    expect(moved.layers[7].emitsSpikes(true)).toBe(true);
    for (const m of [cnn, snn, piczakLike, moved]) m.dispose();
    x.free();
  });

  it('converts the zoo\'s m5, tcresnet8 and tcy; the model file rebuilds the converted SNN', () => {
    for (const name of ['m5', 'tcresnet8', 'tcy'] as const) {
      const cnn = createModel(name, { classes: 3, seed: 1 });
      const size = cnn.inputShape.reduce((a, b) => a * b, 1);
      const calibration = arrayDataset(randArray(4 * size, 2), [0, 1, 2, 0], ['a', 'b', 'c'], cnn.inputShape);
      // TC-ResNet8's residual joins take signed spikes from both paths.
      const snn = convert(cnn, { steps: 3, calibration, samples: 4, signed: name === 'tcresnet8' });
      const x = Tensor.from(randArray(2 * size, 3), [2, ...cnn.inputShape]);
      const y = logits(snn, x);
      const { model: again } = deserializeModel(serializeModel(snn, { classNames: ['a', 'b', 'c'], features: featuresFor(name) }));
      expect(again.config).toEqual(snn.config);
      expect(again.config.signed).toBe(name === 'tcresnet8');
      expect(logits(again, x)).toEqual(y);
      if (name === 'm5') expect((snn as Network).layers.filter((l) => l instanceof SpikeMaxPool1d)).toHaveLength(4);
      if (name === 'm5') expect((snn as Network).layers.some((l) => l instanceof BatchNorm)).toBe(false);
      // Tcy is linear: its SNN is the CNN exactly.
      if (name === 'tcy') logits(cnn, x).forEach((v, i) => expect(y[i]).toBeCloseTo(v, 5));
      for (const m of [cnn, snn, again]) m.dispose();
      x.free();
    }
  });

  it('NIR export refuses signed neurons by name and writes the unsigned conversion', async () => {
    const cnn = new Network(resolveConfig('tcy', { classes: 2 }), [4], [new Linear('fc1', 4, 5, 1), new ReLU('relu1'), new Linear('fc', 5, 2, 2)]);
    const calibration = arrayDataset(randArray(16, 1), [0, 1, 0, 1], ['a', 'b'], [4]);
    const [signed, unsigned] = [true, false].map((s) => convert(cnn, { steps: 4, calibration, signed: s }));
    await expect(exportNir(signed)).rejects.toThrow(/lif1: signed neurons fire −1 below zero.*NIR's LIF and IF nodes emit 0\/1 only/);
    expect((await exportNir(unsigned)).length).toBeGreaterThan(0);
    for (const m of [cnn, signed, unsigned]) m.dispose();
  });

  it('refuses what it cannot convert, naming the reason', () => {
    const cnn = createModel('hjh', { classes: 2 });
    const calibration = arrayDataset(randArray(60 * 134, 1), [0], ['a', 'b'], [1, 60, 134]);
    expect(() => convert(cnn, { steps: 4, method: 'qcfs' })).toThrow(/method qcfs needs a CNN trained with QCFS activations/);
    expect(() => convert(cnn, { steps: 4, method: 'ecc' })).toThrow(/method ecc measures the CNN's activations: give calibration data/);
    expect(() => convert(cnn, { steps: 4, method: 'bogus' as never, calibration })).toThrow(/method must be one of layer, channel, ecc, qcfs/);
    const scnn = toSpiking(cnn, { name: 'hjh-scnn', steps: 2 });
    expect(() => convert(scnn, { steps: 4, calibration })).toThrow(/already spiking/);
    expect(() => createModel('hjh-scnn', { converted: true })).toThrow(/hjh-scnn is not a CNN to convert/);
    expect(() => createModel('hjh', { spiking: true, converted: true, encoder: 'rate' })).toThrow(/analog input \(encoder repeat\)/);
    for (const m of [cnn, scnn]) m.dispose();
  });
});
