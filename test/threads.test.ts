// Two threads against one: every split kernel gives the same result as one thread (bit for bit where
// the split keeps each sum's order; the conv weight gradient, summed per band of samples then added,
// within rounding), the engine reports a worker's failure, and memory grown after start is seen by
// the workers (the first large tensors here grow it).
import '../src/engine/threads-node.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, getEngine, useEngine, type Engine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { partsFor, ranges } from '../src/engine/split.js';
import { conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, type Conv2dOptions } from '../src/kernels/conv.js';
import { matmul } from '../src/kernels/gemm.js';
import { linearBackward, linearForward } from '../src/kernels/linear.js';
import { adamStep } from '../src/kernels/optim.js';
import { reluBackward, reluForward } from '../src/kernels/activation.js';
import { add } from '../src/kernels/elementwise.js';
import { depthwiseBackwardInput, depthwiseBackwardWeight, depthwiseForward } from '../src/kernels/depthwise.js';
import { spreadRows, sumRows } from '../src/kernels/broadcast.js';
import { packSpikes, selectByBits, spikeWords, unpackSpikes } from '../src/kernels/spike-bits.js';
import { adaptiveAvgPool2dBackward, adaptiveAvgPool2dForward, maxPool2dBackward, maxPool2dForward } from '../src/kernels/pool.js';
import { batchNormBackward, batchNormForward } from '../src/kernels/batchnorm.js';
import { DEFAULT_NEURON, STUDY_NEURON, lifBackward, lifForward, type LifParams } from '../src/kernels/lif.js';
import { crossEntropyBackward, crossEntropyForward } from '../src/kernels/loss.js';
import { createModel } from '../src/models/zoo.js';
import type { ModelName } from '../src/models/types.js';
import { cli, writeTree } from './cli-helpers.js';
import { maxRelErr, randArray } from './helpers.js';

let one: Engine;
let two: Engine;

beforeAll(async () => {
  one = await createEngine({ flavor: 'relaxed' });
  two = await createEngine({ flavor: 'relaxed', threads: 2 });
});
afterAll(() => two.dispose());

/**
 * The outputs `run` computes on the one-thread engine and on the two-thread one (copied out), after
 * checking that the two-thread engine really split a call (else the comparison would prove nothing).
 */
function onBoth(run: () => Tensor[]): [Float32Array[], Float32Array[]] {
  let widest = 0;
  const parallel = two.parallel.bind(two);
  two.parallel = (shares) => {
    widest = Math.max(widest, shares.length);
    return parallel(shares);
  };
  try {
    const out = [one, two].map((engine) => {
      useEngine(engine);
      return run().map((t) => t.f32.slice());
    }) as [Float32Array[], Float32Array[]];
    expect(widest, 'no call was split').toBe(2);
    return out;
  } finally {
    delete (two as { parallel?: unknown }).parallel;
  }
}

function expectBitwise(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    expect(x.length).toBeGreaterThan(0);
    expect(Buffer.from(b[i].buffer).equals(Buffer.from(x.buffer)), `output ${i} differs`).toBe(true);
  });
}

describe('split helpers', () => {
  it('ranges cover [0, total) with aligned inner boundaries, none empty', () => {
    expect(ranges(100, 2, 16)).toEqual([[0, 48], [48, 100]]);
    expect(ranges(5, 2)).toEqual([[0, 3], [3, 5]]);
    expect(ranges(10, 2, 16)).toEqual([[0, 10]]);
    expect(ranges(0, 2)).toEqual([]);
  });

  it('partsFor keeps small calls on one thread', () => {
    expect(partsFor(2, 10, 100)).toBe(1);
    expect(partsFor(2, 1e4, 100)).toBe(2);
    expect(partsFor(2, 1e4, 1)).toBe(1);
    expect(partsFor(1, 1e4, 100)).toBe(1);
  });
});

describe('engine threads', () => {
  it('reports its threads, and refuses a bad count by name', async () => {
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    await expect(createEngine({ threads: 0 })).rejects.toThrow('engine threads must be an integer from 1 to 64, got 0');
  });

  it("rethrows a worker's kernel failure on the calling thread", () => {
    const at = two.alloc(64);
    const big = two.alloc(4 << 22);
    // The calling thread's own share is long enough for the worker to take its share (on a busy machine
    // the calling thread may take it back and fail itself: the same error, without the thread's number).
    expect(() => two.parallel([[['addForward', big, big, big, 1 << 22]], [['addForward', at, at, at, -1]]])).toThrow(
      /abort: addForward: n must be >= 0/,
    );
    two.free(big);
    // The pool still serves jobs after a failure.
    two.f32(at, 4).set([1, 2, 3, 4]);
    two.parallel([[], [['addForward', at, at, at, 4]]]);
    expect([...two.f32(at, 4)]).toEqual([2, 4, 6, 8]);
    two.free(at);
  });
});

describe('two threads match one', () => {
  const shapes: Array<[number, number, number, boolean, boolean]> = [
    [301, 203, 260, false, false],
    [301, 203, 260, true, true],
    [16, 900, 1100, false, true],
    [900, 16, 1100, true, false],
  ];
  for (const [M, N, K, transA, transB] of shapes)
    it(`matmul ${M}x${N}x${K} transA=${transA} transB=${transB}: bit for bit`, () => {
      const [a, b] = onBoth(() => {
        const x = Tensor.from(randArray(M * K, 1), transA ? [K, M] : [M, K]);
        const w = Tensor.from(randArray(K * N, 2), transB ? [N, K] : [K, N]);
        const c = Tensor.from(randArray(M * N, 3), [M, N]);
        matmul(x, w, c, { transA, transB, accumulate: true });
        return [c];
      });
      expectBitwise(a, b);
    });

  for (const [N, In, Out] of [[16, 2000, 700], [80, 1500, 300]])
    it(`linear forward and backward N=${N} In=${In} Out=${Out}: bit for bit`, () => {
      const [a, b] = onBoth(() => {
        const x = Tensor.from(randArray(N * In, 4), [N, In]);
        const w = Tensor.from(randArray(Out * In, 5), [Out, In]);
        const bias = Tensor.from(randArray(Out, 6), [Out]);
        const y = Tensor.empty([N, Out]);
        linearForward(x, w, bias, y);
        const dy = Tensor.from(randArray(N * Out, 7), [N, Out]);
        const [dx, dw, db] = [Tensor.empty([N, In]), Tensor.empty([Out, In]), Tensor.empty([Out])];
        linearBackward(x, w, dy, dx, dw, db);
        return [y, dx, dw, db];
      });
      expectBitwise(a, b);
    });

  // im2col (32 output channels), direct (8), direct over spikes (the sparse path), strided im2col.
  const convs: Array<[string, number[], number[], Conv2dOptions, number]> = [
    ['im2col', [16, 8, 20, 40], [32, 8, 3, 3], { padding: [1, 1] }, 1],
    ['direct', [16, 4, 30, 60], [8, 4, 5, 5], { padding: [2, 2] }, 1],
    ['sparse spikes', [16, 8, 30, 60], [8, 8, 3, 3], { padding: [1, 1] }, 0.1],
    ['strided', [16, 16, 24, 48], [24, 16, 3, 3], { stride: [2, 2], padding: [1, 1] }, 1],
  ];
  for (const [name, xs, ws, opts, density] of convs)
    it(`conv2d ${name} x [${xs}] w [${ws}]: forward and dx bit for bit, dw and db within rounding`, () => {
      const outputs = onBoth(() => {
        const xv = randArray(xs.reduce((p, d) => p * d, 1), 8);
        if (density < 1) xv.forEach((v, i) => (xv[i] = (v + 1) / 2 < density ? 1 : 0));
        const x = Tensor.from(xv, xs);
        const w = Tensor.from(randArray(ws.reduce((p, d) => p * d, 1), 9), ws);
        const bias = Tensor.from(randArray(ws[0], 10), [ws[0]]);
        const OH = Math.floor((xs[2] + 2 * (opts.padding?.[0] ?? 0) - ws[2]) / (opts.stride?.[0] ?? 1)) + 1;
        const OW = Math.floor((xs[3] + 2 * (opts.padding?.[1] ?? 0) - ws[3]) / (opts.stride?.[1] ?? 1)) + 1;
        const y = Tensor.empty([xs[0], ws[0], OH, OW]);
        conv2dForward(x, w, bias, y, opts);
        const dy = Tensor.from(randArray(y.size, 11), y.shape);
        const [dx, dw, db] = [Tensor.empty(xs), Tensor.empty(ws), Tensor.empty([ws[0]])];
        conv2dBackwardInput(w, dy, dx, opts);
        conv2dBackwardWeight(x, dy, dw, db, opts);
        return [y, dx, dw, db];
      });
      const [[y1, dx1, dw1, db1], [y2, dx2, dw2, db2]] = outputs;
      expectBitwise([y1, dx1], [y2, dx2]);
      // Sums of up to 16 x 1800 products of values in [-1, 1): f32 rounding reaches 1e-3 absolute.
      expect(maxRelErr(dw2, dw1, 1e-2, 1e-4)).toBeLessThanOrEqual(1);
      expect(maxRelErr(db2, db1, 1e-2, 1e-4)).toBeLessThanOrEqual(1);
    });

  // By bands of samples, each thread on the samples its convolution wrote; [5, 7, 30, 41]: bands of 3
  // and 2 samples, channels not a multiple of the kernel's block of 4, dx written over dy.
  for (const [[N, C, H, W], inPlace] of [[[16, 24, 40, 60], false], [[5, 7, 30, 41], true]] as const)
    for (const training of [true, false])
      it(`batch norm ${training ? 'training' : 'eval'} forward and backward${inPlace ? ' (dx over dy)' : ''} over [${N}, ${C}, ${H}, ${W}]: bit for bit, split by samples`, () => {
        const names = new Set<string>();
        const parallel = two.parallel.bind(two);
        two.parallel = (shares) => (shares.length > 1 && shares[0].forEach(([name]) => names.add(name)), parallel(shares));
        const [a, b] = onBoth(() => {
          const x = Tensor.from(randArray(N * C * H * W, 16), [N, C, H, W]);
          const [weight, bias] = [17, 18].map((seed) => Tensor.from(randArray(C, seed), [C]));
          const state = {
            runningMean: Tensor.from(randArray(C, 19), [C]),
            runningVar: Tensor.from(randArray(C, 20, 0.5, 2), [C]),
            saveMean: Tensor.from(randArray(C, 21), [C]),
            saveInvStd: Tensor.from(randArray(C, 22, 0.5, 2), [C]),
          };
          const y = Tensor.empty(x.shape);
          batchNormForward(x, weight, bias, y, state, { training });
          const dy = Tensor.from(randArray(x.size, 23), x.shape);
          const [dx, dw, db] = [inPlace ? dy : Tensor.empty(x.shape), Tensor.empty([C]), Tensor.empty([C])];
          batchNormBackward(x, weight, dy, state, dx, dw, db);
          return [y, dx, dw, db, ...Object.values(state)];
        });
        expectBitwise(a, b);
        expect([...names].sort()).toEqual(
          training ? ['batchNormRowApply', 'batchNormRowDx', 'batchNormRowGradSums', 'batchNormRowSqDevs', 'batchNormRowSums'] : ['batchNormForward', 'batchNormRowDx', 'batchNormRowGradSums'],
        );
      });

  for (const [name, neuron, once] of [['current', DEFAULT_NEURON, false], ['study, input once', STUDY_NEURON, true]] as const)
    it(`LIF ${name} forward and backward (membrane stored and recomputed) over 5 steps of 300k neurons: bit for bit, gradients of beta and threshold within f64 rounding`, () => {
      const [steps, n] = [5, 300_006]; // 14,286 samples of 3 channels of 7 positions
      const params: LifParams = { steps, beta: 0.9, threshold: 0.5, ...neuron };
      const grads: Array<{ dbeta: number; dthreshold: number; dinitial: number }> = [];
      const counts: number[] = [];
      const [a, b] = onBoth(() => {
        const input = Tensor.from(randArray(once ? n : steps * n, 24), once ? [n] : [steps, n]);
        const record = { membrane: Tensor.empty([steps, n]), spikes: Tensor.empty([steps, n], 'u8'), out: Tensor.empty([steps, n]) };
        counts.push(lifForward(input, record, params));
        const dspikes = Tensor.from(randArray(steps * n, 25), [steps, n]);
        const dinput = Tensor.empty(input.shape);
        grads.push(lifBackward(dspikes, record, params, dinput));
        // The same gradient from the membrane recomputed out of the input current, band by band.
        const recomputed = Tensor.empty(input.shape);
        grads.push(lifBackward(dspikes, { current: input }, params, recomputed));
        if (once) return [record.membrane, record.out, dinput, recomputed];
        // Currents that a batch norm made of the input (planes of 7 positions, 3 channels, a scale and a
        // shift per step and channel): recomputed from the input, band by band, each band finding its
        // channels from its first neuron, they give what the stored membrane of those currents gives.
        const ss = Array.from({ length: steps * 6 }, (_, i) => 0.5 + (i % 7) * 0.25);
        const scaleShift = Tensor.from(ss, [steps, 2, 3]);
        const mapped = Tensor.from(Array.from(input.f32, (v, k) => {
          const t = Math.floor(k / n), c = Math.floor((k % n) / 7) % 3;
          return Math.fround(Math.fround(v * ss[t * 6 + c]) + ss[t * 6 + 3 + c]);
        }), [steps, n]);
        const mappedRecord = { membrane: Tensor.empty([steps, n]), spikes: null, out: Tensor.empty([steps, n]) };
        lifForward(mapped, mappedRecord, params);
        const [fromStored, fromInput] = [Tensor.empty(input.shape), Tensor.empty(input.shape)];
        grads.push(lifBackward(dspikes, mappedRecord, params, fromStored));
        grads.push(lifBackward(dspikes, { current: input, affine: { scaleShift, plane: 7 } }, params, fromInput));
        return [record.membrane, record.out, dinput, recomputed, fromStored, fromInput];
      });
      expectBitwise(a, b);
      expect(counts[1]).toBe(counts[0]);
      expect(counts[0]).toBeGreaterThan(0);
      // Per engine: stored and recomputed give the same sums (and so do the mapped currents' stored
      // membrane and their recomputation from the input); across engines the threads' sums are added
      // in another grouping.
      const per = grads.length / 2;
      for (const run of [0, per]) {
        expect(grads[run + 1]).toEqual(grads[run]);
        if (!once) expect(grads[run + 3]).toEqual(grads[run + 2]);
      }
      for (const key of ['dbeta', 'dthreshold', 'dinitial'] as const) expect(grads[per][key]).toBeCloseTo(grads[0][key], 6);
      if (!once) for (const run of [a, b]) expect(run[5]).toEqual(run[4]);
    });

  it('depthwise 3x3 (stride [2, 1], dilation [1, 2]) and the rows spread and summed over [16, 32, 30, 134]: bit for bit', () => {
    // Planes split in forward and input gradient, channels in the weight gradient: no sum crosses threads.
    const opts = { stride: [2, 1] as [number, number], padding: [1, 2] as [number, number], dilation: [1, 2] as [number, number] };
    const [a, b] = onBoth(() => {
      const x = Tensor.from(randArray(16 * 32 * 30 * 134, 21), [16, 32, 30, 134]);
      const w = Tensor.from(randArray(32 * 9, 22), [32, 1, 3, 3]);
      const bias = Tensor.from(randArray(32, 23), [32]);
      const y = Tensor.empty([16, 32, 15, 134]);
      depthwiseForward(x, w, bias, y, opts);
      const dy = Tensor.from(randArray(y.size, 24), y.shape);
      const [dx, dw, db] = [Tensor.empty(x.shape), Tensor.empty(w.shape), Tensor.empty([32])];
      depthwiseBackwardInput(w, dy, dx, opts);
      depthwiseBackwardWeight(x, dy, dw, db, opts);
      const row = Tensor.from(randArray(16 * 32 * 134, 25), [16, 32, 1, 134]);
      const spread = Tensor.empty(y.shape);
      spreadRows(row, spread, 0.5);
      const summed = Tensor.empty(row.shape);
      sumRows(dy, summed, 1 / 15);
      return [y, dx, dw, db, spread, summed];
    });
    expectBitwise(a, b);
  });

  it('max pool 2x2 forward and backward over [16, 32, 60, 100]: bit for bit', () => {
    const [N, C, H, W] = [16, 32, 60, 100];
    const [a, b] = onBoth(() => {
      const x = Tensor.from(randArray(N * C * H * W, 26), [N, C, H, W]);
      const y = Tensor.empty([N, C, H / 2, W / 2]);
      const argmax = Tensor.empty(y.shape, 'i32');
      maxPool2dForward(x, y, argmax, { kernel: [2, 2] });
      const dy = Tensor.from(randArray(y.size, 27), y.shape);
      const dx = Tensor.empty(x.shape);
      maxPool2dBackward(dy, argmax, dx);
      return [y, dx];
    });
    expectBitwise(a, b);
  });

  it('adaptive average pool forward and backward over [80, 1, 60, 134] -> 10 x 10 (overlapping bins): bit for bit', () => {
    const [N, C, H, W] = [80, 1, 60, 134];
    const [a, b] = onBoth(() => {
      const x = Tensor.from(randArray(N * C * H * W, 28), [N, C, H, W]);
      const y = Tensor.empty([N, C, 10, 10]);
      adaptiveAvgPool2dForward(x, y);
      const dx = Tensor.empty(x.shape);
      adaptiveAvgPool2dBackward(Tensor.from(randArray(y.size, 29), y.shape), dx);
      return [y, dx];
    });
    expectBitwise(a, b);
  });

  it('ReLU forward and backward and the residual add over 1M values: bit for bit', () => {
    const n = 1_000_003;
    const [a, b] = onBoth(() => {
      const x = Tensor.from(randArray(n, 30), [n]);
      const y = Tensor.empty([n]);
      reluForward(x, y);
      const dx = Tensor.empty([n]);
      reluBackward(x, Tensor.from(randArray(n, 31), [n]), dx);
      const sum = Tensor.empty([n]);
      add(x, dx, sum);
      return [y, dx, sum];
    });
    expectBitwise(a, b);
  });

  it('spike trains packed to bits and back, a ReLU mask, and a gradient selected by it, over 1M values: bit for bit, the words as one thread lays them', () => {
    const n = 1_000_003;
    const [a, b] = onBoth(() => {
      const x = Tensor.from(randArray(n, 33, 0, 1).map((u) => (u < 0.2 ? 1 : 0)), [n]);
      const bits = Tensor.empty([spikeWords(n)], 'i32');
      expect(packSpikes(x, [bits])).toBe(1);
      const back = Tensor.empty([n]);
      unpackSpikes(bits, back);
      // A ReLU's mask of positive inputs, and a gradient through it written over dy.
      const h = Tensor.from(randArray(n, 35), [n]);
      const mask = Tensor.empty([spikeWords(n)], 'i32');
      reluForward(h, h, mask);
      const dy = Tensor.from(randArray(n, 34), [n]);
      selectByBits(mask, dy, dy);
      // The words as floats of their bit patterns, for the comparison.
      const asFloats = (t: Tensor) => Tensor.from(new Float32Array(t.data.buffer, t.data.byteOffset, t.size).slice(), [t.size]);
      return [back, h, dy, asFloats(bits), asFloats(mask)];
    });
    expectBitwise(a, b);
  });

  it('adamStep over 1M parameters: bit for bit', () => {
    const n = 1_000_003;
    const [a, b] = onBoth(() => {
      const [p, g, m, v] = [12, 13, 14, 15].map((seed) => Tensor.from(randArray(n, seed, seed === 15 ? 0 : -1, 1), [n]));
      adamStep(p, g, m, v, { lr: 1e-3, step: 3, weightDecay: 1e-4 });
      return [p, m, v];
    });
    expectBitwise(a, b);
  });
});

describe('a training step on two threads', () => {
  const cases: Array<[ModelName, boolean]> = [['hjh', false], ['m5', true]];
  for (const [name, spiking] of cases)
    it(`${name} ${spiking ? 'SNN' : 'CNN'} at batch 16: the loss's probabilities and every gradient of one thread, within rounding`, () => {
      const [a, b] = onBoth(() => {
        const model = createModel(name, { classes: 10, spiking, steps: 2, seed: 3 });
        const x = Tensor.from(randArray(16 * model.inputShape.reduce((p, d) => p * d, 1), 28), [16, ...model.inputShape]);
        const labels = Tensor.from(Array.from({ length: 16 }, (_, i) => i % 10), [16], 'i32');
        const [probs, dlogits] = [Tensor.empty([16, 10]), Tensor.empty([16, 10])];
        model.train();
        crossEntropyForward(model.forward(x), labels, probs);
        crossEntropyBackward(probs, labels, dlogits);
        model.backward(dlogits);
        return [probs, ...model.parameters().map((p) => p.grad)];
      });
      // Gradients summed over the batch in two bands round differently; a bias in front of a batch
      // norm has a zero gradient made of rounding only, hence a tolerance relative to the largest gradient.
      const scale = a.slice(1).reduce((m, x) => x.reduce((mm, v) => Math.max(mm, Math.abs(v)), m), 0);
      expect(scale).toBeGreaterThan(0);
      a.forEach((x, i) => expect(maxRelErr(b[i], x, 1e-4 * scale, 1e-3), `tensor ${i}`).toBeLessThanOrEqual(1));
    });
});

describe('train --threads, demo --threads', () => {
  it('refuses a bad count by name, and trains on two threads', async () => {
    const bad = await cli('train', '--threads', '0');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/--threads must be a positive integer, got "0"/);
    const dir = mkdtempSync(join(tmpdir(), 'snn-voice-threads-'));
    try {
      writeTree(join(dir, 'speech'));
      const r = await cli('train', '--model', 'tcy', '--epochs', '1', '--batch-size', '4', '--threads', '2', '--data', join(dir, 'speech'), '--out', join(dir, 'run'));
      expect(r.code, r.err).toBe(0);
      expect(getEngine().threads).toBe(2);
      getEngine().dispose();
      // The demo takes the same flag: its CNN, QCFS fine-tuning and SNN on two threads.
      const demo = await cli('demo', '--model', 'tcresnet8', '--steps', '2', '--epochs', '1', '--quantize-epochs', '1', '--converted-steps', '0', '--batch-size', '4', '--words', 'all', '--threads', '2', '--data', join(dir, 'speech'), '--out', join(dir, 'demo'));
      expect(demo.code, demo.err).toBe(0);
      expect(getEngine().threads).toBe(2);
      expect(demo.out).toContain('tcresnet8 SNN T=2');
    } finally {
      getEngine().dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
