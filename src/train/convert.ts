// CNN -> SNN conversion that keeps the CNN's accuracy (docs/conversion.md): the converted layout of
// models/converted.ts (batch norm folded, IF neurons, spike-count max pools, analog input, mean
// readout), with every weight and bias scaled so each layer's neurons see the CNN's activations in units
// of their threshold. With λ_k[c] the scale of channel c of activation k (the CNN's value a neuron
// firing at every step stands for), a synaptic layer from activation k−1 to activation k becomes
//
//     W'[o, i] = W[o, i]·λ_{k−1}[i] / λ_k[o]        b'[o] = b[o] / λ_k[o]        threshold 1
//
// (λ = 1 for the analog input and for an output read as it is), so a neuron's rate times λ_k[o] is
// the CNN's activation. The methods differ in λ and in the initial membrane:
//   layer    λ per layer: a percentile of the CNN's activations on calibration data; membrane from 0
//   channel  λ per channel (Kim et al. 2020), membrane from 0
//   ecc      per channel, membrane from half the threshold (Wu et al. 2022's ECC: current normalisation,
//            thresholding for residual elimination, batch norm folded consistently): rates round
//   qcfs     λ of each QCFS layer of a CNN trained with --quantize (Bu et al. 2022), membrane from
//            half the threshold: at T = L steps the first spiking layer reproduces QCFS exactly
// A residual block adds its two paths' spikes: their last neurons get one λ (the larger of the two,
// per channel; for QCFS the tied λ), so the sum stays in one unit; an identity shortcut passes the
// block's input, whose unit the main path's last neuron then takes. A block whose main path ends in a
// synapse rather than a neuron (BC-ResNet's x + f1 + broadcast(f2), the activation after the sum) adds
// currents: that synapse is scaled to the unit of the sum, which is the input's for an identity
// shortcut, and the neuron after the block takes that unit as its λ.
import type { Dataset } from '../data/dataset.js';
import { AdaptiveAvgPool2d } from '../layers/adaptive-avg-pool.js';
import { Dropout } from '../layers/dropout.js';
import { Encoder } from '../layers/encoder.js';
import { Flatten } from '../layers/flatten.js';
import type { Layer } from '../layers/layer.js';
import { Leaky } from '../layers/leaky.js';
import { MaxPool2d } from '../layers/maxpool.js';
import { Reshape } from '../layers/reshape.js';
import { Residual } from '../layers/residual.js';
import { BroadcastRows, MeanRows } from '../layers/rows.js';
import { DepthwiseConv2d } from '../layers/depthwise-conv2d.js';
import { SpikeMaxPool2d } from '../layers/spike-maxpool.js';
import { resolveConfig } from '../models/config.js';
import { ConversionError, convertNetwork, isSynapse, neuronName, type Synapse } from '../models/converted.js';
import { Network } from '../models/network.js';
import type { Model, ModelConfig } from '../models/types.js';
import { type ActivationScales, activationLayers, activationScales } from './calibrate.js';
import { QCFS } from '../layers/qcfs.js';

export const CONVERSION_METHODS = ['layer', 'channel', 'ecc', 'qcfs'] as const;
export type ConversionMethod = (typeof CONVERSION_METHODS)[number];

export interface ConvertOptions {
  /** Time steps T of the SNN. */
  steps: number;
  /** Default: 'qcfs' for a CNN trained with QCFS activations, else 'ecc'. */
  method?: ConversionMethod;
  /** Samples the scales are measured on (the training split); needed by all methods but qcfs. */
  calibration?: Dataset;
  /** Of the positive activations, in (0, 100]; default 99.99. */
  percentile?: number;
  /** Calibration samples; default 512. */
  samples?: number;
  /** Neuron settings for fine-tuning the converted SNN (surrogate, learned threshold). */
  neuron?: Partial<Pick<ModelConfig, 'surrogate' | 'learnThreshold'>>;
  /** Scales measured before (conversionScales), to convert at several T without measuring again. */
  scales?: NeuronScales;
  /**
   * Signed IF neurons with memory (layers/leaky.ts): a neuron that fired too early takes the spike back
   * with a −1, so its count over T follows the rounded (ECC, QCFS) or floored ReLU of its summed input.
   * Default false.
   */
  signed?: boolean;
}

/** Per neuron layer of the converted SNN (lif1, block1.lif2): λ per channel ([C]) or for the layer ([1]). */
export type NeuronScales = ReadonlyMap<string, Float32Array>;

/** The method convert() takes when none is given. */
export function defaultMethod(cnn: Model): ConversionMethod {
  return cnn.config.quantize > 0 ? 'qcfs' : 'ecc';
}

/** Scales of the tensor at some point of the network: per channel ([C]), or one for all ([1]). */
type Units = Float32Array;
const at = (u: Units, i: number): number => (u.length === 1 ? u[0] : u[i]);
const ONE: Units = Float32Array.of(1);

/**
 * W'[o, i, ...] = W·uIn[i]/uOut[o], b' = b/uOut[o]; for a depthwise synapse input o feeds output o.
 * Units of fewer channels than the outputs stand for channel groups: a reshape after the synapse splits
 * each channel into equal sub-bands (BC-ResNet's sub-spectral norm), output o belongs to channel
 * floor(o·channels/out).
 */
function scaleSynapse(s: Synapse, uIn: Units, uOut: Units): void {
  const w = s.weight.value.f32;
  const b = s.bias.value.f32;
  const [out, inputs] = s.weight.value.shape;
  const per = w.length / (out * inputs);
  const depthwise = s instanceof DepthwiseConv2d;
  const unitOut = (o: number) => (uOut.length === 1 || uOut.length === out ? at(uOut, o) : uOut[Math.floor((o * uOut.length) / out)]);
  for (let o = 0; o < out; o++) {
    const down = unitOut(o);
    for (let i = 0; i < inputs; i++) {
      const k = at(uIn, depthwise ? o : i) / down;
      for (let j = (o * inputs + i) * per; j < (o * inputs + i + 1) * per; j++) w[j] *= k;
    }
    b[o] /= down;
  }
}

/** The last neuron layer of a path, when nothing after it changes units per channel differently. */
function lastNeuron(path: readonly Layer[]): Leaky | null {
  for (let i = path.length - 1; i >= 0; i--) {
    const l = path[i];
    if (l instanceof Leaky) return l;
    if (!(l instanceof SpikeMaxPool2d || l instanceof Dropout)) return null;
  }
  return null;
}

const elementMax = (a: Units, b: Units): Units =>
  Float32Array.from({ length: Math.max(a.length, b.length) }, (_, i) => Math.max(at(a, i), at(b, i)));

/**
 * Walks a path with the units of its input, scaling each synaptic layer once the units of its output
 * are known (the neuron after it, or `target`, 1 unless a residual sum asks for its own); returns the
 * units of its output. `shape`: per row.
 */
function normalisePath(path: readonly Layer[], units: Units, shape: number[], scales: Map<string, Units>, target: Units = ONE): { units: Units; shape: number[] } {
  let pending: { layer: Synapse; units: Units } | null = null;
  const settle = (uOut: Units) => {
    if (pending) scaleSynapse(pending.layer, pending.units, uOut);
    pending = null;
  };
  const scaleOf = (l: Leaky): Units => {
    const lambda = scales.get(l.name);
    if (!lambda) throw new ConversionError(`${l.name}: no scale for this neuron layer`);
    return lambda;
  };
  let u = units;
  path.forEach((layer, index) => {
    const inShape = shape;
    shape = layer.outputShape(shape);
    const next = path[index + 1];
    if (isSynapse(layer)) {
      settle(ONE);
      pending = { layer, units: u };
      u = ONE;
    } else if (layer instanceof Leaky) {
      const lambda = scaleOf(layer);
      // After a sum of currents (see the file's comment) the inputs are in this neuron's unit already.
      if (!pending && lambda !== u) throw new ConversionError(`${layer.name}: a converted neuron layer needs a synaptic layer before it`);
      settle(lambda);
      layer.threshold.value.f32[0] = 1;
      u = lambda;
    } else if (layer instanceof Residual && !lastNeuron(layer.main) && !lastNeuron(layer.shortcut)) {
      // A sum of currents, the activation (if any) after it: both paths end in the sum's unit, the next
      // neuron's λ (or the unit this path must end in).
      let join = next instanceof Leaky ? scaleOf(next) : index === path.length - 1 ? target : ONE;
      if (layer.shortcut.length > 0) settle(ONE);
      else if (pending) {
        // An identity shortcut passes x as it is: the synapse that makes x takes the sum's unit.
        settle(join);
        u = join;
      } else join = u; // nothing before can rescale x: the sum keeps x's unit
      normalisePath(layer.main, u, inShape, scales, join);
      normalisePath(layer.shortcut, u, inShape, scales, join);
      if (next instanceof Leaky) scales.set(next.name, join);
      u = join;
    } else if (layer instanceof Residual) {
      settle(ONE);
      const [a, b] = [lastNeuron(layer.main), lastNeuron(layer.shortcut)];
      if (a && b) {
        const joined = elementMax(scaleOf(a), scaleOf(b));
        scales.set(a.name, joined);
        scales.set(b.name, joined);
      } else if (a && layer.shortcut.length === 0) scales.set(a.name, u);
      else throw new ConversionError(`${layer.name}: its two paths must each end in an activation (or the shortcut be the identity) to add in one unit`);
      const main = normalisePath(layer.main, u, inShape, scales);
      normalisePath(layer.shortcut, u, inShape, scales);
      u = main.units;
    } else if (layer instanceof Flatten) {
      // Channel c of [C, ...rest] becomes features c·S .. (c+1)·S − 1.
      if (u.length > 1) {
        const S = inShape.slice(1).reduce((a, b) => a * b, 1);
        const prev = u;
        u = Float32Array.from({ length: prev.length * S }, (_, f) => prev[Math.floor(f / S)]);
      }
    } else if (layer instanceof Reshape) {
      if (u.some((x) => x !== u[0])) throw new ConversionError(`${layer.name}: cannot reshape channels of different scales`);
      u = u.length > 1 ? Float32Array.of(u[0]) : u;
    } else if (!(layer instanceof Encoder || layer instanceof MaxPool2d || layer instanceof SpikeMaxPool2d || layer instanceof Dropout || layer instanceof AdaptiveAvgPool2d
      || layer instanceof MeanRows || layer instanceof BroadcastRows)) {
      throw new ConversionError(`${layer.name}: no rule to carry scales through a ${layer.constructor.name}`);
    }
  });
  settle(target);
  return { units: u, shape };
}

/** λ per neuron layer from the QCFS layers of the CNN (a tied layer has its owner's). */
function qcfsScales(cnn: Network): Map<string, Units> {
  const layers = activationLayers(cnn);
  if (layers.length === 0 || layers.some((l) => !(l instanceof QCFS)))
    throw new ConversionError(`method qcfs needs a CNN trained with QCFS activations (train --quantize L); this ${cnn.name} has ${layers.length ? 'ReLUs' : 'no activations'}`);
  return new Map(layers.map((l) => [neuronName(l.name), Float32Array.of((l as QCFS).scale)]));
}

function checkCnn(cnn: Model, method: string): asserts cnn is Network {
  if (!(cnn instanceof Network)) throw new TypeError('convert: the model was not built by createModel');
  if (cnn.spiking) throw new ConversionError(`the ${cnn.name} model is already spiking: convert takes a CNN`);
  if (!(CONVERSION_METHODS as readonly string[]).includes(method))
    throw new RangeError(`convert: method must be one of ${CONVERSION_METHODS.join(', ')}, got ${JSON.stringify(method)}`);
}

/** The scales a method converts `cnn` with: measured on the calibration data, or QCFS's λ. */
export function conversionScales(cnn: Model, opts: Omit<ConvertOptions, 'steps' | 'neuron' | 'scales'>): NeuronScales {
  const method = opts.method ?? defaultMethod(cnn);
  checkCnn(cnn, method);
  if (method === 'qcfs') return qcfsScales(cnn);
  if (!opts.calibration) throw new RangeError(`convert: method ${method} measures the CNN's activations: give calibration data`);
  const measured: ActivationScales = activationScales(cnn, opts.calibration, { channelWise: method !== 'layer', percentile: opts.percentile, samples: opts.samples });
  return new Map([...measured].map(([name, s]) => [neuronName(name), s]));
}

/**
 * The SNN of `cnn` (left unchanged) that keeps its accuracy: see the file's comment. Throws a
 * ConversionError naming the layer for a CNN it cannot convert.
 */
export function convert(cnn: Model, opts: ConvertOptions): Model {
  const method = opts.method ?? defaultMethod(cnn);
  checkCnn(cnn, method);
  // A copy: residual joins set their paths' scales to one.
  const scales = new Map(opts.scales ?? conversionScales(cnn, { ...opts, method }));
  const config: ModelConfig = resolveConfig(cnn.name, {
    ...cnn.config,
    spiking: true,
    converted: true,
    steps: opts.steps,
    encoder: 'repeat',
    beta: 1,
    threshold: 1,
    form: 'current',
    reset: 'subtract',
    initial: method === 'ecc' || method === 'qcfs' ? 0.5 : 0,
    signed: opts.signed ?? false,
    learnBeta: false,
    learnThreshold: opts.neuron?.learnThreshold ?? false,
    surrogate: opts.neuron?.surrogate ?? cnn.config.surrogate,
  });
  const snn = convertNetwork(cnn, config);
  try {
    normalisePath(snn.layers, ONE, [...snn.inputShape], scales);
  } catch (e) {
    snn.dispose();
    throw e;
  }
  return snn;
}
