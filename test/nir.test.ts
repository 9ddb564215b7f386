// NIR export and import (src/nir): every zoo SNN NIR can express round-trips with the same outputs; the
// others are refused naming the layer; a hand-broken graph is refused naming the node.
import { describe, expect, it, beforeAll } from 'vitest';
import { initEngine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';
import { createModel, featuresFor } from '../src/models/zoo.js';
import type { Model, ModelConfig, ModelName } from '../src/models/types.js';
import { exportNir, importNir } from '../src/index.js';
import { type H5Array, type H5Group, readHdf5, writeHdf5 } from '../src/nir/hdf5.js';
import { f32, group } from '../src/nir/format.js';
import type { Layer } from '../src/layers/layer.js';
import { Residual } from '../src/layers/residual.js';
import { Network } from '../src/models/network.js';
import { resolveConfig } from '../src/models/config.js';
import type { Conv2d } from '../src/layers/conv2d.js';
import { Encoder } from '../src/layers/encoder.js';
import { Flatten } from '../src/layers/flatten.js';
import { Leaky, type LeakySettings, NEURON_SETTINGS } from '../src/layers/leaky.js';
import { pickSettings } from '../src/util/schema.js';
import { Linear } from '../src/layers/linear.js';
import { ReLU } from '../src/layers/relu.js';
import { logits, randArray } from './helpers.js';

/** max |a − b| over max |b|: the error relative to the logits' scale. */
function maxRelative(a: Float32Array, b: Float32Array): number {
  const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0) / scale;
}

/** The layer classes, residual blocks' paths inside, e.g. ['Encoder', 'Leaky', 'Conv2d', ...]. */
function layerClasses(model: Model): unknown[] {
  const of = (ls: readonly Layer[]): unknown[] => ls.map((l) => (l instanceof Residual ? [of(l.main), of(l.shortcut)] : l.constructor.name));
  return of((model as Network).layers);
}

interface Case {
  name: ModelName;
  options: Partial<ModelConfig>;
  /** Nothing is composed on the way: the outputs must be bit-identical. */
  exact: boolean;
}

/** Composing a pool with a linear layer rounds differently: within this of the largest |logit|. */
const TOLERANCE = 1e-4;

/**
 * The zoo SNNs NIR expresses (docs/nir.md); classes kept small so the test is quick. Untrained weights
 * at threshold 1 leave most neurons silent, so every threshold is set to 0.1 (the converted model's too,
 * after it is built): every layer fires (checked below) and the outputs depend on the spikes.
 */
const EXPORTABLE: Case[] = [
  { name: 'hjh', options: { spiking: true, steps: 4, threshold: 0.1 }, exact: true },
  { name: 'm5', options: { spiking: true, steps: 3, threshold: 0.1 }, exact: true },
  { name: 'tcresnet8', options: { spiking: true, steps: 4, threshold: 0.1 }, exact: true },
  { name: 'tcresnet8', options: { spiking: true, converted: true, steps: 4 }, exact: true },
  { name: 'hjh', options: { spiking: true, steps: 4, beta: 0.8125, threshold: 0.1, form: 'legacy', reset: 'zero' }, exact: true },
  // The pool to 10 x 10, flatten and fc as one Affine (pool-affine.ts); read back as the three layers.
  { name: 'tcy', options: { spiking: true, steps: 4, threshold: 0.1 }, exact: false },
  { name: 'tcy', options: { spiking: true, converted: true, steps: 4 }, exact: false },
];

/** The others, with the layers each refusal must name and why (docs/nir.md). */
const REFUSED: [ModelName, Partial<ModelConfig>, RegExp][] = [
  ['piczak', { spiking: true }, /^pool1, pool2: a max pool over analog values has no NIR node.*\. relu3, relu4: NIR has no ReLU node/],
  ['piczak', { spiking: true, converted: true }, /^pool1: a max pool over analog values.*\. pool2: a converted spiking max pool/],
  ['hjh-scnn', {}, /^relu1, relu2: NIR has no ReLU node and no exact equivalent.*\. pool1: a max pool over analog values/],
  ['m5', { spiking: true, converted: true }, /^pool1, pool2, pool3, pool4: a converted spiking max pool .*snn-voice train --spiking/],
  ['hjh', { spiking: true, converted: true }, /^pool1: a converted spiking max pool/],
  ['hjh', {}, /is a CNN/],
];

describe('NIR export and import', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  for (const c of EXPORTABLE) {
    it(`${c.name} ${JSON.stringify(c.options)} round-trips with ${c.exact ? 'bit-identical' : 'the same'} outputs`, async () => {
      const model = createModel(c.name, { classes: 3, seed: 7, ...c.options });
      for (const b of model.buffers()) if (b.name.endsWith('.threshold')) b.value.f32.fill(0.1);
      try {
        const x = randArray(2 * model.inputShape.reduce((a, b) => a * b, 1), 11, 0, 4);
        model.countActivity = true;
        const before = logits(model, x);
        for (const layer of model.activity().layers) if (layer.spikeRate !== undefined) expect(layer.spikeRate, layer.name).toBeGreaterThan(0);
        // The two samples' logits differ: spikes, not the biases alone, make them.
        expect(Array.from(before.subarray(0, 3))).not.toEqual(Array.from(before.subarray(3)));
        const bytes = await exportNir(model, { classNames: ['a', 'b', 'c'], features: featuresFor(c.name) });
        const back = await importNir(bytes);
        try {
          expect(back.fromSnnVoice).toBe(true);
          expect(back.classNames).toEqual(['a', 'b', 'c']);
          expect(back.model.steps).toBe(model.steps);
          const after = logits(back.model, x);
          if (c.exact) expect(Array.from(after)).toEqual(Array.from(before));
          // No spike may flip, so the logits agree closely.
          else expect(maxRelative(after, before)).toBeLessThan(TOLERANCE);
          // Read back as the layers it was built from: the same kernels run.
          expect(layerClasses(back.model)).toEqual(layerClasses(model));
        } finally {
          back.model.dispose();
        }
      } finally {
        model.dispose();
      }
    }, 120_000);
  }

  for (const [name, options, message] of REFUSED) {
    it(`${name} ${JSON.stringify(options)} is refused, naming the layer`, async () => {
      const model = createModel(name, { classes: 3, ...options });
      try {
        await expect(exportNir(model)).rejects.toThrow(message);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('what NIR can and cannot express exactly', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  it('Tcy\'s composed Affine, run as it is written (Flatten then Affine W·P), gives the pooled model\'s outputs', async () => {
    const model = createModel('tcy', { classes: 3, seed: 7, spiking: true, steps: 4, threshold: 0.1 });
    try {
      const x = randArray(2 * 60 * 134, 13, 0, 4);
      const before = logits(model, x);
      const tree = await readHdf5(await exportNir(model));
      const fc = ((tree.get('node') as H5Group).get('nodes') as H5Group).get('fc') as H5Group;
      expect((fc.get('weight') as H5Array).shape).toEqual([3, 60 * 134]);
      // Without the metadata naming the pool, a reader sees what any other tool sees: Flatten, Affine.
      (fc.get('metadata') as H5Group).delete('pool');
      const back = await importNir(await writeHdf5(tree));
      try {
        expect(layerClasses(back.model)).toEqual(['Encoder', 'Leaky', 'Flatten', 'Linear']);
        expect(maxRelative(logits(back.model, x), before)).toBeLessThan(TOLERANCE);
      } finally {
        back.model.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('reads a folded node whose weights were changed elsewhere with its own weights, not the unfolded ones', async () => {
    const model = createModel('hjh', { classes: 3, seed: 7, spiking: true, steps: 2 });
    try {
      const tree = await readHdf5(await exportNir(model));
      const conv1 = ((tree.get('node') as H5Group).get('nodes') as H5Group).get('conv1') as H5Group;
      const w = (conv1.get('weight') as H5Array).data;
      w[0] += 0.5;
      const back = await importNir(await writeHdf5(tree));
      try {
        const layers = (back.model as Network).layers;
        expect(layers.map((l) => l.name).slice(0, 5)).toEqual(['encoder', 'lif0', 'conv1', 'lif1', 'pool1']);
        expect((layers[2] as Conv2d).weight.value.f32[0]).toBe(w[0]);
        // conv2's metadata still folds to its weights: conv2 and bn2 come back.
        expect(layers.map((l) => l.name)).toContain('bn2');
      } finally {
        back.model.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('hjh-scnn\'s relu1 acts on negative values: dropping it would change the model, so it is refused', () => {
    const model = createModel('hjh-scnn', { classes: 3, seed: 7, steps: 2 }) as Network;
    const [encoder, lif0, conv1, bn1, relu1] = model.layers;
    expect([conv1, bn1, relu1].map((l) => l.constructor.name)).toEqual(['Conv2d', 'BatchNorm2d', 'ReLU']);
    const input = Tensor.from(randArray(60 * 134, 17, 0, 4), [1, 1, 60, 134]);
    try {
      model.eval();
      const ctx = { batch: 1, steps: 2, training: false, count: false, spikesIn: false };
      let h = input;
      for (const layer of [encoder, lif0, conv1, bn1]) h = layer.forward(h, ctx);
      const current = h.toArray();
      // The input of relu1: lif0's spikes through conv1 and bn1, negative in places (the ReLU is not the identity).
      expect(current.some((v) => v < -1e-3)).toBe(true);
    } finally {
      input.free();
      model.dispose();
    }
  });

  it('drops a ReLU after spikes exactly (max(0, s) = s on 0/1) and writes the rest', async () => {
    const config = resolveConfig('hjh', { spiking: true, steps: 3, classes: 3, threshold: 0.1 });
    const layers = [new Encoder('encoder', 'repeat', 3, 0), new Leaky('lif0', pickSettings(NEURON_SETTINGS, config) as LeakySettings),
      new ReLU('relu0'), new Flatten('flatten'), new Linear('fc', 60 * 134, 3, 5)];
    const model = new Network(config, [1, 60, 134], layers);
    try {
      const x = randArray(2 * 60 * 134, 19, -1, 1);
      const before = logits(model, x);
      const back = await importNir(await exportNir(model));
      try {
        expect(layerClasses(back.model)).toEqual(['Encoder', 'Leaky', 'Flatten', 'Linear']);
        expect(Array.from(logits(back.model, x))).toEqual(Array.from(before));
      } finally {
        back.model.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

describe('NIR graphs from elsewhere', () => {
  beforeAll(async () => {
    await initEngine({ flavor: 'simd' });
  });

  const w = (seed: number) => f32(randArray(16, seed, -1, 1.5), [4, 4]);
  const lif = (beta: number, threshold: number) => {
    const tau = 1e-4 / (1 - beta);
    return group({ type: 'LIF', tau: f32(new Float32Array(4).fill(tau), [4]), r: f32(new Float32Array(4).fill(tau / 1e-4), [4]),
      v_leak: f32(new Float32Array(4), [4]), v_threshold: f32(new Float32Array(4).fill(threshold), [4]), v_reset: f32(new Float32Array(4), [4]) });
  };
  /** input -> fc1 -> lif1 -> {fc2, fc3} -> lif2 (two edges in: their sum) -> output */
  const graph = (extra: [string, H5Group][] = [], edges: string[] = []) => {
    const nodes: H5Group = new Map<string, H5Group>([
      ['input', group({ type: 'Input', shape: { data: Int32Array.of(4), shape: [1] } })],
      ['fc1', group({ type: 'Affine', weight: w(1), bias: f32([0.2, 0.1, 0.3, 0], [4]) })],
      ['lif1', lif(0.75, 0.5)],
      ['fc2', group({ type: 'Affine', weight: w(2), bias: f32([0, 0, 0, 0], [4]) })],
      ['fc3', group({ type: 'Affine', weight: w(3), bias: f32([0.1, 0.1, 0.1, 0.1], [4]) })],
      ['lif2', lif(0.5, 0.5)],
      ['output', group({ type: 'Output', shape: { data: Int32Array.of(4), shape: [1] } })],
      ...extra,
    ]);
    const e = ['input', 'fc1', 'fc1', 'lif1', 'lif1', 'fc2', 'lif1', 'fc3', 'fc2', 'lif2', 'fc3', 'lif2', 'lif2', 'output', ...edges];
    return writeHdf5(group({ version: '1.0.0', node: group({ type: 'NIRGraph', nodes, edges: { strings: e, shape: [e.length / 2, 2] } }) }));
  };

  /** The graph under NIR's neuron (docs/nir.md): U = β·U' + I, spike when U > U_thr, U' = 0 after one. */
  function reference(x: Float32Array, steps: number): number[] {
    const affine = (m: Float32Array, b: ArrayLike<number>, v: ArrayLike<number>) =>
      Array.from({ length: 4 }, (_, o) => Math.fround(Array.from({ length: 4 }, (_, i) => m[o * 4 + i] * v[i]).reduce((a, c) => a + c, 0) + b[o]));
    const step = (u: number[], i: number[], beta: number, thr: number) => {
      const s = u.map((v, k) => (Math.fround(Math.fround(beta * v) + i[k]) > thr ? 1 : 0));
      const next = u.map((v, k) => (s[k] ? 0 : Math.fround(Math.fround(beta * v) + i[k])));
      return { s, next };
    };
    const [w1, w2, w3] = [w(1), w(2), w(3)].map((a) => a.data as Float32Array);
    const i1 = affine(w1, [0.2, 0.1, 0.3, 0].map(Math.fround), x);
    let u1 = [0, 0, 0, 0];
    let u2 = [0, 0, 0, 0];
    const total = [0, 0, 0, 0];
    for (let t = 0; t < steps; t++) {
      const a = step(u1, i1, 0.75, 0.5);
      u1 = a.next;
      const sum = affine(w2, [0, 0, 0, 0], a.s).map((v, k) => Math.fround(v + affine(w3, [0.1, 0.1, 0.1, 0.1].map(Math.fround), a.s)[k]));
      const b = step(u2, sum, 0.5, 0.5);
      u2 = b.next;
      b.s.forEach((v, k) => (total[k] += v));
    }
    return total;
  }

  it('reads two edges into a neuron as a residual sum before it, with NIR\'s neuron', async () => {
    const { model, fromSnnVoice } = await importNir(await graph(), { steps: 6 });
    try {
      expect(fromSnnVoice).toBe(false);
      model.eval();
      const x = Float32Array.of(1.5, 0.2, 0.9, 1.1);
      const out = model.forward(Tensor.from(x, [1, 4])).toArray();
      expect(Array.from(out)).toEqual(reference(x, 6));
      expect(out.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    } finally {
      model.dispose();
    }
  });

  it('refuses a node it cannot run, naming it', async () => {
    const delay = group({ type: 'Delay', delay: f32([1, 1, 1, 1], [4]) });
    // fc1 -> delay -> lif1 instead of fc1 -> lif1.
    const tree = await readHdf5(await graph([['delay', delay]]));
    const g = tree.get('node') as H5Group;
    const [, , , , ...rest] = (g.get('edges') as { strings: string[] }).strings; // drops input -> fc1 -> lif1
    const strings = ['input', 'fc1', 'fc1', 'delay', 'delay', 'lif1', ...rest];
    g.set('edges', { strings, shape: [strings.length / 2, 2] });
    await expect(importNir(await writeHdf5(tree))).rejects.toThrow(/delay: a NIR Delay node is not read here/);
  });
});
