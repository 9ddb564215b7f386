// Whole-model gradients, end to end: the model's forward against an independent f64 reference, and
// its backward against central differences of that reference (for an SNN, of the reference with its
// spikes linearised at the surrogate's slope, which is what BPTT differentiates). Also: keeping a
// repeat-encoded input once gives the same logits, gradients and running statistics as unrolling it.
import { expect, it } from 'vitest';
import { Tensor } from '../src/engine/tensor.js';
import { BatchNorm } from '../src/layers/batchnorm.js';
import { Encoder } from '../src/layers/encoder.js';
import type { Network } from '../src/models/network.js';
import { toSpiking } from '../src/models/spiking.js';
import type { LifForm, SurrogateName } from '../src/kernels/lif.js';
import { closestToThreshold, referenceForward, type Trace, weightsOf } from './reference-model.js';
import { describeEachBuild, maxRelErr, randArray, rng } from './helpers.js';
import { smallCnn1d, smallCnn2d } from './small-models.js';

const BATCH = 3;

function input(model: Network, seed: number, scale: number): Float32Array {
  return randArray(BATCH * model.inputShape.reduce((a, b) => a * b, 1), seed, -scale, scale);
}

/** Forward + backward of sum(r * logits); returns the logits and each parameter's gradient. */
function modelGradients(model: Network, xs: Float32Array, r: Float32Array): { logits: Float32Array; grads: Map<string, Float32Array> } {
  model.train();
  const x = Tensor.from(xs, [BATCH, ...model.inputShape]);
  const logits = model.forward(x).toArray();
  const dl = Tensor.from(r, [BATCH, model.classes]);
  model.backward(dl);
  x.free();
  dl.free();
  return { logits, grads: new Map(model.parameters().map((p) => [p.name, p.grad.toArray()])) };
}

function checkAgainstReference(model: Network, xs: Float32Array): void {
  const r = randArray(BATCH * model.classes, 99);
  const { logits, grads } = modelGradients(model, xs, r);
  const weights = weightsOf(model);
  const trace: Trace = new Map();
  const x64 = Float64Array.from(xs);
  const ref = referenceForward(model, weights, x64, BATCH, trace, 'record');
  expect(maxRelErr(logits, ref, 1e-4, 1e-3)).toBeLessThanOrEqual(1);
  if (model.spiking) {
    // f32 and f64 membranes must fall on the same side of the threshold, and the data must make spikes.
    expect(closestToThreshold(trace)).toBeGreaterThan(1e-4);
    const spikes = [...trace.values()].flatMap((t) => (t.h0 ? [t.h0.reduce((a, b) => a + b, 0) / t.h0.length] : []));
    for (const rate of spikes) expect(rate).toBeGreaterThan(0.02);
  }
  const loss = () => referenceForward(model, weights, x64, BATCH, trace, 'replay').reduce((s, v, i) => s + v * r[i], 0);
  const pick = rng(5);
  for (const p of model.parameters()) {
    const w = weights.get(p.name)!;
    const indices = [...new Set(Array.from({ length: Math.min(6, w.length) }, () => Math.floor(pick() * w.length)))];
    const fd = indices.map((i) => {
      const w0 = w[i];
      const h = 1e-4 * Math.max(1, Math.abs(w0));
      w[i] = w0 + h;
      const up = loss();
      w[i] = w0 - h;
      const down = loss();
      w[i] = w0;
      return (up - down) / (2 * h);
    });
    const got = indices.map((i) => grads.get(p.name)![i]);
    expect(maxRelErr(got, fd, 2e-4, 2e-3), `${p.name}: backward ${got} vs differences ${fd}`).toBeLessThanOrEqual(1);
  }
}

describeEachBuild('model gradients', () => {
  for (const [label, build, scale] of [['1d', smallCnn1d, 1], ['2d', smallCnn2d, 2]] as const) {
    it(`${label} CNN: forward matches the f64 reference, backward its central differences`, () => {
      const cnn = build(3, 11);
      checkAgainstReference(cnn, input(cnn, 21, scale));
      cnn.dispose();
    });

    const neurons: [SurrogateName, LifForm, boolean][] = [
      ['straight-through', 'legacy', false],
      ['atan', 'current', true],
    ];
    for (const [surrogate, form, learn] of neurons) {
      it(`${label} SNN T=4 (${form}, ${surrogate}${learn ? ', learned beta and threshold' : ''}): BPTT matches the linearised reference`, () => {
        const cnn = build(3, 11);
        const snn = toSpiking(cnn, { steps: 4, surrogate, form, beta: 0.6, threshold: 0.4, learnBeta: learn, learnThreshold: learn }) as Network;
        cnn.dispose();
        checkAgainstReference(snn, input(snn, 21, scale));
        snn.dispose();
      });
    }

    it(`${label} SNN: a repeat-encoded input kept once gives the unrolled logits, gradients and running statistics`, () => {
      const cnn = build(3, 12);
      const once = toSpiking(cnn, { steps: 3, threshold: 0.4, learnBeta: true }) as Network;
      const unrolled = toSpiking(cnn, { steps: 3, threshold: 0.4, learnBeta: true }) as Network;
      cnn.dispose();
      (unrolled.layers[0] as Encoder).repeatOnce = false;
      const xs = input(once, 31, scale);
      const r = randArray(BATCH * once.classes, 32);
      const a = modelGradients(once, xs, r);
      const b = modelGradients(unrolled, xs, r);
      expect(maxRelErr(a.logits, b.logits, 1e-5, 1e-4)).toBeLessThanOrEqual(1);
      expect(a.logits.some((v, i) => v !== a.logits[i % once.classes])).toBe(true);
      for (const [name, g] of a.grads) expect(maxRelErr(g, b.grads.get(name)!, 1e-5, 1e-3), name).toBeLessThanOrEqual(1);
      const stats = (m: Network) => m.layers.filter((l) => l instanceof BatchNorm).flatMap((l) => l.buffers().map((t) => t.value.toArray()));
      const [sa, sb] = [stats(once), stats(unrolled)];
      sa.forEach((s, i) => expect(maxRelErr(s, sb[i], 1e-6, 1e-4)).toBeLessThanOrEqual(1));
      once.dispose();
      unrolled.dispose();
    });
  }
});
