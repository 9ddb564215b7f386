// exportNir: a spiking model of this package as a NIR graph (docs/nir.md has the full mapping). Each
// layer becomes the NIR node of its name; the per-sample shapes go on every node as input_type and
// output_type. In short:
//   Conv1d/Conv2d (+ the BatchNorm after it, folded: W' = W·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β;
//     the unfolded arrays in the node's metadata) -> Conv1d/Conv2d;  Linear -> Affine (y = W·x + b);
//   Flatten, Reshape -> Flatten;  a ReLU over 0/1 spikes -> nothing (max(0, s) = s);
//   Leaky with β < 1 -> LIF, snnTorch's mapping at dt = 1: τ = dt/(1 − β), r = τ/dt, v_leak = 0,
//     v_threshold = U_thr, v_reset = 0;  Leaky with β = 1 -> IF (r = 1);
//   max pool over binary spikes -> SumPool2d then Threshold(0.5): the max of 0/1 values is 1 exactly
//     when their sum is ≥ 1 (no NIR max pool exists; over analog values it is refused);
//   adaptive average pool to 1 -> AvgPool2d whose kernel is the whole input; to more, then Flatten and
//     Linear -> Flatten and one Affine(W·P, b), P the pool's matrix (pool-affine.ts);
//   a residual block -> its two paths and a Scale(1) node "<block>.sum" that both paths' edges enter
//     (NIR sums every edge into a node);
//   the repeat encoder and the readout summed over the steps -> the graph's metadata.
// What has no exact NIR form is refused, every such layer named with the reason (REASONS). ReLU and a max
// over analog values have none: every NIR node is linear in its input or emits 0/1 values, so any value
// in a NIR graph is a linear function of the inputs so far plus constants times 0/1 values; its slope
// is the same wherever the 0/1 values are fixed, so it never bends as ReLU(x) does at 0, nor
// max(a, b) = a + ReLU(b − a) where a = b.
import { BatchNorm } from '../layers/batchnorm.js';
import { foldInto } from '../models/converted.js';
import { AdaptiveAvgPool2d } from '../layers/adaptive-avg-pool.js';
import { Conv1d } from '../layers/conv1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { Encoder } from '../layers/encoder.js';
import { Flatten } from '../layers/flatten.js';
import type { Layer } from '../layers/layer.js';
import { Leaky } from '../layers/leaky.js';
import { Linear } from '../layers/linear.js';
import { MaxPool1d, MaxPool2d } from '../layers/maxpool.js';
import { Reshape } from '../layers/reshape.js';
import { Residual } from '../layers/residual.js';
import { QCFS } from '../layers/qcfs.js';
import { ReLU } from '../layers/relu.js';
import { SpikeMaxPool2d } from '../layers/spike-maxpool.js';
import { Network } from '../models/network.js';
import type { ModelMeta } from '../models/serialize.js';
import type { Model } from '../models/types.js';
import { type H5Group, type H5Leaf, writeHdf5 } from './hdf5.js';
import { META, NIR_VERSION, NirError, f32, f64, group, int, ints, num } from './format.js';
import { composePool } from './pool-affine.js';

interface Builder {
  nodes: H5Group;
  edges: [string, string][];
  /** Every layer NIR cannot express, by reason: all are reported at once. */
  refused: Map<string, string[]>;
}

/** Why a layer has no exact NIR form (the file's comment has the argument), and what exports instead. */
const REASONS = {
  relu: 'NIR has no ReLU node and no exact equivalent (every NIR node is linear or emits 0/1 values, so no NIR graph bends at 0 as a ReLU does), and the input here is analog, not 0/1 spikes on which a ReLU is the identity; a model whose activations are all Leaky neurons exports (hjh, m5, tcy, tcresnet8 SNNs)',
  maxAnalog: 'a max pool over analog values has no NIR node and no exact equivalent (max(a, b) = a + ReLU(b − a)); only a max pool over 0/1 spikes is written (SumPool2d then Threshold), so pool after a Leaky neuron',
  spikeMax: "a converted spiking max pool emits a spike when the window's largest running spike count grows: NIR has no max node, and one built from NIR's continuous-time integrator (I) and Delay nodes would run differently in each reader; an SNN trained with surrogate gradients (`snn-voice train --spiking`) exports, its max pools acting on each step's spikes",
} as const;

/** Notes `layer` as refused for `reason`: layers of one reason are reported together. */
function refuse(b: Builder, layer: string, reason: string): void {
  b.refused.set(reason, [...(b.refused.get(reason) ?? []), layer]);
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const fill = (n: number, v: number) => new Float64Array(n).fill(v);

/** Adds node `name` fed by `from`, with its per-sample input and output shapes. */
function add(b: Builder, name: string, from: string, type: string, params: Record<string, H5Leaf | H5Group>, input: readonly number[], output: readonly number[]) {
  if (b.nodes.has(name)) throw new NirError(`two NIR nodes would be named "${name}"`);
  // The shapes go in the node's metadata: the reference reader passes a node's datasets to its class,
  // and some classes (AvgPool2d, Conv2d, Scale) take no input_type argument. Flatten also needs its own.
  const metadata = params.metadata instanceof Map ? params.metadata : new Map();
  metadata.set('input_type', ints([...input]));
  metadata.set('output_type', ints([...output]));
  b.nodes.set(name, group({ type, ...params, ...(type === 'Flatten' ? { input_type: ints([...input]) } : {}), metadata }));
  b.edges.push([from, name]);
}

/** The weight and bias of a synapse, with the batch norm after it folded in (copies: the model is not changed). */
function synapseArrays(s: Conv1d | Conv2d | Linear, bn: BatchNorm | null): { w: Float32Array; b: Float32Array } {
  const w = s.weight.value.f32.slice();
  const b = s.bias.value.f32.slice();
  if (!bn) return { w, b };
  if (bn.channels !== b.length) throw new NirError(`${bn.name}: ${bn.channels} channels after ${s.name}'s ${b.length}`);
  foldInto(w, b, bn, s.name);
  return { w, b };
}

/**
 * What a folded node was made from, in its metadata: NIR has no batch norm node, so other readers run
 * the folded weights, and importNir restores the synapse and the batch norm, bit for bit (a neuron whose
 * membrane lies within rounding of its threshold would otherwise flip).
 */
function unfolded(s: Conv1d | Conv2d | Linear, bn: BatchNorm | null): { metadata?: H5Group } {
  if (!bn) return {};
  const c = [bn.channels];
  return {
    metadata: group({
      batch_norm: bn.name,
      unfolded_weight: f32(s.weight.value.f32, [...s.weight.value.shape]),
      unfolded_bias: f32(s.bias.value.f32, [s.bias.value.size]),
      bn_weight: f32(bn.weight.value.f32, c),
      bn_bias: f32(bn.bias.value.f32, c),
      bn_running_mean: f32(bn.runningMean.f32, c),
      bn_running_var: f32(bn.runningVar.f32, c),
    }),
  };
}

function leakyNode(l: Leaky, shape: readonly number[]): { type: string; params: Record<string, H5Leaf | H5Group> } {
  const { beta, threshold } = l.lifParams();
  const { form, reset, initial, surrogate } = l.settings;
  const n = prod(shape);
  // How this neuron differs from NIR's own (docs/nir.md): NIR's LIF/IF reset to v_reset after a spike.
  const metadata = group({ form, reset, initial: num(initial), surrogate, beta: num(beta) });
  const common = { v_threshold: f32(new Float32Array(n).fill(threshold), [...shape]), v_reset: f32(new Float32Array(n), [...shape]), metadata };
  if (beta >= 1) return { type: 'IF', params: { r: f64(fill(n, 1), [...shape]), ...common } };
  const tau = 1 / (1 - beta); // dt = 1
  return { type: 'LIF', params: { tau: f64(fill(n, tau), [...shape]), r: f64(fill(n, tau), [...shape]), v_leak: f64(fill(n, 0), [...shape]), ...common } };
}

/** Emits one path of layers from node `from` with per-sample `shape`; returns the last node and shape. */
function emitPath(b: Builder, layers: readonly Layer[], from: string, shape: number[], spikes: boolean): { from: string; shape: number[]; spikes: boolean } {
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    const out = layer.outputShape(shape);
    const name = layer.name;
    if (layer instanceof Dropout) continue; // the identity in eval
    if (layer instanceof Conv1d || layer instanceof Conv2d || layer instanceof Linear) {
      const bn = layers[i + 1] instanceof BatchNorm ? (layers[++i] as BatchNorm) : null;
      const { w, b: bias } = synapseArrays(layer, bn);
      if (layer instanceof Linear) add(b, name, from, 'Affine', { weight: f32(w, [...layer.weight.value.shape]), bias: f32(bias, [bias.length]), ...unfolded(layer, bn) }, shape, out);
      else if (layer instanceof Conv1d) {
        const { stride = 1, padding = 0, kernel } = layer.settings;
        const pad = padding === 'same' ? (kernel - 1) / 2 : padding;
        add(b, name, from, 'Conv1d', {
          weight: f32(w, [...layer.weight.value.shape]), bias: f32(bias, [bias.length]), stride: ints([stride]), padding: ints([pad]),
          dilation: ints([1]), groups: int(1), input_shape: int(shape[1]), ...unfolded(layer, bn),
        }, shape, out);
      } else {
        const { stride, padding } = layer.options;
        add(b, name, from, 'Conv2d', {
          weight: f32(w, [...layer.weight.value.shape]), bias: f32(bias, [bias.length]), stride: ints(stride), padding: ints(padding),
          dilation: ints([1, 1]), groups: int(1), input_shape: ints(shape.slice(1)), ...unfolded(layer, bn),
        }, shape, out);
      }
      spikes = false;
    } else if (layer instanceof BatchNorm) {
      refuse(b, name, `NIR has no batch norm node, and this one follows no convolution or linear layer to be folded into`);
    } else if (layer instanceof Leaky) {
      if (layer.settings.signed) refuse(b, name, "signed neurons fire −1 below zero while their net count is positive; NIR's LIF and IF nodes emit 0/1 only and keep no spike count (convert without --signed to export)");
      const { type, params } = leakyNode(layer, shape);
      add(b, name, from, type, params, shape, out);
      spikes = true;
    } else if (layer instanceof Flatten || layer instanceof Reshape) {
      // Our Flatten keeps the batch; NIR's shapes are per sample, so all of them are flattened. A reshape
      // that merges leading dimensions ([1, 60, 134] -> [60, 134]) is a Flatten of dims 0..k.
      let end = -1;
      if (layer instanceof Reshape) {
        end = shape.findIndex((_, k) => prod(shape.slice(0, k + 1)) === out[0]);
        if (end < 0 || out.length !== shape.length - end || out.slice(1).some((d, k) => d !== shape[end + 1 + k]))
          throw new NirError(`${name}: a reshape of [${shape}] to [${out}] is not a flatten of leading dimensions, and NIR has no reshape node`);
      }
      add(b, name, from, 'Flatten', { start_dim: int(0), end_dim: int(end) }, shape, out);
    } else if (layer instanceof ReLU && spikes) {
      continue; // max(0, s) = s for s in {0, 1}: the identity, dropped exactly
    } else if (layer instanceof ReLU || layer instanceof QCFS) {
      refuse(b, name, REASONS.relu);
      spikes = false;
    } else if (layer instanceof SpikeMaxPool2d) {
      refuse(b, name, REASONS.spikeMax);
    } else if (layer instanceof MaxPool2d && !spikes) {
      refuse(b, name, REASONS.maxAnalog);
    } else if (layer instanceof MaxPool2d) {
      const oneD = layer instanceof MaxPool1d;
      const kernel = oneD ? [layer.kernel1d] : [...layer.kernel];
      const stride = oneD ? [layer.stride1d] : [...layer.stride];
      add(b, `${name}.sum`, from, 'SumPool2d', { kernel_size: ints(kernel), stride: ints(stride), padding: ints(kernel.map(() => 0)) }, shape, out);
      add(b, name, `${name}.sum`, 'Threshold', { threshold: f32(new Float32Array(prod(out)).fill(0.5), out) }, out, out);
    } else if (layer instanceof AdaptiveAvgPool2d && out.slice(1).some((d) => d !== 1)) {
      const head = pooledHead(layers, i);
      if (!head) {
        refuse(b, name, `adaptive average pooling to [${out.slice(1)}] has bins of unequal size, which NIR's AvgPool2d (one kernel, one stride) cannot hold; it is written only when it pools to 1, or when Flatten then Linear follow it (the three as one Affine)`);
        shape = out;
        spikes = false;
        continue;
      }
      const { flatten, linear, bn } = head;
      const pool = { input: (shape.length === 2 ? [shape[0], 1, shape[1]] : shape) as [number, number, number], pooled: layer.size };
      const flat = [prod(shape)];
      const { w, b: bias } = synapseArrays(linear, bn);
      const classes = linear.weight.value.shape[0];
      const metadata = group({ pool: name, pool_input: ints(pool.input), pool_output: ints(pool.pooled) });
      add(b, flatten.name, from, 'Flatten', { start_dim: int(0), end_dim: int(-1) }, shape, flat);
      add(b, linear.name, flatten.name, 'Affine', { weight: f32(composePool(w, pool), [classes, flat[0]]), bias: f32(bias, [classes]), metadata }, flat, [classes]);
      i = head.last;
      from = linear.name;
      shape = [classes];
      spikes = false;
      continue;
    } else if (layer instanceof AdaptiveAvgPool2d) {
      const kernel = shape.slice(1);
      add(b, name, from, 'AvgPool2d', { kernel_size: ints(kernel), stride: ints(kernel), padding: ints(kernel.map(() => 0)) }, shape, out);
      spikes = false;
    } else if (layer instanceof Residual) {
      const main = emitPath(b, layer.main, from, shape, spikes);
      const short = emitPath(b, layer.shortcut, from, shape, spikes);
      const sum = `${name}.sum`;
      add(b, sum, main.from, 'Scale', { scale: f32(new Float32Array(prod(out)).fill(1), out) }, out, out);
      b.edges.push([short.from, sum]);
      spikes = false;
    } else {
      refuse(b, name, `a ${layer.constructor.name} layer has no NIR node`);
    }
    from = layer instanceof Residual ? `${name}.sum` : name;
    shape = out;
  }
  return { from, shape, spikes };
}

/** After the adaptive pool at `i`: Flatten then Linear (Dropouts between skipped, a BatchNorm after the Linear folded), or null. */
function pooledHead(layers: readonly Layer[], i: number): { flatten: Flatten; linear: Linear; bn: BatchNorm | null; last: number } | null {
  const skip = (j: number) => {
    while (layers[j] instanceof Dropout) j++;
    return j;
  };
  const f = skip(i + 1);
  const l = skip(f + 1);
  const flatten = layers[f];
  const linear = layers[l];
  if (!(flatten instanceof Flatten) || !(linear instanceof Linear)) return null;
  const bn = layers[l + 1] instanceof BatchNorm ? (layers[l + 1] as BatchNorm) : null;
  return { flatten, linear, bn, last: bn ? l + 1 : l };
}

/**
 * The NIR file (HDF5 bytes) of a spiking model: a graph input -> layers -> output, the per-step
 * computation; run it for `steps` steps on the same input and sum the outputs for the logits (the
 * graph's metadata says so). Throws NirError naming every layer NIR cannot express, with the reason.
 */
export async function exportNir(model: Model, meta?: ModelMeta): Promise<Uint8Array> {
  if (!(model instanceof Network)) throw new NirError('exportNir: the model was not built by this package');
  if (!model.spiking) throw new NirError(`exportNir: the ${model.name} model is a CNN; NIR describes spiking networks (export its SNN)`);
  const [encoder, ...layers] = model.layers;
  if (!(encoder instanceof Encoder) || encoder.kind !== 'repeat')
    throw new NirError(`${encoder.name}: only the repeat encoder (the same input at every step) is written; a ${encoder instanceof Encoder ? encoder.kind : 'missing'} encoder has no NIR form`);
  const b: Builder = { nodes: new Map(), edges: [], refused: new Map() };
  const input = [...model.inputShape];
  b.nodes.set('input', group({ type: 'Input', shape: ints(input) }));
  const last = emitPath(b, layers, 'input', input, false);
  if (b.refused.size > 0) throw new NirError([...b.refused].map(([reason, names]) => `${names.join(', ')}: ${reason}`).join('. '));
  b.nodes.set('output', group({ type: 'Output', shape: ints(last.shape) }));
  b.edges.push([last.from, 'output']);
  const names = b.edges.flat();
  const modelJson = JSON.stringify({ config: model.config, ...(meta ? { classNames: meta.classNames, features: meta.features } : {}) });
  const graph = group({
    type: 'NIRGraph',
    nodes: b.nodes,
    edges: { strings: names, shape: [b.edges.length, 2] },
    metadata: group({
      [META.producer]: 'snn-voice',
      [META.steps]: int(model.steps),
      [META.dt]: num(1),
      [META.encoder]: 'repeat',
      [META.readout]: 'sum',
      [META.model]: modelJson,
    }),
  });
  return writeHdf5(group({ version: NIR_VERSION, node: graph }));
}
