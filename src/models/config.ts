// Model settings: defaults, and checks that name the option at fault.
import type { EncoderName } from '../layers/encoder.js';
import type { LifForm, ResetMode, SurrogateName } from '../kernels/lif.js';
import type { ModelConfig, ModelName } from './types.js';

export const MODEL_NAMES: readonly ModelName[] = ['m5', 'piczak', 'hjh', 'hjh-scnn', 'tcy'];
export const ENCODERS: readonly EncoderName[] = ['repeat', 'rate', 'latency'];
export const SURROGATES: readonly SurrogateName[] = ['atan', 'fast-sigmoid', 'straight-through'];
export const LIF_FORMS: readonly LifForm[] = ['current', 'legacy'];
export const RESET_MODES: readonly ResetMode[] = ['subtract', 'zero'];

/** Steps of a spiking model when none are given; a CNN runs once (steps 1). */
export const DEFAULT_STEPS = 5;

/** Defaults: 35 classes (Speech Commands v2), and the current snntorch neuron (current + subtract + atan). */
export const DEFAULT_CONFIG: Omit<ModelConfig, 'name'> = {
  classes: 35,
  spiking: false,
  steps: DEFAULT_STEPS,
  encoder: 'repeat',
  beta: 0.5,
  threshold: 1,
  learnBeta: false,
  learnThreshold: false,
  surrogate: 'atan',
  form: 'current',
  reset: 'subtract',
  seed: 0,
};

/** The study's neuron (snntorch 0.5.3): legacy form, subtract reset, straight-through gradient. */
export { STUDY_NEURON } from '../kernels/lif.js';

const KEYS = new Set<string>(['name', ...Object.keys(DEFAULT_CONFIG)]);

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new RangeError(`model option ${option} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function bool(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`model option ${option} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function int(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new RangeError(`model option ${option} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The full settings of a model from partial options. Unknown options and bad values throw, naming the
 * option. A CNN's steps are 1; 'hjh-scnn' is spiking by definition.
 */
export function resolveConfig(name: string, options: Partial<ModelConfig> = {}): ModelConfig {
  const model = oneOf('name', name, MODEL_NAMES);
  for (const key of Object.keys(options)) if (!KEYS.has(key)) throw new RangeError(`unknown model option "${key}" (known: ${[...KEYS].join(', ')})`);
  if (options.name !== undefined && options.name !== model) throw new RangeError(`model option name is "${options.name}", but the model is "${model}"`);
  const o = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  const spiking = bool('spiking', o.spiking);
  if (model === 'hjh-scnn' && !spiking) throw new RangeError('model option spiking: hjh-scnn is a spiking model by definition');
  const beta = o.beta;
  if (typeof beta !== 'number' || !(beta >= 0 && beta <= 1)) throw new RangeError(`model option beta must be a number in [0, 1], got ${JSON.stringify(beta)}`);
  const threshold = o.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0) || !Number.isFinite(threshold))
    throw new RangeError(`model option threshold must be a positive number, got ${JSON.stringify(threshold)}`);
  const steps = int('steps', o.steps, 1);
  return {
    name: model,
    classes: int('classes', o.classes, 1),
    spiking,
    steps: spiking ? steps : 1,
    encoder: oneOf('encoder', o.encoder, ENCODERS),
    beta,
    threshold,
    learnBeta: bool('learnBeta', o.learnBeta),
    learnThreshold: bool('learnThreshold', o.learnThreshold),
    surrogate: oneOf('surrogate', o.surrogate, SURROGATES),
    form: oneOf('form', o.form, LIF_FORMS),
    reset: oneOf('reset', o.reset, RESET_MODES),
    seed: int('seed', o.seed, 0),
  };
}
