// The layout of an SNN converted from a trained CNN (the weights' scaling is train/convert.ts's):
//
//   - the input stays analog (repeat encoding, computed once): the first layers see the CNN's input;
//   - every batch norm is folded into the convolution before it (its eval-mode affine map):
//         W' = W·γ/√(σ² + ε)        b' = (b − μ)·γ/√(σ² + ε) + β
//     so the SNN has no batch statistics to disagree with the CNN's, in eval or in fine-tuning; a 2d
//     batch norm with no convolution right before it (BC-ResNet's sub-spectral norm, behind a reshape)
//     becomes that affine map as a 1x1 depthwise convolution of the same name;
//   - every ReLU (or QCFS) becomes integrate-and-fire neurons (β = 1, reset by subtraction), signed ones
//     (layers/leaky.ts) with the config's `signed`: they take back a spike fired too early with a −1;
//   - an identity shortcut of spikes into a sum that an activation follows (BC-ResNet's x + f1 + f2)
//     gets a 1x1 depthwise synapse of weight 1, `<block>.identity`, so the sum can change unit;
//   - a max pool over spikes becomes a spiking max pool (layers/spike-maxpool.ts) whose count is the
//     max of the window's counts; a max pool over currents that change from step to step, followed by
//     its activation (Piczak's pool2), is moved after the neurons: max and ReLU commute in the CNN;
//     a max pool over the analog input (before any neuron) stays as it is: the same at every step;
//   - the last layer's weights and bias are divided by T: the model sums its outputs over the steps,
//     so the logits are the mean over the steps, on the CNN's scale.
// The layer names stay the CNN's (relu1 -> lif1, qcfs1 -> lif1), so a converted model file is rebuilt
// from its config by createModel (models/zoo.ts) like any other.
import { AdaptiveAvgPool2d } from '../layers/adaptive-avg-pool.js';
import { BN_EPS, BatchNorm } from '../layers/batchnorm.js';
import { Conv1d } from '../layers/conv1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { DepthwiseConv2d } from '../layers/depthwise-conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { Encoder } from '../layers/encoder.js';
import { Flatten } from '../layers/flatten.js';
import type { Layer } from '../layers/layer.js';
import { Leaky, type LeakySettings, NEURON_SETTINGS } from '../layers/leaky.js';
import { Linear } from '../layers/linear.js';
import { MaxPool1d, MaxPool2d } from '../layers/maxpool.js';
import { QCFS } from '../layers/qcfs.js';
import { ReLU } from '../layers/relu.js';
import { Reshape } from '../layers/reshape.js';
import { Residual } from '../layers/residual.js';
import { BroadcastRows, MeanRows } from '../layers/rows.js';
import { SpikeMaxPool1d, SpikeMaxPool2d } from '../layers/spike-maxpool.js';
import { deriveSeed } from '../util/hash.js';
import { pickSettings } from '../util/schema.js';
import { Network } from './network.js';
import type { ModelConfig } from './types.js';

/** A layer with a weight [Out, In, ...kernel] (a depthwise one: [C, 1, ...kernel], input c to output c) and a bias [Out]. */
export type Synapse = Conv1d | Conv2d | Linear | DepthwiseConv2d;

export const isSynapse = (l: Layer): l is Synapse => l instanceof Conv1d || l instanceof Conv2d || l instanceof Linear || l instanceof DepthwiseConv2d;
const isActivation = (l: Layer): boolean => l instanceof ReLU || l instanceof QCFS;
/** Layers that keep each channel's values (or pass them through unchanged in eval). */
const isPassThrough = (l: Layer): boolean =>
  l instanceof Dropout || l instanceof Flatten || l instanceof Reshape || l instanceof AdaptiveAvgPool2d || l instanceof MeanRows || l instanceof BroadcastRows;

/** The neuron layer an activation of the CNN becomes: relu3 -> lif3, block1.qcfs2 -> block1.lif2. */
export function neuronName(activation: string): string {
  return activation.replace(/(^|\.)(relu|qcfs)/, '$1lif');
}

export class ConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConversionError';
  }
}

/** Folds batch norm (eval mode) into the synaptic layer `s` in place (see the equations above). */
export function foldBatchNorm(s: Synapse, bn: BatchNorm): void {
  foldInto(s.weight.value.f32, s.bias.value.f32, bn, s.name);
}

/** The same fold on weight and bias arrays [out * per] and [out] (NIR export folds into copies). */
export function foldInto(w: Float32Array, b: Float32Array, bn: BatchNorm, synapse: string): void {
  const out = b.length;
  if (bn.channels !== out) throw new ConversionError(`${bn.name}: ${bn.channels} channels after ${synapse}'s ${out}`);
  const per = w.length / out;
  const [gamma, beta, mean, variance] = [bn.weight.value.f32, bn.bias.value.f32, bn.runningMean.f32, bn.runningVar.f32];
  for (let o = 0; o < out; o++) {
    const k = gamma[o] / Math.sqrt(variance[o] + BN_EPS);
    for (let i = o * per; i < (o + 1) * per; i++) w[i] *= k;
    b[o] = (b[o] - mean[o]) * k + beta[o];
  }
}

interface Walk {
  /** The tensor at this point differs from step to step (some neuron is upstream). */
  timed: boolean;
  /** It holds spikes (binary). */
  spikes: boolean;
}

/** A copy of a synapse with a trainable bias, where a batch norm folds (a bias-less one's is zero). */
function withBias(s: Synapse): Synapse {
  if (s instanceof Conv2d && s.settings.bias === false) return new Conv2d(s.name, { ...s.settings, bias: true }, s);
  if (s instanceof DepthwiseConv2d && s.settings.bias === false) return new DepthwiseConv2d(s.name, { ...s.settings, bias: true }, s);
  return s.clone();
}

/** A 1x1 depthwise convolution of weight 1 over the channels a block's main path reads. */
function identitySynapse(block: Residual, main: readonly Layer[]): DepthwiseConv2d {
  const first = main.find(isSynapse);
  const channels = first instanceof DepthwiseConv2d ? first.settings.channels : first instanceof Conv2d ? first.settings.inChannels : 0;
  if (!channels) throw new ConversionError(`${block.name}: an identity shortcut into a sum of currents needs a 2d convolution first on its main path`);
  const synapse = new DepthwiseConv2d(`${block.name}.identity`, { channels, kernel: [1, 1] }, 0);
  synapse.weight.value.fill(1);
  synapse.bias.value.fill(0);
  return synapse;
}

/** Converts one path of layers (the network's, or a residual block's) from `at`; see the file's comment. */
function convertPath(layers: readonly Layer[], neuron: LeakySettings, at: Walk): Layer[] {
  const out: Layer[] = [];
  const leaky = (activation: Layer) => new Leaky(neuronName(activation.name), neuron);
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (isSynapse(layer)) {
      const copy = withBias(layer);
      out.push(copy);
      at.spikes = false;
      if (layers[i + 1] instanceof BatchNorm) foldBatchNorm(copy, layers[++i] as BatchNorm);
    } else if (layer instanceof BatchNorm) {
      if (layer.rank !== 3) throw new ConversionError(`${layer.name}: batch norm must follow a convolution or linear layer to be folded into it`);
      const affine = new DepthwiseConv2d(layer.name, { channels: layer.channels, kernel: [1, 1] }, 0);
      affine.weight.value.fill(1);
      affine.bias.value.fill(0);
      foldBatchNorm(affine, layer);
      out.push(affine);
      at.spikes = false;
    } else if (isActivation(layer)) {
      out.push(leaky(layer));
      at.timed = at.spikes = true;
    } else if (layer instanceof MaxPool2d) {
      const pool = (name: string) =>
        layer instanceof MaxPool1d ? new SpikeMaxPool1d(name, layer.kernel1d, layer.stride1d) : new SpikeMaxPool2d(name, layer.kernel, layer.stride);
      if (!at.timed) out.push(layer.clone());
      else if (at.spikes) out.push(pool(layer.name));
      else {
        // Currents that change each step: max(ReLU(x)) = ReLU(max(x)), so pool the spikes instead.
        let j = i + 1;
        while (j < layers.length && layers[j] instanceof Dropout) j++;
        if (j >= layers.length || !isActivation(layers[j]))
          throw new ConversionError(`${layer.name}: a max pool over changing currents needs an activation after it to trade places with`);
        out.push(...layers.slice(i + 1, j).map((l) => l.clone()), leaky(layers[j]), pool(layer.name));
        at.timed = at.spikes = true;
        i = j;
      }
    } else if (layer instanceof Residual) {
      const main = convertPath(layer.main, neuron, { ...at });
      const shortcut = convertPath(layer.shortcut, neuron, { ...at });
      if (shortcut.length === 0 && at.spikes && !(main[main.length - 1] instanceof Leaky)) shortcut.push(identitySynapse(layer, main));
      out.push(new Residual(layer.name, main, shortcut));
      at.timed = at.timed || main.some((l) => l instanceof Leaky) || shortcut.some((l) => l instanceof Leaky);
      at.spikes = false;
    } else if (isPassThrough(layer)) {
      out.push(layer.clone());
      if (layer instanceof AdaptiveAvgPool2d || layer instanceof MeanRows) at.spikes = false;
    } else {
      throw new ConversionError(`${layer.name}: no spiking form of a ${layer.constructor.name} layer`);
    }
  }
  return out;
}

/**
 * The converted SNN of `cnn` (not changed): its layers as above with its weights (batch norm folded),
 * every threshold 1, the neuron of `config` (its steps, initial membrane, surrogate). The weights are
 * the CNN's, unscaled but for the last layer's 1/T; train/convert.ts scales them to the thresholds.
 */
export function convertNetwork(cnn: Network, config: ModelConfig): Network {
  if (cnn.spiking) throw new ConversionError(`the ${cnn.name} model is already spiking: convert takes a CNN`);
  const neuron = { ...(pickSettings(NEURON_SETTINGS, config) as LeakySettings), beta: 1, threshold: 1, form: 'current', reset: 'subtract' } as const;
  const encoder = new Encoder('encoder', 'repeat', config.steps, deriveSeed(config.seed, 'encoder'));
  const layers: Layer[] = [encoder];
  try {
    layers.push(...convertPath(cnn.layers, neuron, { timed: false, spikes: false }));
    const last = layers[layers.length - 1];
    if (!(last instanceof Linear)) throw new ConversionError(`${last.name}: the model must end in a linear layer, the readout`);
    for (const t of [last.weight.value.f32, last.bias.value.f32]) for (let i = 0; i < t.length; i++) t[i] /= config.steps;
    // No neuron at all (Tcy is linear): unroll the input so the readout still sums `steps` outputs.
    if (!layers.some((l) => l instanceof Leaky || l instanceof Residual)) encoder.repeatOnce = false;
    return new Network(config, cnn.inputShape, layers);
  } catch (e) {
    for (const l of layers) l.dispose();
    throw e;
  }
}
