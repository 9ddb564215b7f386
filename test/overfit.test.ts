// Learning works end to end: small CNN and SNN models overfit a fixed small batch with Adam (loss falls,
// every sample right), and a long forward/backward loop does not grow memory.
import { expect, it } from 'vitest';
import { getEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { crossEntropyBackward, crossEntropyForward, topKCorrect } from '../src/kernels/loss.js';
import { adamStep } from '../src/kernels/optim.js';
import type { Network } from '../src/models/network.js';
import { toSpiking } from '../src/models/spiking.js';
import type { Model } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import { describeEachBuild, randArray } from './helpers.js';
import { smallCnn1d, smallCnn2d } from './small-models.js';

const CLASSES = 4;
const BATCH = 8;

/** Trains on one fixed batch; returns the first and last loss and the final accuracy. */
function overfit(model: Model, iterations: number, lr: number): { first: number; last: number; accuracy: number } {
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const x = Tensor.from(randArray(BATCH * size, 3, -1.5, 1.5), [BATCH, ...model.inputShape]);
  const labels = Tensor.from(Array.from({ length: BATCH }, (_, i) => i % CLASSES), [BATCH], 'i32');
  const probs = Tensor.empty([BATCH, CLASSES]);
  const dlogits = Tensor.empty([BATCH, CLASSES]);
  const params = model.parameters();
  const moments = params.map((p) => [Tensor.zeros(p.value.shape), Tensor.zeros(p.value.shape)]);
  const losses: number[] = [];
  model.train();
  for (let step = 1; step <= iterations; step++) {
    const logits = model.forward(x);
    losses.push(crossEntropyForward(logits, labels, probs));
    crossEntropyBackward(probs, labels, dlogits);
    model.backward(dlogits);
    params.forEach((p, i) => adamStep(p.value, p.grad, moments[i][0], moments[i][1], { lr, step }));
  }
  model.eval();
  const accuracy = topKCorrect(model.forward(x), labels, 1) / BATCH;
  for (const t of [x, labels, probs, dlogits, ...moments.flat()]) t.free();
  return { first: losses[0], last: losses[losses.length - 1], accuracy };
}

describeEachBuild('overfitting a fixed batch', () => {
  it('1d CNN and its SNN (T=4, legacy form, atan) reach 100% with falling loss', () => {
    const cnn = smallCnn1d(CLASSES, 2, 4);
    const snn = toSpiking(cnn, { steps: 4, form: 'legacy', threshold: 0.5 });
    for (const m of [cnn, snn]) {
      const r = overfit(m, 150, 0.03);
      expect(r.last, m.spiking ? 'snn' : 'cnn').toBeLessThan(r.first * 0.3);
      expect(r.accuracy, m.spiking ? 'snn' : 'cnn').toBe(1);
      m.dispose();
    }
  });

  it('2d SNN with an input Leaky and learned beta (atan) reaches 100% with falling loss', () => {
    const cnn = smallCnn2d(CLASSES, 4);
    const snn = toSpiking(cnn, { steps: 4, threshold: 0.5, learnBeta: true });
    cnn.dispose();
    const r = overfit(snn, 150, 0.03);
    expect(r.last).toBeLessThan(r.first * 0.3);
    expect(r.accuracy).toBe(1);
    snn.dispose();
  });

  it('tcy SNN from the zoo reaches 100% on a small batch', () => {
    const snn = createModel('tcy', { classes: CLASSES, spiking: true, steps: 3, threshold: 0.5 });
    const r = overfit(snn, 150, 0.05);
    expect(r.last).toBeLessThan(r.first * 0.3);
    expect(r.accuracy).toBe(1);
    snn.dispose();
  });

  it('does not grow memory over many forward/backward calls, nor when the batch size changes back', () => {
    const engine = getEngine();
    const snn = toSpiking(smallCnn2d(CLASSES, 5), { steps: 3, learnThreshold: true }) as Network;
    const size = snn.inputShape.reduce((a, b) => a * b, 1);
    const run = (batch: number, times: number) => {
      const x = Tensor.from(randArray(batch * size, batch), [batch, ...snn.inputShape]);
      const d = Tensor.from(randArray(batch * CLASSES, 7), [batch, CLASSES]);
      for (let i = 0; i < times; i++) {
        snn.train(i % 2 === 0);
        snn.forward(x);
        if (snn.training) snn.backward(d);
      }
      x.free();
      d.free();
    };
    run(BATCH, 2);
    const bytes = engine.bytesInUse;
    const memory = engine.memoryBytes;
    run(BATCH, 300);
    expect(engine.bytesInUse).toBe(bytes);
    expect(engine.memoryBytes).toBe(memory);
    run(3, 10);
    run(BATCH, 10);
    expect(engine.bytesInUse).toBe(bytes);
    snn.dispose();
  });
});
