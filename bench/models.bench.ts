// The model zoo at batch 16: one training step (forward, cross-entropy, backward, Adam over every
// parameter) and inference, CNN and SNN, beside PyTorch 1.13 + snntorch training steps measured on
// this machine with one thread (batch 16; fixed figures, since PyTorch is not part of the package).
import './setup.js';
import { availableParallelism, loadavg } from 'node:os';
import { Tensor } from '../src/engine/tensor.js';
import { crossEntropyBackward, crossEntropyForward } from '../src/kernels/loss.js';
import { adamStep } from '../src/kernels/optim.js';
import type { Model, ModelName } from '../src/models/types.js';
import { createModel } from '../src/models/zoo.js';
import type { BenchOptions, BenchRow, BenchSuite } from './harness.js';
import { secondsPerCall } from './harness.js';
import { engineFor } from './setup.js';

const BATCH = 16;
const CLASSES = 35;

interface Variant { name: ModelName; spiking: boolean; steps: number }

/** PyTorch seconds per training step (batch 16, one thread), as [low, high]. */
const PYTORCH: Record<string, [number, number]> = {
  'm5 SNN T=5': [0.46, 0.52],
  'hjh SNN T=5': [0.36, 0.36],
  'piczak SNN T=5': [1.04, 1.04],
  'tcy SNN T=5': [0.009, 0.013],
  'm5 CNN': [0.07, 0.09],
};
/** Targets of the training step against PyTorch: at least this speed-up. */
const TARGET: Record<string, number> = { 'hjh SNN T=5': 3, 'tcy SNN T=5': 3 };

const label = (v: Variant) => `${v.name} ${v.spiking ? `SNN T=${v.steps}` : 'CNN'}`;

function variants(quick: boolean): Variant[] {
  const out: Variant[] = [];
  for (const name of ['m5', 'piczak', 'hjh', 'hjh-scnn', 'tcy'] as const) {
    if (name !== 'hjh-scnn') out.push({ name, spiking: false, steps: 1 });
    out.push({ name, spiking: true, steps: 5 });
    if (!quick && (name === 'm5' || name === 'hjh')) out.push({ name, spiking: true, steps: 15 });
  }
  return out;
}

/** A model with a batch of random inputs and labels and Adam's state: everything one step touches. */
function rig(v: Variant) {
  const model: Model = createModel(v.name, { classes: CLASSES, spiking: v.spiking, steps: v.steps, seed: 1 });
  const x = Tensor.empty([BATCH, ...model.inputShape]);
  const xs = x.f32;
  for (let i = 0; i < xs.length; i++) xs[i] = Math.sin(i * 12.9898) * Math.cos(i * 0.37);
  const labels = Tensor.from(Array.from({ length: BATCH }, (_, i) => i % CLASSES), [BATCH], 'i32');
  const probs = Tensor.empty([BATCH, CLASSES]);
  const dlogits = Tensor.empty([BATCH, CLASSES]);
  const params = model.parameters();
  const adam = params.map((p) => [Tensor.zeros(p.value.shape), Tensor.zeros(p.value.shape)]);
  let step = 0;
  const trainStep = () => {
    model.train();
    const logits = model.forward(x);
    crossEntropyForward(logits, labels, probs);
    crossEntropyBackward(probs, labels, dlogits);
    model.backward(dlogits);
    step++;
    params.forEach((p, i) => adamStep(p.value, p.grad, adam[i][0], adam[i][1], { lr: 1e-4, step }));
  };
  const infer = () => {
    model.eval();
    model.forward(x);
  };
  const dispose = () => {
    model.dispose();
    for (const t of [x, labels, probs, dlogits, ...adam.flat()]) t.free();
  };
  return { model, trainStep, infer, dispose };
}

const mb = (bytes: number) => bytes / 2 ** 20;
const count = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : `${n}`);

export const suite: BenchSuite = {
  name: `Model zoo: training step and inference at batch ${BATCH} (one thread)`,
  async run(all) {
    // A Piczak step takes about a second: tinybench's minimum (2 warm-up + 3 timed calls) is enough.
    const options: BenchOptions = all.quick ? { ...all, time: 1 } : { ...all, time: Math.min(all.time, 2000) };
    const flavors = all.quick ? (['relaxed'] as const) : (['relaxed', 'simd'] as const);
    const rows: BenchRow[] = [];
    // Other processes on the machine slow every contender but the fixed PyTorch figures: say how busy it was.
    const load = () => `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`;
    const loadAtStart = load();
    for (const v of variants(all.quick)) {
      const step: Record<string, number> = {};
      const infer: Record<string, number> = {};
      const memory: Record<string, number> = {};
      let params = 0;
      for (const flavor of flavors) {
        const engine = await engineFor(flavor);
        const r = rig(v);
        params = r.model.parameterCount();
        // The first step allocates what every later step reuses; the peak of the next one is the cost.
        r.trainStep();
        engine.resetPeakBytes();
        r.trainStep();
        memory[flavor] = mb(engine.peakBytesInUse);
        step[flavor] = await secondsPerCall(r.trainStep, options);
        infer[flavor] = BATCH / (await secondsPerCall(r.infer, options));
        r.dispose();
      }
      const ref = PYTORCH[label(v)];
      let note = `${count(params)} params`;
      if (ref) {
        step.pytorch = (ref[0] + ref[1]) / 2;
        const speedup = step.pytorch / step.relaxed;
        const range = ref[0] === ref[1] ? `${ref[0]}` : `${ref[0]}-${ref[1]}`;
        note += `; PyTorch+snntorch ${range} s; speed-up ${speedup.toFixed(1)}x`;
        const target = TARGET[label(v)] ?? (v.spiking ? 1 : undefined);
        if (target !== undefined) note += speedup >= target ? ` (target ${target}x met)` : ` (TARGET ${target}x MISSED)`;
      }
      rows.push(
        { case: `${label(v)} training step`, unit: 's', values: step, note },
        { case: `${label(v)} training`, unit: 'samples/s', values: Object.fromEntries(Object.entries(step).map(([k, s]) => [k, BATCH / s])) },
        { case: `${label(v)} inference`, unit: 'samples/s', values: infer },
        { case: `${label(v)} peak memory of a training step`, unit: 'MB', values: memory, note: 'engine.peakBytesInUse: weights, grads, Adam state, activations, scratch' },
      );
    }
    rows[0].note = `${rows[0].note}; ${loadAtStart} at start, ${load()} at end`;
    return rows;
  },
};
