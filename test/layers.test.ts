// Layers one by one: shapes, names, errors; batch norm's statistics per step and in eval; dropout's
// masks; Leaky's broadcast of an input kept once; exact synaptic-operation counts; threshold balancing.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { AdaptiveAvgPool1d, AdaptiveAvgPool2d } from '../src/layers/adaptive-avg-pool.js';
import { BatchNorm1d, BatchNorm2d } from '../src/layers/batchnorm.js';
import { Conv1d } from '../src/layers/conv1d.js';
import { Conv2d } from '../src/layers/conv2d.js';
import { Dropout } from '../src/layers/dropout.js';
import { Encoder } from '../src/layers/encoder.js';
import { Flatten } from '../src/layers/flatten.js';
import type { ForwardContext } from '../src/layers/layer.js';
import { Leaky, type LeakySettings } from '../src/layers/leaky.js';
import { Linear } from '../src/layers/linear.js';
import { MaxPool1d, MaxPool2d } from '../src/layers/maxpool.js';
import { arrayDataset } from '../src/data/dataset.js';
import { balanceThresholds, percentileOf } from '../src/train/balance.js';
import type { Network } from '../src/models/network.js';
import { toSpiking } from '../src/models/spiking.js';
import { createModel } from '../src/models/zoo.js';
import { describeEachBuild, maxRelErr, randArray } from './helpers.js';
import { smallCnn1d, smallCnn2d } from './small-models.js';

const ctx = (batch: number, o: Partial<ForwardContext> = {}): ForwardContext => ({ batch, steps: 1, training: true, count: false, spikesIn: false, ...o });

const neuron = (o: Partial<LeakySettings> = {}): LeakySettings => ({
  steps: 3, beta: 0.7, threshold: 0.5, learnBeta: false, learnThreshold: false, surrogate: 'atan', form: 'current', reset: 'subtract', initial: 0, signed: false, ...o,
});

describeEachBuild('layers', () => {
  it('report per-row output shapes and refuse inputs that do not fit, naming the layer', () => {
    expect(new Conv1d('c', { inChannels: 1, outChannels: 4, kernel: 80, stride: 4, padding: 39 }, 1).outputShape([1, 4000])).toEqual([4, 1000]);
    expect(new Conv2d('c', { inChannels: 2, outChannels: 3, kernel: [5, 5], padding: 'same' }, 1).outputShape([2, 7, 9])).toEqual([3, 7, 9]);
    expect(new MaxPool2d('p', [4, 3], [1, 3]).outputShape([80, 4, 129])).toEqual([80, 1, 43]);
    expect(new MaxPool1d('p', 4).outputShape([128, 1000])).toEqual([128, 250]);
    expect(new AdaptiveAvgPool2d('a', [10, 10]).outputShape([1, 60, 134])).toEqual([1, 10, 10]);
    expect(new AdaptiveAvgPool1d('a', 1).outputShape([512, 3])).toEqual([512, 1]);
    expect(new Flatten('f').outputShape([16, 1, 1])).toEqual([16]);
    expect(() => new Conv2d('conv9', { inChannels: 2, outChannels: 3, kernel: [3, 3] }, 1).outputShape([3, 7, 9])).toThrow(/conv9|expects 2 input channels/);
    expect(() => new Linear('fc7', 10, 2, 1).outputShape([11])).toThrow(/fc7: input has shape \[11\] per row, expected \[10\]/);
    expect(() => new BatchNorm2d('bn3', 4).outputShape([5, 2, 2])).toThrow(/bn3: input has shape \[5,2,2\] per row, expected \[4, H, W\]/);
    expect(() => new MaxPool1d('pool2', 2).outputShape([3, 4, 5])).toThrow(/pool2: input has shape \[3,4,5\] per row, expected \[C, L\]/);
    expect(() => new Dropout('d', 1, 0)).toThrow(/d: dropout probability must be in \[0, 1\)/);
    // The layer's guard is the model settings' rule (NEURON_SETTINGS), worded the same, naming the layer.
    expect(() => new Leaky('lif1', neuron({ beta: 2 }))).toThrow(/^lif1: beta must be a number in \[0, 1\], got 2$/);
    expect(() => new Leaky('lif1', neuron({ beta: NaN }))).toThrow(/lif1: beta must be a number in \[0, 1\]/);
    expect(() => new Leaky('lif2', neuron({ threshold: 0 }))).toThrow(/^lif2: threshold must be a positive number, got 0$/);
    expect(() => new Leaky('lif2', neuron({ threshold: Infinity }))).toThrow(/lif2: threshold must be a positive number/);
    expect(() => new Leaky('lif3', neuron({ steps: 0 }))).toThrow(/^lif3: steps must be an integer >= 1, got 0$/);
  });

  it('name parameters as PyTorch and exempt biases, batch-norm affine, beta and threshold from weight decay', () => {
    const conv = new Conv1d('conv1', { inChannels: 2, outChannels: 3, kernel: 5 }, 1);
    const bn = new BatchNorm1d('bn1', 3);
    const fixed = new Leaky('lif1', neuron());
    const learned = new Leaky('lif2', neuron({ learnBeta: true, learnThreshold: true }));
    const summary = [conv, bn, fixed, learned].flatMap((l) => l.parameters().map((p) => `${p.name}[${p.value.shape}]${p.weightDecay ? '+wd' : ''}`));
    expect(summary).toEqual(['conv1.weight[3,2,5]+wd', 'conv1.bias[3]', 'bn1.weight[3]', 'bn1.bias[3]', 'lif2.beta[1]', 'lif2.threshold[1]']);
    expect([bn, fixed, learned].flatMap((l) => l.buffers().map((b) => b.name))).toEqual(['bn1.running_mean', 'bn1.running_var', 'lif1.beta', 'lif1.threshold']);
    for (const l of [conv, bn, fixed, learned]) l.dispose();
  });

  it('batch norm normalises each step with its own statistics and updates the running ones once per step', () => {
    const [B, C, L, T] = [2, 3, 5, 4];
    const bn = new BatchNorm1d('bn', C);
    bn.weight.value.f32.set([1.5, 0.5, 2]);
    bn.bias.value.f32.set([0.1, -0.2, 0.3]);
    const xs = randArray(T * B * C * L, 1, -2, 3);
    const x = Tensor.from(xs, [T * B, C, L]);
    const y = bn.forward(x, ctx(B, { steps: T })).toArray();
    const rm = [0, 0, 0];
    const rv = [1, 1, 1];
    const want = new Float64Array(xs.length);
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) {
      const vals: number[] = [];
      for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) vals.push(xs[((t * B + b) * C + c) * L + l]);
      const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
      const sq = vals.reduce((a, v) => a + (v - mean) ** 2, 0);
      rm[c] = 0.9 * rm[c] + 0.1 * mean;
      rv[c] = 0.9 * rv[c] + 0.1 * (sq / (vals.length - 1));
      for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
        const i = ((t * B + b) * C + c) * L + l;
        want[i] = bn.weight.value.f32[c] * (xs[i] - mean) / Math.sqrt(sq / vals.length + 1e-5) + bn.bias.value.f32[c];
      }
    }
    expect(maxRelErr(y, want, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
    expect(maxRelErr(bn.runningMean.f32, rm, 1e-6, 1e-4)).toBeLessThanOrEqual(1);
    expect(maxRelErr(bn.runningVar.f32, rv, 1e-6, 1e-4)).toBeLessThanOrEqual(1);
    // Eval: the running statistics, all rows alike.
    const e = bn.forward(x, ctx(B, { steps: T, training: false })).toArray();
    const wantEval = xs.map((v, i) => {
      const c = Math.floor(i / L) % C;
      return bn.weight.value.f32[c] * (v - rm[c]) / Math.sqrt(rv[c] + 1e-5) + bn.bias.value.f32[c];
    });
    expect(maxRelErr(e, wantEval, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
    expect(() => bn.backward(x, true)).toThrow(/bn: backward needs a training-mode forward/);
    x.free();
    bn.dispose();
  });

  it('dropout: identity in eval; in training zeroes about p, scales the rest, routes the gradient the same way, repeats from its seed and call count', () => {
    const n = 4000;
    const x = Tensor.from(randArray(n, 2, 0.5, 1.5), [40, 100]);
    const d = new Dropout('drop', 0.5, 9);
    const twin = d.clone();
    expect(d.forward(x, ctx(40, { training: false }))).toBe(x);
    const y = d.forward(x, ctx(40)).toArray();
    const xs = x.f32;
    const kept = y.filter((v) => v !== 0).length / n;
    expect(kept).toBeGreaterThan(0.45);
    expect(kept).toBeLessThan(0.55);
    y.forEach((v, i) => v !== 0 && expect(v).toBeCloseTo(xs[i] * 2, 5));
    const dy = Tensor.from(randArray(n, 3), [40, 100]);
    const dx = d.backward(dy, true)!.toArray();
    const dys = dy.f32;
    dx.forEach((v, i) => expect(v).toBeCloseTo(y[i] !== 0 ? dys[i] * 2 : 0, 5));
    const second = d.forward(x, ctx(40)).toArray();
    expect(second).not.toEqual(y);
    // The call count is state (a buffer): restoring it repeats the masks, as a resumed run must.
    expect(d.buffers().map((b) => [b.name, b.value.f32[0]])).toEqual([['drop.calls', 2]]);
    expect(twin.forward(x, ctx(40)).toArray()).toEqual(y);
    twin.calls.f32[0] = 1;
    expect(twin.forward(x, ctx(40)).toArray()).toEqual(second);
    for (const t of [x, dy]) t.free();
    d.dispose();
    twin.dispose();
  });

  it('Leaky: an input kept once equals the same input at every step; its gradient is the sum over the steps', () => {
    const [B, F, T] = [2, 7, 3];
    const xs = randArray(B * F, 4, -0.5, 1.5);
    const once = Tensor.from(xs, [B, F]);
    const repeated = Tensor.from([...xs, ...xs, ...xs], [T * B, F]);
    const a = new Leaky('lif', neuron({ steps: T, learnBeta: true }));
    const b = new Leaky('lif', neuron({ steps: T, learnBeta: true }));
    const ya = a.forward(once, ctx(B, { steps: T, count: true }));
    const yb = b.forward(repeated, ctx(B, { steps: T }));
    expect(ya.shape).toEqual([T * B, F]);
    expect(ya.toArray()).toEqual(yb.toArray());
    const spikes = ya.toArray().reduce((s, v) => s + v, 0);
    expect(spikes).toBeGreaterThan(0);
    expect(a.activity()).toEqual({ name: 'lif', neurons: F, spikeRate: spikes / (T * B * F) });
    const dy = Tensor.from(randArray(T * B * F, 5), [T * B, F]);
    const da = a.backward(dy, true)!.toArray();
    const db = b.backward(dy, true)!.toArray();
    const summed = Array.from(da, (_, i) => db[i] + db[i + B * F] + db[i + 2 * B * F]);
    expect(maxRelErr(da, summed, 1e-6, 1e-5)).toBeLessThanOrEqual(1);
    expect(a.beta.grad.f32[0]).toBeCloseTo(b.beta.grad.f32[0], 4);
    expect(() => a.forward(Tensor.zeros([2 * B, F]), ctx(B, { steps: T }))).toThrow(/lif: 4 rows are neither one batch of 2 nor 3 steps/);
    for (const t of [once, repeated, dy]) t.free();
    a.dispose();
    b.dispose();
  });

  it('encoder: repeat kept once or unrolled, rate and latency spikes time-major, rate draws repeat from the call count', () => {
    const [B, F, T] = [2, 5, 3];
    const xs = randArray(B * F, 9, 0, 1);
    const x = Tensor.from(xs, [B, 1, F]);
    const c = ctx(B, { steps: T });
    const once = new Encoder('encoder', 'repeat', T, 1);
    expect(once.forward(x, c)).toBe(x);
    once.repeatOnce = false;
    expect(Array.from(once.forward(x, c).f32)).toEqual([...xs, ...xs, ...xs].map(Math.fround));
    const rate = new Encoder('encoder', 'rate', T, 1);
    const first = rate.forward(x, c);
    expect(first.shape).toEqual([T * B, 1, F]);
    const a = first.toArray();
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
    expect(rate.emitsSpikes()).toBe(true);
    expect(rate.buffers().map((b) => [b.name, b.value.f32[0]])).toEqual([['encoder.calls', 1]]);
    rate.calls.f32[0] = 0;
    expect(rate.forward(x, c).toArray()).toEqual(a);
    const latency = new Encoder('encoder', 'latency', T, 1);
    const l = latency.forward(x, c).toArray();
    for (let i = 0; i < B * F; i++) expect(l[i] + l[i + B * F] + l[i + 2 * B * F]).toBeLessThanOrEqual(1);
    x.free();
    for (const e of [once, rate, latency]) e.dispose();
  });

  it('counts synaptic operations exactly: accumulates per input spike and weight reached, borders and strides included', () => {
    const [R, C, H, W] = [2, 3, 5, 6];
    const conv = new Conv2d('conv', { inChannels: C, outChannels: 4, kernel: [3, 2], stride: [2, 1], padding: [1, 0] }, 1);
    const spikes = randArray(R * C * H * W, 6).map((v) => +(v > 0.3));
    const x = Tensor.from(spikes, [R, C, H, W]);
    conv.forward(x, ctx(1, { steps: R, count: true, spikesIn: true }));
    // Naive: every (output, weight) pair whose input is a spike.
    const [, , OH, OW] = [0, 0, 3, 5];
    let acs = 0;
    for (let r = 0; r < R; r++) for (let o = 0; o < 4; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++)
      for (let c = 0; c < C; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) {
        const h = oh * 2 - 1 + i;
        const w = ow + j;
        if (h >= 0 && h < H && w < W && spikes[((r * C + c) * H + h) * W + w]) acs++;
      }
    const dense = 4 * OH * OW * C * 3 * 2;
    expect(conv.activity(1)).toEqual({ name: 'conv', denseMacs: dense, macs: 0, acs });
    conv.resetActivity();
    conv.forward(x, ctx(1, { steps: R, count: true }));
    expect(conv.activity(1)).toEqual({ name: 'conv', denseMacs: dense, macs: dense * R, acs: 0 });
    const fc = new Linear('fc', C * H * W, 5, 1);
    fc.forward(x.reshape([R, C * H * W]), ctx(R, { count: true, spikesIn: true }));
    expect(fc.activity(R)).toEqual({ name: 'fc', denseMacs: C * H * W * 5, macs: 0, acs: (spikes.reduce((s, v) => s + v, 0) * 5) / R });
    x.free();
    conv.dispose();
    fc.dispose();
  });

  it('a model reports spike rates and operations per sample: MACs on its analog input, ACs after spikes', () => {
    const snn = toSpiking(smallCnn1d(3, 1), { steps: 3, threshold: 0.3 });
    const x = Tensor.from(randArray(4 * 12, 8), [4, 1, 12]);
    snn.eval();
    snn.resetActivity();
    snn.forward(x);
    expect(snn.activity().samples).toBe(0); // counting is opt-in: it costs time on the inference path
    snn.countActivity = true;
    snn.forward(x);
    snn.forward(x);
    const a = snn.activity();
    expect(a.samples).toBe(8);
    const by = new Map(a.layers.map((l) => [l.name, l]));
    expect(by.get('conv1')).toEqual({ name: 'conv1', denseMacs: 3 * 12 * 3, macs: 3 * 3 * 12 * 3, acs: 0 });
    expect(by.get('conv2')!.macs).toBe(0);
    expect(by.get('conv2')!.acs).toBeGreaterThan(0);
    expect(by.get('conv2')!.acs).toBeLessThanOrEqual(3 * by.get('conv2')!.denseMacs!);
    expect(by.get('fc')).toMatchObject({ denseMacs: 12, macs: 36, acs: 0 });
    expect(by.get('lif1')!.neurons).toBe(36);
    expect(by.get('lif1')!.spikeRate).toBeGreaterThan(0);
    expect(a.macs).toBe(3 * 108 + 36);
    expect(a.denseMacs).toBe(108 + by.get('conv2')!.denseMacs! + 12);
    const cnn = smallCnn1d(3, 1);
    cnn.eval();
    cnn.countActivity = true;
    cnn.forward(x);
    expect(cnn.activity().macs).toBe(cnn.activity().denseMacs);
    expect(cnn.activity().acs).toBe(0);
    snn.train();
    snn.resetActivity();
    snn.forward(x);
    expect(snn.activity().samples).toBe(4); // counted in training mode too when asked
    // Rate-encoded input is spikes: the first convolution accumulates too.
    const rate = toSpiking(smallCnn1d(3, 1), { steps: 3, encoder: 'rate' });
    const p = Tensor.from(randArray(4 * 12, 8, 0, 1), [4, 1, 12]);
    rate.eval();
    rate.countActivity = true;
    rate.forward(p);
    const conv1 = rate.activity().layers.find((l) => l.name === 'conv1')!;
    expect(conv1.macs).toBe(0);
    expect(conv1.acs).toBeGreaterThan(0);
    p.free();
    rate.dispose();
    x.free();
    snn.dispose();
    cnn.dispose();
  });

  it('balances thresholds layer by layer at the chosen percentile of the positive input currents', () => {
    const classes = ['a', 'b'];
    const n = 40;
    const features = randArray(n * 60 * 134, 12, -1, 3);
    const data = arrayDataset(features, Array.from({ length: n }, (_, i) => i % 2), classes, [1, 60, 134]);
    const tcy = createModel('tcy', { classes: 2, spiking: true, steps: 2 }) as Network;
    balanceThresholds(tcy, data, { batches: 2, percentile: 90 });
    const lif = tcy.layers[1] as Leaky;
    expect(lif.threshold.value.f32[0]).toBeCloseTo(percentileOf(features.filter((v) => v > 0), 90), 5);
    expect(tcy.training).toBe(true);

    const snn = toSpiking(smallCnn2d(2, 3), { steps: 3 }) as Network;
    const small = arrayDataset(randArray(n * 48, 13, -1, 3), Array.from({ length: n }, (_, i) => i % 2), classes, [1, 6, 8]);
    balanceThresholds(snn, small);
    const leakies = snn.layers.filter((l): l is Leaky => l instanceof Leaky);
    expect(leakies).toHaveLength(3);
    // Each threshold is the 99.9th percentile of what its layer receives with the layers before it balanced.
    snn.eval();
    const x = Tensor.from(Array.from({ length: n }, (_, i) => Array.from(small.features(i))).flat(), [n, 1, 6, 8]);
    for (const leaky of leakies) {
      let seen: Float32Array = new Float32Array();
      leaky.probe = (input) => (seen = input.toArray().filter((v) => v > 0));
      snn.forward(x);
      leaky.probe = null;
      expect(leaky.threshold.value.f32[0]).toBeCloseTo(percentileOf(seen, 99.9), 4);
    }
    expect(() => balanceThresholds(smallCnn1d(), small)).toThrow(/needs a spiking model/);
    expect(() => balanceThresholds(tcy, small)).toThrow(/samples have shape \[1,6,8\], the tcy model takes \[1,60,134\]/);
    x.free();
    tcy.dispose();
    snn.dispose();
  });
});
