// The model's settings, declared once (see util/schema.ts): ModelConfig is derived from this object,
// resolveConfig validates by walking it, and the CLI adds and parses its flags from it. A new option
// is one more entry here (or in NEURON_SETTINGS for the neuron's).
import type { EncoderName } from '../layers/encoder.js';
import { NEURON_SETTINGS } from '../layers/leaky.js';
import type { Schema } from '../util/schema.js';

export const MODEL_NAMES = ['m5', 'piczak', 'hjh', 'hjh-scnn', 'tcy', 'tcresnet8', 'bcresnet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export const ENCODERS = ['repeat', 'rate', 'latency'] as const satisfies readonly EncoderName[];
// Compiles only while ENCODERS names every EncoderName the layer knows.
const encodersComplete: [Exclude<EncoderName, (typeof ENCODERS)[number]>] extends [never] ? true : never = true;
void encodersComplete;

/** A model's input: its architecture's own features (zoo.ts featuresFor), MFCC of the log-mel, or the waveform at 8 kHz. */
export const FEATURE_CHOICES = ['default', 'mfcc', 'waveform-8k'] as const;

const { steps, ...neuron } = NEURON_SETTINGS;

/**
 * In this order in every saved config (checkpoints compare configs as JSON to resume). `name` has a
 * default only for the CLI's --model; a model is always built by name.
 */
export const MODEL_SETTINGS = {
  name: { kind: 'oneOf', values: MODEL_NAMES, default: 'hjh', help: 'architecture', flag: '--model <name>' },
  /** Set by the data's words on the CLI: 35 is Speech Commands v2. */
  classes: { kind: 'integer', min: 1, default: 35, help: 'output classes (words)' },
  spiking: { kind: 'boolean', default: false, help: 'train the spiking twin (SNN) instead of the CNN', flag: '--spiking' },
  /** A CNN runs once: resolveConfig makes its steps 1. */
  steps,
  encoder: { kind: 'oneOf', values: ENCODERS, default: 'repeat', help: 'input encoding', flag: '--encoder <name>' },
  ...neuron,
  seed: { kind: 'integer', min: 0, default: 0, help: 'seed of weights and shuffling', flag: '--seed <n>' },
  /** QCFS (Bu et al. 2022): a CNN trained with quantised activations converts to an SNN without loss at T >= L. */
  quantize: { kind: 'integer', min: 0, default: 0, help: 'CNN activations: QCFS of L levels in place of ReLU (0: ReLU)', flag: '--quantize <L>' },
  /** Set by convert (train/convert.ts): the layout of models/converted.ts instead of toSpiking's. */
  converted: { kind: 'boolean', default: false, help: 'an SNN converted from a CNN: batch norm folded, IF neurons, spike-count max pools' },
  features: { kind: 'oneOf', values: FEATURE_CHOICES, default: 'default', help: "input features: the architecture's own (waveform at 4 kHz for m5, log-mel for the others), mfcc (20 MFCC of that log-mel) or waveform-8k (m5 at 8 kHz)", flag: '--features <kind>' },
  /** The width multiplier of the papers (TC-ResNet8-1.5, BC-ResNet-τ as τ = 3·width): every layer's channels times it, rounded. */
  width: { kind: 'number', min: 0, exclusiveMin: true, max: 4, default: 1, help: 'channels times this, rounded (tcresnet8, bcresnet): tcresnet8 at 1.25 on MFCC has 99,900 parameters for ten words', flag: '--width <k>' },
} as const satisfies Schema;

export type ModelSettingKey = keyof typeof MODEL_SETTINGS;
