// The residual block and its join: the add kernel against plain JS sums, the finiteness scan against a JS one, the block against its paths
// run one by one, and its backward against finite differences.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { add, firstNonFinite } from '../src/kernels/elementwise.js';
import { BatchNorm1d } from '../src/layers/batchnorm.js';
import { Conv1d } from '../src/layers/conv1d.js';
import type { ForwardContext, Layer } from '../src/layers/layer.js';
import { ReLU } from '../src/layers/relu.js';
import { Residual } from '../src/layers/residual.js';
import { Reshape } from '../src/layers/reshape.js';
import type { Network } from '../src/models/network.js';
import { toSpiking } from '../src/models/spiking.js';
import { createModel } from '../src/models/zoo.js';
import { describeEachBuild, finiteDiff, maxRelErr, randArray } from './helpers.js';

const ctx = (batch: number): ForwardContext => ({ batch, steps: 1, training: true, count: false, spikesIn: false });

function block(withShortcut: boolean, seed: number): Residual {
  const main: Layer[] = [
    new Conv1d('conv1', { inChannels: 3, outChannels: 4, kernel: 3, stride: withShortcut ? 2 : 1, padding: 1 }, seed),
    new BatchNorm1d('bn1', 4),
    new Conv1d('conv2', { inChannels: 4, outChannels: withShortcut ? 4 : 3, kernel: 3, padding: 1 }, seed + 1),
  ];
  const shortcut = withShortcut ? [new Conv1d('down', { inChannels: 3, outChannels: 4, kernel: 1, stride: 2 }, seed + 2)] : [];
  return new Residual('block', main, shortcut);
}

describeEachBuild('residual', () => {
  it('add sums elementwise at every size, in place too', () => {
    for (const n of [1, 3, 4, 5, 7, 33, 1001]) {
      const a = randArray(n, n), b = randArray(n, n + 1);
      const ta = Tensor.from(a, [n]), tb = Tensor.from(b, [n]), ty = Tensor.empty([n]);
      add(ta, tb, ty);
      expect([...ty.f32]).toEqual([...a].map((v, i) => Math.fround(v + b[i])));
      add(ta, tb, ta);
      expect([...ta.f32]).toEqual([...ty.f32]);
      for (const t of [ta, tb, ty]) t.free();
    }
    const a = Tensor.zeros([2, 3]);
    expect(() => add(a, Tensor.zeros([3, 2]), a)).toThrow(/add: b has shape \[3,2\], expected \[2,3\]/);
  });

  it('firstNonFinite finds the first NaN or infinity at every position, as a JS scan does', () => {
    const reference = (v: Float32Array) => v.findIndex((x) => !Number.isFinite(x));
    for (const n of [0, 1, 5, 15, 16, 17, 33, 64, 1001]) {
      const t = Tensor.from(randArray(n, n).map((v) => v * 1e30), [n]);
      expect(firstNonFinite(t)).toBe(-1);
      for (const bad of [NaN, Infinity, -Infinity])
        for (const at of new Set([0, n >> 1, n - 1].filter((i) => i >= 0 && i < n))) {
          const v = t.f32;
          const saved = v[at];
          v[at] = bad;
          if (at + 3 < n) v[at + 3] = NaN; // a later one must not be reported instead
          expect(firstNonFinite(t), `n=${n} ${bad} at ${at}`).toBe(reference(v));
          expect(firstNonFinite(t)).toBe(at);
          v[at] = saved;
          if (at + 3 < n) v[at + 3] = 1;
        }
      t.free();
    }
    // The largest finite f32 is finite: v - v is 0, not NaN.
    expect(firstNonFinite(Tensor.from([3.4028234663852886e38, -3.4028234663852886e38], [2]))).toBe(-1);
  });

  for (const withShortcut of [false, true]) {
    const label = withShortcut ? 'a strided block with a 1x1 convolution shortcut' : 'a block with the identity shortcut';
    it(`${label}: forward is main(x) + shortcut(x), backward matches finite differences`, () => {
      const B = 2, L = 9;
      const b = block(withShortcut, 7);
      const x = Tensor.from(randArray(B * 3 * L, 1), [B, 3, L]);
      const y = b.forward(x, ctx(B));
      // The paths run one by one on clones of the same layers, summed in JS.
      const runPath = (path: readonly Layer[]) => path.reduce((h, l) => l.clone().forward(h, ctx(B)), x);
      const main = runPath(b.main).toArray();
      const short = b.shortcut.length ? runPath(b.shortcut).toArray() : x.toArray();
      expect(maxRelErr(y.toArray(), main.map((v, i) => v + short[i]))).toBeLessThanOrEqual(1);

      const r = randArray(y.size, 2);
      const loss = (): number => {
        const out = b.forward(x, ctx(B)).f32;
        let s = 0;
        for (let i = 0; i < out.length; i++) s += r[i] * out[i];
        return s;
      };
      loss();
      const dx = b.backward(Tensor.from(r, y.shape), true)!.toArray();
      const grads = b.parameters().map((p) => p.grad.toArray());
      const xi = [0, 5, 13, 26, 40, 53];
      const xv = x.f32;
      expect(maxRelErr(xi.map((i) => dx[i]), finiteDiff(xv, xi, loss), 2e-2, 2e-2)).toBeLessThanOrEqual(1);
      b.parameters().forEach((p, k) => {
        const idx = [0, Math.floor(p.value.size / 2), p.value.size - 1];
        expect(maxRelErr(idx.map((i) => grads[k][i]), finiteDiff(p.value.f32, idx, loss), 2e-2, 2e-2), p.name).toBeLessThanOrEqual(1);
      });
      b.dispose();
      x.free();
    });
  }

  it('a spiking block emits spike counts, and the next layer counts one accumulate per spike', () => {
    const cnn = createModel('tcresnet8', { classes: 4 });
    const snn = toSpiking(cnn, { steps: 2 });
    cnn.dispose();
    const blocks = (snn as Network).layers.filter((l): l is Residual => l instanceof Residual);
    expect(blocks.map((b) => b.emitsSpikes(false))).toEqual([true, true, true]);
    // Block 2's first convolution sees block 1's sum: 0, 1 or 2 spikes per neuron, counted as accumulates.
    snn.countActivity = true;
    snn.eval();
    const x = Tensor.from(randArray(2 * 60 * 134, 9, -2, 2), [2, 1, 60, 134]);
    snn.forward(x);
    const conv = snn.activity().layers.find((l) => l.name === 'block2.conv1')!;
    expect(conv.macs).toBe(0);
    expect(conv.acs).toBeGreaterThan(0);
    x.free();
    snn.dispose();
  });

  it('refuses paths of different shapes, naming the block', () => {
    const b = new Residual('block3', [new ReLU('relu')], [new Reshape('flat', [12])]);
    expect(() => b.outputShape([3, 4])).toThrow(/block3: the main path gives \[3,4\], the shortcut \[12\]/);
    expect(() => new Reshape('r', [5]).outputShape([2, 3])).toThrow(/r: cannot reshape \[2,3\] \(6 values\) to \[5\]/);
  });
});
