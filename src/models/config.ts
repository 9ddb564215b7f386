// Model settings: defaults, and checks that name the option at fault, all read off MODEL_SETTINGS
// (models/settings.ts), the one declaration of the options.
import { LIF_FORMS, RESET_MODES, SURROGATE_NAMES } from '../kernels/lif.js';
import { checkSetting, defaultsOf } from '../util/schema.js';
import { MODEL_SETTINGS } from './settings.js';
import type { ModelConfig } from './types.js';

export { ENCODERS, MODEL_NAMES, MODEL_SETTINGS } from './settings.js';
export { LIF_FORMS, RESET_MODES };
/** The surrogate gradients (SURROGATE_NAMES of kernels/lif.ts). */
export const SURROGATES = SURROGATE_NAMES;

/** Steps of a spiking model when none are given; a CNN runs once (steps 1). */
export const DEFAULT_STEPS = MODEL_SETTINGS.steps.default;

/** Defaults: 35 classes (Speech Commands v2), and the current snntorch neuron (current + subtract + atan). */
export const DEFAULT_CONFIG: Omit<ModelConfig, 'name'> = (({ name: _, ...rest }) => rest)(defaultsOf(MODEL_SETTINGS));

/** The study's neuron (snntorch 0.5.3): legacy form, subtract reset, straight-through gradient. */
export { STUDY_NEURON } from '../kernels/lif.js';

const KEYS = Object.keys(MODEL_SETTINGS);

/**
 * The full settings of a model from partial options. Unknown options and bad values throw, naming the
 * option. A CNN's steps are 1; 'hjh-scnn' is spiking by definition.
 */
export function resolveConfig(name: string, options: Partial<ModelConfig> = {}): ModelConfig {
  const model = checkSetting(MODEL_SETTINGS.name, 'model option name', name);
  for (const key of Object.keys(options)) if (!KEYS.includes(key)) throw new RangeError(`unknown model option "${key}" (known: ${KEYS.join(', ')})`);
  if (options.name !== undefined && options.name !== model) throw new RangeError(`model option name is "${options.name}", but the model is "${model}"`);
  const given: Record<string, unknown> = { ...DEFAULT_CONFIG, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)), name: model };
  const config = Object.fromEntries(
    Object.entries(MODEL_SETTINGS).map(([key, setting]) => [key, checkSetting(setting, `model option ${key}`, given[key])]),
  ) as unknown as ModelConfig;
  if (model === 'hjh-scnn' && !config.spiking) throw new RangeError('model option spiking: hjh-scnn is a spiking model by definition');
  if (config.converted) {
    // A converted SNN (models/converted.ts) is the CNN's layers with IF neurons and the analog input.
    if (!config.spiking) throw new RangeError('model option converted: a converted model is spiking');
    if (model === 'hjh-scnn') throw new RangeError('model option converted: hjh-scnn is not a CNN to convert; convert hjh');
    if (config.encoder !== 'repeat') throw new RangeError(`model option converted: a converted SNN takes the analog input (encoder repeat), not ${config.encoder}`);
  }
  if (!config.spiking) config.steps = 1;
  return config;
}
