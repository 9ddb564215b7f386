// The four architectures of the study, as CNNs; their SNN twins come from toSpiking(), so no model is
// written twice. Layer names follow PyTorch's so weights map one to one.
import { LOGMEL_40x101, LOGMEL_60x134, MFCC_20x134, WAVEFORM_4K, WAVEFORM_8K, featureShape, type FeatureSettings } from '../audio/settings.js';
// Installs the engine's FFT as the spectra of every feature extraction once an engine runs (audio/spectrum.ts).
import '../kernels/fft.js';
import { AdaptiveAvgPool1d, AdaptiveAvgPool2d } from '../layers/adaptive-avg-pool.js';
import { BatchNorm1d, BatchNorm2d } from '../layers/batchnorm.js';
import { Conv1d } from '../layers/conv1d.js';
import { Conv2d } from '../layers/conv2d.js';
import { BroadcastRows, MeanRows } from '../layers/rows.js';
import { DepthwiseConv2d } from '../layers/depthwise-conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { fmtShape } from '../engine/errors.js';
import { deriveSeed } from '../util/hash.js';
import type { Layer } from '../layers/layer.js';
import { Linear } from '../layers/linear.js';
import { MaxPool1d, MaxPool2d } from '../layers/maxpool.js';
import { QCFS } from '../layers/qcfs.js';
import { ReLU } from '../layers/relu.js';
import { Reshape } from '../layers/reshape.js';
import { Residual } from '../layers/residual.js';
import { resolveConfig } from './config.js';
import { convertNetwork } from './converted.js';
import { Network } from './network.js';
import { toSpiking } from './spiking.js';
import type { Model, ModelConfig, ModelName } from './types.js';

type CnnName = Exclude<ModelName, 'hjh-scnn'>;

/**
 * The input contract of each architecture: the features computed from a clip (saved in every model
 * file), whose shape is the model's input shape per sample. M5 takes 1 s of raw waveform at 4 kHz, the
 * others a 60-band log-mel spectrogram of 134 frames.
 */
const INPUTS: Readonly<Record<ModelName, FeatureSettings>> = {
  m5: WAVEFORM_4K,
  piczak: LOGMEL_60x134,
  hjh: LOGMEL_60x134,
  'hjh-scnn': LOGMEL_60x134,
  tcy: LOGMEL_60x134,
  tcresnet8: LOGMEL_60x134,
  bcresnet: LOGMEL_40x101,
};

/**
 * The feature settings a model of this architecture is trained and run on (a fresh copy); with 'mfcc',
 * MFCC of its log-mel; with 'waveform-8k', a waveform model's input at 8 kHz (its layers are the same:
 * M5 ends in an adaptive pool, so twice the samples only lengthen its feature maps).
 */
export function featuresFor(model: ModelName, features: ModelConfig['features'] = 'default'): FeatureSettings {
  const settings = INPUTS[model];
  if (!settings) throw new RangeError(`featuresFor: unknown model "${String(model)}"; expected ${Object.keys(INPUTS).join(', ')}`);
  if (features === 'waveform-8k') {
    if (settings.kind !== 'waveform') throw new RangeError(`featuresFor: ${model} takes the ${settings.kind}, not a waveform: --features waveform-8k is for m5`);
    return { ...WAVEFORM_8K };
  }
  if (features !== 'mfcc') return { ...settings };
  if (settings.kind !== 'logmel') throw new RangeError(`featuresFor: ${model} takes the ${settings.kind}; MFCC are computed from a log-mel spectrogram`);
  return { ...settings, kind: 'mfcc', coefficients: MFCC_20x134.coefficients };
}

/** Per sample, from the feature settings: e.g. [1, 4000] for M5, [1, 60, 134] for the others. */
export const INPUT_SHAPES: Readonly<Record<ModelName, readonly number[]>> = Object.fromEntries(
  Object.entries(INPUTS).map(([name, settings]) => [name, featureShape(settings)]),
) as unknown as Record<ModelName, readonly number[]>;

/** M5 (Dai et al. 2017): four blocks conv1d, batch norm, ReLU, max pool 4 over the waveform. */
function m5(classes: number, seed: (layer: string) => number): Layer[] {
  const block = (i: number, cin: number, cout: number, kernel: number, stride = 1, padding = 0): Layer[] => [
    new Conv1d(`conv${i}`, { inChannels: cin, outChannels: cout, kernel, stride, padding }, seed(`conv${i}`)),
    new BatchNorm1d(`bn${i}`, cout),
    new ReLU(`relu${i}`),
    new MaxPool1d(`pool${i}`, 4),
  ];
  return [
    ...block(1, 1, 128, 80, 4, 39),
    ...block(2, 128, 128, 3),
    ...block(3, 128, 256, 3),
    ...block(4, 256, 512, 3),
    new AdaptiveAvgPool1d('avgpool', 1),
    new Flatten('flatten'),
    new Linear('fc', 512, classes, seed('fc')),
  ];
}

/** Piczak (2015): two wide conv2d blocks over the log-mel spectrogram, then a 5000-wide fully connected head. */
function piczak(classes: number, seed: (layer: string) => number): Layer[] {
  return [
    new Conv2d('conv1', { inChannels: 1, outChannels: 80, kernel: [57, 6] }, seed('conv1')),
    new MaxPool2d('pool1', [4, 3], [1, 3]),
    new Dropout('drop1', 0.5, seed('drop1')),
    new ReLU('relu1'),
    new Conv2d('conv2', { inChannels: 80, outChannels: 80, kernel: [1, 3] }, seed('conv2')),
    new MaxPool2d('pool2', [1, 3], [1, 3]),
    new ReLU('relu2'),
    new AdaptiveAvgPool2d('avgpool', [1, 1]),
    new Flatten('flatten'),
    new Linear('fc1', 80, 5000, seed('fc1')),
    new Dropout('drop3', 0.5, seed('drop3')),
    new ReLU('relu3'),
    new Linear('fc2', 5000, 5000, seed('fc2')),
    new Dropout('drop4', 0.5, seed('drop4')),
    new ReLU('relu4'),
    new Linear('fc3', 5000, classes, seed('fc3')),
  ];
}

/** Hjh: a small two-block CNN, 5x5 'same' convolutions with batch norm. */
function hjh(classes: number, seed: (layer: string) => number): Layer[] {
  return [
    new Conv2d('conv1', { inChannels: 1, outChannels: 8, kernel: [5, 5], padding: 'same' }, seed('conv1')),
    new BatchNorm2d('bn1', 8),
    new ReLU('relu1'),
    new MaxPool2d('pool1', [2, 2]),
    new Conv2d('conv2', { inChannels: 8, outChannels: 16, kernel: [5, 5], padding: 'same' }, seed('conv2')),
    new BatchNorm2d('bn2', 16),
    new ReLU('relu2'),
    new AdaptiveAvgPool2d('avgpool', [1, 1]),
    new Flatten('flatten'),
    new Linear('fc', 16, classes, seed('fc')),
  ];
}

/** Tcy: the smallest baseline, a linear classifier over the spectrogram pooled to 10x10. */
function tcy(classes: number, seed: (layer: string) => number): Layer[] {
  return [new AdaptiveAvgPool2d('avgpool', [10, 10]), new Flatten('flatten'), new Linear('fc', 100, classes, seed('fc'))];
}

/**
 * TC-ResNet8 (Choi et al. 2019, "Temporal Convolution for Real-time Keyword Spotting on Mobile
 * Devices"): the mel bands are the channels of 1d convolutions along time, so every layer sees the whole
 * spectrum and the net stays small (about 66k parameters) and fast. A 3-tap stem, then three residual
 * blocks of 9-tap convolutions at stride 2 (24, 32, 48 channels), global average pooling and a linear
 * classifier. Each path of a block ends in its own ReLU and the block sums them (the join SEW-ResNet
 * spikes: see layers/residual.ts), so toSpiking() gives a spiking ResNet with the same weights.
 * `width` multiplies every channel count, as the paper's TC-ResNet8-1.5.
 */
function tcresnet8(classes: number, seed: (layer: string) => number, input: readonly number[], width: number): Layer[] {
  // [1, bands, frames]: 60 log-mel bands, or 20 MFCC (the paper's own input is 40 MFCC).
  const [, bands, frames] = input;
  const [c0, c1, c2, c3] = [16, 24, 32, 48].map((c) => widen(c, width));
  const block = (i: number, cin: number, cout: number): Residual => {
    const n = (layer: string) => `block${i}.${layer}`;
    const conv = (layer: string, c: number, kernel: number, stride: number) =>
      new Conv1d(n(layer), { inChannels: c, outChannels: cout, kernel, stride, padding: (kernel - 1) / 2 }, seed(n(layer)));
    return new Residual(
      `block${i}`,
      [conv('conv1', cin, 9, 2), new BatchNorm1d(n('bn1'), cout), new ReLU(n('relu1')), conv('conv2', cout, 9, 1), new BatchNorm1d(n('bn2'), cout), new ReLU(n('relu2'))],
      [conv('down', cin, 1, 2), new BatchNorm1d(n('bndown'), cout), new ReLU(n('reludown'))],
    );
  };
  return [
    new Reshape('bands', [bands, frames]),
    new Conv1d('conv0', { inChannels: bands, outChannels: c0, kernel: 3, padding: 1 }, seed('conv0')),
    block(1, c0, c1),
    block(2, c1, c2),
    block(3, c2, c3),
    new AdaptiveAvgPool1d('avgpool', 1),
    new Flatten('flatten'),
    new Linear('fc', c3, classes, seed('fc')),
  ];
}

/** BC-ResNet's width multiplier τ at width 1: channels 16τ, 8τ, 12τ, 16τ, 20τ, 32τ (BC-ResNet-3 of the paper). */
const BC_WIDTH = 3;
/** Sub-bands of the sub-spectral norm: 20, 10 and 5 bands split evenly into 5. */
const SUB_BANDS = 5;

/**
 * BC-ResNet (Kim et al. 2021, "Broadcasted Residual Learning for Efficient Keyword Spotting"): 2-d
 * convolutions over the log-mel image, factored into a frequency part and a time part. Each block
 * filters along frequency with a 3x1 depthwise convolution and a sub-spectral norm (f1), averages f1
 * over frequency, filters that one row along time with a dilated 1x3 depthwise convolution and a 1x1
 * convolution (f2), and broadcasts f2 back to every band:
 *   y = ReLU(x + f1 + broadcast(f2))        (a transition block, which changes the channels: no x)
 * Frequency-equivariant filters see a voice's formants shifted by a longer or shorter vocal tract as
 * the same pattern one band over. Convolutions before a batch norm have no bias, as the paper's: a
 * dead channel then stays 0 rather than a drifting bias that the eval-mode statistics lag (with biases,
 * validation loss jumped to 13-300 at the peak rate in some epochs). The paper's Swish in f2 is a ReLU here, so toSpiking() turns every
 * activation into a Leaky and the sums into membrane inputs.
 */
function bcresnet(classes: number, seed: (layer: string) => number, input: readonly number[], width: number): Layer[] {
  const [, bands, frames] = input;
  const ch = (base: number) => widen(base * BC_WIDTH, width);
  // Sub-spectral norm (Chang et al. 2021): batch norm of each of S sub-bands of each channel on its own,
  // i.e. BatchNorm2d over C·S channels of the [C·S, F/S, T] view of [C, F, T].
  const subSpectralNorm = (name: string, c: number, f: number): Layer[] => [
    new Reshape(`${name}.split`, [c * SUB_BANDS, f / SUB_BANDS, frames]),
    new BatchNorm2d(`${name}.bn`, c * SUB_BANDS),
    new Reshape(`${name}.join`, [c, f, frames]),
  ];
  let freq = Math.floor((bands - 1) / 2) + 1;
  const block = (i: number, cin: number, cout: number, stride: number, dilation: number): Layer[] => {
    const n = (layer: string) => `block${i}.${layer}`;
    const head: Layer[] = cin === cout ? [] : [
      new Conv2d(n('conv1x1'), { inChannels: cin, outChannels: cout, kernel: [1, 1], bias: false }, seed(n('conv1x1'))),
      new BatchNorm2d(n('bn0'), cout),
      new ReLU(n('relu0')),
    ];
    freq = Math.floor((freq - 1) / stride) + 1;
    const f1: Layer[] = [
      new DepthwiseConv2d(n('freq'), { channels: cout, kernel: [3, 1], stride: [stride, 1], padding: [1, 0], bias: false }, seed(n('freq'))),
      ...subSpectralNorm(n('ssn'), cout, freq),
    ];
    const f2 = new Residual(n('broadcast'), [
      new MeanRows(n('avgfreq')),
      new DepthwiseConv2d(n('time'), { channels: cout, kernel: [1, 3], padding: [0, dilation], dilation: [1, dilation], bias: false }, seed(n('time'))),
      new BatchNorm2d(n('bn1'), cout),
      new ReLU(n('relu1')),
      new Conv2d(n('pointwise'), { inChannels: cout, outChannels: cout, kernel: [1, 1] }, seed(n('pointwise'))),
      new BroadcastRows(n('spread'), freq),
    ]);
    const body = [...f1, f2];
    return cin === cout ? [new Residual(`block${i}`, body), new ReLU(n('relu'))] : [...head, ...body, new ReLU(n('relu'))];
  };
  // Stages of [blocks, channels, frequency stride of the first, time dilation], as the paper's.
  const stages: Array<[number, number, number, number]> = [[2, ch(8), 1, 1], [2, ch(12), 2, 2], [4, ch(16), 2, 4], [4, ch(20), 1, 8]];
  const layers: Layer[] = [
    new Conv2d('conv0', { inChannels: 1, outChannels: ch(16), kernel: [5, 5], stride: [2, 1], padding: [2, 2], bias: false }, seed('conv0')),
    new BatchNorm2d('bn0', ch(16)),
    new ReLU('relu0'),
  ];
  let cin = ch(16);
  let i = 1;
  for (const [count, cout, stride, dilation] of stages)
    for (let k = 0; k < count; k++, i++) {
      layers.push(...block(i, cin, cout, k === 0 ? stride : 1, dilation));
      cin = cout;
    }
  return [
    ...layers,
    new DepthwiseConv2d('head.freq', { channels: cin, kernel: [freq, 5], padding: [0, 2], bias: false }, seed('head.freq')),
    new Conv2d('head.conv1x1', { inChannels: cin, outChannels: ch(32), kernel: [1, 1], bias: false }, seed('head.conv1x1')),
    new BatchNorm2d('head.bn', ch(32)),
    new ReLU('head.relu'),
    new AdaptiveAvgPool2d('avgpool', [1, 1]),
    new Flatten('flatten'),
    new Linear('fc', ch(32), classes, seed('fc')),
  ];
}

/** Channels at a width multiplier: rounded, at least one. */
const widen = (channels: number, width: number): number => Math.max(1, Math.round(channels * width));

/** An architecture's layers for `classes` outputs over inputs of shape `input` per sample. */
type Architecture = (classes: number, seed: (layer: string) => number, input: readonly number[], width: number) => Layer[];
const ARCHITECTURES: Record<CnnName, Architecture> = { m5, piczak, hjh, tcy, tcresnet8, bcresnet };

/** Architectures without activations (Tcy is a linear classifier): nothing for QCFS or a neuron to replace. */
export const LINEAR_ARCHITECTURES: readonly ModelName[] = ['tcy'];

/** Architectures with a width multiplier; the study's four are as the study has them. */
export const WIDE_ARCHITECTURES: readonly ModelName[] = ['tcresnet8', 'bcresnet'];

/** The last layer of a path when it is a QCFS. */
const lastQcfs = (path: readonly Layer[]): QCFS | null => {
  const last = path[path.length - 1];
  return last instanceof QCFS ? last : null;
};

/**
 * Every ReLU replaced by a QCFS of `levels` levels (relu1 -> qcfs1). In a residual block the shortcut's
 * last QCFS shares the main path's λ, so the converted block adds spikes of one unit (layers/qcfs.ts).
 */
function quantized(layers: readonly Layer[], levels: number): Layer[] {
  const swap = (l: Layer): Layer => {
    if (!(l instanceof ReLU)) return l;
    l.dispose();
    return new QCFS(l.name.replace(/(^|\.)relu/, '$1qcfs'), levels);
  };
  return layers.map((layer) => {
    if (!(layer instanceof Residual)) return swap(layer);
    const main = layer.main.map(swap);
    const owner = lastQcfs(main);
    const shortcut = layer.shortcut.map((l, i) =>
      owner && i === layer.shortcut.length - 1 && l instanceof ReLU ? (l.dispose(), new QCFS(l.name.replace(/(^|\.)relu/, '$1qcfs'), levels, undefined, owner)) : swap(l),
    );
    return new Residual(layer.name, main, shortcut);
  });
}

/** The CNN form of an architecture, weights drawn from config.seed; QCFS activations when config.quantize > 0. */
function buildCnn(name: CnnName, config: ModelConfig): Network {
  const input = featureShape(featuresFor(name, config.features));
  if (config.width !== 1 && !WIDE_ARCHITECTURES.includes(name))
    throw new RangeError(`model option width: ${name} has the study's channels (width 1, got ${config.width}); ${WIDE_ARCHITECTURES.join(' and ')} take a width`);
  const plain = ARCHITECTURES[name](config.classes, (layer) => deriveSeed(config.seed, layer), input, config.width);
  if (config.quantize > 0 && LINEAR_ARCHITECTURES.includes(name)) {
    for (const l of plain) l.dispose();
    throw new RangeError(`${name} has no activations for QCFS to replace (quantize ${config.quantize}): it is a linear classifier`);
  }
  const layers = config.quantize > 0 ? quantized(plain, config.quantize) : plain;
  try {
    return new Network({ ...config, name, spiking: false, steps: 1, converted: false }, input, layers);
  } catch (e) {
    for (const l of layers) l.dispose();
    // Piczak's first kernel spans 57 of the 60 log-mel bands; MFCC have 20 rows.
    if (config.features === 'mfcc') throw new RangeError(`${name} does not take --features mfcc (input ${fmtShape(input)} per sample): ${(e as Error).message}`);
    throw e;
  }
}

/**
 * A model of the zoo. With `spiking: true` (and always for 'hjh-scnn') it is toSpiking() of the CNN of
 * the same seed, so a CNN and its SNN twin start from the same weights; with `converted: true` too, it
 * has the converted layout of models/converted.ts (what a converted model file is rebuilt as).
 */
export function createModel(name: ModelName, options: Partial<ModelConfig> = {}): Model {
  const config = resolveConfig(name, { ...options, ...(name === 'hjh-scnn' && options.spiking === undefined ? { spiking: true } : {}) });
  if (!config.spiking) return buildCnn(config.name as CnnName, config);
  const cnn = buildCnn(config.name === 'hjh-scnn' ? 'hjh' : (config.name as CnnName), config);
  try {
    return config.converted ? convertNetwork(cnn, config) : toSpiking(cnn, config);
  } finally {
    cnn.dispose();
  }
}
